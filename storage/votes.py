"""Ballots of a bloc's year: opening, one vote per unit, closing, results, next year's roles.

One unit, one vote is kept by the database: `ballot_voter` has a UNIQUE
(ballot_id, unit_id), and a vote is recorded with `INSERT … ON CONFLICT DO
NOTHING`, so of two officers of one unit pressing at the same moment exactly one
gets in, whatever the code around it checked before.

A secret ballot keeps no readable record that pairs a unit with its choice:
each choice is sealed to the ballot's public key into `ballot_box`
(:class:`storage.models.BallotBox`, `storage/sealing.py`) and the boxes are
opened only when the ballot closes (:func:`open_ballot_box`; :func:`ballot_counts`
refuses before), so neither the bot nor a reader of the database can show or
learn them early. Ballots opened before migration 0010 are still counted from
their counters (:class:`storage.models.BallotTally`).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select, update

from storage import sealing
from storage.models import (
    Ballot,
    BallotBox,
    BallotTally,
    BallotVoter,
    Officer,
    OpenVote,
    Period,
    Unit,
    YearRoles,
    stored_id,
)
from storage.roles import officer_addresses


class BallotKind(StrEnum):
    """What a ballot decides."""

    acclaim = "acclaim"  # suy tôn: yes/no on the leading unit (the flag)
    leader = "leader"  # next year's leader (khối trưởng)
    deputy = "deputy"  # next year's deputy (khối phó)


KIND_ORDER = {BallotKind.acclaim: 0, BallotKind.leader: 1, BallotKind.deputy: 2}
ACCLAIM_CHOICES = ("yes", "no")


class BallotStillOpen(Exception):
    """Counts were asked for before the ballot closed."""


@dataclass(frozen=True)
class BallotView:
    """A ballot, detached from the session."""

    id: int
    bloc_id: int
    year: int
    kind: BallotKind
    round: int
    secret: bool
    token: str
    subject_unit_id: int | None
    candidates: tuple[str, ...]
    members: tuple[str, ...]
    rules_json: str
    opened_at: dt.datetime
    opened_by: str
    closes_at: dt.datetime
    remind_at: dt.datetime
    reminded_at: dt.datetime | None
    closed_at: dt.datetime | None
    closed_by: str | None
    outcome: str | None
    result: dict[str, Any] | None
    winner_unit_id: int | None
    seal_key: sealing.SealKey | None = None  # None: an open ballot, or a secret one from before sealing

    @property
    def options(self) -> tuple[str, ...]:
        """What a voter may choose: yes/no for an acclaim, the candidates' codes otherwise."""
        return ACCLAIM_CHOICES if self.kind is BallotKind.acclaim else self.candidates

    def accepts_votes(self, now: dt.datetime) -> bool:
        """Not closed and its closing time not reached."""
        return self.closed_at is None and now < self.closes_at


@dataclass(frozen=True)
class Cast:
    """A secret vote stored: the voter's receipt code (None in a ballot opened before sealing)."""

    receipt: str | None


@dataclass(frozen=True)
class BoxCount:
    """A closed secret ballot's box, opened: valid votes per option, invalid boxes, the receipts."""

    counts: dict[str, int]
    invalid: int
    boxes: int
    receipts: tuple[str, ...]  # sorted: says who voted nothing about what


@dataclass(frozen=True)
class VoterChat:
    """A chat that receives a unit's ballot: the unit's voter officer, linked to the bot."""

    unit_id: int
    officer_id: int
    user_id: str  # the address of the officer's private chat: `<channel>:<platform id>`
    language: str


