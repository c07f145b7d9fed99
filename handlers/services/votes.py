"""The year's votes as plain data: what may be opened, opening, voting, closing, counting, reminding.

Telegram polls cannot hold these votes (anyone in a group may answer, and an
anonymous poll hides who voted), so each ballot is a message with buttons sent
to every member unit's voter in a private chat, and the database keeps one vote
per unit (`storage/votes.py`). This module decides; `handlers.renderers.votes`
writes the messages and `handlers.flows.votes` wires the two to the chat.

- A ballot closes at its closing time (:func:`due_ballots`, run periodically by
  the bot, and on any press that comes in late), as soon as every member unit
  has voted, or early by the leader. Closing is one conditional UPDATE: whoever
  tries, it closes and is counted once.
- The tallies are `rules.voting`'s; the result goes to the bloc's group (or to the
  leader unit when no group is bound). A passed acclaim turns the ranking's
  `flag-pending-acclaim` into `flag`; the elected leader and deputy become next
  year's roles.
- Nothing here holds who chose what in a secret ballot: the choice of a secret
  ballot rides in the voter's confirm button, never in a state, and is stored
  only sealed (`storage.votes.record_secret_vote`); the boxes are opened and
  counted at closing, like a counting committee's (tổ kiểm phiếu) count: ballots
  issued, returned, valid and invalid, checked against the voter roll, and the
  list of the receipt codes found in the box, published with the result.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from handlers.services.ranking import RankingError, compute_ranking
from rules.ballot_times import BallotTimes, ballot_times
from rules.config import BallotRules, BlocConfig, ElectionRules, PeriodKind
from rules.reminders import WorkCalendar
from rules.voting import BallotError, check_ballot, tally_acclaim, tally_election
from storage.audit import record
from storage.blocs import BlocRef, bloc_by_id, period_row
from storage.chat import OfficerView
from storage.db import session_scope
from storage.groups import group_post_address
from storage.roles import BlocRole, leading_unit_ids, linked_officer_chats, unit_role
from storage.votes import (
    BallotKind,
    BallotView,
    NextRoles,
    VoterChat,
    ballot_counts,
    ballots_of,
    blur_arrival,
    claim_reminder,
    close_ballot,
    create_ballot,
    due_ballot_ids,
    get_ballot,
    is_published,
    next_roles,
    open_ballot_box,
    open_choices,
    record_open_vote,
    record_secret_vote,
    set_next_roles,
    store_result,
    unit_id_map,
    voted_unit_ids,
    voter_chats,
    voting_year,
)

KINDS = (BallotKind.acclaim, BallotKind.leader, BallotKind.deputy)
REMIND_AFTER = 3  # quarters of the ballot's time: the one reminder goes out with a quarter left
FAILED = ("no_quorum", "tie", "below_pass_share")  # outcomes after which the leader is asked to vote again

Chat = tuple[str, str]  # (address, language)
"""A chat to write to, and the language to write in."""


# -- a bloc's units ------------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    """A bloc's units by code and id, its name and its time zone: what every vote text needs."""

    bloc_id: int
    bloc_name: str
    timezone: str
    names: Mapping[str, str]  # unit code -> full name
    ids: Mapping[str, int]  # unit code -> id
    codes: Mapping[int, str]  # unit id -> code

    def name(self, code: str | None) -> str:
        """A unit's full name (its code when the configuration no longer has it)."""
        return self.names.get(code or "", code or "?")

    def code(self, unit_id: int | None) -> str | None:
        """A unit's code by its id."""
        return self.codes.get(unit_id) if unit_id is not None else None


def _roster(session: Session, bloc: BlocRef) -> Roster:
    ids = unit_id_map(session=session, bloc_id=bloc.id)
    return Roster(bloc_id=bloc.id, bloc_name=bloc.config.bloc.name, timezone=bloc.config.bloc.timezone,
                  names={unit.code: unit.name for unit in bloc.config.units}, ids=ids,
                  codes={unit_id: code for code, unit_id in ids.items()})


def ballot_rules(ballot: BallotView) -> BallotRules:
    """The rules frozen into the ballot when it opened (stored text is read as stored)."""
    if ballot.kind is BallotKind.acclaim:
        return BallotRules.model_validate_json(ballot.rules_json, context={"stored": True})
    return election_rules(ballot)


def election_rules(ballot: BallotView) -> ElectionRules:
    """The election rules frozen into a leader's or deputy's ballot."""
    return ElectionRules.model_validate_json(ballot.rules_json, context={"stored": True})


def rules_for(config: BlocConfig, kind: BallotKind) -> BallotRules:
    """The configured rules a new ballot of this kind opens with."""
    return config.votes.acclaim if kind is BallotKind.acclaim else config.votes.election


