"""Scoring a unit's results by the bloc's pact.

Plain functions over plain data: the pact and indicators come from
:mod:`rules.config`, results are plain mappings of codes to ``Decimal``.

How points are made (DOMAIN.md, "Rules are data, not code"):

* an indicator's *achievement* is its actual as a percent of the target, with
  lower-is-better indicators counted the other way round (:func:`achievement`);
* an indicator criterion turns achievement into points by its rule kind
  (:func:`indicator_points`), and achievement above plan may earn over-plan
  bonus (:func:`over_plan_bonus`) that counts as the unit's bonus;
* a criterion fed by several indicators of a unit takes the weighted mean of
  their points (and of their over-plan bonus);
* a ``self`` criterion takes the unit's self score, or the reviewed score when
  the leader and deputy changed it; bonus and deduction criteria likewise;
* each criterion is clamped to ``[0, max]`` and rounded half up to 0.01; the
  over-plan bonus of a criterion is rounded likewise; each section is capped at
  its maximum; bonus and deductions are capped by the pact; the total is never
  negative and may exceed the standard score only through bonus.

A value that was not reported scores 0, and an indicator criterion for which a
unit registered no indicator scores 0.

Each rule has one place: the direction in :func:`achievement`, the rule kinds
in :func:`indicator_points`, the over-plan bonus in :func:`over_plan_bonus`.
A new rule kind is a member of :class:`rules.config.RuleKind`, a case there,
and its test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Final, NoReturn

from rules.config import Criterion, CriterionKind, Direction, Indicator, Pact, RuleKind, ScoringRule

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
NO_POINTS: Final = Decimal("0.00")
# 100 written as 1E+2: multiplying by it only moves the decimal point and never
# rounds, so ``actual * TIMES_100 / target`` rounds once, in the division.
TIMES_100: Final = Decimal("1E+2")
# Enum members that scoring compares with for every criterion and indicator, read
# once: on Python 3.11 reading a member from its class costs about four times the
# comparison, and it was about a tenth of scoring a bloc (bench/ranking.py). The
# rule kinds likewise: a `match` on `RuleKind.x` read up to three members for each
# indicator below plan (0,6 µs; about 3-5 % of scoring a bloc).
_INDICATOR: Final = CriterionKind.indicator
_HIGHER: Final = Direction.higher
_PROPORTIONAL: Final = RuleKind.proportional
_THRESHOLD: Final = RuleKind.threshold
_STEPPED: Final = RuleKind.stepped


@dataclass(frozen=True, slots=True)
class UnitResults:
    """What a unit reported: indicator actuals, and scores of the other criteria.

    ``actuals`` is keyed by indicator code. ``self_scores`` and ``reviewed``
    are keyed by criterion code and hold the points of ``self``, ``bonus`` and
    ``deduction`` criteria (a deduction is given as a positive number of points
    to take off). A reviewed score overrides the self score. Indicator criteria
    are scored from ``actuals`` only: a reviewer corrects the actual. Actuals
    must not be negative (checked when the results are made; self scores out of
    range are clamped when scored instead).
    """

    unit_code: str
    actuals: Mapping[str, Decimal] = field(default_factory=dict)
    self_scores: Mapping[str, Decimal] = field(default_factory=dict)
    reviewed: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check the values once, here, and keep private copies: scoring trusts them."""
        for name in ("actuals", "self_scores", "reviewed"):
            values = dict(getattr(self, name))
            for code, value in values.items():
                if not isinstance(value, Decimal) or not value.is_finite():
                    raise ValueError(
                        f"{self.unit_code}: {name}[{code!r}] must be a finite Decimal, not {value!r}"
                    )
                if name == "actuals" and value < ZERO:
                    raise ValueError(f"{self.unit_code}: the actual of {code} is negative ({value})")
            object.__setattr__(self, name, values)


