"""Tallying the bloc's votes: acclaiming the leading unit, electing next year's leader and deputy.

One unit, one vote. The chat layer calls :func:`check_ballot` before it
stores a ballot; the tallies count whatever was stored, setting aside (and
counting) ballots that are not valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rules.config import BallotRules, ElectionRules, TieRule

__all__ = [
    "AcclaimResult",
    "BallotError",
    "ElectionReason",
    "ElectionResult",
    "check_ballot",
    "tally_acclaim",
    "tally_election",
]


@dataclass(frozen=True, slots=True)
class AcclaimResult:
    """The outcome of an acclaim (yes/no) ballot."""

    yes: int
    no: int
    members: int
    votes_cast: int
    quorum_met: bool
    passed: bool


def _quorum_met(votes_cast: int, members: int, rules: BallotRules) -> bool:
    return votes_cast >= rules.quorum * members


def _pass_base(rules: BallotRules, *, members: int, votes: int) -> int:
    """What the pass share is a share of: all members, or the votes counted."""
    # "pass" in the names makes ruff's S105 (hardcoded password) misfire.
    return votes if rules.pass_base == "votes_cast" else members  # noqa: S105


def tally_acclaim(*, yes: int, no: int, members: int, rules: BallotRules) -> AcclaimResult:
    """Count an acclaim ballot: passed when the quorum is met and yes > pass_share * base.

    The base is the number of members or the number of votes cast, per
    ``rules.pass_base``; the quorum is votes cast >= ``rules.quorum`` * members.
    """
    if members <= 0:
        raise ValueError("an acclaim needs at least one member")
    if yes < 0 or no < 0:
        raise ValueError("vote counts cannot be negative")
    votes_cast = yes + no
    if votes_cast > members:
        raise ValueError(f"{votes_cast} votes cast by {members} members")
    quorum_met = _quorum_met(votes_cast, members, rules)
    base = _pass_base(rules, members=members, votes=votes_cast)
    passed = quorum_met and yes > rules.pass_share * base
    return AcclaimResult(
        yes=yes,
        no=no,
        members=members,
        votes_cast=votes_cast,
        quorum_met=quorum_met,
        passed=passed,
    )


class BallotError(ValueError):
    """A ballot that cannot be accepted; ``reason`` is "self_vote" or "not_candidate"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_ballot(
    voter: str, candidate: str, candidates: Sequence[str], rules: ElectionRules
) -> None:
    """Raise :class:`BallotError` if a unit's ballot may not be stored (call before storing)."""
    if candidate not in candidates:
        raise BallotError("not_candidate", f"{candidate} is not a candidate in this ballot")
    if not rules.self_vote and voter == candidate:
        raise BallotError("self_vote", f"{voter} may not vote for itself")


class ElectionReason(StrEnum):
    """Why an election ended as it did."""

    elected = "elected"
    no_quorum = "no_quorum"
    tie = "tie"
    below_pass_share = "below_pass_share"  # noqa: S105 (not a password)


@dataclass(frozen=True, slots=True)
class ElectionResult:
    """The outcome of one election ballot.

    ``counts`` has every candidate, in the order given. ``votes_cast`` counts
    every member's ballot (the quorum is measured on it); ``valid`` those
    counted for a candidate, ``invalid`` those set aside (a vote for oneself
    where not allowed, or for a unit that is not a candidate).
    ``runoff_candidates`` is non-empty when the top is tied and the rules call
    for a runoff: hold a new ballot among exactly those units.
    """

    counts: Mapping[str, int]
    members: int
    votes_cast: int
    valid: int
    invalid: int
    quorum_met: bool
    winner: str | None
    runoff_candidates: tuple[str, ...]
    reason: ElectionReason


def tally_election(
    *,
    ballots: Sequence[tuple[str, str]],
    members: Sequence[str],
    candidates: Sequence[str],
    rules: ElectionRules,
) -> ElectionResult:
    """Count an election ballot of (voter unit, candidate unit) pairs.

    The quorum is measured on the ballots cast (valid or not). The winner is
    the candidate with the most valid votes, if that is more than
    ``rules.pass_share`` of the base (members, or valid votes when
    ``rules.pass_base`` is "votes_cast"). A tie at the top gives no winner:
    under ``tie: runoff`` the tied candidates go to a runoff.
    """
    if rules.method != "election":
        raise ValueError(f"this bloc does not elect (method: {rules.method})")
    member_set = set(members)
    if len(member_set) != len(members) or not members:
        raise ValueError("members must be distinct and not empty")
    if len(set(candidates)) != len(candidates) or not candidates:
        raise ValueError("candidates must be distinct and not empty")
    outsiders = [candidate for candidate in candidates if candidate not in member_set]
    if outsiders:
        raise ValueError(f"candidates who are not members: {', '.join(outsiders)}")
    counts = dict.fromkeys(candidates, 0)
    voters: set[str] = set()
    invalid = 0
    for voter, candidate in ballots:
        if voter not in member_set:
            raise ValueError(f"{voter} is not a member and cannot vote")
        if voter in voters:
            raise ValueError(f"{voter} voted twice; store one ballot per unit")
        voters.add(voter)
        try:
            check_ballot(voter, candidate, candidates, rules)
        except BallotError:
            invalid += 1
            continue
        counts[candidate] += 1
    votes_cast = len(voters)
    valid = votes_cast - invalid
    quorum_met = _quorum_met(votes_cast, len(members), rules)
    winner: str | None = None
    runoff: tuple[str, ...] = ()
    top = max(counts.values())
    leaders = tuple(candidate for candidate, count in counts.items() if count == top)
    base = _pass_base(rules, members=len(members), votes=valid)
    if not quorum_met:
        reason = ElectionReason.no_quorum
    elif top == 0:
        reason = ElectionReason.below_pass_share
    elif len(leaders) > 1:
        reason = ElectionReason.tie
        if rules.tie is TieRule.runoff:
            runoff = leaders
    elif top > rules.pass_share * base:
        reason = ElectionReason.elected
        winner = leaders[0]
    else:
        reason = ElectionReason.below_pass_share
    return ElectionResult(
        counts=counts,
        members=len(members),
        votes_cast=votes_cast,
        valid=valid,
        invalid=invalid,
        quorum_met=quorum_met,
        winner=winner,
        runoff_candidates=runoff,
        reason=reason,
    )