def default_hours(rules: BallotRules) -> int:
    """The configured closing time, kept within the configured bounds."""
    return min(max(rules.closing_hours, rules.min_hours), rules.max_hours)


def quorum_need(rules: BallotRules, members: int) -> int:
    """How many units must vote for the ballot to count."""
    return int((rules.quorum * members).to_integral_value(rounding=ROUND_CEILING))


def tied_units(result: Mapping[str, Any]) -> list[str]:
    """The units tied at the top of an election's count."""
    runoff = list(result.get("runoff_candidates", ()))
    if runoff:
        return runoff
    counts = result.get("counts", {})
    top = max(counts.values(), default=0)
    return [code for code, votes in counts.items() if votes == top] if top else []


# -- plain data for the minutes and the command line ------------------------------------------


@dataclass(frozen=True)
class VoteResult:
    """One ballot as the minutes and `python -m bot votes` show it: rules, turnout, result.

    `decision` is the outcome's code: passed, rejected, no_quorum (acclaim);
    elected, tie, below_pass_share, no_quorum (election); None while open.
    `counts` (votes per option: "yes"/"no" or unit codes) and `choices` (unit code
    -> choice, open ballots only) are empty while the ballot is open. The minutes'
    wording is `handlers.renderers.votes`' (`minutes_question`, `minutes_outcome`...).
    """

    kind: str
    round: int
    year: int
    for_year: int
    secret: bool
    status: str
    subject_code: str | None
    candidates: tuple[str, ...]
    unit_names: dict[str, str]
    quorum: Decimal
    pass_share: Decimal
    pass_base: str
    self_vote: bool | None
    tie: str | None
    members: int
    votes_cast: int
    opened_at: dt.datetime
    opened_by: str
    closes_at: dt.datetime
    closed_at: dt.datetime | None
    closed_by: str | None
    decision: str | None
    timezone: str = "Asia/Ho_Chi_Minh"
    counts: dict[str, int] = field(default_factory=dict)
    invalid: int = 0
    winner_code: str | None = None
    runoff_candidates: tuple[str, ...] = ()
    choices: dict[str, str] = field(default_factory=dict)
    # The counting committee's figures (once closed): ballots issued (one per unit on the roll),
    # returned (units that voted), valid; whether the box matched the roll; the receipts found.
    issued: int = 0
    returned: int = 0
    valid: int = 0
    roll_matches: bool = True
    receipts: tuple[str, ...] = ()

    @property
    def subject_name(self) -> str | None:
        """The acclaimed unit's name."""
        return self.unit_names.get(self.subject_code) if self.subject_code else None

    @property
    def winner_name(self) -> str | None:
        """The elected unit's name."""
        return self.unit_names.get(self.winner_code) if self.winner_code else None

    def as_json(self) -> dict[str, Any]:
        """The JSON shape printed by `python -m bot votes --format json`."""
        return {
            "kind": self.kind, "round": self.round, "year": self.year, "for_year": self.for_year,
            "secret": self.secret, "status": self.status, "subject": self.subject_code,
            "candidates": list(self.candidates),
            "rules": {"quorum": str(self.quorum), "pass_share": str(self.pass_share),
                      "pass_base": self.pass_base, "self_vote": self.self_vote, "tie": self.tie},
            "members": self.members, "votes_cast": self.votes_cast,
            "opened_at": self.opened_at.isoformat(), "opened_by": self.opened_by,
            "closes_at": self.closes_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "closed_by": self.closed_by, "outcome": self.decision, "counts": dict(self.counts),
            "invalid": self.invalid, "winner": self.winner_code,
            "runoff_candidates": list(self.runoff_candidates), "choices": dict(self.choices),
            "ballots": {"issued": self.issued, "returned": self.returned, "valid": self.valid,
                        "invalid": self.invalid, "roll_matches": self.roll_matches},
            "receipts": list(self.receipts),
        }


