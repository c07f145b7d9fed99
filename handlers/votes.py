"""In-chat votes: acclaiming the leading unit, electing next year's leader and deputy.

Telegram polls cannot hold these votes (anyone in a group may answer, and an
anonymous poll hides who voted), so each ballot is a message with buttons sent
to every member unit's voter in a private chat, and the database keeps one vote
per unit (`storage/votes.py`).

- The leader or deputy unit runs the votes with /vote (flow "vote"): a menu of
  the three ballots, the closing time (the configured default, or hours typed),
  opening, early closing with a confirmation. Its buttons are
  `v:m:<nonce>:<action>[:<argument>]`, checked against the chat state's nonce.
- A voter's buttons are `v:b:<ballot>:<token>:<action>[:<choice>]`. They arrive in
  chats that may be in the middle of a report, so they cannot use the chat
  state's nonce; the ballot's random token plays its part, and every press
  re-checks the officer, the unit's membership that year, the ballot being open
  and the unit not having voted. A secret ballot asks to confirm; the choice
  rides in the confirm button, never in the chat state.
- A ballot closes at its closing time (:func:`due_ballot_replies`, run
  periodically by the bot, and on any press that comes in late), as soon as every
  member unit has voted, or early by the leader. Closing is one conditional
  UPDATE: whoever tries, it closes and is counted once.
- The tallies are `rules.voting`'s; the result goes to the bloc's group (or to the
  leader unit when no group is bound). A passed acclaim turns the ranking's
  `flag-pending-acclaim` into `flag`; the elected leader and deputy become next
  year's roles.
"""

from __future__ import annotations

import datetime as dt
import hmac
import html
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from handlers.chat import InKind, Option, Outcome, Reply
from handlers.context import Context, Feature, stale_elsewhere
from handlers.i18n import Safe, format_moment, t
from handlers.services.ranking import RankingError, compute_ranking
from rules.config import BallotRules, ElectionRules, PeriodKind
from rules.numbers import format_percent
from rules.voting import BallotError, check_ballot, tally_acclaim, tally_election
from storage.audit import record
from storage.blocs import BlocRef, bloc_by_id
from storage.db import session_scope
from storage.roles import BlocRole, leading_unit_ids, linked_officer_chats, unit_role
from storage.votes import (
    BallotKind,
    BallotView,
    ballot_counts,
    ballots_of,
    claim_reminder,
    close_ballot,
    create_ballot,
    due_ballot_ids,
    get_ballot,
    is_published,
    next_roles,
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
HOURS = re.compile(r"\s*(\d{1,4})\s*(?:h|giờ|gio|tiếng|hours?)?\s*", re.IGNORECASE)
REMIND_AFTER = 3  # quarters of the ballot's time: the one reminder goes out with a quarter left
MINUTES = "vi"  # the minutes are written in Vietnamese, whatever the reader's language
_TAG = re.compile(r"<[^>]+>")


def _plain(text: str) -> str:
    """Catalog text for a document: no HTML tags, no entities."""
    return html.unescape(_TAG.sub("", text))


# -- plain data for the minutes and the command line -------------------------


@dataclass(frozen=True)
class VoteResult:
    """One ballot as the minutes and `python -m bot votes` show it: rules, turnout, result.

    `decision` is the outcome's code: passed, rejected, no_quorum (acclaim);
    elected, tie, below_pass_share, no_quorum (election); None while open.
    `counts` (votes per option: "yes"/"no" or unit codes) and `choices` (unit code
    -> choice, open ballots only) are empty while the ballot is open.
    `question`, `tallies` and `outcome` are the minutes' wording (Vietnamese, as the
    board expects the minutes), so `render_minutes(..., votes=vote_results(...))`
    can print them as they are.
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

    @property
    def subject_name(self) -> str | None:
        """The acclaimed unit's name."""
        return self.unit_names.get(self.subject_code) if self.subject_code else None

    @property
    def winner_name(self) -> str | None:
        """The elected unit's name."""
        return self.unit_names.get(self.winner_code) if self.winner_code else None

    @property
    def question(self) -> str:
        """What was put to the vote, for the minutes."""
        round_text = _plain(t(MINUTES, "vote_round", n=self.round)) if self.round > 1 else ""
        secrecy = _plain(_secrecy(MINUTES, self.secret))
        if self.kind == BallotKind.acclaim.value:
            return _plain(t(MINUTES, "vote_minutes_question_acclaim", unit=self.subject_name or "?",
                            secrecy=secrecy, round=round_text))
        return _plain(t(MINUTES, "vote_minutes_question_election", role=t(MINUTES, f"vote_role_{self.kind}"),
                        year=self.for_year, secrecy=secrecy, round=round_text))

    @property
    def tallies(self) -> list[tuple[str, int]]:
        """(option, votes) in the minutes' order: yes then no, or the units that got votes, most first."""
        if self.kind == BallotKind.acclaim.value:
            return [(_plain(t(MINUTES, f"vote_choice_{choice}")), self.counts[choice])
                    for choice in ("yes", "no") if choice in self.counts]
        ordered = sorted(((code, votes) for code, votes in self.counts.items() if votes),
                         key=lambda item: (-item[1], self.unit_names.get(item[0], item[0])))
        return [(self.unit_names.get(code, code), votes) for code, votes in ordered]

    @property
    def outcome(self) -> str:
        """The result in one sentence, for the minutes."""
        if self.decision is None:
            return _plain(t(MINUTES, "vote_minutes_open", voted=self.votes_cast, members=self.members,
                            closes=format_moment(self.closes_at, self.timezone, MINUTES)))
        role = "" if self.kind == BallotKind.acclaim.value else t(MINUTES, f"vote_role_{self.kind}")
        tied = list(self.runoff_candidates) or [
            code for code, votes in self.counts.items() if self.counts and votes == max(self.counts.values())]
        return _plain(t(
            MINUTES, f"vote_minutes_{self.decision}", members=self.members, voted=self.votes_cast,
            yes=self.counts.get("yes", 0), unit=self.winner_name or "?",
            votes=self.counts.get(self.winner_code or "", 0), role=role,
            year=self.for_year, units=", ".join(self.unit_names.get(code, code) for code in tied),
            share=format_percent(self.pass_share * 100, decimals=0, locale=MINUTES),
            base=t(MINUTES, "vote_base_votes" if self.pass_base == "votes_cast" else "vote_base_members"),  # noqa: S105
        ))

    @property
    def rules_text(self) -> str:
        """The ballot's rules in one line: quorum, pass share, self-vote."""
        text = t(MINUTES, "vote_minutes_rules",
                 quorum=format_percent(self.quorum * 100, decimals=0, locale=MINUTES),
                 share=format_percent(self.pass_share * 100, decimals=0, locale=MINUTES),
                 base=t(MINUTES, "vote_base_votes" if self.pass_base == "votes_cast" else "vote_base_members"))  # noqa: S105
        if self.self_vote is False:
            text = Safe(text + t(MINUTES, "vote_minutes_no_self"))
        return _plain(text)

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
        rules = _rules(ballot)
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
        ))
    return results


