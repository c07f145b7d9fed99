"""Where bonus and deduction points come from: one line per source, caps said."""

from __future__ import annotations

from decimal import Decimal

from rules.config import CriterionKind, Pact
from rules.extras import ExtraKind, explain_extras
from rules.scoring import score_unit
from tests.rules.factories import (
    extra_criterion,
    indicator,
    indicator_criterion,
    pact,
    results,
    rule,
    section,
    self_criterion,
)

D = Decimal


def _pact(bonus_max: str = "5", deductions_max: str = "10") -> Pact:
    return pact(
        section("I", "50", indicator_criterion("I.1", "40", rule(over_plan=("0.1", "1"))), self_criterion("I.2", "10")),
        bonus=[extra_criterion("B.1", "3", CriterionKind.bonus)], bonus_max=bonus_max,
        deductions=[extra_criterion("D.1", "2", CriterionKind.deduction),
                    extra_criterion("D.2", "5", CriterionKind.deduction)], deductions_max=deductions_max,
    )


def test_the_seed_bonus_of_035_is_two_indicators_over_plan_averaged() -> None:
    indicators = [indicator("TT-1", "U", "I.1", "100"), indicator("TT-2", "U", "I.1", "30")]
    score = score_unit(_pact(), indicators, results("U", {"TT-1": "102", "TT-2": "31.5"}, {"I.2": "9"}))
    extras = explain_extras(_pact(), indicators, score)
    assert score.bonus == D("0.35")
    (line,) = extras.lines
    assert line.kind is ExtraKind.over_plan and line.code == "I.1" and line.points == D("0.35")
    assert line.above_plan == (("TT-1", D(102)), ("TT-2", D(105))) and line.averaged
    assert (line.per_percent, line.maximum) == (D("0.1"), D(1))
    assert not extras.bonus_capped and extras.deductions == 0 and not extras.of_kind(ExtraKind.deduction)


def test_bonus_and_deduction_criteria_only_where_they_gave_points_in_pact_order() -> None:
    indicators = [indicator("X-1", "U", "I.1", "100")]
    score = score_unit(_pact(), indicators, results("U", {"X-1": "100"}, {"I.2": "9", "B.1": "2", "D.2": "1"}))
    extras = explain_extras(_pact(), indicators, score)
    assert [(line.kind, line.code, line.points, line.maximum) for line in extras.lines] == [
        (ExtraKind.bonus, "B.1", D(2), D(3)), (ExtraKind.deduction, "D.2", D(1), D(5))]


def test_a_cap_that_cut_the_sum_is_reported_with_the_sum_before_it() -> None:
    indicators = [indicator("X-1", "U", "I.1", "100")]
    capped = _pact(bonus_max="2", deductions_max="3")
    score = score_unit(capped, indicators, results("U", {"X-1": "150"}, {"B.1": "3", "D.1": "2", "D.2": "4"}))
    extras = explain_extras(capped, indicators, score)
    assert extras.bonus_capped and extras.bonus_before_cap == D(4) and extras.bonus == D(2)
    assert extras.deductions_capped and extras.deductions_before_cap == D(6) and extras.deductions == D(3)
    over = extras.of_kind(ExtraKind.over_plan)[0]
    assert over.points == D(1) and not over.averaged  # 50 % over plan, capped by the rule at 1
