"""The scheduler's side of the database: what it needs to decide, the sent-log, the lock, deadlines.

Sending is at-most-once: a message's sent-log row is committed (status
`sending`) before the message goes out and marked afterwards. The row's key is
unique, so two processes, a restart or a replayed pass never send it twice; a
crash between the two writes leaves `sending`, which is never retried.

Two bot processes on one PostgreSQL database: the one that takes a bloc's
advisory lock plans and sends that bloc's messages for the pass; the other
skips the bloc (both share one bot token, hence one rate limit, so splitting
the sends between them would gain nothing). The unique key is what guarantees
"once"; the lock keeps the second process from doing the same work in vain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, and_, bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from rules.config import BlocConfig
from rules.reminders import SentKey, is_relevant
from storage.audit import record
from storage.blocs import bloc_config_of
from storage.messages import BLOCKED
from storage.models import (
    Bloc,
    Entry,
    Officer,
    OfficerAccount,
    OutboxMessage,
    Period,
    ReminderLog,
    Submission,
    SubmissionStatus,
    Unit,
    YearRoles,
    stored_id,
)
from storage.roles import officer_addresses

# First half of the advisory lock key (the second is the bloc id): "reminders".
LOCK_NAMESPACE = 0x52454D49
DONE = frozenset({SubmissionStatus.submitted.value, SubmissionStatus.accepted.value})


class LogStatus(StrEnum):
    """Where a logged message stands."""

    sending = "sending"  # claimed; left so by a crash: maybe delivered, never retried
    delivered = "delivered"
    blocked = "blocked"  # 403: the recipient blocked the bot
    failed = "failed"  # another error; not retried (the next reminder is the retry)
    queued = "queued"  # owed in the outbox, not yet answered when the pass moved on: delivered later


class DeadlineField(StrEnum):
    """The deadlines of a period that the leader may move."""

    reporting = "reporting"
    review = "review"
    votes = "votes"


@dataclass(frozen=True)
class OfficerContact:
    """A linked, active officer: whom to write to and in which language."""

    officer_id: int
    name: str
    unit_id: int
    chat_id: str  # an address: `<channel>:<platform id>`
    language: str


@dataclass(frozen=True)
class UnitReport:
    """A member unit's report in a period: status, items with a value, linked officers."""

    unit_id: int
    code: str
    name: str
    status: str
    return_reason: str | None
    done_codes: frozenset[str]
    officers: tuple[OfficerContact, ...]

    @property
    def submitted(self) -> bool:
        """Submitted or accepted: no more reminders."""
        return self.status in DONE


@dataclass(frozen=True)
class PeriodWorld:
    """One period with everything the scheduler decides and writes from."""

    period_id: int
    year: int
    kind: str
    opens: dt.datetime
    deadline: dt.datetime
    review_deadline: dt.datetime | None
    leader_unit_id: int | None
    units: tuple[UnitReport, ...]
    sent: frozenset[SentKey]
    blocked: dict[int, frozenset[int]]  # unit id -> officers who answered 403 in this period


@dataclass(frozen=True)
class BlocWorld:
    """A bloc's configuration and its periods that may have something due."""

    bloc_id: int
    code: str
    config: BlocConfig
    periods: tuple[PeriodWorld, ...]


def bloc_ids(*, session: Session) -> list[int]:
    """Every bloc's id."""
    return [bloc_id for bloc_id in session.exec(select(Bloc.id).order_by(col(Bloc.id))) if bloc_id is not None]


def bloc_config(*, session: Session, bloc_id: int) -> BlocConfig | None:
    """A bloc's configuration (cached parse of the stored text)."""
    bloc = session.get(Bloc, bloc_id)
    return bloc_config_of(session=session, bloc=bloc) if bloc is not None else None


def load_bloc_world(*, session: Session, bloc_id: int, now: dt.datetime) -> BlocWorld | None:
    """The bloc's periods that may have something due at `now`, with units, progress and sent-log."""
    bloc = session.get(Bloc, bloc_id)
    if bloc is None:
        return None
    config = bloc_config_of(session=session, bloc=bloc)
    periods = [
        period for period in session.exec(select(Period).where(Period.bloc_id == bloc_id).order_by(col(Period.id)))
        if is_relevant(opens=period.reporting_opens, deadline=period.reporting_deadline,
                       review_deadline=period.review_deadline, reminders=config.reminders, now=now)
    ]
    worlds = tuple(_period_world(session, bloc_id, period) for period in periods)
    return BlocWorld(bloc_id=bloc_id, code=bloc.code, config=config, periods=worlds)