def _counts_of(ballot: BallotView) -> dict[str, int]:
    result = ballot.result or {}
    if ballot.kind is BallotKind.acclaim:
        return {"yes": int(result.get("yes", 0)), "no": int(result.get("no", 0))}
    return {code: int(votes) for code, votes in result.get("counts", {}).items()}


def _rules(ballot: BallotView) -> BallotRules:
    """The rules frozen into the ballot when it opened (stored text is read as stored)."""
    model = BallotRules if ballot.kind is BallotKind.acclaim else ElectionRules
    return model.model_validate_json(ballot.rules_json, context={"stored": True})


# -- a bloc's year of votes ----------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The next ballot of a kind that may be opened: its round and candidates."""

    kind: BallotKind
    round: int
    candidates: tuple[str, ...]
    subject: str | None = None
    runoff: bool = False


class Year:
    """The votes of a bloc's year: its ballots, its units, what may be opened next."""

    def __init__(self, session: Session, bloc: BlocRef, year: int) -> None:
        self.session = session
        self.bloc = bloc
        self.config = bloc.config
        self.year = year
        self.ids = unit_id_map(session=session, bloc_id=bloc.id)
        self.codes = {unit_id: code for code, unit_id in self.ids.items()}
        self.names = {unit.code: unit.name for unit in self.config.units}
        self.ballots = ballots_of(session=session, bloc_id=bloc.id, year=year)
        self._flagged: list[str] | None = None

    def latest(self, kind: BallotKind) -> BallotView | None:
        """The newest round of a kind."""
        rounds = [ballot for ballot in self.ballots if ballot.kind is kind]
        return rounds[-1] if rounds else None

    def name(self, code: str | None) -> str:
        """A unit's full name."""
        return self.names.get(code or "", code or "?")

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
        if latest is not None and latest.outcome == "elected" and latest.winner_unit_id is not None:
            return self.codes.get(latest.winner_unit_id)
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

    def title(self, language: str, kind: BallotKind, round: int, subject: str | None = None) -> Safe:
        """What a ballot is called, e.g. `bầu Khối trưởng năm 2019 (vòng 2)`."""
        if kind is BallotKind.acclaim:
            text = t(language, "vote_title_acclaim", unit=self.name(subject))
        else:
            text = t(language, f"vote_title_{kind.value}", year=self.year + 1)
        return Safe(text + (t(language, "vote_round", n=round) if round > 1 else ""))

    def ballot_title(self, language: str, ballot: BallotView) -> Safe:
        """The title of a stored ballot."""
        subject = self.codes.get(ballot.subject_unit_id) if ballot.subject_unit_id else None
        return self.title(language, ballot.kind, ballot.round, subject)

    def choice_label(self, language: str, ballot: BallotView, choice: str) -> str:
        """What a choice reads as: Đồng ý / Không đồng ý, or a unit's name."""
        if ballot.kind is BallotKind.acclaim:
            return t(language, f"vote_choice_{choice}")
        return self.name(choice)


def _year_of(session: Session, ballot: BallotView) -> Year:
    bloc = bloc_by_id(session=session, bloc_id=ballot.bloc_id)
    if bloc is None:
        raise RuntimeError("invariant broken: a ballot's bloc exists")
    return Year(session, bloc, ballot.year)


def _label(language: str, key: str, **params: object) -> str:
    """A button label: plain text (Telegram shows it as is), so not HTML-escaped."""
    return html.unescape(t(language, key, **params))


def _tied(result: dict[str, Any]) -> list[str]:
    """The units tied at the top of an election's count."""
    runoff = list(result.get("runoff_candidates", ()))
    if runoff:
        return runoff
    counts = result.get("counts", {})
    top = max(counts.values(), default=0)
    return [code for code, votes in counts.items() if votes == top] if top else []


def _secrecy(language: str, ballot_secret: bool) -> str:
    return t(language, "vote_secrecy_secret" if ballot_secret else "vote_secrecy_open")


def _quorum_need(rules: BallotRules, members: int) -> int:
    return int((rules.quorum * members).to_integral_value(rounding=ROUND_CEILING))


# -- what voters, the group and the leader see ---------------------------------


