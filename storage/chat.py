"""Queries behind the conversation: state, deduplication, officers, periods, entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, bindparam
from sqlalchemy import select as sql_select  # sqlmodel's types four columns at most
from sqlmodel import Session, col, select

from storage.blocs import LATEST_GROUP, keep_bloc
from storage.models import (
    Bloc,
    BlocGroup,
    ChatState,
    Entry,
    Evidence,
    Officer,
    OfficerAccount,
    Period,
    SentRef,
    Submission,
    Unit,
    utcnow,
)

# The statements every message runs are built once, with bound parameters: building
# a statement and its cache key costs more than running it on SQLite.
_STATE = select(ChatState).where(ChatState.channel == bindparam("channel"),
                                  ChatState.user_id == bindparam("user_id"))
_OFFICER_ROWS = (
    select(Officer, Unit, Bloc)
    .join(Unit, col(Unit.id) == Officer.unit_id)
    .join(Bloc, col(Bloc.id) == Officer.bloc_id)
    .where(col(Officer.active).is_(True))
)
_OFFICER_BY_ID = _OFFICER_ROWS.where(Officer.id == bindparam("officer_id"))
# With the bloc's group: every turn of an officer reads the bloc next (storage/blocs.py keeps it).
_OFFICER_BY_ACCOUNT = (
    sql_select(Officer, Unit, Bloc, OfficerAccount, col(BlocGroup.channel), col(BlocGroup.chat_id))
    .join(Unit, col(Unit.id) == Officer.unit_id)
    .join(Bloc, col(Bloc.id) == Officer.bloc_id)
    .where(col(Officer.active).is_(True))
    .join(OfficerAccount, col(OfficerAccount.officer_id) == Officer.id)
    .where(col(OfficerAccount.channel) == bindparam("channel"),
           col(OfficerAccount.external_id) == bindparam("user_id"))
    .outerjoin(BlocGroup, LATEST_GROUP)
)
_ENTRIES = select(Entry).where(Entry.submission_id == bindparam("submission_id"))
_SUBMISSION = select(Submission).where(Submission.period_id == bindparam("period_id"),
                                       Submission.unit_id == bindparam("unit_id"))


def get_state(*, session: Session, channel: str, user_id: str, language: str) -> ChatState:
    """The person's conversation state, created (not yet flushed) on first contact."""
    state = session.exec(_STATE, params={"channel": channel, "user_id": user_id}).first()
    if state is None:
        state = ChatState(channel=channel, user_id=user_id, language=language)
        session.add(state)
    return state


def save_state(*, session: Session, state: ChatState) -> None:
    """Keep the state in the caller's transaction."""
    state.updated_at = utcnow()
    session.add(state)


@dataclass(frozen=True)
class OfficerView:
    """An officer with their unit and bloc, detached from the session."""

    id: int
    code: str
    name: str
    role: str
    voter: bool
    language: str
    unit_id: int
    unit_code: str
    unit_name: str
    bloc_id: int
    bloc_code: str
    # The operator's terminal (`python -m bot shell`) acts for the officer, not the officer.
    via_console: bool = False
    # Whether this session may cast the unit's ballot: not from the terminal unless the
    # operator said so (`shell --allow-ballots`, itself audited).
    may_cast_ballots: bool = True

    @property
    def actor(self) -> str:
        """Who acts, for the audit trail: `officer:<code>`, or `console:<code>` from the terminal."""
        return f"{'console' if self.via_console else 'officer'}:{self.code}"


def officer_for_user(*, session: Session, channel: str, user_id: str, bot: str | None = None) -> OfficerView | None:
    """The active officer behind a chat account.

    On a messenger the account is linked by an invite (`officer_account`); the
    console channel (run by the operator on the server) names the officer
    directly, its user id being the officer's id. `bot`: the bot the person
    wrote to, remembered on the account (what is owed to them goes through it).
    """
    if channel == "console":
        if not user_id.isdigit():
            return None
        return _view(session.exec(_OFFICER_BY_ID, params={"officer_id": int(user_id)}).first(), channel=channel)
    found = session.execute(_OFFICER_BY_ACCOUNT, {"channel": channel, "user_id": user_id}).first()
    if found is None:
        return None
    officer, unit, bloc, account, group_channel, group_chat_id = found
    if bot is not None and account.bot != bot:
        account.bot = bot
        session.add(account)
    keep_bloc(session, bloc, group_channel, group_chat_id)
    return _view((officer, unit, bloc), channel=channel)


def officer_view(*, session: Session, officer_id: int) -> OfficerView | None:
    """The active officer with this id (a web page's session names the officer directly)."""
    return _view(session.exec(_OFFICER_BY_ID, params={"officer_id": officer_id}).first(), channel="web")


