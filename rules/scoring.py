"""Scoring a unit's results by the bloc's pact.

Plain functions over plain data: the pact and indicators come from
:mod:`rules.config`, results are plain mappings of codes to ``Decimal``.

How points are made (DOMAIN.md, "Rules are data, not code"):

* an indicator's *achievement* is its actual as a percent of the target
  (:func:`achievement`); an indicator criterion turns it into points by its rule
  (:func:`indicator_points`), and achievement above plan may earn over-plan
  bonus (:func:`over_plan_bonus`) that counts as the unit's bonus;
* a criterion fed by several indicators of a unit takes the weighted mean of
  their points (and of their over-plan bonus);
* a ``self`` criterion takes the unit's self score, or the reviewed score when
  the leader and deputy changed it;
* each criterion is clamped to ``[0, max]`` and rounded half up to 0.01; each
  section is capped at its maximum; bonus and deductions are capped by the pact;
  the total is never negative and may exceed the standard score only through
  bonus.

A value that was not reported scores 0. :class:`ScoreSheet` does the per-pact
work once, so scoring thousands of units is a tight loop over tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Final, NoReturn, cast

from rules.config import (
    Criterion,
    CriterionKind,
    Direction,
    Indicator,
    Pact,
    RuleKind,
    ScoringRule,
)

__all__ = [
    "ScoreSheet",
    "UnitResults",
    "UnitScore",
    "achievement",
    "indicator_points",
    "over_plan_bonus",
    "score_unit",
    "score_units",
]

ZERO: Final = Decimal(0)
HUNDRED: Final = Decimal(100)
CENT: Final = Decimal("0.01")

# Rule kinds as small ints: comparing ints is cheaper than comparing enum members.
_PROPORTIONAL: Final = 0
_THRESHOLD: Final = 1
_STEPPED: Final = 2
_RULE_CODES: Final = {
    RuleKind.proportional: _PROPORTIONAL,
    RuleKind.threshold: _THRESHOLD,
    RuleKind.stepped: _STEPPED,
}


@dataclass(frozen=True, slots=True)
class UnitResults:
    """What a unit reported: indicator actuals, and scores of the other criteria.

    ``self_scores`` and ``reviewed`` are keyed by criterion code and hold the
    points of ``self``, ``bonus`` and ``deduction`` criteria (a deduction is
    given as a positive number of points to take off). A reviewed score
    overrides the self score. Indicator criteria are scored from ``actuals``
    only: a reviewer corrects the actual, not the points.
    """

    unit_code: str
    actuals: Mapping[str, Decimal] = field(default_factory=dict)
    self_scores: Mapping[str, Decimal] = field(default_factory=dict)
    reviewed: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UnitScore:
    """A unit's points, criterion by criterion, and its total.

    ``criteria`` holds every criterion of the pact (sections, bonus and
    deductions), clamped and rounded. ``over_plan`` holds the over-plan bonus
    earned by each indicator criterion (only those that earned some), before
    the pact's bonus cap; ``bonus`` is the capped sum of bonus criteria and
    over-plan bonus. ``achievements`` holds the achievement (percent of plan)
    of every reported indicator; ``unreported`` lists the indicator and
    criterion codes without a value, which scored 0.
    """

    unit_code: str
    criteria: Mapping[str, Decimal]
    sections: Mapping[str, Decimal]
    over_plan: Mapping[str, Decimal]
    bonus: Decimal
    deductions: Decimal
    total: Decimal
    percent_of_standard: Decimal
    indicators_met: int
    achievements: Mapping[str, Decimal]
    unreported: tuple[str, ...] = ()


def achievement(actual: Decimal, target: Decimal, direction: Direction) -> Decimal:
    """An indicator's result as a percent of its target (102 means 2 % above plan).

    Higher-is-better: ``actual / target * 100``; a zero target is met (100).
    Lower-is-better (accidents, complaints): 100 at the target, one percent
    less for each percent above it and one more for each percent below it,
    never below 0; with a zero target, 100 when the actual is 0, else 0.
    """
    if actual < ZERO:
        raise ValueError(f"an actual cannot be negative ({actual})")
    if target < ZERO:
        raise ValueError(f"a target cannot be negative ({target})")
    # Dividing by target/100 (an exact shift) rounds once, like actual*100/target.
    if direction is Direction.higher:
        return actual / target.scaleb(-2) if target else HUNDRED
    if not target:
        return HUNDRED if not actual else ZERO
    result = (target + target - actual) / target.scaleb(-2)
    return result if result > ZERO else ZERO


def indicator_points(rule: ScoringRule, maximum: Decimal, achieved: Decimal) -> Decimal:
    """The points of one indicator by its criterion's rule, in ``[0, maximum]`` (not rounded)."""
    return _rule_points(
        _RULE_CODES[rule.kind],
        maximum,
        maximum.scaleb(-2),
        rule.step_percent,
        rule.step_points,
        achieved,
    )