def vote_results(*, session: Session, bloc_id: int, year: int) -> list[VoteResult]:
    """Every ballot of a bloc's year as plain data (counts only for closed ballots)."""
    bloc = bloc_by_id(session=session, bloc_id=bloc_id)
    if bloc is None:
        return []
    names = {unit.code: unit.name for unit in bloc.config.units}
    codes = {unit_id: code for code, unit_id in unit_id_map(session=session, bloc_id=bloc_id).items()}
    results = []
    for ballot in ballots_of(session=session, bloc_id=bloc_id, year=year):
        rules = ballot_rules(ballot)
        election = rules if isinstance(rules, ElectionRules) else None
        outcome = ballot.result or {}
        closed = ballot.closed_at is not None and ballot.result is not None
        results.append(VoteResult(
            kind=ballot.kind.value, round=ballot.round, year=ballot.year,
            for_year=ballot.year if ballot.kind is BallotKind.acclaim else ballot.year + 1,
            secret=ballot.secret, status="closed" if closed else "open",
            subject_code=codes.get(ballot.subject_unit_id) if ballot.subject_unit_id else None,
            candidates=ballot.candidates, unit_names=names, quorum=rules.quorum,
            pass_share=rules.pass_share, pass_base=rules.pass_base,
            self_vote=election.self_vote if election else None,
            tie=election.tie.value if election else None, members=len(ballot.members),
            votes_cast=int(outcome.get("votes_cast", len(voted_unit_ids(session=session, ballot_id=ballot.id)))),
            opened_at=ballot.opened_at, opened_by=ballot.opened_by, closes_at=ballot.closes_at,
            closed_at=ballot.closed_at, closed_by=ballot.closed_by, decision=ballot.outcome if closed else None,
            timezone=bloc.config.bloc.timezone,
            counts=_counts_of(ballot) if closed else {}, invalid=int(outcome.get("invalid", 0)),
            winner_code=codes.get(ballot.winner_unit_id) if ballot.winner_unit_id else None,
            runoff_candidates=tuple(outcome.get("runoff_candidates", ())),
            choices=dict(outcome.get("choices", {})) if closed else {},
            **(_committee(outcome, len(ballot.members)) if closed else {"issued": len(ballot.members)}),
        ))
    return results


def _committee(result: Mapping[str, Any], members: int) -> dict[str, Any]:
    """The counting committee's figures of a counted ballot (older results: from their counts)."""
    ballots = result.get("ballots") or {}
    cast = int(result.get("votes_cast", 0))
    invalid = int(result.get("invalid", 0))
    return {"issued": int(ballots.get("issued", members)), "returned": int(ballots.get("returned", cast)),
            "valid": int(ballots.get("valid", int(result.get("valid", cast - invalid)))),
            "roll_matches": bool(ballots.get("roll_matches", True)),
            "receipts": tuple(result.get("receipts", ()))}


def _counts_of(ballot: BallotView) -> dict[str, int]:
    result = ballot.result or {}
    if ballot.kind is BallotKind.acclaim:
        return {"yes": int(result.get("yes", 0)), "no": int(result.get("no", 0))}
    return {code: int(votes) for code, votes in result.get("counts", {}).items()}


# -- a bloc's year of votes -----------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The next ballot of a kind that may be opened: its round and candidates."""

    kind: BallotKind
    round: int
    candidates: tuple[str, ...]
    subject: str | None = None
    runoff: bool = False