@dataclass(frozen=True)
class NextRoles:
    """The leader and deputy units recorded for a year, and where they come from."""

    leader_unit_id: int
    deputy_unit_id: int
    source: str


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def _view(row: Ballot) -> BallotView:
    return BallotView(
        id=stored_id(row), bloc_id=row.bloc_id, year=row.year, kind=BallotKind(row.kind), round=row.round,
        secret=row.secret, token=row.token, subject_unit_id=row.subject_unit_id,
        candidates=tuple(json.loads(row.candidates)), members=tuple(json.loads(row.members)),
        rules_json=row.rules_json, opened_at=row.opened_at, opened_by=row.opened_by,
        closes_at=row.closes_at, remind_at=row.remind_at, reminded_at=row.reminded_at,
        closed_at=row.closed_at, closed_by=row.closed_by, outcome=row.outcome,
        result=json.loads(row.result_json) if row.result_json else None,
        winner_unit_id=row.winner_unit_id,
        seal_key=sealing.SealKey(public_key=row.seal_public_key, salt=row.seal_salt)
        if row.seal_public_key and row.seal_salt else None,
    )


def voting_year(*, session: Session, bloc_id: int) -> int | None:
    """The newest year whose year-end ranking is published: the year the bloc votes on."""
    return session.exec(
        select(Period.year)
        .where(Period.bloc_id == bloc_id, Period.kind == "year-end", col(Period.published_at).is_not(None))
        .order_by(col(Period.year).desc())
    ).first()


def is_published(*, session: Session, bloc_id: int, year: int) -> bool:
    """Whether the year-end ranking of a year is published (not reopened)."""
    return session.exec(
        select(Period.id).where(Period.bloc_id == bloc_id, Period.year == year, Period.kind == "year-end",
                                col(Period.published_at).is_not(None))
    ).first() is not None


def create_ballot(
    *,
    session: Session,
    bloc_id: int,
    year: int,
    kind: BallotKind,
    round: int,
    secret: bool,
    subject_unit_id: int | None,
    candidates: Sequence[str],
    members: Sequence[str],
    rules_json: str,
    opened_at: dt.datetime,
    opened_by: str,
    closes_at: dt.datetime,
    remind_at: dt.datetime,
) -> BallotView | None:
    """Open a ballot; None when that round of that ballot exists already (the database decides).

    A secret ballot gets its sealing key here: the public half and the salt are
    stored, the private half is derived again only at closing (`storage/sealing.py`).
    """
    key = sealing.new_seal_key() if secret else None
    statement = (
        _insert(session)(Ballot)
        .values(
            bloc_id=bloc_id, year=year, kind=kind.value, round=round, secret=secret,
            token=secrets.token_hex(4), subject_unit_id=subject_unit_id,
            candidates=json.dumps(list(candidates)), members=json.dumps(list(members)),
            rules_json=rules_json, opened_at=opened_at, opened_by=opened_by[:64], closes_at=closes_at,
            remind_at=remind_at, seal_public_key=key.public_key if key else None,
            seal_salt=key.salt if key else None,
        )
        .on_conflict_do_nothing(index_elements=["bloc_id", "year", "kind", "round"])
        .returning(col(Ballot.id))
    )
    ballot_id = session.exec(statement).scalar()
    if ballot_id is None:
        return None
    return _view(session.exec(select(Ballot).where(Ballot.id == ballot_id)).one())


def get_ballot(*, session: Session, ballot_id: int, lock: bool = False) -> BallotView | None:
    """A ballot by id; `lock` holds its row until the transaction ends (PostgreSQL)."""
    statement = select(Ballot).where(Ballot.id == ballot_id).execution_options(populate_existing=True)
    if lock:
        statement = statement.with_for_update()
    row = session.exec(statement).first()
    return _view(row) if row is not None else None


def ballots_of(*, session: Session, bloc_id: int, year: int | None = None) -> list[BallotView]:
    """A bloc's ballots (of one year when given): by year, then acclaim, leader, deputy, then round."""
    statement = select(Ballot).where(Ballot.bloc_id == bloc_id)
    if year is not None:
        statement = statement.where(Ballot.year == year)
    views = [_view(row) for row in session.exec(statement.execution_options(populate_existing=True))]
    return sorted(views, key=lambda view: (view.year, KIND_ORDER[view.kind], view.round))


