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
from typing import Final, NoReturn, Protocol

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
# Enum members that scoring compares with for every indicator, read once: on Python
# 3.11 reading a member from its class costs about four times the comparison, and it
# was about a tenth of scoring a bloc (bench/ranking.py). The rule kinds likewise: a
# `match` on `RuleKind.x` read up to three members for each indicator below plan
# (0,6 µs; about 3-5 % of scoring a bloc). (The criterion kind is read once per pact
# now, into the sheet's lines.)
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
            if not _finite_decimals(values.values()):
                code, value = next((code, value) for code, value in values.items()
                                   if not isinstance(value, Decimal) or not value.is_finite())
                raise ValueError(f"{self.unit_code}: {name}[{code!r}] must be a finite Decimal, not {value!r}")
            object.__setattr__(self, name, values)
        if self.actuals and min(self.actuals.values()) < ZERO:
            code, value = next((code, value) for code, value in self.actuals.items() if value < ZERO)
            raise ValueError(f"{self.unit_code}: the actual of {code} is negative ({value})")


def _finite_decimals(values: Iterable[object]) -> bool:
    """Whether every value is a finite Decimal.

    Checked in one pass of C (``Decimal.is_finite`` refuses anything not a Decimal),
    about a fifth of the cost of a Python loop over the values; the caller finds
    the first that is not, to name it.
    """
    try:
        return all(map(Decimal.is_finite, values))  # type: ignore[arg-type]
    except TypeError:
        return False


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


class OverPlanFields(Protocol):
    """What the over-plan bonus reads of a rule's over-plan part (:class:`rules.config.OverPlan` has it)."""

    @property
    def points_per_percent(self) -> Decimal: ...

    @property
    def cap(self) -> Decimal: ...


class RuleFields(Protocol):
    """What the rules below read of a scoring rule: :class:`rules.config.ScoringRule` has it, and so has
    the score sheet's slotted copy of one."""

    @property
    def kind(self) -> RuleKind: ...

    @property
    def step_percent(self) -> Decimal | None: ...

    @property
    def step_points(self) -> Decimal | None: ...

    @property
    def over_plan(self) -> OverPlanFields | None: ...


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
    return _percent_of_plan(actual, target, direction)


def _percent_of_plan(actual: Decimal, target: Decimal, direction: Direction) -> Decimal:
    """:func:`achievement` of an actual and a target known not to be negative.

    The score sheet calls it: its targets were checked when it was built and the
    actuals when the results were made, so they are not checked again per indicator.
    """
    if direction is _HIGHER:
        return actual * TIMES_100 / target if target else HUNDRED
    if not target:
        return HUNDRED if not actual else ZERO
    return max((target + target - actual) * TIMES_100 / target, ZERO)


def indicator_points(rule: RuleFields, maximum: Decimal, achieved: Decimal) -> Decimal:
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


def over_plan_bonus(rule: RuleFields, achieved: Decimal) -> Decimal:
    """Bonus for achievement above plan: points per percent above 100, up to the cap (not rounded)."""
    over = rule.over_plan
    if over is None or achieved <= HUNDRED:
        return ZERO
    return min((achieved - HUNDRED) * over.points_per_percent, over.cap)


def _rounded(points: Decimal) -> Decimal:
    """Points as they are shown and added up: rounded half up to 0.01."""
    return points.quantize(CENT, ROUND_HALF_UP)


# --- the pact and the indicators, prepared once per sheet --------------------------------
#
# Scoring reads every criterion and indicator for every unit it scores, and reads from
# the configuration's models are slow (a pydantic model's attribute costs about seven
# times a slot's on Python 3.11: the model class defines __getattr__, which keeps the
# interpreter from specialising the read). So the sheet copies what scoring reads into
# the small frozen dataclasses below once, when it is built; a ranking then reads only
# these. bench/ranking.py, 30 units x 60 criteria: about 30 % of scoring a unit. The rule
# is copied too: indicator_points and over_plan_bonus read it for every indicator.
# (The units' indicators are not: a copy of each costs more to make, on a first ranking,
# than its reads save on a ranking.)


@dataclass(frozen=True, slots=True)
class _OverPlan:
    """A rule's over-plan bonus, as scoring reads it (a copy of :class:`rules.config.OverPlan`)."""

    points_per_percent: Decimal
    cap: Decimal