def over_plan_bonus(rule: ScoringRule, achieved: Decimal) -> Decimal:
    """Bonus for achievement above plan: points per percent above 100, up to the cap."""
    over = rule.over_plan
    if over is None or achieved <= HUNDRED:
        return ZERO
    bonus = (achieved - HUNDRED) * over.points_per_percent
    return bonus if bonus < over.cap else over.cap


def _rule_points(
    kind: int,
    maximum: Decimal,
    per_percent: Decimal,
    step_percent: Decimal | None,
    step_points: Decimal | None,
    achieved: Decimal,
) -> Decimal:
    if achieved >= HUNDRED:
        return maximum
    if kind == _PROPORTIONAL:
        return achieved * per_percent if achieved > ZERO else ZERO
    if kind == _THRESHOLD:
        return ZERO
    if step_percent is None or step_points is None:  # ScoringRule's validator prevents it
        raise ValueError("a stepped rule needs step_percent and step_points")
    steps = ((HUNDRED - achieved) / step_percent).to_integral_value(rounding=ROUND_CEILING)
    points = maximum - step_points * steps
    return points if points > ZERO else ZERO


def _clamp(value: Decimal | None, maximum: Decimal) -> Decimal:
    """A given score clamped to ``[0, maximum]`` and rounded to 0.01 (missing is 0)."""
    if value is None or value <= ZERO:
        return POINTS_ZERO
    if value > maximum:
        value = maximum
    return value.quantize(CENT, ROUND_HALF_UP)


# Precomputed shapes. The scoring loop unpacks tuples: cheaper than attributes.
#
# One unit's indicator: (code, target/100, 2*target, lower is better, weight).
_Part = tuple[str, Decimal, Decimal, bool, Decimal]
# One indicator criterion of one unit:
#   (criterion code, max, max rounded to 0.01, max/100, rule code, step_percent,
#    step_points, over-plan points per percent or None, over-plan cap,
#    then the unit's indicator: code ("" when it has none or several), target/100,
#    2*target, lower is better; and for a criterion fed by several indicators
#    their parts and total weight, empty and 0 otherwise).
_Item = tuple[
    str, Decimal, Decimal, Decimal, int, Decimal | None, Decimal | None, Decimal | None, Decimal,
    str, Decimal, Decimal, bool, tuple[_Part, ...], Decimal,
]
# A section: (code, max, its self criteria as (code, max)).
_SectionPlan = tuple[str, Decimal, tuple[tuple[str, Decimal], ...]]
# A unit: one row of items per section, and the codes of its indicators.
_UnitPlan = tuple[tuple[tuple[_Item, ...], ...], frozenset[str]]

