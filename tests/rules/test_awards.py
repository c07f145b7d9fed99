"""Proposing the flag and certificates of merit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rules.awards import Award, propose_awards
from rules.config import Awards
from rules.ranking import RankedUnit, rank
from tests.rules.factories import unit_score

D = Decimal
SEED_AWARDS = Awards()  # 1 flag from 90 %, 1 certificate from 85 %


def ranking(*totals: tuple[str, str]) -> list[RankedUnit]:
    return rank([unit_score(code, total) for code, total in totals], [])


def proposed(proposals: dict[str, Award | None]) -> dict[str, Award]:
    return {code: award for code, award in proposals.items() if award is not None}


def test_flag_waits_for_the_acclaim_and_the_next_unit_gets_the_certificate() -> None:
    ranked = ranking(("A", "98"), ("B", "97"), ("C", "95"))
    proposals = propose_awards(ranked, SEED_AWARDS, None)
    assert proposals == {"A": Award.flag_pending_acclaim, "B": Award.merit, "C": None}


def test_passed_acclaim_gives_the_flag() -> None:
    ranked = ranking(("A", "98"), ("B", "97"))
    assert proposed(propose_awards(ranked, SEED_AWARDS, True)) == {"A": Award.flag,
                                                                   "B": Award.merit}


def test_failed_acclaim_leaves_the_unit_to_compete_for_a_certificate() -> None:
    ranked = ranking(("A", "98"), ("B", "97"), ("C", "95"))
    assert proposed(propose_awards(ranked, SEED_AWARDS, False)) == {"A": Award.merit}


def test_minimum_scores_are_required() -> None:
    ranked = ranking(("A", "89.99"), ("B", "85"), ("C", "84.99"))
    assert proposed(propose_awards(ranked, SEED_AWARDS, True)) == {"A": Award.merit}
    ranked = ranking(("A", "90"), ("B", "84"))
    assert proposed(propose_awards(ranked, SEED_AWARDS, True)) == {"A": Award.flag}


def test_a_tie_at_the_top_proposes_every_tied_unit_for_the_flag() -> None:
    ranked = ranking(("B", "98"), ("A", "98"), ("C", "97"), ("D", "96"))
    proposals = propose_awards(ranked, SEED_AWARDS, None)
    assert proposed(proposals) == {
        "A": Award.flag_pending_acclaim,
        "B": Award.flag_pending_acclaim,
        "C": Award.merit,
    }


def test_a_tie_straddling_the_certificate_boundary_proposes_all_tied() -> None:
    ranked = ranking(("A", "98"), ("B", "95"), ("C", "95"), ("D", "94"))
    assert proposed(propose_awards(ranked, SEED_AWARDS, True)) == {
        "A": Award.flag, "B": Award.merit, "C": Award.merit,
    }


def test_three_certificates_as_in_some_provinces() -> None:
    awards = Awards(certificates=3, certificate_min_percent=D(85))
    ranked = ranking(("A", "98"), ("B", "97"), ("C", "96"), ("D", "95"), ("E", "94"))
    assert proposed(propose_awards(ranked, awards, True)) == {
        "A": Award.flag, "B": Award.merit, "C": Award.merit, "D": Award.merit,
    }


def test_no_flags_or_certificates_configured() -> None:
    ranked = ranking(("A", "98"), ("B", "97"))
    assert proposed(propose_awards(ranked, Awards(flags=0), None)) == {"A": Award.merit}
    assert proposed(propose_awards(ranked, Awards(certificates=0), True)) == {"A": Award.flag}


def test_ranking_must_be_in_rank_order() -> None:
    ranked = ranking(("A", "98"), ("B", "97"))
    with pytest.raises(ValueError, match="rank order"):
        propose_awards(list(reversed(ranked)), SEED_AWARDS, None)


def test_award_values_are_stable_text() -> None:
    assert [award.value for award in Award] == ["flag", "flag-pending-acclaim", "merit"]