@dataclass(frozen=True, slots=True)
class _Rule:
    """An indicator criterion's rule, as scoring reads it (a copy of :class:`rules.config.ScoringRule`)."""

    kind: RuleKind
    step_percent: Decimal | None
    step_points: Decimal | None
    over_plan: _OverPlan | None

    @classmethod
    def of(cls, rule: ScoringRule) -> _Rule:
        """The copy of a rule of the pact."""
        over = rule.over_plan
        return cls(kind=rule.kind, step_percent=rule.step_percent, step_points=rule.step_points,
                   over_plan=None if over is None else _OverPlan(points_per_percent=over.points_per_percent,
                                                                 cap=over.cap))


# The rule of a line not scored from indicators, which nothing reads (one, not a copy a line).
_NOT_FROM_INDICATORS: Final = _Rule(kind=_PROPORTIONAL, step_percent=None, step_points=None, over_plan=None)


@dataclass(frozen=True, slots=True)
class _Line:
    """One criterion of the pact, as scoring reads it.

    ``rounded_maximum`` is the maximum rounded as points are: what a criterion scores
    at or above plan, or when the points given exceed it. ``rule`` is an indicator
    criterion's (proportional when none is given) and ``over_plan`` whether it has
    over-plan bonus; other criteria ignore both.
    """

    code: str
    maximum: Decimal
    rounded_maximum: Decimal
    from_indicators: bool
    rule: _Rule
    over_plan: bool

    @classmethod
    def of(cls, criterion: Criterion) -> _Line:
        """The line of a criterion of the pact."""
        from_indicators = criterion.kind is CriterionKind.indicator
        rule = _Rule.of(criterion.scoring_rule) if from_indicators else _NOT_FROM_INDICATORS
        return cls(code=criterion.code, maximum=criterion.max, rounded_maximum=_rounded(criterion.max),
                   from_indicators=from_indicators, rule=rule,
                   over_plan=from_indicators and rule.over_plan is not None)


@dataclass(frozen=True, slots=True)
class _SheetSection:
    """A section of the pact, as scoring reads it."""

    code: str
    maximum: Decimal
    lines: tuple[_Line, ...]


@dataclass(frozen=True, slots=True)
class _PreparedPact:
    """The pact, as scoring reads it: sections, bonus and deduction lines, caps (``lines``: every line by code)."""

    sections: tuple[_SheetSection, ...]
    lines: Mapping[str, _Line]
    bonus: tuple[_Line, ...]
    bonus_cap: Decimal
    deductions: tuple[_Line, ...]
    deductions_cap: Decimal
    standard_score: Decimal

    @classmethod
    def of(cls, pact: Pact) -> _PreparedPact:
        """Read the pact once."""
        sections = tuple(_SheetSection(code=section.code, maximum=section.max,
                                       lines=tuple(_Line.of(criterion) for criterion in section.criteria))
                         for section in pact.sections)
        bonus = tuple(_Line.of(criterion) for criterion in pact.bonus.criteria)
        deductions = tuple(_Line.of(criterion) for criterion in pact.deductions.criteria)
        every_line = [line for section in sections for line in section.lines] + list(bonus + deductions)
        return cls(
            sections=sections,
            lines={line.code: line for line in every_line},
            bonus=bonus,
            bonus_cap=pact.bonus.max,
            deductions=deductions,
            deductions_cap=pact.deductions.max,
            standard_score=pact.standard_score,
        )


def _clamped(points: Decimal, line: _Line) -> Decimal:
    """A criterion's points: within ``[0, maximum]``, rounded."""
    # Comparisons rather than min() and max(): each builtin call costs about three of them.
    if points > line.maximum:
        return line.rounded_maximum
    if points < ZERO:
        return NO_POINTS
    return _rounded(points)