POINTS_ZERO: Final = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class ScoreSheet:
    """A pact and the units' indicators, prepared once for scoring many units.

    Build it with :meth:`build`, then call :meth:`score` for each unit.
    """

    standard_score: Decimal
    sections: tuple[_SectionPlan, ...]
    bonus_criteria: tuple[tuple[str, Decimal], ...]
    bonus_max: Decimal
    deduction_criteria: tuple[tuple[str, Decimal], ...]
    deductions_max: Decimal
    given_codes: frozenset[str]
    units: Mapping[str, _UnitPlan]
    no_indicators: _UnitPlan

    @classmethod
    def build(cls, pact: Pact, indicators: Iterable[Indicator]) -> ScoreSheet:
        """Prepare a pact and the indicators of every unit (any order) for scoring."""
        all_criteria = pact.criteria()
        criteria = {criterion.code: criterion for criterion in all_criteria}
        if len(criteria) != len(all_criteria):
            raise ValueError("the pact has duplicate criterion codes")
        templates = tuple(
            tuple(
                _criterion_template(criterion)
                for criterion in section.criteria
                if criterion.kind is CriterionKind.indicator
            )
            for section in pact.sections
        )
        grouped: dict[str, dict[str, list[_Part]]] = {}
        for indicator in indicators:
            criterion = criteria.get(indicator.criterion)
            if criterion is None or criterion.kind is not CriterionKind.indicator:
                raise ValueError(
                    f"indicator {indicator.code} of {indicator.unit}: "
                    f"{indicator.criterion} is not an indicator criterion of the pact"
                )
            target = indicator.target
            part = (
                indicator.code,
                target.scaleb(-2),
                target + target,
                indicator.direction is Direction.lower,
                indicator.weight,
            )
            by_criterion = grouped.get(indicator.unit)
            if by_criterion is None:
                by_criterion = grouped[indicator.unit] = {}
            parts = by_criterion.get(indicator.criterion)
            if parts is None:
                by_criterion[indicator.criterion] = [part]
            else:
                parts.append(part)
        units = {unit: _unit_plan(unit, templates, by) for unit, by in grouped.items()}
        return cls(
            standard_score=pact.standard_score,
            sections=tuple(
                (
                    section.code,
                    section.max,
                    tuple(
                        (criterion.code, criterion.max)
                        for criterion in section.criteria
                        if criterion.kind is not CriterionKind.indicator
                    ),
                )
                for section in pact.sections
            ),
            bonus_criteria=tuple((c.code, c.max) for c in pact.bonus.criteria),
            bonus_max=pact.bonus.max,
            deduction_criteria=tuple((c.code, c.max) for c in pact.deductions.criteria),
            deductions_max=pact.deductions.max,
            given_codes=frozenset(
                code
                for code, criterion in criteria.items()
                if criterion.kind is not CriterionKind.indicator
            ),
            units=units,
            no_indicators=_unit_plan("", templates, {}),
        )

    def score(self, results: UnitResults) -> UnitScore:
        """Score one unit's results (see the module docstring for the rules)."""
        # The hot path of ranking a bloc: locals and tuples, no pydantic, few Decimal ops.
        rows, codes = self.units.get(results.unit_code, self.no_indicators)
        actuals = results.actuals
        given = results.self_scores
        reviewed = results.reviewed
        if not (actuals.keys() <= codes and given.keys() <= self.given_codes
                and reviewed.keys() <= self.given_codes):
            _refuse_codes(results, codes, self.given_codes)
        hundred = HUNDRED
        zero = ZERO
        points_zero = POINTS_ZERO
        cent = CENT
        half_up = ROUND_HALF_UP
        criteria: dict[str, Decimal] = {}
        sections: dict[str, Decimal] = {}
        over_plan: dict[str, Decimal] = {}
        achievements: dict[str, Decimal] = {}
        unreported: list[str] = []
        met = 0
        sections_total = zero
        over_total = zero
        for (section_code, section_max, self_plans), row in zip(self.sections, rows, strict=True):
            section_total = zero
            for (
                code, maximum, maximum_points, per_percent, kind, step_percent, step_points,
                per_over, cap, indicator_code, target_percent, double_target, lower, parts,
                total_weight,
            ) in row:
                if parts:
                    points, extra, reached = _multi_points(
                        results.unit_code,
                        (maximum, per_percent, kind, step_percent, step_points, per_over, cap),
                        parts,
                        total_weight,
                        actuals,
                        achievements,
                        unreported,
                    )
                    met += reached
                    criteria[code] = points
                    section_total += points
                    if extra:
                        over_plan[code] = extra
                        over_total += extra
                    continue
                actual = actuals.get(indicator_code)
                if actual is None:
                    if indicator_code:
                        unreported.append(indicator_code)
                    criteria[code] = points_zero
                    continue
                if lower:
                    if actual < zero:
                        _refuse_negative(results.unit_code, indicator_code, actual)
                    if target_percent:
                        achieved = (double_target - actual) / target_percent
                        if achieved < zero:
                            achieved = zero
                    else:
                        achieved = zero if actual else hundred
                elif target_percent:
                    achieved = actual / target_percent
                else:
                    if actual < zero:
                        _refuse_negative(results.unit_code, indicator_code, actual)
                    achieved = hundred
                achievements[indicator_code] = achieved
                if achieved >= hundred:
                    met += 1
                    criteria[code] = maximum_points
                    section_total += maximum_points
                    if per_over is not None and achieved > hundred:
                        extra = (achieved - hundred) * per_over
                        if extra > cap:
                            extra = cap
                        extra = extra.quantize(cent, half_up)
                        over_plan[code] = extra
                        over_total += extra
                    continue
                if achieved < zero:  # only a negative actual makes a negative achievement
                    _refuse_negative(results.unit_code, indicator_code, actual)
                if kind == _PROPORTIONAL:
                    points = (achieved * per_percent).quantize(cent, half_up)
                elif kind == _THRESHOLD:
                    points = points_zero
                else:
                    points = _rule_points(
                        kind, maximum, per_percent, step_percent, step_points, achieved
                    ).quantize(cent, half_up)
                criteria[code] = points
                section_total += points
            for code, maximum in self_plans:
                value = reviewed.get(code)
                if value is None:
                    value = given.get(code)
                    if value is None:
                        unreported.append(code)
                points = _clamp(value, maximum)
                criteria[code] = points
                section_total += points
            if section_total > section_max:
                section_total = section_max
            sections[section_code] = section_total
            sections_total += section_total
        bonus_total = over_total + _given_sum(self.bonus_criteria, results, criteria)
        if bonus_total > self.bonus_max:
            bonus_total = self.bonus_max
        deductions = _given_sum(self.deduction_criteria, results, criteria)
        if deductions > self.deductions_max:
            deductions = self.deductions_max
        total = sections_total + bonus_total - deductions
        if total < zero:
            total = points_zero
        return UnitScore(
            unit_code=results.unit_code,
            criteria=criteria,
            sections=sections,
            over_plan=over_plan,
            bonus=bonus_total,
            deductions=deductions,
            total=total,
            percent_of_standard=total / self.standard_score.scaleb(-2),
            indicators_met=met,
            achievements=achievements,
            unreported=tuple(unreported),
        )

    def score_all(self, results: Iterable[UnitResults]) -> list[UnitScore]:
        """Score many units, in the given order."""
        score = self.score
        return [score(unit_results) for unit_results in results]