def ballot_years(*, session: Session, bloc_id: int) -> list[int]:
    """Years in which the bloc held ballots, newest first."""
    return list(session.exec(
        select(Ballot.year).where(Ballot.bloc_id == bloc_id).distinct().order_by(col(Ballot.year).desc())
    ))


def voted_unit_ids(*, session: Session, ballot_id: int) -> set[int]:
    """Units that have voted in a ballot (turnout is public; choices are not)."""
    return set(session.exec(select(BallotVoter.unit_id).where(BallotVoter.ballot_id == ballot_id)))


def _claim_voter(session: Session, ballot_id: int, unit_id: int) -> bool:
    statement = (
        _insert(session)(BallotVoter)
        .values(ballot_id=ballot_id, unit_id=unit_id)
        .on_conflict_do_nothing(index_elements=["ballot_id", "unit_id"])
        .returning(col(BallotVoter.id))
    )
    return session.exec(statement).first() is not None


def record_secret_vote(*, session: Session, ballot_id: int, unit_id: int, choice: str) -> Cast | None:
    """Record a unit's vote in a secret ballot; None when the unit has voted already.

    The unit goes to `ballot_voter` (its UNIQUE key keeps one vote per unit) and
    the choice, with a fresh receipt code, is sealed into a box with a random
    slot: nothing written depends on the choice in a form a reader can read, and
    no counter changes. A ballot opened before sealing keeps its old counters.
    """
    ballot = get_ballot(session=session, ballot_id=ballot_id)
    if ballot is None or choice not in ballot.options:
        raise ValueError(f"{choice!r} is not an option of ballot {ballot_id}")
    if not _claim_voter(session, ballot_id, unit_id):
        return None
    if ballot.seal_key is None:
        _count_legacy(session, ballot_id, choice)
        return Cast(receipt=None)
    receipt = sealing.new_receipt()
    sealed = sealing.seal(ballot.seal_key, ballot_id=ballot_id, choice=choice, receipt=receipt)
    session.exec(_insert(session)(BallotBox).values(slot=secrets.token_hex(16), ballot_id=ballot_id, sealed=sealed))
    return Cast(receipt=receipt)


def _count_legacy(session: Session, ballot_id: int, choice: str) -> None:
    """A vote in a secret ballot opened before migration 0010: every counter rewritten, the chosen one + 1."""
    changed = session.exec(
        update(BallotTally)
        .where(col(BallotTally.ballot_id) == ballot_id)
        .values(votes=BallotTally.votes + case((col(BallotTally.choice) == choice, 1), else_=0))
    )
    known = session.exec(
        select(func.count()).select_from(BallotTally)
        .where(BallotTally.ballot_id == ballot_id, BallotTally.choice == choice)
    ).one()
    if changed.rowcount == 0 or known != 1:
        raise ValueError(f"{choice!r} is not an option of ballot {ballot_id}")


def record_open_vote(
    *, session: Session, ballot_id: int, unit_id: int, officer_id: int, choice: str, now: dt.datetime
) -> bool:
    """Record or change a unit's vote in an open ballot; True when it is the unit's first vote."""
    first = _claim_voter(session, ballot_id, unit_id)
    statement = (
        _insert(session)(OpenVote)
        .values(ballot_id=ballot_id, unit_id=unit_id, officer_id=officer_id, choice=choice, voted_at=now)
    )
    statement = statement.on_conflict_do_update(
        index_elements=["ballot_id", "unit_id"],
        set_={"choice": choice, "officer_id": officer_id, "voted_at": now},
    )
    session.exec(statement)
    return first


def close_ballot(*, session: Session, ballot_id: int, now: dt.datetime, closed_by: str) -> bool:
    """Close a ballot; False when it was closed already (one conditional UPDATE decides)."""
    result = session.exec(
        update(Ballot)
        .where(col(Ballot.id) == ballot_id, col(Ballot.closed_at).is_(None))
        .values(closed_at=now, closed_by=closed_by[:64])
    )
    return result.rowcount == 1