class Year:
    """The votes of a bloc's year within one session: its ballots, its units, what may be opened next."""

    def __init__(self, session: Session, bloc: BlocRef, year: int) -> None:
        self.session = session
        self.bloc = bloc
        self.config = bloc.config
        self.year = year
        self.roster = _roster(session, bloc)
        self.ballots = ballots_of(session=session, bloc_id=bloc.id, year=year)
        self._flagged: list[str] | None = None

    def latest(self, kind: BallotKind) -> BallotView | None:
        """The newest round of a kind."""
        rounds = [ballot for ballot in self.ballots if ballot.kind is kind]
        return rounds[-1] if rounds else None

    def flagged(self) -> list[str]:
        """Units the ranking proposes for the flag (what the acclaim is about)."""
        if self._flagged is None:
            try:
                report = compute_ranking(session=self.session, bloc_code=self.bloc.code, year=self.year,
                                         period=PeriodKind.year_end, acclaim_passed=True)
            except RankingError:
                self._flagged = []
            else:
                self._flagged = [row.unit_code for row in report.rows if row.award == "flag"]
        return self._flagged

    def elects(self) -> bool:
        """Whether next year's leader and deputy are elected (not by rotation or appointment)."""
        return self.config.votes.election.method == "election"

    def leader_elect(self) -> str | None:
        """Next year's leader once elected."""
        latest = self.latest(BallotKind.leader)
        if latest is not None and latest.outcome == "elected":
            return self.roster.code(latest.winner_unit_id)
        return None

    def eligible(self) -> tuple[str, ...]:
        """Who may stand: members this year and next, among the configured candidates."""
        rules = self.config.votes.election
        now = {unit.code for unit in self.config.members_in(self.year)}
        following = {unit.code for unit in self.config.members_in(self.year + 1)}
        listed = None if rules.candidates == "members" else set(rules.candidates)
        return tuple(unit.code for unit in self.config.units
                     if unit.code in now and unit.code in following and (listed is None or unit.code in listed))

    def plan(self, kind: BallotKind) -> Plan | None:
        """The ballot of this kind that may be opened now, if any."""
        if kind is not BallotKind.acclaim and not self.elects():
            return None
        latest = self.latest(kind)
        if latest is None:
            if kind is BallotKind.acclaim:
                flagged = self.flagged()
                return Plan(kind, 1, (flagged[0],), subject=flagged[0]) if len(flagged) == 1 else None
            candidates = self.eligible()
            if kind is BallotKind.deputy:
                leader = self.leader_elect()
                if leader is None:
                    return None
                candidates = tuple(code for code in candidates if code != leader)
            return Plan(kind, 1, candidates) if candidates else None
        if latest.closed_at is None or latest.result is None:
            return None
        if kind is BallotKind.acclaim:
            if latest.outcome != "no_quorum":
                return None
            return Plan(kind, latest.round + 1, latest.candidates, subject=latest.candidates[0])
        if latest.outcome == "elected":
            return None
        runoff = tuple(latest.result.get("runoff_candidates", ()))
        if runoff:
            return Plan(kind, latest.round + 1, runoff, runoff=True)
        return Plan(kind, latest.round + 1, latest.candidates)

    def times(self, hours: int, now: dt.datetime) -> BallotTimes:
        """When a ballot opened now for `hours` would close (in working time), and the votes window."""
        config = self.config
        calendar = WorkCalendar.of_hours(config.votes.working_hours or config.reminders.working_hours,
                                         config.bloc.timezone)
        period = period_row(session=self.session, bloc_id=self.bloc.id, year=self.year,
                            kind=PeriodKind.year_end.value)
        window = (period.votes_opens, period.votes_deadline) \
            if period is not None and period.votes_opens is not None and period.votes_deadline is not None else None
        return ballot_times(now=now, hours=hours, calendar=calendar, window=window)

    def own_ballot(self, ballot_id: int) -> BallotView | None:
        """A ballot of this bloc's year by its id, locked for the rest of the transaction."""
        ballot = get_ballot(session=self.session, ballot_id=ballot_id, lock=True)
        if ballot is None or ballot.bloc_id != self.bloc.id or ballot.year != self.year:
            return None
        return ballot

    def voted(self, ballot: BallotView) -> int:
        """How many units have voted in a ballot."""
        return len(voted_unit_ids(session=self.session, ballot_id=ballot.id))

    def announce_chats(self) -> tuple[Chat, ...]:
        """Where results go: the bloc's group, or the leader unit's officers when none is bound."""
        return _announce_chats(self.session, self.bloc, self.year)

    def reload(self) -> Year:
        """The same year read again (after a ballot closed)."""
        return Year(self.session, self.bloc, self.year)


def _announce_chats(session: Session, bloc: BlocRef, year: int) -> tuple[Chat, ...]:
    # The bloc's group; none bound while officers are on Zalo: `bloc:<id>`, every officer in private
    # (storage/groups.py: the leader unit's among them, so not added here, or they would get two copies).
    group = group_post_address(session=session, bloc_id=bloc.id, group_chat_id=bloc.group_chat_id,
                               now=dt.datetime.now(dt.UTC))
    if group is not None:
        return ((group, bloc.config.bloc.language),)
    return _leader_chats(session, bloc, year)


def _leader_chats(session: Session, bloc: BlocRef, year: int) -> tuple[Chat, ...]:
    leading = leading_unit_ids(session=session, bloc_id=bloc.id, year=year)
    return tuple(linked_officer_chats(session=session, unit_id=leading[0])) if leading else ()


def vote_year(*, session: Session, officer: OfficerView) -> Year | None:
    """The year the officer's bloc votes on: the newest with a published ranking (None before that)."""
    bloc = bloc_by_id(session=session, bloc_id=officer.bloc_id)
    if bloc is None:
        return None
    year = voting_year(session=session, bloc_id=bloc.id)
    return Year(session, bloc, year) if year is not None else None


def manages(year: Year, officer: OfficerView) -> bool:
    """Whether the officer's unit is the year's leader or deputy (it opens and closes the ballots)."""
    role = unit_role(session=year.session, bloc_id=year.bloc.id, unit_id=officer.unit_id, year=year.year)
    return role in (BlocRole.leader, BlocRole.deputy)


def ballots_to_vote(year: Year, officer: OfficerView, now: dt.datetime) -> list[BallotView]:
    """The open ballots the officer's unit still has to vote in (its voter may have missed the message)."""
    if not officer.voter:
        return []
    return [ballot for ballot in year.ballots
            if ballot.accepts_votes(now) and officer.unit_code in ballot.members
            and not (ballot.secret and officer.unit_id in voted_unit_ids(session=year.session, ballot_id=ballot.id))]


# -- the leader's desk ---------------------------------------------------------------------


@dataclass(frozen=True)
class KindLine:
    """One kind of ballot on the leader's desk: its newest round, its turnout, what may be opened."""

    kind: BallotKind
    latest: BallotView | None
    voted: int  # units that voted in the newest round, while it is open
    plan: Plan | None
    waits_for_leader: bool  # the deputy's ballot, before next year's leader is elected