def _given_sum(
    plans: tuple[tuple[str, Decimal], ...], results: UnitResults, criteria: dict[str, Decimal]
) -> Decimal:
    """Sum bonus or deduction criteria, each clamped; one not given is simply none."""
    total = ZERO
    for code, maximum in plans:
        value = results.reviewed.get(code)
        if value is None:
            value = results.self_scores.get(code)
        points = _clamp(value, maximum)
        criteria[code] = points
        total += points
    return total


# The rule of a criterion: (max, max/100, rule code, step_percent, step_points,
# over-plan points per percent or None, over-plan cap).
_Rule = tuple[Decimal, Decimal, int, Decimal | None, Decimal | None, Decimal | None, Decimal]


def _criterion_template(criterion: Criterion) -> tuple[object, ...]:
    """The unit-independent head of an item (see _Item)."""
    rule = criterion.scoring_rule
    over = rule.over_plan
    return (
        criterion.code,
        criterion.max,
        _clamp(criterion.max, criterion.max),
        criterion.max.scaleb(-2),
        _RULE_CODES[rule.kind],
        rule.step_percent,
        rule.step_points,
        None if over is None or not over.points_per_percent else over.points_per_percent,
        ZERO if over is None else over.cap,
    )


def _unit_plan(
    unit: str,
    templates: tuple[tuple[tuple[object, ...], ...], ...],
    by_criterion: dict[str, list[_Part]],
) -> _UnitPlan:
    """A unit's rows: each indicator criterion's template joined with the unit's indicators."""
    codes = [part[0] for parts in by_criterion.values() for part in parts]
    if len(set(codes)) != len(codes):
        raise ValueError(f"unit {unit} has an indicator code twice")
    rows = []
    for section_templates in templates:
        row = []
        for template in section_templates:
            parts = by_criterion.get(str(template[0]))
            if not parts:
                tail: tuple[object, ...] = ("", ZERO, ZERO, False, (), ZERO)
            elif len(parts) == 1:
                code, target_percent, double_target, lower, _ = parts[0]
                tail = (code, target_percent, double_target, lower, (), ZERO)
            else:
                total_weight = sum((part[4] for part in parts), ZERO)
                tail = ("", ZERO, ZERO, False, tuple(parts), total_weight)
            row.append(cast(_Item, template + tail))
        rows.append(tuple(row))
    return tuple(rows), frozenset(codes)


