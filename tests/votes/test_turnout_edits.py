"""Which turnout changes are worth a new message where a message cannot be edited (Zalo)."""

from __future__ import annotations

from handlers.renderers.votes import meaningful_turnout


def test_a_quarter_more_the_quorum_and_everyone_are_meaningful_and_one_vote_more_is_not() -> None:
    worth = [voted for voted in range(1, 8) if meaningful_turnout(voted, members=7, need=5)]
    assert worth == [2, 4, 5, 6, 7]
    assert [voted for voted in range(1, 31) if meaningful_turnout(voted, members=30, need=20)] == [
        8, 15, 20, 23, 30]


def test_a_bloc_of_two_sees_each_vote() -> None:
    assert [voted for voted in (1, 2) if meaningful_turnout(voted, members=2, need=2)] == [1, 2]