@dataclass(frozen=True)
class FixedRoles:
    """Next year's leader and deputy when the bloc does not elect them (rotation, appointment)."""

    method: str
    leader: str | None
    deputy: str | None
    announced: bool


@dataclass(frozen=True)
class Desk:
    """Everything the leader's menu shows."""

    roster: Roster
    year: int
    flagged: tuple[str, ...]  # the acclaim's subject, or the units the ranking proposes for the flag
    kinds: tuple[KindLine, ...]  # acclaim, leader, deputy
    fixed: FixedRoles | None  # None when the bloc elects


def desk(year: Year) -> Desk:
    """The state of the year's three ballots, and what may be done now."""
    acclaim = year.latest(BallotKind.acclaim)
    subject = year.roster.code(acclaim.subject_unit_id) if acclaim else None
    fixed = None
    if not year.elects():
        election = year.config.votes.election
        announced = next_roles(session=year.session, bloc_id=year.bloc.id, year=year.year + 1)
        fixed = FixedRoles(method=election.method, leader=election.next_leader, deputy=election.next_deputy,
                           announced=announced is not None and announced.source == election.method)
    lines = []
    for kind in KINDS:
        latest = year.latest(kind)
        lines.append(KindLine(
            kind=kind, latest=latest, voted=year.voted(latest) if latest is not None and latest.result is None else 0,
            plan=year.plan(kind),
            waits_for_leader=kind is BallotKind.deputy and latest is None and year.leader_elect() is None))
    return Desk(roster=year.roster, year=year.year, flagged=(subject,) if subject else tuple(year.flagged()),
                kinds=tuple(lines), fixed=fixed)


@dataclass(frozen=True)
class Turnout:
    """How many units voted in a ballot, and the chats that follow it (the group, or the leader unit)."""

    ballot: BallotView
    voted: int
    chats: tuple[Chat, ...]


@dataclass(frozen=True)
class Opened:
    """A ballot just opened: who gets it, whose voter the bot cannot reach, the turnout to post."""

    roster: Roster
    ballot: BallotView
    voters: tuple[VoterChat, ...]
    missing: tuple[str, ...]  # member units without a linked voter
    turnout: Turnout


def open_ballot(year: Year, plan: Plan, hours: int, officer: OfficerView, now: dt.datetime) -> Opened | None:
    """Open the planned ballot (audited); None when another one was opened meanwhile."""
    rules = rules_for(year.config, plan.kind)
    times = year.times(hours, now)
    closes_at = times.closes_at
    length = closes_at - now
    members = tuple(unit.code for unit in year.config.members_in(year.year))
    actor = officer.actor
    ballot = create_ballot(
        session=year.session, bloc_id=year.bloc.id, year=year.year, kind=plan.kind, round=plan.round,
        secret=rules.secret, subject_unit_id=year.roster.ids.get(plan.subject or ""), candidates=plan.candidates,
        members=members, rules_json=rules.model_dump_json(), opened_at=now, opened_by=actor,
        closes_at=closes_at, remind_at=now + length * REMIND_AFTER / 4,
    )
    if ballot is None:
        return None
    record(session=year.session, actor=actor, bloc_id=year.bloc.id, unit_code=officer.unit_code,
           action="ballot.open", target=f"ballot:{ballot.id} {plan.kind.value} {year.year} round {plan.round}",
           before=None, after={"candidates": list(plan.candidates), "secret": ballot.secret,
                               "closes_at": ballot.closes_at, "outside_window": times.outside_window})
    year.ballots.append(ballot)
    chats = voter_chats(session=year.session, unit_ids=[year.roster.ids[code] for code in members])
    reached = {year.roster.codes[chat.unit_id] for chat in chats}
    return Opened(roster=year.roster, ballot=ballot, voters=tuple(chats),
                  missing=tuple(code for code in members if code not in reached),
                  turnout=Turnout(ballot=ballot, voted=year.voted(ballot), chats=year.announce_chats()))


@dataclass(frozen=True)
class Announced:
    """Next year's leader and deputy by rotation or appointment, announced (or announced before)."""

    roster: Roster
    year: int  # the year they lead
    method: str
    leader: str
    deputy: str
    already: bool
    chats: tuple[Chat, ...]  # where the announcement goes (empty when it was announced before)


