"""Ranking units with tie-breaks, and bands."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.config import Band
from rules.ranking import RankedUnit, band, rank
from rules.scoring import UnitScore
from tests.rules.factories import unit_score

D = Decimal


def places(ranked: list[RankedUnit]) -> list[tuple[int, str]]:
    return [(place.rank, place.unit_code) for place in ranked]


def test_higher_total_ranks_first() -> None:
    scores = [unit_score("A", "80"), unit_score("B", "95.5"), unit_score("C", "90")]
    assert places(rank(scores, [])) == [(1, "B"), (2, "C"), (3, "A")]


def test_equal_units_share_a_rank_and_the_next_rank_is_skipped() -> None:
    scores = [unit_score("C", "90"), unit_score("A", "90"), unit_score("B", "95"),
              unit_score("D", "80")]
    ranked = rank(scores, [])
    assert places(ranked) == [(1, "B"), (2, "A"), (2, "C"), (4, "D")]
    assert [place.shared for place in ranked] == [False, True, True, False]


def test_section_tie_break_then_indicators_met() -> None:
    scores = [
        unit_score("A", "90", sections={"I": "40"}, indicators_met=5),
        unit_score("B", "90", sections={"I": "45"}, indicators_met=1),
        unit_score("C", "90", sections={"I": "40"}, indicators_met=6),
        unit_score("D", "90", sections={"I": "40"}, indicators_met=6),
    ]
    ranked = rank(scores, ["section:I", "indicators_met"])
    assert places(ranked) == [(1, "B"), (2, "C"), (2, "D"), (4, "A")]
    # Without the tie-breaks they are all first.
    assert {place.rank for place in rank(scores, [])} == {1}


def test_bonus_and_fewer_deductions_tie_breaks() -> None:
    scores = [
        unit_score("A", "90", bonus="1", deductions="2"),
        unit_score("B", "90", bonus="1", deductions="0.5"),
        unit_score("C", "90", bonus="2", deductions="3"),
    ]
    assert places(rank(scores, ["bonus", "fewer_deductions"])) == [(1, "C"), (2, "B"), (3, "A")]
    assert places(rank(scores, ["fewer_deductions", "bonus"])) == [(1, "B"), (2, "A"), (3, "C")]


def test_tie_breaks_count_only_after_the_total() -> None:
    scores = [unit_score("A", "90", sections={"I": "50"}),
              unit_score("B", "91", sections={"I": "10"})]
    assert places(rank(scores, ["section:I"])) == [(1, "B"), (2, "A")]


def test_refuses_unknown_tie_breaks_sections_and_duplicates() -> None:
    scores = [unit_score("A", "90", sections={"I": "1"})]
    with pytest.raises(ValueError, match="unknown tie-break"):
        rank(scores, ["alphabet"])
    with pytest.raises(ValueError, match="no such section"):
        rank(scores, ["section:II"])
    with pytest.raises(ValueError, match="twice"):
        rank(scores + scores, [])


def test_no_units_no_ranking() -> None:
    assert rank([], ["section:I"]) == []


score_lists = st.lists(
    st.builds(
        lambda code, total, section, met, bonus, deductions: unit_score(
            f"U{code:03d}", str(total), sections={"I": str(section)}, indicators_met=met,
            bonus=str(bonus), deductions=str(deductions),
        ),
        st.integers(0, 999),
        st.integers(0, 4),  # few distinct values: many ties
        st.integers(0, 3),
        st.integers(0, 3),
        st.sampled_from(["0", "0.5"]),
        st.sampled_from(["0", "1"]),
    ),
    max_size=40,
    unique_by=lambda score: score.unit_code,
)
tie_break_lists = st.lists(
    st.sampled_from(["section:I", "indicators_met", "bonus", "fewer_deductions"]), unique=True
)


def key(score: UnitScore, tie_breaks: list[str]) -> tuple[Decimal, ...]:
    values = {
        "section:I": score.sections["I"],
        "indicators_met": D(score.indicators_met),
        "bonus": score.bonus,
        "fewer_deductions": -score.deductions,
    }
    return (score.total, *(values[name] for name in tie_breaks))


@given(score_lists, tie_break_lists, st.randoms())
def test_rank_is_one_plus_the_number_of_better_units(
    scores: list[UnitScore], tie_breaks: list[str], shuffler: random.Random
) -> None:
    ranked = rank(scores, tie_breaks)
    assert sorted(place.unit_code for place in ranked) == sorted(s.unit_code for s in scores)
    for place in ranked:
        mine = key(place.score, tie_breaks)
        better = sum(1 for other in scores if key(other, tie_breaks) > mine)
        equal = sum(1 for other in scores if key(other, tie_breaks) == mine)
        assert place.rank == 1 + better
        assert place.shared == (equal > 1)
    # Listed by rank, then by unit code; the input order does not matter.
    assert [(p.rank, p.unit_code) for p in ranked] == sorted((p.rank, p.unit_code)
                                                             for p in ranked)
    shuffled = list(scores)
    shuffler.shuffle(shuffled)
    assert places(rank(shuffled, tie_breaks)) == places(ranked)


BANDS = [
    Band(name="Khá", min_percent=D(80)),
    Band(name="Xuất sắc", min_percent=D(96)),
    Band(name="Tốt", min_percent=D(92)),
]


@pytest.mark.parametrize(
    ("percent", "name"),
    [("101", "Xuất sắc"), ("96", "Xuất sắc"), ("95.99", "Tốt"), ("92", "Tốt"), ("86", "Khá"),
     ("80", "Khá"), ("79.99", None), ("0", None)],
)
def test_band_is_the_highest_reached(percent: str, name: str | None) -> None:
    assert band(D(percent), BANDS) == name


def test_no_bands_no_band() -> None:
    assert band(D(100), []) is None


def test_of_bands_with_the_same_minimum_the_first_listed_wins() -> None:
    bands = [Band(name="Đạt", min_percent=D(50)), Band(name="Trung bình", min_percent=D(50)),
             Band(name="Tốt", min_percent=D(90))]
    assert band(D(60), bands) == "Đạt"
    assert band(D(95), bands) == "Tốt"


def test_thousands_of_tied_units_share_one_rank_without_pairwise_counting() -> None:
    # A pairwise count of equal units would make 16 million comparisons here.
    scores = [unit_score(f"U{number:04d}", "90", sections={"I": "40"}) for number in range(4_000)]
    ranked = rank(scores, ["section:I", "indicators_met", "bonus", "fewer_deductions"])
    assert {place.rank for place in ranked} == {1}
    assert all(place.shared for place in ranked)
    assert [place.unit_code for place in ranked] == sorted(score.unit_code for score in scores)