def store_result(
    *, session: Session, ballot_id: int, outcome: str, result: dict[str, Any], winner_unit_id: int | None
) -> None:
    """Keep a closed ballot's tally."""
    row = session.get(Ballot, ballot_id)
    if row is None or row.closed_at is None:
        raise BallotStillOpen(f"ballot {ballot_id} is not closed")
    row.outcome, row.result_json, row.winner_unit_id = outcome, json.dumps(result, ensure_ascii=False), \
        winner_unit_id
    session.add(row)
    session.flush()


def _closed_row(session: Session, ballot_id: int) -> Ballot:
    row = session.get(Ballot, ballot_id)
    if row is None or row.closed_at is None:
        raise BallotStillOpen(f"ballot {ballot_id} is open: its counts are not shown before closing")
    return row


def open_ballot_box(*, session: Session, ballot_id: int) -> BoxCount:
    """Open every sealed box of a closed secret ballot and count them; refused while it is open.

    A box that does not open with the ballot's key, or whose tag or choice is not
    genuine (written by someone without the server's secret), is invalid.
    """
    row = _closed_row(session, ballot_id)
    ballot = _view(row)
    if ballot.seal_key is None:
        return BoxCount(counts=ballot_counts(session=session, ballot_id=ballot_id), invalid=0, boxes=0, receipts=())
    opener = sealing.Opener(ballot.seal_key, ballot_id)
    counts = dict.fromkeys(ballot.options, 0)
    invalid, receipts, boxes, seen = 0, [], 0, set()
    for sealed in session.exec(select(BallotBox.sealed).where(BallotBox.ballot_id == ballot_id)):
        boxes += 1
        unsealed = opener.open(sealed)
        # A copy of a genuine box (same receipt) is one ballot put in twice: invalid.
        if unsealed is None or unsealed.choice not in counts or unsealed.receipt in seen:
            invalid += 1
            continue
        counts[unsealed.choice] += 1
        receipts.append(unsealed.receipt)
        seen.add(unsealed.receipt)
    return BoxCount(counts=counts, invalid=invalid, boxes=boxes, receipts=tuple(sorted(receipts)))


def blur_arrival(*, session: Session, ballot_id: int) -> None:
    """Rewrite a counted ballot's voter and box rows in one transaction.

    On PostgreSQL every live row then carries the closing transaction's id (`xmin`)
    instead of its vote's, so the live tables no longer pair a box with a voter
    even for someone who holds the key (old row versions last until VACUUM).
    """
    session.exec(update(BallotBox).where(col(BallotBox.ballot_id) == ballot_id)
                 .values(ballot_id=BallotBox.ballot_id))
    session.exec(update(BallotVoter).where(col(BallotVoter.ballot_id) == ballot_id)
                 .values(unit_id=BallotVoter.unit_id))


def ballot_counts(*, session: Session, ballot_id: int) -> dict[str, int]:
    """Votes per option of a closed ballot (valid votes of a sealed one); refused while it is open."""
    row = _closed_row(session, ballot_id)
    if row.secret and row.seal_public_key:
        return open_ballot_box(session=session, ballot_id=ballot_id).counts
    options = ACCLAIM_CHOICES if row.kind == BallotKind.acclaim.value else tuple(json.loads(row.candidates))
    counts = dict.fromkeys(options, 0)
    if row.secret:
        for choice, votes in session.exec(
            select(BallotTally.choice, BallotTally.votes).where(BallotTally.ballot_id == ballot_id)
        ):
            counts[choice] = votes
    else:
        for choice in session.exec(select(OpenVote.choice).where(OpenVote.ballot_id == ballot_id)):
            counts[choice] = counts.get(choice, 0) + 1
    return counts


def open_choices(*, session: Session, ballot_id: int) -> dict[int, str]:
    """Each unit's choice in an open ballot (unit id -> choice); a secret ballot has none to give."""
    rows = session.exec(select(OpenVote.unit_id, OpenVote.choice).where(OpenVote.ballot_id == ballot_id))
    return {unit_id: choice for unit_id, choice in rows}