def _ballot_message(year: Year, ballot: BallotView, language: str, unit_code: str, *,
                    prefix: str = "", edit: bool = False, chat_id: int | None = None) -> Reply:
    """The ballot as a voter sees it: what is asked, the secrecy, the buttons."""
    rules = _rules(ballot)
    closes = format_moment(ballot.closes_at, year.config.bloc.timezone, language)
    lines = [prefix] if prefix else []
    lines.append(t(language, "vote_ballot_head", title=year.ballot_title(language, ballot),
                   unit=year.name(unit_code), closes=closes))
    lines.append(t(language, "vote_ballot_secret" if ballot.secret else "vote_ballot_open"))
    base = f"v:b:{ballot.id}:{ballot.token}:"
    if ballot.kind is BallotKind.acclaim:
        subject = year.codes.get(ballot.subject_unit_id or 0)
        lines.append(t(language, "vote_ballot_question_acclaim", unit=year.name(subject)))
        options: tuple[tuple[Option, ...], ...] = ((
            Option(_label(language, "vote_btn_yes"), base + "pick:yes"),
            Option(_label(language, "vote_btn_no"), base + "pick:no"),
        ),)
    else:
        self_vote = isinstance(rules, ElectionRules) and rules.self_vote
        lines.append(t(language, "vote_ballot_question_election", role=t(language, f"vote_role_{ballot.kind.value}"),
                       year=ballot.year + 1))
        if not self_vote and unit_code in ballot.candidates:
            lines.append(t(language, "vote_ballot_no_self"))
        options = tuple((Option(year.name(code), base + f"pick:{code}"),)
                        for code in ballot.candidates if self_vote or code != unit_code)
    return Reply(Safe("\n".join(lines)), options=options, edit=edit, chat_id=chat_id)


def _announce_chats(year: Year) -> list[tuple[int, str]]:
    """Where results go: the bloc's group, or the leader unit's officers when none is bound."""
    if year.bloc.group_chat_id is not None:
        return [(year.bloc.group_chat_id, year.config.bloc.language)]
    return _leader_chats(year)


def _leader_chats(year: Year) -> list[tuple[int, str]]:
    leading = leading_unit_ids(session=year.session, bloc_id=year.bloc.id, year=year.year)
    return linked_officer_chats(session=year.session, unit_id=leading[0]) if leading else []


def _turnout_key(ballot: BallotView, chat_id: int) -> str:
    return f"vote:{ballot.id}:{chat_id}"


def _turnout_replies(year: Year, ballot: BallotView, *, first: bool = False, closed: bool = False) -> list[Reply]:
    """The one turnout message per chat: sent when the ballot opens, edited after each new vote."""
    voted = len(voted_unit_ids(session=year.session, ballot_id=ballot.id))
    replies = []
    for chat_id, language in _announce_chats(year):
        text = t(language, "vote_turnout_closed" if closed else "vote_turnout",
                 title=year.ballot_title(language, ballot), secrecy=_secrecy(language, ballot.secret),
                 voted=voted, members=len(ballot.members),
                 closes=format_moment(ballot.closes_at, year.config.bloc.timezone, language))
        key = _turnout_key(ballot, chat_id)
        replies.append(Reply(text, chat_id=chat_id, remember_as=key if first else None,
                             edit_key=None if first else key))
    return replies


def _result_text(year: Year, ballot: BallotView, language: str) -> str:
    """The result with counts, and what comes next when there is no result."""
    rules = _rules(ballot)
    result = ballot.result or {}
    members = len(ballot.members)
    lines = [t(language, "vote_result_head", title=year.ballot_title(language, ballot),
               secrecy=_secrecy(language, ballot.secret), voted=result.get("votes_cast", 0), members=members)]
    share = format_percent(rules.pass_share * 100, decimals=0, locale=language)
    base = t(language, "vote_base_votes" if rules.pass_base == "votes_cast" else "vote_base_members")  # noqa: S105
    if ballot.kind is BallotKind.acclaim:
        subject = year.name(year.codes.get(ballot.subject_unit_id or 0))
        lines.append(t(language, "vote_result_acclaim_counts", yes=result.get("yes", 0), no=result.get("no", 0)))
        key = {"passed": "vote_result_passed", "rejected": "vote_result_rejected"}.get(
            ballot.outcome or "", "vote_result_no_quorum")
        lines.append(t(language, key, unit=subject, share=share, base=base,
                       need=_quorum_need(rules, members), members=members))
    else:
        counts = result.get("counts", {})
        for code, votes in sorted(((code, votes) for code, votes in counts.items() if votes),
                                  key=lambda item: (-int(item[1]), year.name(item[0]))):
            lines.append(t(language, "vote_result_count_line", unit=year.name(code), votes=votes))
        if result.get("invalid"):
            lines.append(t(language, "vote_result_invalid", n=result["invalid"]))
        role = t(language, f"vote_role_{ballot.kind.value}")
        tied = ", ".join(year.name(code) for code in _tied(result))
        key = {
            "elected": "vote_result_elected",
            "tie": "vote_result_tie_runoff" if result.get("runoff_candidates") else "vote_result_tie_none",
            "below_pass_share": "vote_result_below",
        }.get(ballot.outcome or "", "vote_result_no_quorum")
        lines.append(t(language, key, unit=year.name(year.codes.get(ballot.winner_unit_id or 0)), role=role,
                       year=ballot.year + 1, units=tied, share=share, base=base,
                       need=_quorum_need(rules, members), members=members))
    choices = result.get("choices") or {}
    if choices:
        lines.append(t(language, "vote_result_open_choices"))
        lines.extend(t(language, "vote_result_choice_line", unit=year.name(code),
                       choice=year.choice_label(language, ballot, choice))
                     for code, choice in sorted(choices.items(), key=lambda item: year.name(item[0])))
    return Safe("\n".join(lines))


def _roles_text(year: Year, language: str) -> str | None:
    roles = next_roles(session=year.session, bloc_id=year.bloc.id, year=year.year + 1)
    if roles is None or roles.source == "config":
        return None
    return t(language, "vote_result_roles", year=year.year + 1, leader=year.name(year.codes.get(roles.leader_unit_id)),
             deputy=year.name(year.codes.get(roles.deputy_unit_id)))


# -- closing, counting, reminding ------------------------------------------------