@dataclass(frozen=True, slots=True)
class UnitScore:
    """A unit's points, criterion by criterion, and its total.

    ``criteria`` holds every criterion of the pact in pact order (sections,
    bonus, deductions), clamped and rounded. ``over_plan`` holds the over-plan
    bonus earned by indicator criteria (only those that earned some), before the
    pact's bonus cap; ``bonus`` is the capped sum of bonus criteria and
    over-plan bonus. ``percent_of_standard`` is the total as a percent of the
    standard score, not rounded. ``achievements`` holds the achievement
    (percent of plan) of every reported indicator; ``unreported`` lists the
    indicator and self criterion codes without a value, which scored 0. The
    mappings are not to be changed.
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


# --- one value at a time: the rules themselves ---------------------------------------


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
    if direction is _HIGHER:
        return actual * TIMES_100 / target if target else HUNDRED
    if not target:
        return HUNDRED if not actual else ZERO
    return max((target + target - actual) * TIMES_100 / target, ZERO)


def indicator_points(rule: ScoringRule, maximum: Decimal, achieved: Decimal) -> Decimal:
    """The points of one indicator by its criterion's rule, in ``[0, maximum]`` (not rounded).

    At or above plan every rule gives the maximum. Below plan: ``proportional``
    gives the maximum times the achievement, ``threshold`` nothing, ``stepped``
    the maximum less ``step_points`` for each ``step_percent`` (or part of it) short.
    """
    if achieved >= HUNDRED:
        return maximum
    kind = rule.kind
    if kind is _PROPORTIONAL:
        # The product rounds (if at all), dividing it by 100 is exact.
        return achieved * maximum / HUNDRED if achieved > ZERO else ZERO
    if kind is _THRESHOLD:
        return ZERO
    if kind is _STEPPED:
        if rule.step_percent is None or rule.step_points is None:  # the rule's validator prevents it
            raise ValueError("a stepped rule needs step_percent and step_points")
        steps_short = ((HUNDRED - achieved) / rule.step_percent).to_integral_value(ROUND_CEILING)
        return max(maximum - rule.step_points * steps_short, ZERO)
    raise ValueError(f"unknown rule kind {kind!r}")


def over_plan_bonus(rule: ScoringRule, achieved: Decimal) -> Decimal:
    """Bonus for achievement above plan: points per percent above 100, up to the cap (not rounded)."""
    over = rule.over_plan
    if over is None or achieved <= HUNDRED:
        return ZERO
    return min((achieved - HUNDRED) * over.points_per_percent, over.cap)


def _rounded(points: Decimal) -> Decimal:
    """Points as they are shown and added up: rounded half up to 0.01."""
    return points.quantize(CENT, ROUND_HALF_UP)


def _clamped(points: Decimal, maximum: Decimal) -> Decimal:
    """A criterion's points: within ``[0, maximum]``, rounded."""
    return _rounded(min(max(points, ZERO), maximum))


def _indicator_criterion(
    criterion: Criterion, indicators: Sequence[Indicator], achievements: Mapping[str, Decimal]
) -> tuple[Decimal, Decimal]:
    """An indicator criterion's points and over-plan bonus for one unit, both rounded.

    One indicator gives its own points and bonus; several give their weighted
    means. An indicator not reported (no achievement) counts 0 points and 0 bonus,
    and so does a criterion for which the unit has no indicator.
    """
    rule = criterion.scoring_rule
    if len(indicators) == 1:
        achieved = achievements.get(indicators[0].code)
        if achieved is None:
            return NO_POINTS, NO_POINTS
        points, bonus = indicator_points(rule, criterion.max, achieved), over_plan_bonus(rule, achieved)
    elif indicators:
        points = bonus = total_weight = ZERO
        for indicator in indicators:
            total_weight += indicator.weight
            achieved = achievements.get(indicator.code)
            if achieved is not None:
                points += indicator.weight * indicator_points(rule, criterion.max, achieved)
                bonus += indicator.weight * over_plan_bonus(rule, achieved)
        points, bonus = min(points / total_weight, criterion.max), bonus / total_weight
    else:
        return NO_POINTS, NO_POINTS
    # Most criteria earn no over-plan bonus: rounding 0 is skipped.
    return _rounded(points), _rounded(bonus) if bonus else NO_POINTS