def due_ballot_ids(*, session: Session, now: dt.datetime) -> tuple[list[int], list[int]]:
    """Open ballots whose closing time has come, and those whose one reminder is due."""
    to_close = list(session.exec(
        select(Ballot.id).where(col(Ballot.closed_at).is_(None), col(Ballot.closes_at) <= now)
    ))
    to_remind = list(session.exec(
        select(Ballot.id).where(col(Ballot.closed_at).is_(None), col(Ballot.closes_at) > now,
                                col(Ballot.reminded_at).is_(None), col(Ballot.remind_at) <= now)
    ))
    return [ballot_id for ballot_id in to_close if ballot_id is not None], \
        [ballot_id for ballot_id in to_remind if ballot_id is not None]


def claim_reminder(*, session: Session, ballot_id: int, now: dt.datetime) -> bool:
    """Mark a ballot's reminder as sent; False when it was already (one reminder per ballot)."""
    result = session.exec(
        update(Ballot)
        .where(col(Ballot.id) == ballot_id, col(Ballot.reminded_at).is_(None), col(Ballot.closed_at).is_(None))
        .values(reminded_at=now)
    )
    return result.rowcount == 1


def acclaim_outcome(*, session: Session, bloc_id: int, year: int) -> bool | None:
    """Whether the year's acclaim passed: None while none has counted (not held, open, or no quorum)."""
    rows = session.exec(
        select(Ballot.outcome).where(Ballot.bloc_id == bloc_id, Ballot.year == year,
                                     Ballot.kind == BallotKind.acclaim.value)
        .order_by(col(Ballot.round).desc())
    ).first()
    if rows == "passed":
        return True
    if rows == "rejected":
        return False
    return None


def voter_chats(*, session: Session, unit_ids: Sequence[int]) -> list[VoterChat]:
    """The linked, active voter officers of these units."""
    if not unit_ids:
        return []
    rows = list(session.exec(
        select(Officer.unit_id, Officer.id, Officer.language)
        .where(col(Officer.unit_id).in_(list(unit_ids)), col(Officer.voter).is_(True),
               col(Officer.active).is_(True))
        .order_by(col(Officer.unit_id), col(Officer.id))
    ))
    addresses = officer_addresses(session=session, officer_ids=[officer_id for _, officer_id, _ in rows])
    return [VoterChat(unit_id=unit_id, officer_id=officer_id, user_id=addresses[officer_id], language=language)
            for unit_id, officer_id, language in rows if officer_id is not None and officer_id in addresses]


def unit_id_map(*, session: Session, bloc_id: int) -> dict[str, int]:
    """Unit code -> id for a bloc."""
    rows = session.exec(select(Unit.code, Unit.id).where(Unit.bloc_id == bloc_id))
    return {code: unit_id for code, unit_id in rows if unit_id is not None}


def next_roles(*, session: Session, bloc_id: int, year: int) -> NextRoles | None:
    """The leader and deputy recorded for a year."""
    row = session.exec(select(YearRoles).where(YearRoles.bloc_id == bloc_id, YearRoles.year == year)).first()
    if row is None:
        return None
    return NextRoles(leader_unit_id=row.leader_unit_id, deputy_unit_id=row.deputy_unit_id, source=row.source)


def set_next_roles(
    *, session: Session, bloc_id: int, year: int, leader_unit_id: int, deputy_unit_id: int, source: str
) -> None:
    """Record a year's leader and deputy (elected, or by rotation or appointment)."""
    row = session.exec(select(YearRoles).where(YearRoles.bloc_id == bloc_id, YearRoles.year == year)).first()
    if row is None:
        row = YearRoles(bloc_id=bloc_id, year=year, leader_unit_id=leader_unit_id, deputy_unit_id=deputy_unit_id)
    row.leader_unit_id, row.deputy_unit_id, row.source = leader_unit_id, deputy_unit_id, source[:16]
    session.add(row)
    session.flush()