def announce_fixed_roles(year: Year, officer: OfficerView) -> Announced | None:
    """Store and announce the configured next leader and deputy; None when the bloc elects them."""
    election = year.config.votes.election
    leader, deputy = election.next_leader, election.next_deputy
    if year.elects() or leader is None or deputy is None:
        return None
    following = year.year + 1
    stored = next_roles(session=year.session, bloc_id=year.bloc.id, year=following)
    if stored is not None and stored.source == election.method:
        return Announced(roster=year.roster, year=following, method=election.method, leader=leader, deputy=deputy,
                         already=True, chats=())
    set_next_roles(session=year.session, bloc_id=year.bloc.id, year=following,
                   leader_unit_id=year.roster.ids[leader], deputy_unit_id=year.roster.ids[deputy],
                   source=election.method)
    record(session=year.session, actor=officer.actor, bloc_id=year.bloc.id,
           action=f"roles.{election.method}", target=str(following), before=None,
           after={"leader": leader, "deputy": deputy})
    return Announced(roster=year.roster, year=following, method=election.method, leader=leader, deputy=deputy,
                     already=False, chats=year.announce_chats())


# -- closing, counting, reminding ----------------------------------------------------------


@dataclass(frozen=True)
class Closed:
    """A ballot just closed and counted, with where its result goes."""

    roster: Roster
    ballot: BallotView  # closed, with its outcome and result
    turnout: Turnout
    roles: NextRoles | None  # next year's elected leader and deputy, told under the deputy's result
    leader_chats: tuple[Chat, ...]  # asked to open it again (a failed ballot, results posted in a group)


def _anonymous_ballots(voters: list[str], counts: dict[str, int]) -> list[tuple[str, str]]:
    """(voter, choice) pairs for `tally_election` from a secret ballot's count.

    A secret ballot has no pairing; this one is arbitrary (sorted voters beside
    sorted choices) and says nothing about who chose what. The rule against voting
    for oneself was checked with the real voter before each vote was stored, so
    the count is run with that rule relaxed (see :func:`_tally`). A unit that
    voted without a valid box (an invalid one, or one missing against the roll)
    has a blank ballot (""), which the tally sets aside as invalid.
    """
    choices = [choice for choice in sorted(counts) for _ in range(counts[choice])]
    if len(choices) > len(voters):
        raise RuntimeError(f"{len(voters)} units voted but {len(choices)} valid choices are counted")
    choices += [""] * (len(voters) - len(choices))
    return list(zip(sorted(voters), choices, strict=True))


def _tally(session: Session, roster: Roster, ballot: BallotView) -> tuple[str, dict[str, Any], int | None]:
    """Count a closed ballot with `rules.voting`: (outcome, result as plain data, winner unit id).

    A sealed ballot's box is opened here, once, and checked against the roll: the
    boxes must be as many as the units that voted, every one of them on the roll.
    A box that is not genuine is invalid: it counts as returned, not as a vote.
    """
    voters = [roster.codes[unit_id] for unit_id in voted_unit_ids(session=session, ballot_id=ballot.id)]
    members = len(ballot.members)
    box = open_ballot_box(session=session, ballot_id=ballot.id) if ballot.seal_key is not None else None
    counts = box.counts if box is not None else ballot_counts(session=session, ballot_id=ballot.id)
    invalid = box.invalid if box is not None else 0
    choices = {} if ballot.secret else {
        roster.codes[unit_id]: choice for unit_id, choice in open_choices(session=session, ballot_id=ballot.id).items()
    }
    returned = len(voters)
    on_roll = all(code in ballot.members for code in voters)
    roll_matches = on_roll and (box is None or box.boxes == returned)
    result: dict[str, Any]
    if ballot.kind is BallotKind.acclaim:
        acclaim = tally_acclaim(yes=counts.get("yes", 0), no=counts.get("no", 0), members=members,
                                rules=ballot_rules(ballot))
        outcome = "passed" if acclaim.passed else "rejected" if acclaim.quorum_met else "no_quorum"
        result = asdict(acclaim)
        result["invalid"] = invalid
        valid = acclaim.votes_cast
        winner = None
    else:
        rules = election_rules(ballot)
        if ballot.secret:
            pairs = _anonymous_ballots(voters, counts)
            counting_rules = rules.model_copy(update={"self_vote": True})
        else:
            pairs = sorted(choices.items())
            counting_rules = rules
        election = tally_election(ballots=pairs, members=list(ballot.members), candidates=list(ballot.candidates),
                                  rules=counting_rules)
        outcome = election.reason.value
        result = {"counts": dict(election.counts), "members": election.members,
                  "votes_cast": election.votes_cast, "valid": election.valid, "invalid": election.invalid,
                  "quorum_met": election.quorum_met, "winner": election.winner,
                  "runoff_candidates": list(election.runoff_candidates), "reason": election.reason.value}
        valid = election.valid
        winner = roster.ids.get(election.winner) if election.winner else None
    result["ballots"] = {"issued": members, "returned": returned, "valid": valid,
                         "invalid": int(result.get("invalid", invalid)), "roll_matches": roll_matches,
                         "boxes": box.boxes if box is not None else returned}
    if box is not None:
        result["receipts"] = list(box.receipts)
        blur_arrival(session=session, ballot_id=ballot.id)
    if choices:
        result["choices"] = choices
    return outcome, result, winner