def _indicator_criterion(
    line: _Line, indicators: Sequence[Indicator], actuals: Mapping[str, Decimal],
    achievements: dict[str, Decimal], unreported: list[str], over_plan: dict[str, Decimal],
) -> Decimal:
    """An indicator criterion's points for one unit, rounded; its over-plan bonus goes into ``over_plan``.

    Records each reported indicator's achievement in ``achievements``, each
    indicator not reported in ``unreported``, and the criterion's over-plan bonus,
    rounded, in ``over_plan`` when there is some. One indicator gives its own points
    and bonus; several give their weighted means. An indicator not reported counts 0
    points and 0 bonus, and so does a criterion for which the unit has no indicator.
    """
    rule = line.rule
    if len(indicators) == 1:
        indicator = indicators[0]
        code = indicator.code
        actual = actuals.get(code)
        if actual is None:
            unreported.append(code)
            return NO_POINTS
        achieved = achievements[code] = _percent_of_plan(actual, indicator.target, indicator.direction)
        if achieved < HUNDRED:  # below plan no rule gives over-plan bonus (over_plan_bonus)
            return _rounded(indicator_points(rule, line.maximum, achieved))
        # At or above plan every rule gives the maximum (indicator_points), rounded once per pact.
        if line.over_plan:
            bonus = over_plan_bonus(rule, achieved)
            if bonus:  # most criteria earn none: rounding 0 is skipped
                _record_bonus(over_plan, line.code, bonus)
        return line.rounded_maximum
    if not indicators:
        return NO_POINTS
    points = bonus = total_weight = ZERO
    for indicator in indicators:
        code, weight = indicator.code, indicator.weight
        total_weight += weight
        actual = actuals.get(code)
        if actual is None:
            unreported.append(code)
            continue
        achieved = achievements[code] = _percent_of_plan(actual, indicator.target, indicator.direction)
        points += weight * indicator_points(rule, line.maximum, achieved)
        bonus += weight * over_plan_bonus(rule, achieved)
    if bonus:
        _record_bonus(over_plan, line.code, bonus / total_weight)
    return _rounded(min(points / total_weight, line.maximum))


def _record_bonus(over_plan: dict[str, Decimal], code: str, bonus: Decimal) -> None:
    """A criterion's over-plan bonus, rounded, unless it is a sliver that rounds to 0.00."""
    rounded = _rounded(bonus)
    if rounded:
        over_plan[code] = rounded