def _anonymous_ballots(voters: list[str], counts: dict[str, int]) -> list[tuple[str, str]]:
    """(voter, choice) pairs for `tally_election` from a secret ballot's counters.

    A secret ballot has no pairing; this one is arbitrary (sorted voters beside
    sorted choices) and says nothing about who chose what. The rule against voting
    for oneself was checked with the real voter before each vote was stored, so
    the count is run with that rule relaxed (see :func:`_tally`).
    """
    choices = [choice for choice in sorted(counts) for _ in range(counts[choice])]
    if len(choices) != len(voters):
        raise RuntimeError(f"{len(voters)} units voted but {len(choices)} choices are counted")
    return list(zip(sorted(voters), choices, strict=True))


def _tally(year: Year, ballot: BallotView) -> tuple[str, dict[str, Any], int | None]:
    """Count a closed ballot with `rules.voting`: (outcome, result as plain data, winner unit id)."""
    rules = _rules(ballot)
    session = year.session
    voters = [year.codes[unit_id] for unit_id in voted_unit_ids(session=session, ballot_id=ballot.id)]
    counts = ballot_counts(session=session, ballot_id=ballot.id)
    members = len(ballot.members)
    choices = {} if ballot.secret else {
        year.codes[unit_id]: choice for unit_id, choice in open_choices(session=session, ballot_id=ballot.id).items()
    }
    if ballot.kind is BallotKind.acclaim:
        acclaim = tally_acclaim(yes=counts.get("yes", 0), no=counts.get("no", 0), members=members, rules=rules)
        outcome = "passed" if acclaim.passed else "rejected" if acclaim.quorum_met else "no_quorum"
        result: dict[str, Any] = asdict(acclaim)
        winner = None
    else:
        if not isinstance(rules, ElectionRules):
            raise RuntimeError("invariant broken: an election ballot has election rules")
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
        winner = year.ids.get(election.winner) if election.winner else None
    if choices:
        result["choices"] = choices
    return outcome, result, winner


def close_and_announce(*, session: Session, ballot_id: int, now: dt.datetime, closed_by: str) -> list[Reply]:
    """Close a ballot, count it, keep the outcome and return the announcements; [] if it was closed already.

    The conditional UPDATE of :func:`storage.votes.close_ballot` comes first, so of
    the clock, the last voter and the leader closing at once exactly one counts.
    """
    if not close_ballot(session=session, ballot_id=ballot_id, now=now, closed_by=closed_by):
        return []
    ballot = get_ballot(session=session, ballot_id=ballot_id)
    if ballot is None:
        raise RuntimeError("invariant broken: a ballot just closed exists")
    year = _year_of(session, ballot)
    outcome, result, winner = _tally(year, ballot)
    store_result(session=session, ballot_id=ballot.id, outcome=outcome, result=result, winner_unit_id=winner)
    record(session=session, actor=closed_by, bloc_id=ballot.bloc_id, action="ballot.close",
           target=f"ballot:{ballot.id} {ballot.kind.value} {ballot.year} round {ballot.round}", before=None,
           after={"outcome": outcome, "votes_cast": result.get("votes_cast"), "members": len(ballot.members)})
    if ballot.kind is BallotKind.deputy and winner is not None:
        leader = year.ids.get(year.leader_elect() or "")
        if leader is not None:
            set_next_roles(session=session, bloc_id=ballot.bloc_id, year=ballot.year + 1, leader_unit_id=leader,
                           deputy_unit_id=winner, source="election")
            record(session=session, actor=closed_by, bloc_id=ballot.bloc_id, action="roles.elect",
                   target=str(ballot.year + 1), before=None,
                   after={"leader": year.codes[leader], "deputy": year.codes[winner]})
    ballot = get_ballot(session=session, ballot_id=ballot.id) or ballot
    replies = _turnout_replies(year, ballot, closed=True)
    for chat_id, language in _announce_chats(year):
        text = _result_text(year, ballot, language)
        roles = _roles_text(year, language) if ballot.kind is BallotKind.deputy else None
        replies.append(Reply(Safe(text + ("\n\n" + roles if roles else "")), chat_id=chat_id))
    if year.bloc.group_chat_id is not None and outcome in ("no_quorum", "tie", "below_pass_share"):
        runoff = result.get("runoff_candidates") or []
        for chat_id, language in _leader_chats(year):
            key = "vote_leader_runoff" if runoff else "vote_leader_again"
            replies.append(Reply(t(language, key, title=year.ballot_title(language, ballot),
                                   units=", ".join(year.name(code) for code in runoff)), chat_id=chat_id))
    return replies


def _remind(session: Session, ballot_id: int, now: dt.datetime) -> list[Reply]:
    """The one reminder to the voters of units that have not voted."""
    if not claim_reminder(session=session, ballot_id=ballot_id, now=now):
        return []
    ballot = get_ballot(session=session, ballot_id=ballot_id)
    if ballot is None:
        return []
    year = _year_of(session, ballot)
    voted = voted_unit_ids(session=session, ballot_id=ballot.id)
    missing = [year.ids[code] for code in ballot.members if code in year.ids and year.ids[code] not in voted]
    replies = []
    for chat in voter_chats(session=session, unit_ids=missing):
        unit_code = year.codes[chat.unit_id]
        prefix = t(chat.language, "vote_reminder", unit=year.name(unit_code),
                   title=year.ballot_title(chat.language, ballot))
        replies.append(_ballot_message(year, ballot, chat.language, unit_code, prefix=prefix, chat_id=chat.user_id))
    return replies


