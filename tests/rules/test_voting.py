"""Tallying the acclaim and the election."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rules.config import BallotRules, ElectionRules, TieRule
from rules.voting import (
    BallotError,
    ElectionReason,
    check_ballot,
    tally_acclaim,
    tally_election,
)

D = Decimal
SEED_MEMBERS = ["STTTT", "SXD", "SCT", "SGTVT", "STC", "SKHDT", "STNMT"]


# --- acclaim -----------------------------------------------------------------


def test_acclaim_passes_with_more_than_half_of_members() -> None:
    result = tally_acclaim(yes=4, no=3, members=7, rules=BallotRules())
    assert result.passed and result.quorum_met and result.votes_cast == 7


def test_acclaim_needs_strictly_more_than_the_share() -> None:
    assert not tally_acclaim(yes=3, no=0, members=6, rules=BallotRules()).passed
    assert tally_acclaim(yes=4, no=0, members=6, rules=BallotRules()).passed


def test_acclaim_without_quorum_fails() -> None:
    result = tally_acclaim(yes=3, no=0, members=7, rules=BallotRules())
    assert not result.quorum_met and not result.passed
    result = tally_acclaim(yes=4, no=0, members=7, rules=BallotRules())
    assert result.quorum_met and result.passed


def test_acclaim_share_of_votes_cast() -> None:
    rules = BallotRules(pass_base="votes_cast", quorum=D("0.5"))
    assert tally_acclaim(yes=3, no=1, members=7, rules=rules).passed
    assert not tally_acclaim(yes=2, no=2, members=7, rules=rules).passed
    assert not tally_acclaim(yes=3, no=1, members=7, rules=BallotRules()).passed


def test_acclaim_with_a_two_thirds_rule() -> None:
    rules = BallotRules(pass_share=D("0.67"), quorum=D(1))
    assert not tally_acclaim(yes=4, no=2, members=6, rules=rules).passed
    assert tally_acclaim(yes=5, no=1, members=6, rules=rules).passed
    assert not tally_acclaim(yes=5, no=0, members=6, rules=rules).quorum_met


@pytest.mark.parametrize(("yes", "no", "members"), [(-1, 0, 7), (0, -1, 7), (5, 3, 7),
                                                    (0, 0, 0)])
def test_acclaim_refuses_impossible_counts(yes: int, no: int, members: int) -> None:
    with pytest.raises(ValueError):
        tally_acclaim(yes=yes, no=no, members=members, rules=BallotRules())


# --- election -----------------------------------------------------------------


def ballots(*pairs: str) -> list[tuple[str, str]]:
    """Ballots written as "VOTER>CANDIDATE"."""
    return [tuple(pair.split(">")) for pair in pairs]  # type: ignore[misc]


def test_seed_2019_leader_then_deputy() -> None:
    rules = ElectionRules()
    leader = tally_election(
        ballots=ballots("STTTT>SXD", "SXD>SCT", "SCT>SXD", "SGTVT>SXD", "STC>SXD",
                        "SKHDT>SCT", "STNMT>SXD"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=rules,
    )
    assert leader.reason is ElectionReason.elected
    assert leader.winner == "SXD"
    assert leader.counts["SXD"] == 5 and leader.counts["SCT"] == 2
    deputy_candidates = [unit for unit in SEED_MEMBERS if unit != leader.winner]
    deputy = tally_election(
        ballots=ballots("STTTT>SCT", "SXD>SCT", "SCT>SGTVT", "SGTVT>SCT", "STC>SCT",
                        "SKHDT>STTTT", "STNMT>SCT"),
        members=SEED_MEMBERS,
        candidates=deputy_candidates,
        rules=rules,
    )
    assert (deputy.winner, deputy.reason) == ("SCT", ElectionReason.elected)
    assert "SXD" not in deputy.counts


def test_a_tie_goes_to_a_runoff_among_the_tied_then_a_decisive_runoff() -> None:
    rules = ElectionRules()
    first = tally_election(
        ballots=ballots("STTTT>SXD", "SXD>SCT", "SCT>SXD", "SGTVT>SXD", "STC>SCT",
                        "SKHDT>SCT", "STNMT>SGTVT"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=rules,
    )
    assert first.winner is None
    assert first.reason is ElectionReason.tie
    assert first.runoff_candidates == ("SXD", "SCT")
    runoff = tally_election(
        ballots=ballots("STTTT>SXD", "SXD>SCT", "SCT>SXD", "SGTVT>SXD", "STC>SCT",
                        "SKHDT>SCT", "STNMT>SXD"),
        members=SEED_MEMBERS,
        candidates=first.runoff_candidates,
        rules=rules,
    )
    assert (runoff.winner, runoff.reason) == ("SXD", ElectionReason.elected)
    assert dict(runoff.counts) == {"SXD": 4, "SCT": 3}


def test_a_tie_without_runoff_has_no_winner() -> None:
    result = tally_election(
        ballots=ballots("STTTT>SXD", "SXD>SCT"),
        members=["STTTT", "SXD", "SCT"],
        candidates=["STTTT", "SXD", "SCT"],
        rules=ElectionRules(tie=TieRule.no_winner),
    )
    assert (result.winner, result.reason, result.runoff_candidates) == (
        None, ElectionReason.tie, ())


def test_failed_quorum_elects_nobody() -> None:
    result = tally_election(
        ballots=ballots("STTTT>SXD", "SCT>SXD", "SGTVT>SXD"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=ElectionRules(),
    )
    assert not result.quorum_met
    assert (result.winner, result.reason) == (None, ElectionReason.no_quorum)


def test_most_votes_below_the_pass_share_elects_nobody() -> None:
    result = tally_election(
        ballots=ballots("STTTT>SXD", "SXD>SCT", "SCT>SXD", "SGTVT>SXD", "STC>SCT",
                        "SKHDT>STTTT"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=ElectionRules(),
    )
    assert result.counts["SXD"] == 3
    assert (result.winner, result.reason) == (None, ElectionReason.below_pass_share)
    # Counting the share of votes cast instead, 3 of 6 is still not more than half...
    by_votes = tally_election(
        ballots=ballots("STTTT>SXD", "SXD>SCT", "SCT>SXD", "SGTVT>SXD", "STC>SCT"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=ElectionRules(pass_base="votes_cast"),
    )
    # ...but 3 of 5 is.
    assert (by_votes.winner, by_votes.reason) == ("SXD", ElectionReason.elected)


def test_self_votes_and_votes_for_non_candidates_are_set_aside_and_counted() -> None:
    result = tally_election(
        ballots=ballots("STTTT>STTTT", "SXD>SCT", "SCT>SXD", "SGTVT>SXD", "STC>SXD",
                        "SKHDT>SXD", "STNMT>NOBODY"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=ElectionRules(),
    )
    assert (result.votes_cast, result.valid, result.invalid) == (7, 5, 2)
    assert result.counts["STTTT"] == 0
    assert (result.winner, result.reason) == ("SXD", ElectionReason.elected)


def test_invalid_ballots_still_count_for_the_quorum_but_not_the_pass() -> None:
    result = tally_election(
        ballots=ballots("STTTT>STTTT", "SXD>SXD", "SCT>SCT", "SGTVT>SXD"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=ElectionRules(),
    )
    assert result.quorum_met
    assert (result.winner, result.reason) == (None, ElectionReason.below_pass_share)


def test_self_vote_allowed_when_the_rules_say_so() -> None:
    rules = ElectionRules(self_vote=True)
    check_ballot("SXD", "SXD", SEED_MEMBERS, rules)
    result = tally_election(
        ballots=ballots("SXD>SXD", "SCT>SXD", "STC>SXD", "SKHDT>SXD"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=rules,
    )
    assert (result.invalid, result.winner) == (0, "SXD")


def test_check_ballot_says_why() -> None:
    rules = ElectionRules()
    check_ballot("SXD", "SCT", SEED_MEMBERS, rules)
    with pytest.raises(BallotError) as caught:
        check_ballot("SXD", "SXD", SEED_MEMBERS, rules)
    assert caught.value.reason == "self_vote"
    with pytest.raises(BallotError) as caught:
        check_ballot("SXD", "SXD", ["SCT", "STC"], rules)
    assert caught.value.reason == "not_candidate"
    assert isinstance(caught.value, ValueError)


def test_no_valid_votes_elects_nobody() -> None:
    result = tally_election(
        ballots=ballots("STTTT>STTTT", "SXD>SXD", "SCT>SCT", "SGTVT>SGTVT"),
        members=SEED_MEMBERS,
        candidates=SEED_MEMBERS,
        rules=ElectionRules(),
    )
    assert (result.winner, result.reason, result.runoff_candidates) == (
        None, ElectionReason.below_pass_share, ())


@pytest.mark.parametrize(
    ("pairs", "members", "candidates", "message"),
    [
        (["SXD>SCT", "SXD>STC"], SEED_MEMBERS, SEED_MEMBERS, "twice"),
        (["OUT>SCT"], SEED_MEMBERS, SEED_MEMBERS, "not a member"),
        ([], SEED_MEMBERS, ["SCT", "OUT"], "not members"),
        ([], SEED_MEMBERS, [], "candidates"),
        ([], [], [], "members"),
        ([], ["A", "A"], ["A"], "members"),
    ],
)
def test_election_refuses_inconsistent_input(
    pairs: list[str], members: list[str], candidates: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        tally_election(ballots=ballots(*pairs), members=members, candidates=candidates,
                       rules=ElectionRules())


def test_blocs_that_do_not_elect_cannot_tally_an_election() -> None:
    rules = ElectionRules(method="rotation", next_leader="SXD", next_deputy="SCT")
    with pytest.raises(ValueError, match="rotation"):
        tally_election(ballots=[], members=SEED_MEMBERS, candidates=SEED_MEMBERS, rules=rules)
