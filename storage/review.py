"""Queries behind the review, the publication of the ranking and the bloc's group.

Every decision is written with an audit row in the caller's transaction; what
leaves these functions is plain data, detached from the session.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from storage.audit import record
from storage.chat import evidence_counts
from storage.groups import forget_refusal
from storage.models import (
    Bloc,
    BlocGroup,
    Entry,
    Officer,
    Period,
    PublishedRanking,
    Submission,
    SubmissionStatus,
    Unit,
    stored_id,
    utcnow,
)

# A submission the unit has handed in: the only ones a reviewer acts on.
HANDED_IN = frozenset({SubmissionStatus.submitted.value, SubmissionStatus.accepted.value})
MAX_REASON = 500


@dataclass(frozen=True)
class PeriodInfo:
    """A period of a bloc, detached from the session."""

    id: int
    bloc_id: int
    year: int
    kind: str
    reporting_deadline: dt.datetime
    votes_opens: dt.datetime | None
    published_at: dt.datetime | None


@dataclass(frozen=True)
class UnitStatus:
    """A member unit and where its submission stands in a period."""

    unit_id: int
    unit_code: str
    unit_name: str
    short_name: str
    status: str
    return_reason: str | None


@dataclass(frozen=True)
class EntryView:
    """One stored item of a submission, with its review and how much evidence backs it."""

    item_code: str
    item_type: str
    value: Decimal | None
    reviewed_value: Decimal | None
    review_reason: str | None
    evidence: int


@dataclass(frozen=True)
class SubmissionView:
    """A unit's submission with its entries by item code."""

    id: int
    status: str
    return_reason: str | None
    entries: dict[str, EntryView]


@dataclass(frozen=True)
class ScoreChange:
    """What a reviewer's change did: the unit's own value, the reviewed value before and after."""

    own: Decimal | None
    before: Decimal | None
    after: Decimal


@dataclass(frozen=True)
class Publication:
    """One publication of a period's ranking."""

    version: int
    published_at: dt.datetime
    published_by: str
    ranking: dict[str, Any]
    reopened_at: dt.datetime | None
    reopen_reason: str | None


@dataclass(frozen=True)
class OfficerName:
    """An officer's name and role, for signature blocks."""

    name: str
    role: str


def _info(period: Period) -> PeriodInfo:
    return PeriodInfo(id=stored_id(period), bloc_id=period.bloc_id, year=period.year, kind=period.kind,
                      reporting_deadline=period.reporting_deadline, votes_opens=period.votes_opens,
                      published_at=period.published_at)


def current_period(*, session: Session, bloc_id: int, now: dt.datetime) -> PeriodInfo | None:
    """The period under way: the one whose reporting opened last (None before the first opens)."""
    period = session.exec(
        select(Period).where(Period.bloc_id == bloc_id, col(Period.reporting_opens) <= now)
        .order_by(col(Period.reporting_opens).desc(), col(Period.id).desc())
    ).first()
    return _info(period) if period is not None else None


def opened_periods(*, session: Session, bloc_id: int, now: dt.datetime) -> list[PeriodInfo]:
    """The bloc's periods whose reporting has opened, the one under way first (`current_period`'s order)."""
    periods = session.exec(
        select(Period).where(Period.bloc_id == bloc_id, col(Period.reporting_opens) <= now)
        .order_by(col(Period.reporting_opens).desc(), col(Period.id).desc())
    )
    return [_info(period) for period in periods]


def period_info(*, session: Session, period_id: int) -> PeriodInfo | None:
    """A period by id."""
    period = session.get(Period, period_id)
    return _info(period) if period is not None else None


def find_period(*, session: Session, bloc_id: int, year: int, kind: str) -> PeriodInfo | None:
    """A bloc's period of a year and kind."""
    period = session.exec(
        select(Period).where(Period.bloc_id == bloc_id, Period.year == year, Period.kind == kind)
    ).first()
    return _info(period) if period is not None else None