def close_and_count(*, session: Session, ballot_id: int, now: dt.datetime, closed_by: str) -> Closed | None:
    """Close a ballot, count it and keep the outcome; None if it was closed already.

    The conditional UPDATE of :func:`storage.votes.close_ballot` comes first, so of
    the clock, the last voter and the leader closing at once exactly one counts.
    """
    if not close_ballot(session=session, ballot_id=ballot_id, now=now, closed_by=closed_by):
        return None
    ballot = get_ballot(session=session, ballot_id=ballot_id)
    bloc = bloc_by_id(session=session, bloc_id=ballot.bloc_id) if ballot is not None else None
    if ballot is None or bloc is None:
        return None
    year = Year(session, bloc, ballot.year)
    roster = year.roster
    outcome, result, winner = _tally(session, roster, ballot)
    store_result(session=session, ballot_id=ballot.id, outcome=outcome, result=result, winner_unit_id=winner)
    record(session=session, actor=closed_by, bloc_id=ballot.bloc_id, action="ballot.close",
           target=f"ballot:{ballot.id} {ballot.kind.value} {ballot.year} round {ballot.round}", before=None,
           after={"outcome": outcome, "votes_cast": result.get("votes_cast"), "members": len(ballot.members)})
    roles = None
    if ballot.kind is BallotKind.deputy and winner is not None:
        leader = roster.ids.get(year.leader_elect() or "")
        if leader is not None:
            set_next_roles(session=session, bloc_id=ballot.bloc_id, year=ballot.year + 1, leader_unit_id=leader,
                           deputy_unit_id=winner, source="election")
            record(session=session, actor=closed_by, bloc_id=ballot.bloc_id, action="roles.elect",
                   target=str(ballot.year + 1), before=None,
                   after={"leader": roster.codes[leader], "deputy": roster.codes[winner]})
    if ballot.kind is BallotKind.deputy:
        roles = next_roles(session=session, bloc_id=bloc.id, year=ballot.year + 1)
        if roles is not None and roles.source == "config":
            roles = None  # the configured roles are no result of this vote
    ballot = get_ballot(session=session, ballot_id=ballot.id) or ballot
    failed = outcome in FAILED and any(chat not in _leader_chats(session, bloc, ballot.year)
                                       for chat in year.announce_chats())
    return Closed(roster=roster, ballot=ballot, turnout=Turnout(ballot, year.voted(ballot), year.announce_chats()),
                  roles=roles, leader_chats=_leader_chats(session, bloc, ballot.year) if failed else ())


@dataclass(frozen=True)
class Reminder:
    """The one reminder of a ballot, to the voters of the units that have not voted."""

    roster: Roster
    ballot: BallotView
    voters: tuple[VoterChat, ...]


def remind(*, session: Session, ballot_id: int, now: dt.datetime) -> Reminder | None:
    """Claim a ballot's one reminder; None when it was claimed already."""
    if not claim_reminder(session=session, ballot_id=ballot_id, now=now):
        return None
    ballot = get_ballot(session=session, ballot_id=ballot_id)
    bloc = bloc_by_id(session=session, bloc_id=ballot.bloc_id) if ballot is not None else None
    if ballot is None or bloc is None:
        return None
    roster = _roster(session, bloc)
    voted = voted_unit_ids(session=session, ballot_id=ballot.id)
    missing = [roster.ids[code] for code in ballot.members if code in roster.ids and roster.ids[code] not in voted]
    return Reminder(roster=roster, ballot=ballot, voters=tuple(voter_chats(session=session, unit_ids=missing)))


def due_ballots(engine: Engine, now: dt.datetime) -> list[Closed | Reminder]:
    """Close the ballots whose time has come and claim each open ballot's one reminder.

    Everything is derived from the database (closing times, `reminded_at`), so a
    restart loses nothing: the first run afterwards does what fell due meanwhile.
    Each ballot is handled in its own transaction whose first statement is the
    claiming UPDATE (SQLite then holds the write lock before it reads), hence an
    engine in, not a session.
    """
    with session_scope(engine) as session:
        to_close, to_remind = due_ballot_ids(session=session, now=now)
    done: list[Closed | Reminder] = []
    for ballot_id in to_close:
        with session_scope(engine) as session:
            closed = close_and_count(session=session, ballot_id=ballot_id, now=now, closed_by="schedule")
        if closed is not None:
            done.append(closed)
    for ballot_id in to_remind:
        with session_scope(engine) as session:
            reminder = remind(session=session, ballot_id=ballot_id, now=now)
        if reminder is not None:
            done.append(reminder)
    return done


# -- a voter presses a ballot button ----------------------------------------------------------