def _view(row: tuple[Officer, Unit, Bloc] | None, *, channel: str) -> OfficerView | None:
    if row is None:
        return None
    officer, unit, bloc = row
    if not (officer.id is not None and unit.id is not None and bloc.id is not None):
        raise RuntimeError('invariant broken: officer.id is not None and unit.id is not None and bloc.id is not None')
    return OfficerView(
        id=officer.id, code=officer.code, name=officer.name, role=officer.role, voter=officer.voter,
        language=officer.language, unit_id=unit.id, unit_code=unit.code, unit_name=unit.name,
        bloc_id=bloc.id, bloc_code=bloc.code, via_console=channel == "console",
        may_cast_ballots=channel != "console",
    )


def officer_by_code(*, session: Session, bloc_code: str, officer_code: str) -> Officer | None:
    """An officer row by bloc and officer code (for the console channel)."""
    return session.exec(
        select(Officer).join(Bloc, col(Bloc.id) == Officer.bloc_id)
        .where(Bloc.code == bloc_code, Officer.code == officer_code)
    ).first()


def set_officer_language(*, session: Session, officer_id: int, language: str) -> None:
    """Remember an officer's language."""
    officer = session.get(Officer, officer_id)
    if officer is not None:
        officer.language = language
        session.add(officer)


def periods_for_reporting(*, session: Session, bloc_id: int) -> list[Period]:
    """The bloc's periods, newest first."""
    return list(
        session.exec(
            select(Period).where(Period.bloc_id == bloc_id)
            .order_by(col(Period.year).desc(), col(Period.kind).desc())
        )
    )


def open_periods(*, session: Session, bloc_id: int, now: dt.datetime) -> list[Period]:
    """Periods whose reporting window contains `now`."""
    return [
        period for period in periods_for_reporting(session=session, bloc_id=bloc_id)
        if period.reporting_opens <= now < period.reporting_deadline
    ]


def entries_of(*, session: Session, submission_id: int) -> dict[str, Entry]:
    """A submission's entries by item code."""
    return {
        entry.item_code: entry
        for entry in session.exec(_ENTRIES, params={"submission_id": submission_id})
    }


# A period with its unit's submission, if there is one: what a reporting turn reads first.
_PERIOD_AND_SUBMISSION = (
    select(Period, Submission)
    .outerjoin(Submission, and_(col(Submission.period_id) == Period.id,
                                col(Submission.unit_id) == bindparam("unit_id")))
    .where(Period.id == bindparam("period_id"))
)


def period_with_submission(*, session: Session, period_id: int,
                           unit_id: int) -> tuple[Period, Submission | None] | None:
    """A period and the unit's submission for it (None if none), in one statement; None without such a period."""
    found = session.exec(_PERIOD_AND_SUBMISSION, params={"period_id": period_id, "unit_id": unit_id}).first()
    return None if found is None else (found[0], found[1])


def find_submission(*, session: Session, period_id: int, unit_id: int) -> Submission | None:
    """A unit's submission for a period, if it exists."""
    return session.exec(_SUBMISSION, params={"period_id": period_id, "unit_id": unit_id}).first()


def add_evidence(
    *, session: Session, entry_id: int, file_id: str | None, file_name: str | None,
    file_size: int | None, note: str | None,
) -> None:
    """Attach a file or a note to an entry."""
    session.add(Evidence(entry_id=entry_id, file_id=file_id, file_name=file_name,
                         file_size=file_size, note=note))


def evidence_counts(*, session: Session, entry_ids: list[int]) -> dict[int, int]:
    """How many pieces of evidence each entry has."""
    counts: dict[int, int] = {}
    if not entry_ids:
        return counts
    for entry_id in session.exec(select(Evidence.entry_id).where(col(Evidence.entry_id).in_(entry_ids))):
        counts[entry_id] = counts.get(entry_id, 0) + 1
    return counts


def entry_value(entries: dict[str, Entry], code: str) -> Decimal | None:
    """The stored value of an item, if any."""
    entry = entries.get(code)
    return entry.value if entry is not None else None


def remember_message(*, session: Session, key: str, chat_id: str, message_id: str) -> None:
    """Keep the id of a sent message under a key, replacing an older one."""
    ref = session.exec(select(SentRef).where(SentRef.key == key)).first()
    if ref is None:
        ref = SentRef(key=key, chat_id=chat_id, message_id=message_id)
    ref.chat_id, ref.message_id, ref.updated_at = chat_id, message_id, utcnow()
    session.add(ref)


def recall_message(*, session: Session, key: str) -> tuple[str, str] | None:
    """The chat and message id kept under a key."""
    ref = session.exec(select(SentRef).where(SentRef.key == key)).first()
    return (ref.chat_id, ref.message_id) if ref is not None else None
