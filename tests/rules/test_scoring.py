"""Scoring a unit's results by the pact."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.config import (
    Criterion,
    CriterionKind,
    Direction,
    Indicator,
    Pact,
    RuleKind,
    ScoringRule,
)
from rules.scoring import (
    ScoreSheet,
    UnitResults,
    UnitScore,
    achievement,
    indicator_points,
    over_plan_bonus,
    score_unit,
    score_units,
)
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
CENT = D("0.01")


# --- achievement -----------------------------------------------------------------


def test_achievement_of_the_seed_households() -> None:
    value = achievement(D(30544), D(29945), Direction.higher)
    assert value.quantize(D("0.1")) == D("102.0")
    assert value == D(30544) * 100 / D(29945)


@pytest.mark.parametrize(
    ("actual", "target", "expected"),
    [("50", "100", "50"), ("100", "100", "100"), ("150", "100", "150"), ("0", "7", "0")],
)
def test_achievement_higher_is_better(actual: str, target: str, expected: str) -> None:
    assert achievement(D(actual), D(target), Direction.higher) == D(expected)


def test_a_zero_plan_is_met() -> None:
    assert achievement(D(0), D(0), Direction.higher) == 100
    assert achievement(D(5), D(0), Direction.higher) == 100


@pytest.mark.parametrize(
    ("actual", "target", "expected"),
    [
        ("10", "10", "100"),  # at the target
        ("11", "10", "90"),  # 10 % over: one percent off per percent
        ("9", "10", "110"),  # 10 % under: one percent more per percent
        ("0", "10", "200"),
        ("20", "10", "0"),
        ("35", "10", "0"),  # floored at 0
    ],
)
def test_achievement_lower_is_better(actual: str, target: str, expected: str) -> None:
    assert achievement(D(actual), D(target), Direction.lower) == D(expected)


def test_lower_is_better_with_a_zero_target() -> None:
    assert achievement(D(0), D(0), Direction.lower) == 100
    assert achievement(D(1), D(0), Direction.lower) == 0


@pytest.mark.parametrize("direction", list(Direction))
def test_negative_actual_is_refused(direction: Direction) -> None:
    with pytest.raises(ValueError, match="negative"):
        achievement(D(-1), D(10), direction)


def test_negative_target_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        achievement(D(1), D(-10), Direction.higher)


# --- points of one indicator ---------------------------------------------------------


@pytest.mark.parametrize(
    ("achieved", "expected"),
    [("0", "0"), ("50", "5"), ("99.5", "9.95"), ("100", "10"), ("130", "10")],
)
def test_proportional_points(achieved: str, expected: str) -> None:
    assert indicator_points(rule(), D(10), D(achieved)) == D(expected)


@pytest.mark.parametrize(
    ("achieved", "expected"), [("0", "0"), ("99.99", "0"), ("100", "10"), ("250", "10")]
)
def test_threshold_points(achieved: str, expected: str) -> None:
    assert indicator_points(rule(RuleKind.threshold), D(10), D(achieved)) == D(expected)


@pytest.mark.parametrize(
    ("achieved", "expected"),
    [
        ("100", "10"),
        ("104", "10"),  # not quite 100 % is no longer full marks...
        ("99.9", "8"),  # ...each started 5 % short costs 2 points
        ("95", "8"),
        ("94.99", "6"),
        ("90", "6"),
        ("60", "0"),
        ("10", "0"),  # never below 0
    ],
)
def test_stepped_points(achieved: str, expected: str) -> None:
    stepped = rule(RuleKind.stepped, step_percent="5", step_points="2")
    if D(achieved) >= 100:
        assert indicator_points(stepped, D(10), D(achieved)) == D(10)
    else:
        assert indicator_points(stepped, D(10), D(achieved)) == D(expected)


@pytest.mark.parametrize(
    ("achieved", "expected"), [("90", "0"), ("100", "0"), ("102", "1"), ("103.5", "1.75"),
                               ("110", "2"), ("400", "2")]
)
def test_over_plan_bonus(achieved: str, expected: str) -> None:
    over = rule(over_plan=("0.5", "2"))
    assert over_plan_bonus(over, D(achieved)) == D(expected)


def test_no_over_plan_bonus_without_the_rule() -> None:
    assert over_plan_bonus(rule(), D(150)) == 0


# --- a whole unit ----------------------------------------------------------------


def one_section_pact(
    *criteria: Criterion, maximum: str = "100", **extras: Any
) -> Pact:
    """A pact of one section holding the given criteria."""
    return pact(section("I", maximum, *criteria), **extras)


def test_criterion_points_are_rounded_half_up_to_a_hundredth() -> None:
    sheet_pact = one_section_pact(indicator_criterion("C", "1"), self_criterion("S", "1"))
    score = score_unit(
        sheet_pact, [indicator("X", "U", "C", "8")], results("U", {"X": "1"}, {"S": "0.845"})
    )
    # 1/8 = 12.5 % of 1 point = 0.125 -> 0.13 (half up; half even would give 0.12)
    assert score.criteria["C"] == D("0.13")
    assert score.criteria["S"] == D("0.85")
    assert score.achievements["X"] == D("12.5")


def test_threshold_and_stepped_criteria_in_a_unit() -> None:
    sheet_pact = one_section_pact(
        indicator_criterion("T", "10", rule(RuleKind.threshold)),
        indicator_criterion("S", "10", rule(RuleKind.stepped, step_percent="5",
                                            step_points="2.5")),
    )
    inds = [indicator("XT", "U", "T", "200"), indicator("XS", "U", "S", "200")]
    score = score_unit(sheet_pact, inds, results("U", {"XT": "199", "XS": "181"}))
    assert score.criteria == {"T": D(0), "S": D("5.00")}  # 90.5 % -> two steps short
    assert score.indicators_met == 0
    score = score_unit(sheet_pact, inds, results("U", {"XT": "200", "XS": "200"}))
    assert score.criteria == {"T": D(10), "S": D(10)}
    assert score.indicators_met == 2


@pytest.mark.parametrize(
    ("maximum", "step_percent", "step_points"),
    [
        ("10", "5", "2"),  # 0 points from the fifth step
        ("10", "5", "2.5"),  # ...from the fourth, exactly
        ("7", "3", "0.333"),  # thresholds 97, 94, ... below 0 before the points run out
        ("10", "5", "0"),  # a step costs nothing
        ("1", "5", "1"),  # 0 points from the first step
        ("3", "150", "1"),  # one step covers every achievement below plan
        ("50", "0.013", "0.001"),  # thousands of tiny steps
    ],
)
def test_stepped_points_of_the_sheet_match_the_rule_at_every_achievement(
    maximum: str, step_percent: str, step_points: str
) -> None:
    stepped = rule(RuleKind.stepped, step_percent=step_percent, step_points=step_points)
    sheet = ScoreSheet.build(
        one_section_pact(indicator_criterion("S", maximum, stepped), maximum="1000"),
        [indicator("X", "U", "S", "100")],
    )
    # Every achievement from 0 to 100 in steps of 0.001, thresholds and their neighbours.
    sweep = [D(n).scaleb(-3) for n in range(0, 100_001, 7)]
    sweep += [D(100) - D(step_percent) * k + delta for k in range(1, 40)
              for delta in (D("-0.001"), D(0), D("0.001"))]
    for achieved in sweep:
        if achieved < 0:
            continue
        score = sheet.score(UnitResults("U", {"X": achieved}))
        expected = indicator_points(stepped, D(maximum), achieved).quantize(CENT, ROUND_HALF_UP)
        assert score.criteria["S"] == expected, achieved
        assert score.criteria["S"].as_tuple().exponent == -2


def test_lower_is_better_indicator_in_a_unit() -> None:
    sheet_pact = one_section_pact(indicator_criterion("C", "10"))
    inds = [indicator("ACC", "U", "C", "20", Direction.lower)]
    assert score_unit(sheet_pact, inds, results("U", {"ACC": "22"})).criteria["C"] == D(9)
    assert score_unit(sheet_pact, inds, results("U", {"ACC": "10"})).criteria["C"] == D(10)
    assert score_unit(sheet_pact, inds, results("U", {"ACC": "10"})).indicators_met == 1


def test_over_plan_goes_to_bonus_not_to_the_criterion() -> None:
    sheet_pact = one_section_pact(
        indicator_criterion("C", "10", rule(over_plan=("0.25", "1"))),
        self_criterion("S", "90"),
        bonus_max="5",
    )
    inds = [indicator("X", "U", "C", "100")]
    score = score_unit(sheet_pact, inds, results("U", {"X": "102"}, {"S": "90"}))
    assert score.criteria["C"] == D(10)
    assert score.over_plan == {"C": D("0.50")}
    assert score.bonus == D("0.50")
    assert score.total == D("100.50")
    assert score.percent_of_standard == D("100.5")


def test_over_plan_bonus_is_capped_by_the_rule_then_by_the_pact() -> None:
    sheet_pact = one_section_pact(
        indicator_criterion("C1", "10", rule(over_plan=("1", "3"))),
        indicator_criterion("C2", "10", rule(over_plan=("1", "3"))),
        bonus_max="4",
    )
    inds = [indicator("X1", "U", "C1", "100"), indicator("X2", "U", "C2", "100")]
    score = score_unit(sheet_pact, inds, results("U", {"X1": "150", "X2": "102"}))
    assert score.over_plan == {"C1": D(3), "C2": D(2)}
    assert score.bonus == D(4)


def test_lower_is_better_below_target_earns_over_plan_bonus() -> None:
    sheet_pact = one_section_pact(indicator_criterion("C", "10", rule(over_plan=("0.1", "5"))),
                                  bonus_max="5")
    inds = [indicator("ACC", "U", "C", "10", Direction.lower)]
    score = score_unit(sheet_pact, inds, results("U", {"ACC": "5"}))  # 150 %
    assert score.over_plan == {"C": D(5)}


def test_self_score_reviewed_score_wins_and_both_are_clamped() -> None:
    sheet_pact = one_section_pact(self_criterion("A", "10"), self_criterion("B", "10"),
                                  self_criterion("C", "10"), maximum="30")
    score = score_unit(
        sheet_pact,
        [],
        results("U", {}, {"A": "9.555", "B": "12", "C": "-1"}, {"A": "7.125"}),
    )
    assert score.criteria == {"A": D("7.13"), "B": D(10), "C": D(0)}
    assert score.sections == {"I": D("17.13")}


def test_section_is_capped_at_its_maximum() -> None:
    sheet_pact = pact(
        section("I", "15", self_criterion("A", "10"), self_criterion("B", "10")),
        section("II", "5", self_criterion("C", "5")),
    )
    score = score_unit(sheet_pact, [], results("U", {}, {"A": "9", "B": "8", "C": "4"}))
    assert score.sections == {"I": D(15), "II": D(4)}
    assert score.total == D(19)


def test_bonus_criteria_are_clamped_then_capped() -> None:
    sheet_pact = one_section_pact(
        self_criterion("S", "100"),
        bonus=[extra_criterion("B1", "2", CriterionKind.bonus),
               extra_criterion("B2", "3", CriterionKind.bonus)],
        bonus_max="4",
    )
    score = score_unit(sheet_pact, [], results("U", {}, {"S": "90", "B1": "5", "B2": "1"}))
    assert score.criteria["B1"] == D(2)
    assert score.bonus == D(3)
    score = score_unit(sheet_pact, [], results("U", {}, {"S": "90", "B1": "2", "B2": "3"}))
    assert score.bonus == D(4)
    assert score.total == D(94)


def test_deductions_are_clamped_capped_and_the_total_never_negative() -> None:
    sheet_pact = one_section_pact(
        self_criterion("S", "100"),
        deductions=[extra_criterion("D1", "3", CriterionKind.deduction),
                    extra_criterion("D2", "3", CriterionKind.deduction)],
        deductions_max="5",
    )
    score = score_unit(sheet_pact, [], results("U", {}, {"S": "50", "D1": "1.5", "D2": "9"}))
    assert score.criteria["D2"] == D(3)
    assert score.deductions == D("4.50")
    assert score.total == D("45.50")
    score = score_unit(sheet_pact, [], results("U", {}, {"S": "2", "D1": "3", "D2": "3"}))
    assert score.deductions == D(5)
    assert score.total == 0


def test_reviewed_deduction_overrides_the_units_own() -> None:
    sheet_pact = one_section_pact(
        self_criterion("S", "100"),
        deductions=[extra_criterion("D1", "3", CriterionKind.deduction)],
        deductions_max="3",
    )
    score = score_unit(sheet_pact, [], results("U", {}, {"S": "80", "D1": "0"}, {"D1": "2"}))
    assert score.total == D(78)


def test_several_indicators_of_one_criterion_take_the_weighted_mean() -> None:
    sheet_pact = one_section_pact(
        indicator_criterion("C", "10", rule(over_plan=("1", "4"))), bonus_max="10"
    )
    inds = [
        indicator("X1", "U", "C", "100", weight="3"),
        indicator("X2", "U", "C", "100", weight="1"),
    ]
    score = score_unit(sheet_pact, inds, results("U", {"X1": "50", "X2": "104"}))
    # points: (3 * 5 + 1 * 10) / 4 = 6.25; over-plan: (3 * 0 + 1 * 4) / 4 = 1
    assert score.criteria["C"] == D("6.25")
    assert score.over_plan == {"C": D(1)}
    assert score.indicators_met == 1
    assert score.achievements == {"X1": D(50), "X2": D(104)}
    # A missing indicator weighs in as 0 points.
    score = score_unit(sheet_pact, inds, results("U", {"X2": "100"}))
    assert score.criteria["C"] == D("2.50")
    assert score.unreported == ("X1",)


def test_a_unit_that_did_not_report_scores_zero() -> None:
    sheet_pact = one_section_pact(
        indicator_criterion("C", "50"),
        indicator_criterion("L", "10"),
        self_criterion("S", "40"),
        bonus=[extra_criterion("B", "2", CriterionKind.bonus)],
        bonus_max="2",
    )
    inds = [indicator("X", "U", "C", "10"), indicator("ACC", "U", "L", "0", Direction.lower)]
    score = score_unit(sheet_pact, inds, UnitResults("U"))
    assert score.total == 0
    assert score.criteria == {"C": 0, "L": 0, "S": 0, "B": 0}
    assert score.indicators_met == 0
    assert score.achievements == {}
    assert set(score.unreported) == {"X", "ACC", "S"}


def test_missing_lower_is_better_actual_is_not_a_perfect_zero() -> None:
    sheet_pact = one_section_pact(
        indicator_criterion("L", "10", rule(RuleKind.stepped, step_percent="50",
                                            step_points="1", over_plan=("1", "5"))),
        indicator_criterion("M", "10", rule(over_plan=("1", "5"))),
        maximum="20",
        bonus_max="5",
    )
    inds = [indicator("ACC", "U", "L", "4", Direction.lower),
            indicator("ZERO", "U", "M", "0", Direction.lower)]
    score = score_unit(sheet_pact, inds, UnitResults("U"))
    assert score.criteria == {"L": 0, "M": 0}
    assert score.bonus == 0
    assert score.indicators_met == 0
    reported = score_unit(sheet_pact, inds, results("U", {"ACC": "0", "ZERO": "0"}))
    assert reported.criteria == {"L": 10, "M": 10}
    assert reported.indicators_met == 2
    assert reported.bonus == 5


def test_a_unit_without_indicators_for_a_criterion_scores_zero_there() -> None:
    sheet_pact = one_section_pact(indicator_criterion("C", "60"), self_criterion("S", "40"))
    sheet = ScoreSheet.build(sheet_pact, [indicator("X", "OTHER", "C", "1")])
    score = sheet.score(results("U", {}, {"S": "40"}))
    assert score.criteria == {"C": 0, "S": 40}
    assert score.total == 40


def test_the_total_exceeds_the_standard_score_only_through_bonus() -> None:
    sheet_pact = one_section_pact(
        indicator_criterion("C", "60", rule(over_plan=("1", "10"))),
        self_criterion("S", "60"),
        bonus=[extra_criterion("B", "5", CriterionKind.bonus)],
        bonus_max="8",
    )
    inds = [indicator("X", "U", "C", "10")]
    best = results("U", {"X": "1000"}, {"S": "1000", "B": "1000"})
    score = score_unit(sheet_pact, inds, best)
    assert score.sections == {"I": D(100)}
    assert score.bonus == D(8)
    assert score.total == D(108) > sheet_pact.standard_score
    no_bonus = one_section_pact(indicator_criterion("C", "60"), self_criterion("S", "60"))
    best_without_bonus = results("U", {"X": "1000"}, {"S": "1000"})
    assert score_unit(no_bonus, inds, best_without_bonus).total == no_bonus.standard_score


def test_criteria_are_listed_in_pact_order() -> None:
    sheet_pact = pact(
        section("I", "20", self_criterion("S1", "5"), indicator_criterion("C1", "5"),
                self_criterion("S2", "5"), indicator_criterion("C2", "5")),
        bonus=[extra_criterion("B", "1", CriterionKind.bonus)],
        bonus_max="1",
    )
    inds = [indicator("X2", "U", "C2", "1", Direction.lower), indicator("X1", "U", "C1", "1")]
    score = score_unit(sheet_pact, inds, results("U", {"X1": "1", "X2": "1"}))
    assert list(score.criteria) == ["S1", "C1", "S2", "C2", "B"]


# --- refusals ---------------------------------------------------------------------


def test_results_refuse_negative_actuals_and_non_decimals() -> None:
    with pytest.raises(ValueError, match="negative"):
        results("U", {"X": "-1"})
    with pytest.raises(ValueError, match="finite Decimal"):
        UnitResults("U", actuals={"X": 1.5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="finite Decimal"):
        UnitResults("U", self_scores={"S": D("NaN")})


def test_results_keep_their_own_copy() -> None:
    actuals = {"X": D(1)}
    unit_results = UnitResults("U", actuals=actuals)
    actuals["X"] = D(-5)
    assert unit_results.actuals == {"X": D(1)}


def test_unknown_codes_are_refused() -> None:
    sheet_pact = one_section_pact(indicator_criterion("C", "60"), self_criterion("S", "40"))
    sheet = ScoreSheet.build(sheet_pact, [indicator("X", "U", "C", "1"),
                                          indicator("Y", "V", "C", "1")])
    with pytest.raises(ValueError, match="no such indicator of this unit: Y"):
        sheet.score(results("U", {"Y": "1"}))
    with pytest.raises(ValueError, match="criterion C"):
        sheet.score(results("U", {}, {"C": "1"}))
    with pytest.raises(ValueError, match="criterion NOPE"):
        sheet.score(results("U", {}, {}, {"NOPE": "1"}))


def test_indicators_must_feed_an_indicator_criterion_once() -> None:
    sheet_pact = one_section_pact(indicator_criterion("C", "60"), self_criterion("S", "40"))
    with pytest.raises(ValueError, match="not an indicator criterion"):
        ScoreSheet.build(sheet_pact, [indicator("X", "U", "S", "1")])
    with pytest.raises(ValueError, match="twice"):
        ScoreSheet.build(sheet_pact, [indicator("X", "U", "C", "1"),
                                      indicator("X", "U", "C", "2")])


def test_score_units_scores_in_order() -> None:
    sheet_pact = one_section_pact(self_criterion("S", "100"))
    scores = score_units(sheet_pact, [], [results("A", {}, {"S": "1"}),
                                          results("B", {}, {"S": "2"})])
    assert [(s.unit_code, s.total) for s in scores] == [("A", D(1)), ("B", D(2))]


# --- the sheet against a plain reference -------------------------------------------------


def reference_score(pact_: Pact, indicators: list[Indicator], unit: UnitResults) -> UnitScore:
    """The rules written the slow, obvious way with the public single-value functions."""

    def clamp(value: Decimal | None, maximum: Decimal) -> Decimal:
        value = D(0) if value is None else value
        return min(max(value, D(0)), maximum).quantize(CENT, ROUND_HALF_UP)

    given = {**unit.self_scores, **unit.reviewed}
    criteria: dict[str, Decimal] = {}
    sections: dict[str, Decimal] = {}
    over: dict[str, Decimal] = {}
    achievements: dict[str, Decimal] = {}
    met = 0
    for sec in pact_.sections:
        for criterion in sec.criteria:
            if criterion.kind is CriterionKind.self:
                criteria[criterion.code] = clamp(given.get(criterion.code), criterion.max)
                continue
            mine = [i for i in indicators
                    if i.unit == unit.unit_code and i.criterion == criterion.code]
            weighted_points: list[tuple[Decimal, Decimal, Decimal]] = []
            for ind in mine:
                actual = unit.actuals.get(ind.code)
                if actual is None:
                    weighted_points.append((ind.weight, D(0), D(0)))
                    continue
                achieved = achievement(actual, ind.target, ind.direction)
                achievements[ind.code] = achieved
                met += achieved >= 100
                weighted_points.append((
                    ind.weight,
                    indicator_points(criterion.scoring_rule, criterion.max, achieved),
                    over_plan_bonus(criterion.scoring_rule, achieved),
                ))
            if not weighted_points:
                points, extra = D(0), D(0)
            elif len(weighted_points) == 1:
                _, points, extra = weighted_points[0]
            else:
                total_weight = sum((w for w, _, _ in weighted_points), D(0))
                points = sum((w * p for w, p, _ in weighted_points), D(0)) / total_weight
                extra = sum((w * e for w, _, e in weighted_points), D(0)) / total_weight
            criteria[criterion.code] = clamp(points, criterion.max)
            if extra.quantize(CENT, ROUND_HALF_UP):
                over[criterion.code] = extra.quantize(CENT, ROUND_HALF_UP)
        sections[sec.code] = min(sum((criteria[c.code] for c in sec.criteria), D(0)), sec.max)
    for criterion in pact_.bonus.criteria + pact_.deductions.criteria:
        criteria[criterion.code] = clamp(given.get(criterion.code), criterion.max)
    bonus = min(
        sum((criteria[c.code] for c in pact_.bonus.criteria), D(0)) + sum(over.values(), D(0)),
        pact_.bonus.max,
    )
    deductions = min(sum((criteria[c.code] for c in pact_.deductions.criteria), D(0)),
                     pact_.deductions.max)
    total = max(sum(sections.values(), D(0)) + bonus - deductions, D(0))
    return UnitScore(
        unit_code=unit.unit_code, criteria=criteria, sections=sections, over_plan=over,
        bonus=bonus, deductions=deductions, total=total,
        percent_of_standard=total * 100 / pact_.standard_score, indicators_met=met,
        achievements=achievements,
    )


amounts = st.builds(
    lambda units, places: D(units).scaleb(-places),
    st.integers(min_value=0, max_value=200_000),
    st.integers(min_value=0, max_value=3),
)
small = st.builds(lambda units: D(units).scaleb(-2), st.integers(min_value=1, max_value=5000))
scores_given = st.builds(lambda units: D(units).scaleb(-3),
                         st.integers(min_value=-2000, max_value=60_000))


@st.composite
def scoring_rules(draw: st.DrawFn) -> ScoringRule:
    kind = draw(st.sampled_from(list(RuleKind)))
    over = draw(st.none() | st.tuples(small, small))
    return ScoringRule(
        kind=kind,
        step_percent=draw(small) if kind is RuleKind.stepped else None,
        step_points=draw(small) if kind is RuleKind.stepped else None,
        over_plan=None if over is None else {"points_per_percent": over[0], "cap": over[1]},
    )


@st.composite
def bloc_cases(draw: st.DrawFn) -> tuple[Pact, list[Indicator], list[UnitResults]]:
    """A random pact, units with random indicators, and random (partial) results."""
    counter = iter(range(10_000))
    sections = []
    for number in range(draw(st.integers(1, 3))):
        criteria = []
        for _ in range(draw(st.integers(1, 4))):
            code = f"C{next(counter)}"
            if draw(st.booleans()):
                criteria.append(indicator_criterion(code, str(draw(small)), draw(scoring_rules())))
            else:
                criteria.append(self_criterion(code, str(draw(small))))
        sections.append(section(f"S{number}", str(draw(small)), *criteria))
    bonus = [extra_criterion(f"B{next(counter)}", str(draw(small)), CriterionKind.bonus)
             for _ in range(draw(st.integers(0, 2)))]
    deductions = [extra_criterion(f"D{next(counter)}", str(draw(small)), CriterionKind.deduction)
                  for _ in range(draw(st.integers(0, 2)))]
    the_pact = pact(*sections, bonus=bonus, bonus_max=str(draw(small)),
                    deductions=deductions, deductions_max=str(draw(small)))
    indicator_criteria = [c for s in sections for c in s.criteria
                          if c.kind is CriterionKind.indicator]
    given_codes = [c.code for c in the_pact.criteria() if c.kind is not CriterionKind.indicator]
    indicators: list[Indicator] = []
    unit_results = []
    for unit_number in range(draw(st.integers(1, 4))):
        unit = f"U{unit_number}"
        actuals = {}
        for criterion in indicator_criteria:
            for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
                target = draw(st.sampled_from([D(0), D(0)]) | amounts)
                code = f"{unit}-X{next(counter)}"
                indicators.append(Indicator(
                    code=code, unit=unit, criterion=criterion.code, text="t", measure="m",
                    target=target, direction=draw(st.sampled_from(list(Direction))),
                    weight=draw(small),
                ))
                if draw(st.integers(0, 5)):
                    # Mostly near the target, so every rule's branches are reached.
                    ratio = D(draw(st.integers(0, 250))).scaleb(-2)
                    near = (target * ratio).quantize(D("0.1"))
                    actuals[code] = draw(st.sampled_from([near, near, target]) | amounts)
        self_scores = {c: draw(scores_given) for c in given_codes if draw(st.integers(0, 4))}
        reviewed = {c: draw(scores_given) for c in given_codes if not draw(st.integers(0, 3))}
        unit_results.append(UnitResults(unit, actuals, self_scores, reviewed))
    return the_pact, indicators, unit_results


def comparable(score: UnitScore) -> dict[str, Any]:
    return {
        "criteria": dict(score.criteria),
        "sections": dict(score.sections),
        "over_plan": dict(score.over_plan),
        "bonus": score.bonus,
        "deductions": score.deductions,
        "total": score.total,
        "percent": score.percent_of_standard,
        "met": score.indicators_met,
        "achievements": dict(score.achievements),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bloc_cases())
def test_sheet_scores_like_the_plain_reference(
    case: tuple[Pact, list[Indicator], list[UnitResults]],
) -> None:
    the_pact, indicators, unit_results = case
    sheet = ScoreSheet.build(the_pact, indicators)
    for unit in unit_results:
        score = sheet.score(unit)
        assert comparable(score) == comparable(reference_score(the_pact, indicators, unit))
        # Exactly equal, and with the same exponent where it shows (0.00, not 0).
        assert all(value.as_tuple().exponent == -2 for value in score.criteria.values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bloc_cases())
def test_scores_stay_within_the_caps(
    case: tuple[Pact, list[Indicator], list[UnitResults]],
) -> None:
    the_pact, indicators, unit_results = case
    sheet = ScoreSheet.build(the_pact, indicators)
    maxima = {c.code: c.max for c in the_pact.criteria()}
    for unit in unit_results:
        score = sheet.score(unit)
        for code, points in score.criteria.items():
            assert 0 <= points <= maxima[code].quantize(CENT, ROUND_HALF_UP)
        for sec in the_pact.sections:
            assert 0 <= score.sections[sec.code] <= sec.max
        assert sum(score.sections.values()) <= the_pact.standard_score
        assert 0 <= score.bonus <= the_pact.bonus.max
        assert 0 <= score.deductions <= the_pact.deductions.max
        assert 0 <= score.total <= the_pact.standard_score + score.bonus
        assert score.indicators_met <= len(score.achievements)


def test_score_mappings_read_like_dicts() -> None:
    sheet_pact = one_section_pact(
        indicator_criterion("C", "50"), indicator_criterion("E", "20"), self_criterion("S", "30")
    )
    inds = [indicator("X", "U", "C", "10"), indicator("Y", "U", "C", "10", weight="3"),
            indicator("Z", "U", "E", "4")]
    score = score_unit(sheet_pact, inds, results("U", {"X": "5", "Z": "4"}, {"S": "30"}))
    assert score.achievements == {"X": D(50), "Z": D(100)}
    assert len(score.achievements) == 2
    assert "Y" not in score.achievements
    assert score.achievements.get("Y") is None
    with pytest.raises(KeyError):
        score.achievements["Y"]
    with pytest.raises(KeyError):
        score.criteria["NOPE"]
    assert dict(score.criteria) == {"C": D("6.25"), "E": D(20), "S": D(30)}
    assert repr(score.criteria) == repr(dict(score.criteria))
    assert score.unreported == ("Y",)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bloc_cases(), st.randoms(use_true_random=False))
def test_criterion_points_are_those_of_the_whole_score(
    case: tuple[Pact, list[Indicator], list[UnitResults]], chance: Any,
) -> None:
    the_pact, indicators, unit_results = case
    sheet = ScoreSheet.build(the_pact, indicators)
    codes = [criterion.code for criterion in the_pact.criteria()]
    for unit in unit_results:
        score = sheet.score(unit)
        some = chance.sample(codes, chance.randint(0, len(codes)))
        points = sheet.criterion_points(unit, some)
        # The same digits, exponent included.
        assert {code: str(value) for code, value in points.items()} == {code: str(score.criteria[code])
                                                                          for code in some}