class Refusal(StrEnum):
    """Why a press on a ballot changed nothing."""

    forged = "forged"  # no such ballot, another bloc's, a wrong token, action or choice
    closed = "closed"
    unpublished = "unpublished"  # the ranking was reopened for review
    not_voter = "not_voter"
    not_member = "not_member"
    already = "already"  # the unit voted in this secret ballot
    console = "console"  # the operator's terminal, not allowed to cast the unit's ballot
    self_vote = "self"  # the rules forbid voting for one's own unit


@dataclass(frozen=True)
class Refused:
    """A press that changed nothing (a late one closes the ballot: `closing`)."""

    reason: Refusal
    roster: Roster | None = None
    ballot: BallotView | None = None
    closing: Closed | None = None


@dataclass(frozen=True)
class Shown:
    """"Choose again": the ballot as it was sent."""

    roster: Roster
    ballot: BallotView


@dataclass(frozen=True)
class Confirming:
    """A choice in a secret ballot, to be confirmed (the choice rides in the confirm button)."""

    roster: Roster
    ballot: BallotView
    choice: str


@dataclass(frozen=True)
class Recorded:
    """A vote stored: `first` unless an open ballot's choice was changed; the ballot closes once all voted."""

    roster: Roster
    ballot: BallotView
    choice: str
    first: bool
    turnout: Turnout | None  # after a new vote in a ballot still open
    closing: Closed | None  # after the last unit's vote
    receipt: str | None = None  # a secret ballot's receipt code, shown once to the voter, kept nowhere


Pressed = Refused | Shown | Confirming | Recorded


def _same(given: str, expected: str) -> bool:
    """Compare a token from button data in constant time (the data may hold any characters)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def press_ballot(*, session: Session, officer: OfficerView, ballot_id: int | None, token: str, action: str,
                 choice: str, now: dt.datetime) -> Pressed:
    """A voter chose ("pick"), confirmed ("ok") or went back ("back"); every check is made again."""
    ballot = get_ballot(session=session, ballot_id=ballot_id, lock=True) if ballot_id is not None else None
    if ballot is None or ballot.bloc_id != officer.bloc_id or not _same(token, ballot.token):
        return Refused(Refusal.forged)
    bloc = bloc_by_id(session=session, bloc_id=ballot.bloc_id)
    if bloc is None:
        return Refused(Refusal.forged)
    roster = _roster(session, bloc)
    if not officer.may_cast_ballots:
        return Refused(Refusal.console, roster, ballot)
    if not ballot.accepts_votes(now):
        closing = close_and_count(session=session, ballot_id=ballot.id, now=now, closed_by="schedule")
        return Refused(Refusal.closed, roster, ballot, closing)
    if not is_published(session=session, bloc_id=ballot.bloc_id, year=ballot.year):
        return Refused(Refusal.unpublished, roster, ballot)
    if not officer.voter:
        return Refused(Refusal.not_voter, roster, ballot)
    if officer.unit_code not in ballot.members:
        return Refused(Refusal.not_member, roster, ballot)
    if ballot.secret and officer.unit_id in voted_unit_ids(session=session, ballot_id=ballot.id):
        return Refused(Refusal.already, roster, ballot)
    if action == "back":
        return Shown(roster, ballot)
    if action not in ("pick", "ok") or choice not in ballot.options:
        return Refused(Refusal.forged)
    if ballot.kind is not BallotKind.acclaim:
        try:
            check_ballot(officer.unit_code, choice, ballot.candidates, election_rules(ballot))
        except BallotError as error:
            return Refused(Refusal.self_vote if error.reason == "self_vote" else Refusal.forged)
    if ballot.secret and action == "pick":
        return Confirming(roster, ballot, choice)
    receipt = None
    if ballot.secret:
        cast = record_secret_vote(session=session, ballot_id=ballot.id, unit_id=officer.unit_id, choice=choice)
        if cast is None:
            return Refused(Refusal.already, roster, ballot)
        first, receipt = True, cast.receipt
    else:
        first = record_open_vote(session=session, ballot_id=ballot.id, unit_id=officer.unit_id,
                                 officer_id=officer.id, choice=choice, now=now)
    record(session=session, actor=officer.actor, bloc_id=ballot.bloc_id, unit_code=officer.unit_code,
           action="ballot.vote" if first else "ballot.change", target=f"ballot:{ballot.id}", before=None,
           after=None if ballot.secret else {"choice": choice})
    turnout = closing = None
    if first:
        voted = len(voted_unit_ids(session=session, ballot_id=ballot.id))
        if voted >= len(ballot.members):
            closing = close_and_count(session=session, ballot_id=ballot.id, now=now, closed_by="all_voted")
        else:
            turnout = Turnout(ballot, voted, _announce_chats(session, bloc, ballot.year))
    return Recorded(roster, ballot, choice, first, turnout, closing, receipt)