def due_ballot_replies(engine: Engine, now: dt.datetime) -> list[Reply]:
    """Close the ballots whose time has come and send each open ballot's one reminder.

    Everything is derived from the database (closing times, `reminded_at`), so a
    restart loses nothing: the first run afterwards does what fell due meanwhile.
    Each ballot is handled in its own transaction whose first statement is the
    claiming UPDATE (SQLite then holds the write lock before it reads).
    """
    with session_scope(engine) as session:
        to_close, to_remind = due_ballot_ids(session=session, now=now)
    replies: list[Reply] = []
    for ballot_id in to_close:
        with session_scope(engine) as session:
            replies.extend(close_and_announce(session=session, ballot_id=ballot_id, now=now, closed_by="schedule"))
    for ballot_id in to_remind:
        with session_scope(engine) as session:
            replies.extend(_remind(session, ballot_id, now))
    return replies


# -- a voter presses a ballot button -------------------------------------------


def _number(text: str) -> int | None:
    """An id from button data: ASCII digits that fit a database integer, else None."""
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def _same(given: str, expected: str) -> bool:
    """Compare a token from button data in constant time (the data may hold any characters)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _refuse(ctx: Context, key: str, **params: object) -> Outcome:
    return Outcome([Reply(t(ctx.language, key, **params))], notice=t(ctx.language, "vote_notice_refused"))


def _ballot_press(ctx: Context, parts: list[str]) -> Outcome:
    """`v:b:<ballot>:<token>:<action>[:<choice>]`: a voter chose, confirmed or went back."""
    officer, session = ctx.officer, ctx.session
    ballot_id = _number(parts[2]) if len(parts) >= 5 else None
    ballot = get_ballot(session=session, ballot_id=ballot_id, lock=True) if ballot_id is not None else None
    if ballot is None or ballot.bloc_id != officer.bloc_id or not _same(parts[3], ballot.token):
        return _refuse(ctx, "vote_refused_forged")
    action, choice = parts[4], parts[5] if len(parts) > 5 else ""
    year = _year_of(session, ballot)
    title = year.ballot_title(ctx.language, ballot)
    if not ballot.accepts_votes(ctx.now):
        closing = close_and_announce(session=session, ballot_id=ballot.id, now=ctx.now, closed_by="schedule")
        refused = _refuse(ctx, "vote_refused_closed", title=title,
                          closed=format_moment(ballot.closed_at or ballot.closes_at, year.config.bloc.timezone,
                                               ctx.language))
        refused.replies.extend(closing)
        return refused
    if not is_published(session=session, bloc_id=ballot.bloc_id, year=ballot.year):
        return _refuse(ctx, "vote_refused_unpublished", year=ballot.year)
    if not officer.voter:
        return _refuse(ctx, "vote_refused_not_voter", unit=officer.unit_name)
    if officer.unit_code not in ballot.members:
        return _refuse(ctx, "vote_refused_not_member", unit=officer.unit_name, year=ballot.year)
    voted = officer.unit_id in voted_unit_ids(session=session, ballot_id=ballot.id)
    if ballot.secret and voted:
        return _refuse(ctx, "vote_refused_already", unit=officer.unit_name, title=title)
    if action == "back":
        return Outcome([_ballot_message(year, ballot, ctx.language, officer.unit_code, edit=True)])
    if action not in ("pick", "ok") or choice not in ballot.options:
        return _refuse(ctx, "vote_refused_forged")
    if ballot.kind is not BallotKind.acclaim:
        rules = _rules(ballot)
        if not isinstance(rules, ElectionRules):
            raise RuntimeError("invariant broken: an election ballot has election rules")
        try:
            check_ballot(officer.unit_code, choice, ballot.candidates, rules)
        except BallotError as error:
            return _refuse(ctx, "vote_refused_self" if error.reason == "self_vote" else "vote_refused_forged")
    label = year.choice_label(ctx.language, ballot, choice)
    if ballot.secret and action == "pick":
        base = f"v:b:{ballot.id}:{ballot.token}:"
        return Outcome([Reply(
            Safe(t(ctx.language, "vote_ballot_head", title=title, unit=officer.unit_name,
                   closes=format_moment(ballot.closes_at, year.config.bloc.timezone, ctx.language))
                 + "\n" + t(ctx.language, "vote_ballot_confirm", choice=label)),
            options=((Option(_label(ctx.language, "vote_btn_confirm"), base + f"ok:{choice}"),
                      Option(_label(ctx.language, "vote_btn_rechoose"), base + "back")),),
            edit=True)])
    actor = f"officer:{officer.code}"
    if ballot.secret:
        if not record_secret_vote(session=session, ballot_id=ballot.id, unit_id=officer.unit_id, choice=choice):
            return _refuse(ctx, "vote_refused_already", unit=officer.unit_name, title=title)
        first = True
        recorded = Reply(t(ctx.language, "vote_recorded_secret", unit=officer.unit_name, title=title), edit=True)
    else:
        first = record_open_vote(session=session, ballot_id=ballot.id, unit_id=officer.unit_id,
                                 officer_id=officer.id, choice=choice, now=ctx.now)
        prefix = t(ctx.language, "vote_recorded_open", unit=officer.unit_name, choice=label, title=title)
        recorded = _ballot_message(year, ballot, ctx.language, officer.unit_code, prefix=prefix, edit=True)
    record(session=session, actor=actor, bloc_id=ballot.bloc_id, unit_code=officer.unit_code,
           action="ballot.vote" if first else "ballot.change", target=f"ballot:{ballot.id}", before=None,
           after=None if ballot.secret else {"choice": choice})
    outcome = Outcome([recorded], notice=t(ctx.language, "vote_notice_recorded"))
    if first:
        if len(voted_unit_ids(session=session, ballot_id=ballot.id)) >= len(ballot.members):
            outcome.replies.extend(close_and_announce(session=session, ballot_id=ballot.id, now=ctx.now,
                                                      closed_by="all_voted"))
        else:
            outcome.replies.extend(_turnout_replies(year, ballot))
    return outcome


# -- the leader's desk -----------------------------------------------------------


class VoteDesk:
    """/vote: a voter's open ballots again, and for the leader and deputy units the ballots' menu."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        bloc = bloc_by_id(session=ctx.session, bloc_id=ctx.officer.bloc_id)
        if bloc is None:
            raise RuntimeError("invariant broken: an officer's bloc exists")
        self.bloc = bloc
        year = voting_year(session=ctx.session, bloc_id=bloc.id)
        self.year = Year(ctx.session, bloc, year) if year is not None else None

    def start(self) -> Outcome:
        """`/vote`."""
        ctx = self.ctx
        if self.year is None:
            return Outcome([Reply(t(ctx.language, "vote_not_published"))])
        replies = self._my_ballots()
        if self._manages():
            ctx.leave_flow()
            ctx.state.flow, ctx.state.step = "vote", "menu"
            replies.append(self._menu())
        elif not replies:
            replies.append(Reply(t(ctx.language, "vote_nothing_for_you", year=self.year.year)))
        return Outcome(replies)

    def on_option(self, action: str, argument: str) -> Outcome:
        """A pressed menu button (its nonce already checked); authorization is checked again."""
        if self.year is None:
            return Outcome([Reply(t(self.ctx.language, "vote_not_published"))])
        if not self._manages():
            self.ctx.leave_flow()
            return _refuse(self.ctx, "vote_leader_only", year=self.year.year)
        handlers: dict[str, Callable[[str], Outcome]] = {
            "menu": lambda _: Outcome([self._menu()]),
            "open": self._ask_hours,
            "go": lambda _: self._open(),
            "close": self._ask_close,
            "closeok": self._close,
            "announce": lambda _: self._announce(),
        }
        handler = handlers.get(action)
        if handler is None:
            return self.stale()
        return handler(argument)

    def on_message(self) -> Outcome:
        """Hours typed at the closing-time step; anything else shows the menu again."""
        ctx = self.ctx
        if self.year is None or not self._manages():
            ctx.leave_flow()
            return self.start()
        if ctx.state.step != "hours":
            return Outcome([self._menu(prefix=t(ctx.language, "vote_press_a_button"))])
        pending = json.loads(ctx.state.pending or "{}")
        rules = self._rules_for(BallotKind(pending["kind"]))
        match = HOURS.fullmatch(ctx.incoming.text) if ctx.incoming.kind is InKind.text else None
        hours = int(match.group(1)) if match else 0
        if not rules.min_hours <= hours <= rules.max_hours:
            return Outcome([self._hours_prompt(prefix=t(ctx.language, "vote_hours_bad", min=rules.min_hours,
                                                        max=rules.max_hours, example=_default_hours(rules)))])
        pending["hours"] = hours
        ctx.state.pending = json.dumps(pending)
        return Outcome([self._hours_prompt()])

    def stale(self) -> Outcome:
        """A menu button of an older message, or forged: nothing changes; the menu again."""
        outcome = Outcome([self._menu(prefix=t(self.ctx.language, "vote_stale"))]) if self.year is not None \
            and self._manages() else stale_elsewhere(self.ctx)
        outcome.notice = t(self.ctx.language, "stale_notice")
        return outcome

    # -- steps -------------------------------------------------------------

    def _manages(self) -> bool:
        if self.year is None:
            return False
        role = unit_role(session=self.ctx.session, bloc_id=self.bloc.id, unit_id=self.ctx.officer.unit_id,
                         year=self.year.year)
        return role in (BlocRole.leader, BlocRole.deputy)

    def _year(self) -> Year:
        if self.year is None:
            raise RuntimeError("invariant broken: a published year")
        return self.year

    def _button(self, label: str, action: str, argument: str = "") -> Option:
        data = f"v:m:{self.ctx.state.nonce}:{action}" + (f":{argument}" if argument else "")
        return Option(label, data)

    def _rules_for(self, kind: BallotKind) -> BallotRules:
        votes = self.bloc.config.votes
        return votes.acclaim if kind is BallotKind.acclaim else votes.election

    def _my_ballots(self) -> list[Reply]:
        """The open ballots this officer's unit still has to vote in (they may have missed the message)."""
        ctx, year = self.ctx, self._year()
        if not ctx.officer.voter:
            return []
        voted_in = [ballot for ballot in year.ballots if ballot.accepts_votes(ctx.now)
                    and ctx.officer.unit_code in ballot.members]
        return [_ballot_message(year, ballot, ctx.language, ctx.officer.unit_code) for ballot in voted_in
                if not (ballot.secret and ctx.officer.unit_id in voted_unit_ids(session=ctx.session,
                                                                                  ballot_id=ballot.id))]

    def _status(self, kind: BallotKind) -> str:
        ctx, year = self.ctx, self._year()
        language = ctx.language
        latest = year.latest(kind)
        if latest is None:
            if kind is BallotKind.deputy and year.leader_elect() is None:
                return t(language, "vote_status_wait_leader")
            return t(language, "vote_status_not_open")
        round_text = t(language, "vote_round", n=latest.round) if latest.round > 1 else ""
        members = len(latest.members)
        if latest.result is None:
            return t(language, "vote_status_open", round=round_text, members=members,
                     voted=len(voted_unit_ids(session=ctx.session, ballot_id=latest.id)),
                     closes=format_moment(latest.closes_at, year.config.bloc.timezone, language))
        result = latest.result
        counts = result.get("counts", {})
        rules = _rules(latest)
        return t(language, f"vote_status_{latest.outcome}", round=round_text, members=members,
                 yes=result.get("yes", 0), voted=result.get("votes_cast", 0),
                 unit=year.name(year.codes.get(latest.winner_unit_id or 0)),
                 votes=counts.get(year.codes.get(latest.winner_unit_id or 0, ""), 0),
                 units=", ".join(year.name(code) for code in _tied(result)) or "—",
                 share=format_percent(rules.pass_share * 100, decimals=0, locale=language))

    def _menu(self, prefix: str = "") -> Reply:
        """The three ballots, their state, and a button for each thing that may be done now."""
        ctx, year = self.ctx, self._year()
        language = ctx.language
        ctx.state.step, ctx.state.pending = "menu", None
        ctx.new_nonce()
        lines = [prefix] if prefix else []
        lines.append(t(language, "vote_menu_title", year=year.year, bloc=year.config.bloc.name))
        acclaim = year.latest(BallotKind.acclaim)
        subject = year.codes.get(acclaim.subject_unit_id or 0) if acclaim else None
        flagged = [subject] if subject else year.flagged()
        if len(flagged) == 1:
            lines.append(t(language, "vote_line_acclaim", unit=year.name(flagged[0]),
                           status=self._status(BallotKind.acclaim)))
        else:
            reason = t(language, "vote_no_flag") if not flagged else t(
                language, "vote_shared_flag", units=", ".join(year.name(code) for code in flagged))
            lines.append(t(language, "vote_line_acclaim_none", reason=reason))
        options: list[tuple[Option, ...]] = []
        if year.elects():
            lines.append(t(language, "vote_line_leader", year=year.year + 1, status=self._status(BallotKind.leader)))
            lines.append(t(language, "vote_line_deputy", year=year.year + 1, status=self._status(BallotKind.deputy)))
        else:
            election = year.config.votes.election
            announced = next_roles(session=ctx.session, bloc_id=year.bloc.id, year=year.year + 1)
            done = announced is not None and announced.source == election.method
            lines.append(t(language, "vote_line_fixed", year=year.year + 1,
                           method=t(language, f"vote_method_{election.method}"),
                           leader=year.name(election.next_leader), deputy=year.name(election.next_deputy),
                           announced=t(language, "vote_fixed_done") if done else ""))
            if not done:
                options.append((self._button(_label(language, "vote_btn_announce", year=year.year + 1), "announce"),))
        for kind in KINDS:
            plan = year.plan(kind)
            if plan is not None:
                if plan.runoff:
                    label = _label(language, "vote_btn_runoff", what=t(language, f"vote_kind_{kind.value}"),
                                   units=", ".join(year.name(code) for code in plan.candidates))
                else:
                    label = _label(language, f"vote_btn_{'open' if plan.round == 1 else 'again'}_{kind.value}")
                options.append((self._button(label, "open", kind.value),))
            latest = year.latest(kind)
            if latest is not None and latest.closed_at is None:
                what = t(language, f"vote_kind_{kind.value}")
                options.append((self._button(_label(language, "vote_btn_close", what=what), "close", str(latest.id)),))
        return Reply(Safe("\n".join(lines)), options=tuple(options))

    def _ask_hours(self, argument: str) -> Outcome:
        ctx, year = self.ctx, self._year()
        if argument not in {kind.value for kind in KINDS}:
            return self.stale()
        kind = BallotKind(argument)
        plan = year.plan(kind)
        if plan is None:
            return Outcome([self._menu(prefix=t(ctx.language, "vote_plan_gone"))])
        ctx.state.step = "hours"
        ctx.state.pending = json.dumps({"kind": kind.value, "round": plan.round,
                                        "hours": _default_hours(self._rules_for(kind))})
        return Outcome([self._hours_prompt()])

    def _hours_prompt(self, prefix: str = "") -> Reply:
        ctx, year = self.ctx, self._year()
        language = ctx.language
        pending = json.loads(ctx.state.pending or "{}")
        kind = BallotKind(pending["kind"])
        rules = self._rules_for(kind)
        plan = year.plan(kind)
        subject = plan.subject if plan else None
        hours = int(pending["hours"])
        closes = format_moment(ctx.now + dt.timedelta(hours=hours), year.config.bloc.timezone, language)
        candidates = "" if kind is BallotKind.acclaim or plan is None else t(
            language, "vote_candidates_line", names=", ".join(year.name(code) for code in plan.candidates)) + "\n"
        ctx.new_nonce()
        text = t(language, "vote_hours_prompt", title=year.title(language, kind, int(pending["round"]), subject),
                 candidates=Safe(candidates), secrecy=_secrecy(language, rules.secret),
                 members=len(year.config.members_in(year.year)), hours=hours, closes=closes,
                 min=rules.min_hours, max=rules.max_hours)
        return Reply(Safe((prefix + "\n\n" if prefix else "") + text),
                     options=((self._button(_label(language, "vote_btn_go"), "go"),
                               self._button(_label(language, "vote_btn_back"), "menu")),))

    def _open(self) -> Outcome:
        """Open the planned ballot: the ballots to the voters, the turnout message to the group."""
        ctx, year = self.ctx, self._year()
        language = ctx.language
        if ctx.state.step != "hours":
            return self.stale()
        pending = json.loads(ctx.state.pending or "{}")
        kind = BallotKind(pending["kind"])
        plan = year.plan(kind)
        if plan is None or plan.round != int(pending["round"]):
            return Outcome([self._menu(prefix=t(language, "vote_plan_gone"))])
        rules = self._rules_for(kind)
        hours = dt.timedelta(hours=int(pending["hours"]))
        members = tuple(unit.code for unit in year.config.members_in(year.year))
        actor = f"officer:{ctx.officer.code}"
        ballot = create_ballot(
            session=ctx.session, bloc_id=year.bloc.id, year=year.year, kind=kind, round=plan.round,
            secret=rules.secret, subject_unit_id=year.ids.get(plan.subject or ""), candidates=plan.candidates,
            members=members, rules_json=rules.model_dump_json(), opened_at=ctx.now, opened_by=actor,
            closes_at=ctx.now + hours, remind_at=ctx.now + hours * REMIND_AFTER / 4,
        )
        if ballot is None:
            return Outcome([self._menu(prefix=t(language, "vote_plan_gone"))])
        record(session=ctx.session, actor=actor, bloc_id=year.bloc.id, unit_code=ctx.officer.unit_code,
               action="ballot.open", target=f"ballot:{ballot.id} {kind.value} {year.year} round {plan.round}",
               before=None, after={"candidates": list(plan.candidates), "secret": ballot.secret,
                                   "closes_at": ballot.closes_at})
        year.ballots.append(ballot)
        chats = voter_chats(session=ctx.session, unit_ids=[year.ids[code] for code in members])
        reached = {year.codes[chat.unit_id] for chat in chats}
        # The group's turnout message goes out (and is remembered) before any voter has a
        # ballot, so that the first vote finds it to edit instead of sending a second one.
        replies = _turnout_replies(year, ballot, first=True)
        replies.extend(_ballot_message(year, ballot, chat.language, year.codes[chat.unit_id], chat_id=chat.user_id)
                       for chat in chats)
        opened = t(language, "vote_opened", title=year.ballot_title(language, ballot), sent=len(reached),
                   members=len(members),
                   closes=format_moment(ballot.closes_at, year.config.bloc.timezone, language))
        missing = [year.name(code) for code in members if code not in reached]
        if missing:
            opened = Safe(opened + "\n" + t(language, "vote_opened_missing", units=", ".join(missing)))
        return Outcome([self._menu(prefix=opened), *replies])

    def _ask_close(self, argument: str) -> Outcome:
        ctx, year = self.ctx, self._year()
        ballot = self._own_ballot(argument)
        if ballot is None or ballot.closed_at is not None:
            return Outcome([self._menu(prefix=t(ctx.language, "vote_already_closed"))])
        ctx.state.step, ctx.state.pending = "close", json.dumps({"ballot": ballot.id})
        ctx.new_nonce()
        text = t(ctx.language, "vote_confirm_close", title=year.ballot_title(ctx.language, ballot),
                 voted=len(voted_unit_ids(session=ctx.session, ballot_id=ballot.id)), members=len(ballot.members))
        return Outcome([Reply(text, options=((self._button(_label(ctx.language, "vote_btn_close_now"), "closeok",
                                                           str(ballot.id)),
                                              self._button(_label(ctx.language, "vote_btn_back"), "menu")),))])

    def _close(self, argument: str) -> Outcome:
        ctx = self.ctx
        pending = json.loads(ctx.state.pending or "{}")
        if ctx.state.step != "close" or str(pending.get("ballot")) != argument:
            return self.stale()
        ballot = self._own_ballot(argument)
        if ballot is None:
            return self.stale()
        replies = close_and_announce(session=ctx.session, ballot_id=ballot.id, now=ctx.now,
                                     closed_by=f"officer:{ctx.officer.code}")
        self.year = Year(ctx.session, self.bloc, self._year().year)
        if not replies:
            return Outcome([self._menu(prefix=t(ctx.language, "vote_already_closed"))])
        done = t(ctx.language, "vote_closed_by_you", title=self._year().ballot_title(ctx.language, ballot))
        return Outcome([self._menu(prefix=done), *replies])

    def _own_ballot(self, argument: str) -> BallotView | None:
        """A ballot of this bloc's voting year, by the id in a button."""
        ballot_id = _number(argument)
        if ballot_id is None:
            return None
        ballot = get_ballot(session=self.ctx.session, ballot_id=ballot_id, lock=True)
        if ballot is None or ballot.bloc_id != self.bloc.id or ballot.year != self._year().year:
            return None
        return ballot

    def _announce(self) -> Outcome:
        """Rotation or appointment: next year's leader and deputy from the configuration, announced and stored."""
        ctx, year = self.ctx, self._year()
        election = year.config.votes.election
        if year.elects() or election.next_leader is None or election.next_deputy is None:
            return self.stale()
        following = year.year + 1
        stored = next_roles(session=ctx.session, bloc_id=year.bloc.id, year=following)
        if stored is not None and stored.source == election.method:
            return Outcome([self._menu(prefix=t(ctx.language, "vote_fixed_already"))])
        leader, deputy = year.ids[election.next_leader], year.ids[election.next_deputy]
        set_next_roles(session=ctx.session, bloc_id=year.bloc.id, year=following, leader_unit_id=leader,
                       deputy_unit_id=deputy, source=election.method)
        record(session=ctx.session, actor=f"officer:{ctx.officer.code}", bloc_id=year.bloc.id,
               action=f"roles.{election.method}", target=str(following), before=None,
               after={"leader": election.next_leader, "deputy": election.next_deputy})
        replies = [Reply(t(language, "vote_announced_fixed", method=t(language, f"vote_method_{election.method}"),
                           year=following, leader=year.name(election.next_leader),
                           deputy=year.name(election.next_deputy)), chat_id=chat_id)
                   for chat_id, language in _announce_chats(year)]
        return Outcome([self._menu(prefix=t(ctx.language, "vote_fixed_stored")), *replies])


def _default_hours(rules: BallotRules) -> int:
    """The configured closing time, kept within the configured bounds."""
    return min(max(rules.closing_hours, rules.min_hours), rules.max_hours)


def _vote_option(ctx: Context, parts: list[str]) -> Outcome:
    """Buttons `v:b:…` of ballots and `v:m:<nonce>:…` of the leader's menu."""
    if parts[1:2] == ["b"]:
        return _ballot_press(ctx, parts)
    if parts[1:2] == ["m"] and len(parts) >= 4:
        desk = VoteDesk(ctx)
        if ctx.state.flow != "vote" or not ctx.state.nonce or not _same(parts[2], ctx.state.nonce):
            return desk.stale()
        return desk.on_option(parts[3], parts[4] if len(parts) > 4 else "")
    return stale_elsewhere(ctx)


FEATURE = Feature(
    name="vote",
    commands={"vote": lambda ctx: VoteDesk(ctx).start()},
    option_prefix="v",
    on_option=_vote_option,
    on_message=lambda ctx: VoteDesk(ctx).on_message(),
    menu={"vote": "vote_cmd"},
)