def _multi_points(
    unit: str,
    rule: _Rule,
    parts: tuple[_Part, ...],
    total_weight: Decimal,
    actuals: Mapping[str, Decimal],
    achievements: dict[str, Decimal],
    unreported: list[str],
) -> tuple[Decimal, Decimal, int]:
    """A criterion fed by several indicators: weighted means of points and over-plan bonus."""
    maximum, per_percent, kind, step_percent, step_points, per_over, cap = rule
    points = ZERO
    bonus = ZERO
    met = 0
    for code, target_percent, double_target, lower, weight in parts:
        actual = actuals.get(code)
        if actual is None:
            unreported.append(code)
            continue
        if actual < ZERO:
            _refuse_negative(unit, code, actual)
        if lower:
            if target_percent:
                achieved = max((double_target - actual) / target_percent, ZERO)
            else:
                achieved = ZERO if actual else HUNDRED
        else:
            achieved = actual / target_percent if target_percent else HUNDRED
        achievements[code] = achieved
        if achieved >= HUNDRED:
            met += 1
        points += weight * _rule_points(
            kind, maximum, per_percent, step_percent, step_points, achieved
        )
        if per_over is not None and achieved > HUNDRED:
            bonus += weight * min((achieved - HUNDRED) * per_over, cap)
    points = min(points / total_weight, maximum).quantize(CENT, ROUND_HALF_UP)
    bonus = (bonus / total_weight).quantize(CENT, ROUND_HALF_UP)
    return points, bonus, met


def _refuse_negative(unit: str, indicator: str, actual: Decimal) -> NoReturn:
    raise ValueError(f"{unit}: the actual of {indicator} is negative ({actual})")


def _refuse_codes(
    results: UnitResults, indicator_codes: frozenset[str], given: frozenset[str]
) -> NoReturn:
    """Refuse results for indicators or criteria the unit does not have (a typo, a wrong unit)."""
    unknown = sorted(set(results.actuals) - indicator_codes)
    if unknown:
        raise ValueError(
            f"{results.unit_code}: no such indicator of this unit: {', '.join(unknown)}"
        )
    unknown = sorted((set(results.self_scores) | set(results.reviewed)) - given)
    raise ValueError(
        f"{results.unit_code}: no self, bonus or deduction criterion {', '.join(unknown)}"
    )


def score_unit(pact: Pact, indicators: Iterable[Indicator], results: UnitResults) -> UnitScore:
    """Score one unit (builds a :class:`ScoreSheet`; build one yourself to score many)."""
    return ScoreSheet.build(pact, indicators).score(results)


def score_units(
    pact: Pact, indicators: Iterable[Indicator], results: Sequence[UnitResults]
) -> list[UnitScore]:
    """Score many units against one pact."""
    return ScoreSheet.build(pact, indicators).score_all(results)