# --- a whole unit ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreSheet:
    """A pact and the units' indicators grouped by unit and criterion, for scoring many units.

    Build it with :meth:`build`, then call :meth:`score` for each unit (or
    :meth:`score_all`). A unit without indicators can still be scored: its
    indicator criteria score 0. ``criterion_codes`` are the codes of every
    criterion of the pact; ``indicator_criteria`` gives, for each unit, the
    criterion each of its indicators feeds, by indicator code (what a unit's
    results may name).
    """

    pact: Pact
    #: unit code -> indicator criterion code -> that unit's indicators for it, in given order
    indicators: Mapping[str, Mapping[str, Sequence[Indicator]]]
    criterion_codes: frozenset[str]
    indicator_criteria: Mapping[str, Mapping[str, str]]
    #: the pact as scoring reads it
    _prepared: _PreparedPact

    @classmethod
    def build(cls, pact: Pact, indicators: Iterable[Indicator]) -> ScoreSheet:
        """Check the pact and the indicators of every unit (any order) and group them by unit."""
        criteria = pact.criteria()
        criterion_codes = frozenset(criterion.code for criterion in criteria)
        if len(criterion_codes) != len(criteria):
            raise ValueError("the pact has duplicate criterion codes")
        indicator_criteria = {c.code for c in criteria if c.kind is CriterionKind.indicator}
        grouped: dict[str, dict[str, list[Indicator]]] = {}
        feeds: dict[str, dict[str, str]] = {}
        # One pass, each field of an indicator read once: a model's attribute is slow to read
        # (see _Line), and a first ranking reads every indicator of the bloc here.
        for indicator in indicators:
            code, unit, criterion = indicator.code, indicator.unit, indicator.criterion
            if criterion not in indicator_criteria:
                raise ValueError(f"indicator {code} of {unit}: {criterion} is not an indicator criterion of the pact")
            if indicator.target < ZERO:
                raise ValueError(f"indicator {code}: a target cannot be negative")
            by_criterion = grouped.get(unit)
            if by_criterion is None:
                by_criterion = grouped[unit] = {}
                unit_feeds = feeds[unit] = {}
            else:
                unit_feeds = feeds[unit]
            if code in unit_feeds:
                raise ValueError(f"unit {unit} has an indicator code twice")
            unit_feeds[code] = criterion
            found = by_criterion.get(criterion)
            if found is None:
                by_criterion[criterion] = [indicator]
            else:
                found.append(indicator)
        return cls(pact=pact, indicators=grouped, criterion_codes=criterion_codes, indicator_criteria=feeds,
                   _prepared=_PreparedPact.of(pact))

    def score(self, results: UnitResults) -> UnitScore:
        """Score one unit's results (see the module docstring for the rules)."""
        pact = self._prepared
        own = self.indicators.get(results.unit_code, {})
        actuals = results.actuals
        given = {**results.self_scores, **results.reviewed}
        given_used = 0
        criteria: dict[str, Decimal] = {}
        sections: dict[str, Decimal] = {}
        over_plan: dict[str, Decimal] = {}
        achievements: dict[str, Decimal] = {}
        unreported: list[str] = []
        sections_total = ZERO
        for section in pact.sections:
            section_points = ZERO
            for line in section.lines:
                if line.from_indicators:
                    points = _indicator_criterion(line, own.get(line.code, ()), actuals, achievements, unreported,
                                                  over_plan)
                else:
                    value = given.get(line.code)
                    if value is None:
                        unreported.append(line.code)
                        points = NO_POINTS
                    else:
                        given_used += 1
                        points = _clamped(value, line)
                criteria[line.code] = points
                section_points += points
            # As min(points, maximum): the points themselves when equal (0.01 exponent).
            section_points = section.maximum if section.maximum < section_points else section_points
            sections[section.code] = section_points
            sections_total += section_points
        bonus = sum(over_plan.values(), ZERO)
        for line in pact.bonus:
            value = given.get(line.code)
            if value is not None:
                given_used += 1
            criteria[line.code] = points = NO_POINTS if value is None else _clamped(value, line)
            bonus += points
        deductions = ZERO
        for line in pact.deductions:
            value = given.get(line.code)
            if value is not None:
                given_used += 1
            criteria[line.code] = points = NO_POINTS if value is None else _clamped(value, line)
            deductions += points
        # Each actual and each score given should have been used once; one left
        # over is for an indicator or criterion this unit does not have.
        if len(achievements) != len(actuals) or given_used != len(given):
            self._refuse_unknown_codes(results)

        bonus = pact.bonus_cap if pact.bonus_cap < bonus else bonus
        deductions = pact.deductions_cap if pact.deductions_cap < deductions else deductions
        total = sections_total + bonus - deductions
        if total < ZERO:
            total = NO_POINTS
        met = 0
        for achieved in achievements.values():
            met += achieved >= HUNDRED
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

    def criterion_points(self, results: UnitResults, codes: Iterable[str]) -> dict[str, Decimal]:
        """The points of some criteria of the pact alone, as :meth:`score` gives them, by code.

        For a few criteria, scoring the whole unit is waste: the ranking gives a
        reviewed unit's own points, which differ from its reviewed ones only in the
        criteria the review changed, this way.
        """
        own = self.indicators.get(results.unit_code, {})
        given = {**results.self_scores, **results.reviewed}
        points: dict[str, Decimal] = {}
        for code in codes:
            line = self._prepared.lines[code]
            if line.from_indicators:
                points[code] = _indicator_criterion(line, own.get(code, ()), results.actuals, {}, [], {})
            else:
                value = given.get(code)
                points[code] = NO_POINTS if value is None else _clamped(value, line)
        return points

    def score_all(self, results: Iterable[UnitResults]) -> list[UnitScore]:
        """Score many units, in the given order."""
        return [self.score(unit_results) for unit_results in results]

    def _refuse_unknown_codes(self, results: UnitResults) -> NoReturn:
        """Refuse results for indicators or criteria the unit does not have (a typo, a wrong unit)."""
        unknown = sorted(results.actuals.keys() - self.indicator_criteria.get(results.unit_code, {}).keys())
        if unknown:
            raise ValueError(f"{results.unit_code}: no such indicator of this unit: {', '.join(unknown)}")
        given_codes = {c.code for c in self.pact.criteria() if c.kind is not CriterionKind.indicator}
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