def linked_officers(*, session: Session, bloc_id: int) -> list[OfficerContact]:
    """Every active officer of a bloc who is linked to a chat account (the one linked last)."""
    rows = list(session.exec(
        select(Officer).where(Officer.bloc_id == bloc_id, col(Officer.active).is_(True))
        .order_by(col(Officer.id))
    ))
    addresses = officer_addresses(session=session, officer_ids=[officer.id for officer in rows])
    return [
        OfficerContact(officer_id=officer.id, name=officer.name, unit_id=officer.unit_id,
                       chat_id=addresses[officer.id], language=officer.language)
        for officer in rows if officer.id is not None and officer.id in addresses
    ]


_BLOCKED_IN_OUTBOX = (
    select(Officer.unit_id, Officer.id).distinct()
    .join(OfficerAccount, col(OfficerAccount.officer_id) == Officer.id)
    .join(OutboxMessage, and_(col(OutboxMessage.channel) == OfficerAccount.channel,
                              col(OutboxMessage.chat_id) == OfficerAccount.external_id))
    .where(Officer.bloc_id == bindparam("bloc_id"), col(Officer.active).is_(True),
           OutboxMessage.state == bindparam("state"), col(OutboxMessage.created_at) >= bindparam("since"))
)


def _period_world(session: Session, bloc_id: int, period: Period) -> PeriodWorld:
    period_id = stored_id(period)
    start, end = dt.date(period.year, 1, 1), dt.date(period.year, 12, 31)
    units = [
        unit for unit in session.exec(select(Unit).where(Unit.bloc_id == bloc_id).order_by(col(Unit.id)))
        if unit.valid_from <= end and (unit.valid_to is None or unit.valid_to >= start)
    ]
    submissions = {
        submission.unit_id: submission
        for submission in session.exec(select(Submission).where(Submission.period_id == period.id))
    }
    done: dict[int, set[str]] = {}
    by_submission = {submission.id: unit_id for unit_id, submission in submissions.items()}
    if by_submission:
        entries = session.exec(
            select(Entry.submission_id, Entry.item_code)
            .where(col(Entry.submission_id).in_(list(by_submission)), col(Entry.value).is_not(None))
        )
        for submission_id, item_code in entries:
            done.setdefault(by_submission[submission_id], set()).add(item_code)
    officers: dict[int, list[OfficerContact]] = {}
    for contact in linked_officers(session=session, bloc_id=bloc_id):
        officers.setdefault(contact.unit_id, []).append(contact)
    roles = session.exec(
        select(YearRoles).where(YearRoles.bloc_id == bloc_id, YearRoles.year == period.year)
    ).first()
    sent: set[SentKey] = set()
    blocked: dict[int, set[int]] = {}
    for row in session.exec(select(ReminderLog).where(ReminderLog.period_id == period.id)):
        sent.add((row.period_id, row.unit_id, row.kind, row.days_before, row.deadline, row.officer_id))
        if row.status == LogStatus.blocked.value and row.kind == "remind":
            blocked.setdefault(row.unit_id, set()).add(row.officer_id)
    # Any other message the outbox found blocked (403) in the period: a review notice, a ballot.
    for unit_id, officer_id in session.exec(_BLOCKED_IN_OUTBOX, params={
            "bloc_id": bloc_id, "since": period.reporting_opens, "state": BLOCKED}):
        if officer_id is not None:
            blocked.setdefault(unit_id, set()).add(officer_id)
    reports = []
    for unit in units:
        unit_id = stored_id(unit)
        submission = submissions.get(unit_id)
        reports.append(UnitReport(
            unit_id=unit_id, code=unit.code, name=unit.name,
            status=submission.status if submission is not None else SubmissionStatus.not_started.value,
            return_reason=submission.return_reason if submission is not None else None,
            done_codes=frozenset(done.get(unit_id, set())), officers=tuple(officers.get(unit_id, [])),
        ))
    return PeriodWorld(
        period_id=period_id, year=period.year, kind=period.kind, opens=period.reporting_opens,
        deadline=period.reporting_deadline, review_deadline=period.review_deadline,
        leader_unit_id=roles.leader_unit_id if roles is not None else None, units=tuple(reports),
        sent=frozenset(sent), blocked={unit_id: frozenset(ids) for unit_id, ids in blocked.items()},
    )