def bind_group(*, session: Session, bloc_id: int, chat_id: str, actor: str) -> str | None:
    """Make a group chat (an address, `<channel>:<id>`) the bloc's group on its channel.

    Returns the address of the group it replaced on that channel. Audited.
    """
    bloc = session.get(Bloc, bloc_id)
    if bloc is None:
        raise LookupError(f"no bloc {bloc_id}")
    channel, _, platform_id = chat_id.partition(":")
    row = session.get(BlocGroup, (bloc_id, channel))
    previous = row.address if row is not None else None
    forget_refusal(session=session, bloc_id=bloc_id, channel=channel)  # bound again: the group is tried again
    if previous == chat_id:
        return previous
    record(session=session, actor=actor, bloc_id=bloc_id, action="bloc.bind_group", target=bloc.code,
           before=previous, after=chat_id)
    now = utcnow()
    if row is None:
        row = BlocGroup(bloc_id=bloc_id, channel=channel, chat_id=platform_id, bound_at=now)
    row.chat_id, row.bound_at = platform_id, now
    session.add(row)
    bloc.updated_at = now
    session.add(bloc)
    return previous


def unit_statuses(*, session: Session, bloc_id: int, period_id: int, unit_codes: list[str]) -> list[UnitStatus]:
    """The given units (in that order) with their submission's status in a period."""
    units = {unit.code: unit for unit in session.exec(select(Unit).where(Unit.bloc_id == bloc_id))}
    submissions = {
        submission.unit_id: submission
        for submission in session.exec(select(Submission).where(Submission.period_id == period_id))
    }
    found = []
    for code in unit_codes:
        unit = units.get(code)
        if unit is None or unit.id is None:
            continue
        submission = submissions.get(unit.id)
        found.append(UnitStatus(
            unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, short_name=unit.short_name,
            status=submission.status if submission else SubmissionStatus.not_started.value,
            return_reason=submission.return_reason if submission else None,
        ))
    return found


def submission_view(*, session: Session, period_id: int, unit_id: int) -> SubmissionView | None:
    """A unit's submission with every entry, its review and its evidence count."""
    submission = session.exec(
        select(Submission).where(Submission.period_id == period_id, Submission.unit_id == unit_id)
    ).first()
    if submission is None or submission.id is None:
        return None
    entries = list(session.exec(select(Entry).where(Entry.submission_id == submission.id)))
    counts = evidence_counts(session=session, entry_ids=[entry.id for entry in entries if entry.id is not None])
    return SubmissionView(
        id=submission.id, status=submission.status, return_reason=submission.return_reason,
        entries={
            entry.item_code: EntryView(
                item_code=entry.item_code, item_type=entry.item_type, value=entry.value,
                reviewed_value=entry.reviewed_value, review_reason=entry.review_reason,
                evidence=counts.get(entry.id or 0, 0),
            )
            for entry in entries
        },
    )


def _submission(session: Session, period_id: int, unit_id: int) -> Submission:
    submission = session.exec(
        select(Submission).where(Submission.period_id == period_id, Submission.unit_id == unit_id)
    ).first()
    if submission is None:
        raise LookupError(f"no submission of unit {unit_id} in period {period_id}")
    return submission


def accept_submission(
    *, session: Session, period_id: int, unit_id: int, actor: str, bloc_id: int, unit_code: str,
) -> bool:
    """Accept a handed-in submission; False when it is not handed in (nothing changed). Audited."""
    submission = _submission(session, period_id, unit_id)
    if submission.status != SubmissionStatus.submitted.value:
        return False
    record(session=session, actor=actor, bloc_id=bloc_id, unit_code=unit_code, action="review.accept",
           target=f"submission {submission.id}", before=submission.status,
           after=SubmissionStatus.accepted.value)
    submission.status = SubmissionStatus.accepted.value
    session.add(submission)
    return True


def return_submission(
    *, session: Session, period_id: int, unit_id: int, reason: str, actor: str, bloc_id: int,
    unit_code: str,
) -> bool:
    """Return a handed-in submission for correction, with the reason the unit will see. Audited."""
    submission = _submission(session, period_id, unit_id)
    if submission.status not in HANDED_IN:
        return False
    record(session=session, actor=actor, bloc_id=bloc_id, unit_code=unit_code, action="review.return",
           target=f"submission {submission.id}", before=submission.status,
           after={"status": SubmissionStatus.returned.value, "reason": reason})
    submission.status = SubmissionStatus.returned.value
    submission.return_reason = reason[:MAX_REASON]
    session.add(submission)
    return True