# --- a whole unit ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreSheet:
    """A pact and the units' indicators grouped by unit and criterion, for scoring many units.

    Build it with :meth:`build`, then call :meth:`score` for each unit (or
    :meth:`score_all`). A unit without indicators can still be scored: its
    indicator criteria score 0.
    """

    pact: Pact
    #: unit code -> indicator criterion code -> that unit's indicators for it, in given order
    indicators: Mapping[str, Mapping[str, Sequence[Indicator]]]

    @classmethod
    def build(cls, pact: Pact, indicators: Iterable[Indicator]) -> ScoreSheet:
        """Check the pact and the indicators of every unit (any order) and group them by unit."""
        criteria = pact.criteria()
        if len({criterion.code for criterion in criteria}) != len(criteria):
            raise ValueError("the pact has duplicate criterion codes")
        indicator_criteria = {c.code for c in criteria if c.kind is CriterionKind.indicator}
        grouped: dict[str, dict[str, list[Indicator]]] = {}
        for indicator in indicators:
            if indicator.criterion not in indicator_criteria:
                raise ValueError(
                    f"indicator {indicator.code} of {indicator.unit}: "
                    f"{indicator.criterion} is not an indicator criterion of the pact"
                )
            if indicator.target < ZERO:
                raise ValueError(f"indicator {indicator.code}: a target cannot be negative")
            grouped.setdefault(indicator.unit, {}).setdefault(indicator.criterion, []).append(indicator)
        for unit, by_criterion in grouped.items():
            codes = [indicator.code for found in by_criterion.values() for indicator in found]
            if len(set(codes)) != len(codes):
                raise ValueError(f"unit {unit} has an indicator code twice")
        return cls(pact=pact, indicators=grouped)

    def score(self, results: UnitResults) -> UnitScore:
        """Score one unit's results (see the module docstring for the rules)."""
        pact = self.pact
        own = self.indicators.get(results.unit_code, {})
        actuals = results.actuals
        given = {**results.self_scores, **results.reviewed}
        given_used = 0
        criteria: dict[str, Decimal] = {}
        sections: dict[str, Decimal] = {}
        over_plan: dict[str, Decimal] = {}
        achievements: dict[str, Decimal] = {}
        unreported: list[str] = []
        met = 0
        for section in pact.sections:
            section_points = ZERO
            for criterion in section.criteria:
                if criterion.kind is _INDICATOR:
                    mine = own.get(criterion.code, ())
                    for indicator in mine:
                        actual = actuals.get(indicator.code)
                        if actual is None:
                            unreported.append(indicator.code)
                        else:
                            achieved = achievement(actual, indicator.target, indicator.direction)
                            achievements[indicator.code] = achieved
                            met += achieved >= HUNDRED
                    points, bonus = _indicator_criterion(criterion, mine, achievements)
                    if bonus:  # not a sliver that rounded to 0.00
                        over_plan[criterion.code] = bonus
                else:
                    value = given.get(criterion.code)
                    if value is None:
                        unreported.append(criterion.code)
                        value = ZERO
                    else:
                        given_used += 1
                    points = _clamped(value, criterion.max)
                criteria[criterion.code] = points
                section_points += points
            sections[section.code] = min(section_points, section.max)
        for criterion in pact.bonus.criteria + pact.deductions.criteria:
            value = given.get(criterion.code)
            if value is not None:
                given_used += 1
            criteria[criterion.code] = _clamped(ZERO if value is None else value, criterion.max)
        # Each actual and each score given should have been used once; one left
        # over is for an indicator or criterion this unit does not have.
        if len(achievements) != len(actuals) or given_used != len(given):
            _refuse_unknown_codes(pact, own, results)

        bonus = sum((criteria[c.code] for c in pact.bonus.criteria), sum(over_plan.values(), ZERO))
        bonus = min(bonus, pact.bonus.max)
        deductions = min(sum((criteria[c.code] for c in pact.deductions.criteria), ZERO), pact.deductions.max)
        total = sum(sections.values(), ZERO) + bonus - deductions
        if total < ZERO:
            total = NO_POINTS
        return UnitScore(
            unit_code=results.unit_code,
            criteria=criteria,
            sections=sections,
            over_plan=over_plan,
            bonus=bonus,
            deductions=deductions,
            total=total,
            percent_of_standard=total * TIMES_100 / pact.standard_score,
            indicators_met=met,
            achievements=achievements,
            unreported=tuple(unreported),
        )

    def score_all(self, results: Iterable[UnitResults]) -> list[UnitScore]:
        """Score many units, in the given order."""
        return [self.score(unit_results) for unit_results in results]


def _refuse_unknown_codes(pact: Pact, own: Mapping[str, Sequence[Indicator]], results: UnitResults) -> NoReturn:
    """Refuse results for indicators or criteria the unit does not have (a typo, a wrong unit)."""
    indicator_codes = {indicator.code for found in own.values() for indicator in found}
    unknown = sorted(results.actuals.keys() - indicator_codes)
    if unknown:
        raise ValueError(f"{results.unit_code}: no such indicator of this unit: {', '.join(unknown)}")
    given_codes = {c.code for c in pact.criteria() if c.kind is not CriterionKind.indicator}
    unknown = sorted((results.self_scores.keys() | results.reviewed.keys()) - given_codes)
    raise ValueError(f"{results.unit_code}: no self, bonus or deduction criterion {', '.join(unknown)}")


def score_unit(pact: Pact, indicators: Iterable[Indicator], results: UnitResults) -> UnitScore:
    """Score one unit (builds a :class:`ScoreSheet`; build one yourself to score many)."""
    return ScoreSheet.build(pact, indicators).score(results)


def score_units(
    pact: Pact, indicators: Iterable[Indicator], results: Sequence[UnitResults]
) -> list[UnitScore]:
    """Score many units against one pact."""
    return ScoreSheet.build(pact, indicators).score_all(results)