def claim_message(
    *, session: Session, bloc_id: int, key: SentKey, chat_id: str, slot_at: dt.datetime, now: dt.datetime,
    claimed_by: str,
) -> int | None:
    """Write a message's sent-log row before it goes out; None if its key is already logged."""
    period_id, unit_id, kind, days_before, deadline, officer_id = key
    row = ReminderLog(bloc_id=bloc_id, period_id=period_id, unit_id=unit_id, kind=kind,
                      days_before=days_before, deadline=deadline, officer_id=officer_id,
                      channel=chat_id.partition(":")[0], chat_id=chat_id,
                      status=LogStatus.sending.value, slot_at=slot_at, claimed_at=now,
                      claimed_by=claimed_by[:64])
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # another process (or an earlier pass) has it
    return row.id


def finish_message(
    *, session: Session, log_id: int, status: LogStatus, now: dt.datetime, error: str | None = None
) -> None:
    """Record how sending a claimed message ended."""
    row = session.get(ReminderLog, log_id)
    if row is None:
        return
    row.status, row.finished_at = status.value, now
    row.error = error[:200] if error else None
    session.add(row)


@dataclass(frozen=True)
class LogEntry:
    """A sent-log row, detached from the session."""

    id: int
    period_id: int
    unit_id: int
    kind: str
    days_before: int
    deadline: dt.datetime
    officer_id: int
    chat_id: str
    status: str
    slot_at: dt.datetime
    claimed_at: dt.datetime
    claimed_by: str


def sent_log(*, session: Session, bloc_id: int | None = None) -> list[LogEntry]:
    """The sent-log, oldest claim first."""
    query = select(ReminderLog).order_by(col(ReminderLog.id))
    if bloc_id is not None:
        query = query.where(ReminderLog.bloc_id == bloc_id)
    return [
        LogEntry(id=row.id, period_id=row.period_id, unit_id=row.unit_id, kind=row.kind,
                 days_before=row.days_before, deadline=row.deadline, officer_id=row.officer_id,
                 chat_id=row.chat_id, status=row.status, slot_at=row.slot_at, claimed_at=row.claimed_at,
                 claimed_by=row.claimed_by)
        for row in session.exec(query) if row.id is not None
    ]


class BlocLock:
    """The right to plan and send a bloc's reminders in this pass (a PostgreSQL advisory lock).

    Held on its own connection for the whole pass and released at the end; if the
    process dies, PostgreSQL releases it with the connection. On SQLite (one
    process) it always succeeds: the unique sent-log key still prevents duplicates.
    """

    def __init__(self, engine: Engine, bloc_id: int) -> None:
        self.engine = engine
        self.bloc_id = bloc_id
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        if self.engine.dialect.name != "postgresql":
            return True
        connection = self.engine.connect()
        try:
            taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:namespace, :bloc)"),
                                            {"namespace": LOCK_NAMESPACE, "bloc": self.bloc_id}).scalar())
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        """Give the lock back."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:namespace, :bloc)"),
                               {"namespace": LOCK_NAMESPACE, "bloc": self.bloc_id})
            connection.commit()
        finally:
            connection.close()


@dataclass(frozen=True)
class DeadlineChange:
    """A moved deadline: which, from when, to when."""

    period_id: int
    year: int
    kind: str
    field: DeadlineField
    before: dt.datetime
    after: dt.datetime


def deadline_of(period: Period, field: DeadlineField) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The (opens, deadline) of one of a period's windows."""
    if field is DeadlineField.reporting:
        return period.reporting_opens, period.reporting_deadline
    if field is DeadlineField.review:
        return period.review_opens, period.review_deadline
    return period.votes_opens, period.votes_deadline


def set_deadline(
    *, session: Session, period_id: int, field: DeadlineField, deadline: dt.datetime, actor: str,
    unit_code: str | None = None,
) -> DeadlineChange:
    """Move one deadline of a period, audited; reminders follow from the new value."""
    period = session.get(Period, period_id)
    if period is None:
        raise LookupError(f"no period {period_id}")
    _opens, before = deadline_of(period, field)
    if before is None:
        raise LookupError(f"period {period_id} has no {field.value} window")
    setattr(period, f"{field.value}_deadline", deadline)
    session.add(period)
    record(session=session, actor=actor, bloc_id=period.bloc_id, unit_code=unit_code,
           action="period.deadline", target=f"{period.year} {period.kind} {field.value}",
           before={"deadline": before}, after={"deadline": deadline})
    return DeadlineChange(period_id=period_id, year=period.year, kind=period.kind, field=field,
                          before=before, after=deadline)