def review_entry(
    *, session: Session, period_id: int, unit_id: int, item_type: str, item_code: str, value: Decimal,
    reason: str, actor: str, bloc_id: int, unit_code: str,
) -> ScoreChange:
    """Set the reviewed value of an item (its entry is made when the unit gave none). Audited."""
    submission = _submission(session, period_id, unit_id)
    submission_id = stored_id(submission)
    entry = session.exec(
        select(Entry).where(Entry.submission_id == submission_id, Entry.item_code == item_code)
    ).first()
    if entry is None:
        entry = Entry(submission_id=submission_id, item_type=item_type, item_code=item_code,
                      updated_by=actor[:64])
    change = ScoreChange(own=entry.value, before=entry.reviewed_value, after=value)
    record(session=session, actor=actor, bloc_id=bloc_id, unit_code=unit_code, action="review.score",
           target=item_code, before={"value": entry.value, "reviewed": entry.reviewed_value,
                                     "reason": entry.review_reason},
           after={"reviewed": value, "reason": reason})
    entry.reviewed_value, entry.review_reason = value, reason[:MAX_REASON]
    entry.updated_at, entry.updated_by = utcnow(), actor[:64]
    session.add(entry)
    return change


def latest_publication(*, session: Session, period_id: int) -> Publication | None:
    """The newest publication of a period's ranking."""
    row = session.exec(
        select(PublishedRanking).where(PublishedRanking.period_id == period_id)
        .order_by(col(PublishedRanking.version).desc())
    ).first()
    if row is None:
        return None
    return Publication(version=row.version, published_at=row.published_at, published_by=row.published_by,
                       ranking=json.loads(row.ranking_json), reopened_at=row.reopened_at,
                       reopen_reason=row.reopen_reason)


def publish_period(
    *, session: Session, period_id: int, ranking: dict[str, Any], actor: str, now: dt.datetime, bloc_id: int,
) -> int:
    """Lock a period and keep the published ranking; returns the publication's version. Audited."""
    period = session.get(Period, period_id)
    if period is None:
        raise LookupError(f"no period {period_id}")
    previous = latest_publication(session=session, period_id=period_id)
    version = previous.version + 1 if previous is not None else 1
    session.add(PublishedRanking(period_id=period_id, version=version, published_at=now,
                                 published_by=actor[:64],
                                 ranking_json=json.dumps(ranking, ensure_ascii=False, sort_keys=True)))
    record(session=session, actor=actor, bloc_id=bloc_id, action="ranking.publish",
           target=f"period {period.year} {period.kind}", before=previous.version if previous else None,
           after={"version": version, "ranking": [(row["unit_code"], row["rank"], row["total"])
                                                   for row in ranking.get("ranking", [])]})
    period.published_at = now
    session.add(period)
    return version


def reopen_period(
    *, session: Session, period_id: int, reason: str, actor: str, now: dt.datetime, bloc_id: int,
) -> bool:
    """Unlock a published period, with the reason; False when it was not published. Audited."""
    period = session.get(Period, period_id)
    if period is None or period.published_at is None:
        return False
    row = session.exec(
        select(PublishedRanking).where(PublishedRanking.period_id == period_id)
        .order_by(col(PublishedRanking.version).desc())
    ).first()
    if row is not None:
        row.reopened_at, row.reopened_by, row.reopen_reason = now, actor[:64], reason[:MAX_REASON]
        session.add(row)
    record(session=session, actor=actor, bloc_id=bloc_id, action="ranking.reopen",
           target=f"period {period.year} {period.kind}", before=period.published_at,
           after={"published": None, "reason": reason})
    period.published_at = None
    session.add(period)
    return True


def record_export(*, session: Session, bloc_id: int, actor: str, target: str, files: list[str]) -> None:
    """Audit that the paperwork was generated and handed out."""
    record(session=session, actor=actor, bloc_id=bloc_id, action="paperwork.export", target=target,
           before=None, after=files)


def officers_of_unit(*, session: Session, unit_id: int) -> list[OfficerName]:
    """A unit's active officers, heads first (for the signature blocks of the minutes)."""
    rows = session.exec(
        select(Officer.name, Officer.role).where(Officer.unit_id == unit_id, col(Officer.active).is_(True))
        .order_by(col(Officer.id))
    )
    officers = [OfficerName(name=name, role=role) for name, role in rows]
    return sorted(officers, key=lambda officer: officer.role != "unit_head")
