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
  the leader and deputy changed it; bonus and deduction criteria likewise;
* each criterion is clamped to ``[0, max]`` and rounded half up to 0.01; the
  over-plan bonus of a criterion is rounded likewise; each section is capped at
  its maximum; bonus and deductions are capped by the pact; the total is never
  negative and may exceed the standard score only through bonus.

A value that was not reported scores 0, and an indicator criterion for which a
unit registered no indicator scores 0.

Speed (``bench/ranking.py``): :meth:`ScoreSheet.build` does the per-pact work
once, and units whose indicators are alike (same criteria, directions, zero
targets) share one ``_Shape``: the rules, positions and keys laid out as tuples.
:meth:`ScoreSheet.score` then reads no pydantic model; it walks a unit's
indicators in one index loop where a criterion met takes its full points
without arithmetic and a stepped rule looks its points up in a table of its
steps; it returns read-only mappings over shared keys rather than building
dicts, and works achievements out only when they are read. The module is
compiled by mypyc when the package is installed (``setup.py``), which turns
index loops over tuples and lists into C loops: keep it fully typed. The public
single-value functions above are the reference the tests hold the sheet to.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, Inexact
from typing import Final, NamedTuple, NoReturn

from rules.collector import YOUNG_BATCH, collect_young, collector_paused
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
POINTS_ZERO: Final = Decimal("0.00")

# Rule kinds as small ints: comparing ints is cheaper than comparing enum members.
_PROPORTIONAL: Final = 0
_THRESHOLD: Final = 1
_STEPPED: Final = 2
_RULE_CODES: Final = {
    RuleKind.proportional: _PROPORTIONAL,
    RuleKind.threshold: _THRESHOLD,
    RuleKind.stepped: _STEPPED,
}

# Quantizing through a context takes positional arguments only (cheaper to call).
_HALF_UP: Final = Context(prec=28, rounding=ROUND_HALF_UP)


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
                        f"{self.unit_code}: {name}[{code!r}] must be a finite Decimal, "
                        f"not {value!r}"
                    )
                if name == "actuals" and value < ZERO:
                    raise ValueError(
                        f"{self.unit_code}: the actual of {code} is negative ({value})"
                    )
            object.__setattr__(self, name, values)


class _Row(Mapping[str, Decimal]):
    """A read-only mapping: keys and their positions shared by many units, values of one.

    Cheaper to make than a dict for every unit. Every key has a value.
    """

    __slots__ = ("_index", "_keys", "_values")

    def __init__(
        self, keys: tuple[str, ...], index: Mapping[str, int], values: Sequence[Decimal]
    ) -> None:
        self._keys = keys
        self._index = index
        self._values = values

    def __getitem__(self, key: str) -> Decimal:
        return self._values[self._index[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return repr(dict(self))


class _Achievements(Mapping[str, Decimal]):
    """A unit's achievements, worked out with :func:`achievement` when first read.

    Ranking never reads them, and scoring needs most of them only to compare
    with 100: keeping 50 new numbers per unit alive costs more than reckoning
    them again for the few units whose achievements are shown.
    """

    __slots__ = ("_actuals", "_indicators", "_values")

    def __init__(
        self,
        indicators: tuple[tuple[str, Decimal, Direction], ...],
        actuals: Mapping[str, Decimal],
    ) -> None:
        self._indicators = indicators
        self._actuals = actuals
        self._values: dict[str, Decimal] | None = None

    def _worked_out(self) -> dict[str, Decimal]:
        values = self._values
        if values is None:
            actuals = self._actuals
            values = self._values = {
                code: achievement(actuals[code], target, direction)
                for code, target, direction in self._indicators
                if code in actuals
            }
        return values

    def __getitem__(self, key: str) -> Decimal:
        return self._worked_out()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._worked_out())

    def __len__(self) -> int:
        return len(self._worked_out())

    def __repr__(self) -> str:
        return repr(self._worked_out())


class UnitScore(NamedTuple):
    """A unit's points, criterion by criterion, and its total.

    A named tuple rather than a frozen dataclass: as immutable, and made in a
    third of the time (a frozen dataclass sets each field through
    ``object.__setattr__``), which counts when a bloc of 10.000 units is scored.

    The mappings are read-only. ``criteria`` holds every criterion of the pact
    in pact order (sections, bonus, deductions), clamped and rounded. ``over_plan`` holds the over-plan
    bonus earned by indicator criteria (only those that earned some), before the
    pact's bonus cap; ``bonus`` is the capped sum of bonus criteria and
    over-plan bonus. ``percent_of_standard`` is the total as a percent of the
    standard score, not rounded. ``achievements`` holds the achievement
    (percent of plan) of every reported indicator; ``unreported`` lists the
    indicator and self criterion codes without a value, which scored 0.
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


# The rule of an indicator criterion, unit-independent:
# (max, max/100, rule code, step_percent, step_points,
#  over-plan points per percent or None, over-plan cap).
_Rule = tuple[Decimal, Decimal, int, Decimal | None, Decimal | None, Decimal | None, Decimal]
# One unit's indicator: (code, target/100, 2*target, lower is better, weight, target).
_Part = tuple[str, Decimal, Decimal, bool, Decimal, Decimal]
# A criterion fed by several of a unit's indicators:
# (code, rule, parts, total weight, index of its section).
_Multi = tuple[str, _Rule, tuple[_Part, ...], Decimal, int]
# Runs of a list of points that fall in one section: (section index, start, end).
_Runs = tuple[tuple[int, int, int], ...]


# The rule of an item: (rule code, max/100, max rounded to 0.01, the rule,
# and for a stepped rule its steps as thresholds and points: see _steps).
_ItemRule = tuple[int, Decimal, Decimal, _Rule, list[Decimal], tuple[Decimal, ...]]
# A stepped rule looked up in its table of steps rather than reckoned.
_STEPPED_TABLE: Final = 3
# Larger tables of steps (a tiny step) are reckoned instead.
_MOST_STEPS: Final = 2_000


def _stepped_points(achieved: Decimal, rule: _Rule) -> Decimal:
    """Points of a stepped criterion below plan, rounded."""
    maximum, _, _, step_percent, step_points, _, _ = rule
    if step_percent is None or step_points is None:  # ScoringRule's validator prevents it
        raise ValueError("a stepped rule needs step_percent and step_points")
    steps = ((HUNDRED - achieved) / step_percent).to_integral_value(ROUND_CEILING)
    points = maximum - step_points * steps
    return points.quantize(CENT, ROUND_HALF_UP) if points > ZERO else POINTS_ZERO


def _steps(rule: _Rule) -> tuple[list[Decimal], tuple[Decimal, ...]] | None:
    """A stepped rule below plan as a table: thresholds of achievement, and the points from each.

    Below plan the points only change where the achievement crosses
    ``100 - k * step_percent``: with ``thresholds`` in ascending order,
    ``points[bisect_right(thresholds, achieved)]`` equals :func:`_stepped_points`
    (the points themselves are reckoned by it, once per step). None when the
    thresholds are not exact Decimals or there are too many of them.
    """
    maximum, _, _, step_percent, step_points, _, _ = rule
    if step_percent is None or step_points is None:  # ScoringRule's validator prevents it
        raise ValueError("a stepped rule needs step_percent and step_points")
    # Below plan the steps run from 1 to ceil(100 / step) at most (an achievement
    # of 0); past the step whose points fall to 0 every achievement scores 0.
    exact = Context(prec=60, traps=[Inexact])
    try:
        most = int(exact.divide(HUNDRED, step_percent).to_integral_value(ROUND_CEILING))
        thresholds: list[Decimal] = []
        for step in range(1, min(most, _MOST_STEPS + 1) + 1):
            if maximum - step_points * step <= ZERO:
                break
            thresholds.append(exact.subtract(HUNDRED, exact.multiply(step_percent, step)))
        else:
            if most > _MOST_STEPS:
                return None
    except Inexact:
        return None
    # Ascending, the j-th threshold starts a step: from it up to the next one an
    # achievement scores what the threshold itself scores. Below the lowest
    # threshold the points have fallen to 0 (or no achievement is that low).
    thresholds.reverse()
    return thresholds, (POINTS_ZERO, *(_stepped_points(t, rule) for t in thresholds))


def _full_points(maximum: Decimal) -> Decimal:
    """A criterion's maximum as points (rounded to 0.01 like every criterion's points)."""
    return maximum.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What units with alike indicators share: where each rule applies among them.

    A unit's single-indicator criteria are laid out as *items*: first those
    higher-is-better with a target, then lower-is-better with a target, then
    those with a zero target. ``item_rules`` holds each item's rule,
    ``item_runs`` which items fall in which section, and ``over_plan`` the
    positions, criterion codes, points per percent, caps and rounded caps of
    the items that earn over-plan bonus.
    """

    higher: int
    lower_end: int
    zero_lower: tuple[bool, ...]
    item_criteria: tuple[str, ...]
    item_rules: tuple[_ItemRule, ...]
    item_runs: _Runs
    criteria_index: Mapping[str, int]
    absent_points: tuple[Decimal, ...]
    over_plan: tuple[
        tuple[int, ...], tuple[str, ...], tuple[Decimal, ...], tuple[Decimal, ...],
        tuple[Decimal, ...],
    ]


@dataclass(frozen=True, slots=True)
class _UnitPlan:
    """One unit's indicators, laid out by its shape."""

    shape: _Shape
    codes: tuple[str, ...]
    higher_divisors: tuple[Decimal, ...]
    lower_divisors: tuple[Decimal, ...]
    double_targets: tuple[Decimal, ...]
    multi: tuple[_Multi, ...]
    multi_codes: tuple[str, ...]
    all_codes: frozenset[str]
    # (code, target, direction) of every indicator, single ones first, for achievements.
    indicators: tuple[tuple[str, Decimal, Direction], ...]


@dataclass(frozen=True, slots=True)
class ScoreSheet:
    """A pact and the units' indicators, prepared once for scoring many units.

    Build it with :meth:`build`, then call :meth:`score` for each unit (or
    :meth:`score_all`). A unit without indicators can still be scored: its
    indicator criteria score 0.
    """

    standard_percent: Decimal
    criteria_order: tuple[str, ...]
    section_codes: tuple[str, ...]
    section_maxima: tuple[Decimal, ...]
    self_runs: _Runs
    given_order: tuple[str, ...]
    given_maxima: tuple[Decimal, ...]
    given_full_points: tuple[Decimal, ...]
    self_count: int
    bonus_count: int
    bonus_max: Decimal
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
        rules = tuple(
            (criterion.code, _rule(criterion), section_index)
            for section_index, section in enumerate(pact.sections)
            for criterion in section.criteria
            if criterion.kind is CriterionKind.indicator
        )
        indicator_criteria = {code for code, _, _ in rules}
        grouped: dict[str, dict[str, list[_Part]]] = {}
        for indicator in indicators:
            if indicator.criterion not in indicator_criteria:
                raise ValueError(
                    f"indicator {indicator.code} of {indicator.unit}: "
                    f"{indicator.criterion} is not an indicator criterion of the pact"
                )
            target = indicator.target
            if target < ZERO:
                raise ValueError(f"indicator {indicator.code}: a target cannot be negative")
            part = (
                indicator.code,
                target.scaleb(-2),
                target + target,
                indicator.direction is Direction.lower,
                indicator.weight,
                target,
            )
            by_criterion = grouped.get(indicator.unit)
            if by_criterion is None:
                by_criterion = grouped[indicator.unit] = {}
            parts = by_criterion.get(indicator.criterion)
            if parts is None:
                by_criterion[indicator.criterion] = [part]
            else:
                parts.append(part)
        self_criteria = [
            (section_index, criterion)
            for section_index, section in enumerate(pact.sections)
            for criterion in section.criteria
            if criterion.kind is CriterionKind.self
        ]
        given_criteria = (
            [criterion for _, criterion in self_criteria]
            + pact.bonus.criteria
            + pact.deductions.criteria
        )
        layouts = _Layouts(rules=rules, given_order=tuple(c.code for c in given_criteria))
        units = {
            unit: _unit_plan(unit, by_criterion, layouts) for unit, by_criterion in grouped.items()
        }
        return cls(
            standard_percent=pact.standard_score.scaleb(-2),
            criteria_order=tuple(criteria),
            section_codes=tuple(section.code for section in pact.sections),
            section_maxima=tuple(section.max for section in pact.sections),
            self_runs=_runs([section_index for section_index, _ in self_criteria]),
            given_order=layouts.given_order,
            given_maxima=tuple(c.max for c in given_criteria),
            given_full_points=tuple(_full_points(c.max) for c in given_criteria),
            self_count=len(self_criteria),
            bonus_count=len(pact.bonus.criteria),
            bonus_max=pact.bonus.max,
            deductions_max=pact.deductions.max,
            given_codes=frozenset(code for code in criteria if code not in indicator_criteria),
            units=units,
            no_indicators=_unit_plan("", {}, layouts),
        )

    def score(self, results: UnitResults) -> UnitScore:
        """Score one unit's results (see the module docstring for the rules)."""
        unit = results.unit_code
        plan = self.units.get(unit, self.no_indicators)
        actuals = results.actuals
        given = results.self_scores
        reviewed = results.reviewed
        shape = plan.shape
        codes = plan.codes
        hundred = HUNDRED
        zero = ZERO
        cent = CENT
        quantize = _HALF_UP.quantize  # positional arguments: cheaper than Decimal.quantize
        unreported: list[str] = []

        # Each single-indicator criterion in one pass: its achievement (kept for
        # the over-plan bonus below), then its points: at or above plan its full
        # points without arithmetic, below plan by its rule. Not reported: 0.
        higher, lower_end = shape.higher, shape.lower_end
        higher_divisors, lower_divisors = plan.higher_divisors, plan.lower_divisors
        double_targets, zero_lower = plan.double_targets, shape.zero_lower
        item_rules = shape.item_rules
        achieved: list[Decimal] = []
        points: list[Decimal] = []
        met = 0
        for position in range(len(codes)):
            actual = actuals.get(codes[position])
            if actual is None:
                unreported.append(codes[position])
                achieved.append(zero)
                points.append(POINTS_ZERO)
                continue
            if position < higher:
                value = actual / higher_divisors[position]
            elif position < lower_end:
                lower = position - higher
                value = (double_targets[lower] - actual) / lower_divisors[lower]
                if value <= zero:
                    value = zero
            else:
                value = zero if zero_lower[position - lower_end] and actual else hundred
            achieved.append(value)
            kind, factor, full, rule, thresholds, table = item_rules[position]
            if value >= hundred:
                points.append(full)
                met += 1
            elif kind == _PROPORTIONAL:
                points.append(quantize(value * factor, cent))
            elif kind == _THRESHOLD:
                points.append(POINTS_ZERO)
            elif kind == _STEPPED_TABLE:
                points.append(table[bisect_right(thresholds, value)])
            else:
                points.append(_stepped_points(value, rule))
        # Every actual must be one of the unit's indicators: counting what the
        # lookups found is cheaper than a subset test of the keys.
        found = len(codes) - len(unreported)
        if plan.multi_codes:
            found += sum(map(actuals.__contains__, plan.multi_codes))
        if found != len(actuals):
            _refuse_codes(results, plan.all_codes, self.given_codes)
        section_sums = [zero] * len(self.section_codes)
        for section, start, end in shape.item_runs:
            section_sums[section] += sum(points[start:end], zero)

        # Over-plan bonus; a missing actual's achievement was taken as 0 above.
        over_plan: dict[str, Decimal] = {}
        over_total = zero
        positions, over_codes, per_percent, caps, capped_points = shape.over_plan
        for index in range(len(positions)):
            value = achieved[positions[index]]
            if value > hundred:
                # min(extra, cap) rounded; the cap comes rounded already.
                extra = (value - hundred) * per_percent[index]
                earned = capped_points[index] if extra >= caps[index] else quantize(extra, cent)
                if earned:  # not a sliver that rounded to 0.00
                    over_plan[over_codes[index]] = earned
                    over_total += earned
        # Criteria fed by several indicators.
        multi_points: list[Decimal] = []
        for code, rule, parts, total_weight, section in plan.multi:
            mean_points, extra, reached = _multi_points(
                rule, parts, total_weight, actuals, unreported
            )
            multi_points.append(mean_points)
            section_sums[section] += mean_points
            met += reached
            if extra:
                over_plan[code] = extra
                over_total += extra

        # Criteria scored by the unit (or its reviewers): self, then bonus, then
        # deductions; a reviewed score wins. Each is clamped and rounded.
        given_order, given_maxima = self.given_order, self.given_maxima
        given_full_points, self_count = self.given_full_points, self.self_count
        given_points: list[Decimal] = []
        found = 0
        for index in range(len(given_order)):
            code = given_order[index]
            given_value = reviewed.get(code) if reviewed else None
            if given_value is None:
                given_value = given.get(code)
            if given_value is None:
                if index < self_count:
                    unreported.append(code)
                given_points.append(POINTS_ZERO)
                continue
            found += 1
            if given_value <= zero:
                given_points.append(POINTS_ZERO)
            elif given_value >= given_maxima[index]:
                given_points.append(given_full_points[index])
            else:
                given_points.append(quantize(given_value, cent))
        # Every score given must be for one of these criteria (a typo, a wrong unit).
        if found != (len(given.keys() | reviewed.keys()) if reviewed else len(given)):
            _refuse_codes(results, plan.all_codes, self.given_codes)
        for section, start, end in self.self_runs:
            section_sums[section] += sum(given_points[start:end], zero)

        sections: dict[str, Decimal] = {}
        sections_total = zero
        section_codes, section_maxima = self.section_codes, self.section_maxima
        for index in range(len(section_codes)):
            section_total = section_sums[index]
            if section_total > section_maxima[index]:
                section_total = section_maxima[index]
            sections[section_codes[index]] = section_total
            sections_total += section_total
        bonus_end = self_count + self.bonus_count
        bonus = sum(given_points[self_count:bonus_end], over_total)
        if bonus > self.bonus_max:
            bonus = self.bonus_max
        deductions = sum(given_points[bonus_end:], zero)
        if deductions > self.deductions_max:
            deductions = self.deductions_max
        total = sections_total + bonus - deductions
        if total < zero:
            total = POINTS_ZERO
        return UnitScore(
            unit_code=unit,
            criteria=_Row(
                self.criteria_order,
                shape.criteria_index,
                # Tuples of Decimals: the cycle collector stops tracking them.
                (*points, *multi_points, *given_points, *shape.absent_points),
            ),
            sections=sections,
            over_plan=over_plan,
            bonus=bonus,
            deductions=deductions,
            total=total,
            percent_of_standard=total / self.standard_percent,
            indicators_met=met,
            achievements=_Achievements(plan.indicators, actuals),
            unreported=tuple(unreported),
        )

    def score_all(self, results: Iterable[UnitResults]) -> list[UnitScore]:
        """Score many units, in the given order (the cycle collector kept off them)."""
        scores: list[UnitScore] = []
        with collector_paused():  # rules.collector says why
            for unit_results in results:
                scores.append(self.score(unit_results))
                if len(scores) % YOUNG_BATCH == 0:
                    collect_young()
        return scores


def _rule(criterion: Criterion) -> _Rule:
    rule = criterion.scoring_rule
    over = rule.over_plan
    return (
        criterion.max,
        criterion.max.scaleb(-2),
        _RULE_CODES[rule.kind],
        rule.step_percent,
        rule.step_points,
        None if over is None or not over.points_per_percent else over.points_per_percent,
        ZERO if over is None else over.cap,
    )


def _runs(sections: Sequence[int]) -> _Runs:
    """Runs of equal section indices in a list: ((section, start, end), ...)."""
    runs: list[tuple[int, int, int]] = []
    for position, section in enumerate(sections):
        if runs and runs[-1][0] == section and runs[-1][2] == position:
            runs[-1] = (section, runs[-1][1], position + 1)
        else:
            runs.append((section, position, position + 1))
    return tuple(runs)


_Rules = tuple[tuple[str, _Rule, int], ...]
_Item = tuple[int, _Part]


@dataclass
class _Layouts:
    """What building unit plans shares: the pact's rules, and shapes and indexes made so far."""

    rules: _Rules
    given_order: tuple[str, ...]
    shapes: dict[tuple[object, ...], _Shape] = field(default_factory=dict)
    indexes: dict[tuple[str, ...], Mapping[str, int]] = field(default_factory=dict)

    def index(self, keys: tuple[str, ...]) -> Mapping[str, int]:
        """Positions of keys, shared by every unit with the same keys."""
        found = self.indexes.get(keys)
        if found is None:
            found = self.indexes[keys] = {key: position for position, key in enumerate(keys)}
        return found


def _unit_plan(
    unit: str, by_criterion: dict[str, list[_Part]], layouts: _Layouts
) -> _UnitPlan:
    """Lay a unit's indicators out by shape, reusing a shape another unit already has."""
    rules = layouts.rules
    codes = [part[0] for parts in by_criterion.values() for part in parts]
    if len(set(codes)) != len(codes):
        raise ValueError(f"unit {unit} has an indicator code twice")
    higher: list[_Item] = []
    lower: list[_Item] = []
    zero: list[_Item] = []
    multi: list[_Multi] = []
    multi_indices: list[int] = []
    for index, (code, rule, section) in enumerate(rules):
        parts = by_criterion.get(code)
        if not parts:
            continue
        if len(parts) > 1:
            total_weight = sum((part[4] for part in parts), ZERO)
            multi.append((code, rule, tuple(parts), total_weight, section))
            multi_indices.append(index)
            continue
        part = parts[0]
        if not part[1]:
            zero.append((index, part))
        elif part[3]:
            lower.append((index, part))
        else:
            higher.append((index, part))
    key = (
        tuple(index for index, _ in higher),
        tuple(index for index, _ in lower),
        tuple((index, part[3]) for index, part in zero),
        tuple(multi_indices),
    )
    shape = layouts.shapes.get(key)
    if shape is None:
        shape = layouts.shapes[key] = _make_shape(
            layouts, higher, lower, zero, [code for code, *_ in multi]
        )
    items = higher + lower + zero
    single_codes = tuple(part[0] for _, part in items)
    multi_codes = tuple(part[0] for _, _, parts, _, _ in multi for part in parts)
    return _UnitPlan(
        shape=shape,
        codes=single_codes,
        higher_divisors=tuple(part[1] for _, part in higher),
        lower_divisors=tuple(part[1] for _, part in lower),
        double_targets=tuple(part[2] for _, part in lower),
        multi=tuple(multi),
        multi_codes=multi_codes,
        all_codes=frozenset(codes),
        indicators=tuple(
            (part[0], part[5], Direction.lower if part[3] else Direction.higher)
            for part in [part for _, part in items]
            + [part for _, _, parts, _, _ in multi for part in parts]
        ),
    )


def _item_rule(rule: _Rule) -> _ItemRule:
    """How the points of one item are made by its criterion's rule (see _ItemRule)."""
    kind = rule[2]
    steps = _steps(rule) if kind == _STEPPED else None
    if steps is None:
        return kind, rule[1], _full_points(rule[0]), rule, [], ()
    return _STEPPED_TABLE, rule[1], _full_points(rule[0]), rule, *steps


def _make_shape(
    layouts: _Layouts,
    higher: list[_Item],
    lower: list[_Item],
    zero: list[_Item],
    multi_criteria: list[str],
) -> _Shape:
    items = [layouts.rules[index] for index, _ in higher + lower + zero]
    item_criteria = tuple(code for code, _, _ in items)
    laid_out = {*item_criteria, *multi_criteria}
    absent = tuple(code for code, _, _ in layouts.rules if code not in laid_out)
    # A unit's criteria values are laid out as: items, several-indicator
    # criteria, criteria given by the unit, then those it has no indicator for.
    criteria_layout = item_criteria + tuple(multi_criteria) + layouts.given_order + absent
    item_rules = tuple(_item_rule(rule) for _, rule, _ in items)
    over: tuple[list[int], list[str], list[Decimal], list[Decimal]] = ([], [], [], [])
    for position, (code, rule, _) in enumerate(items):
        per_over, cap = rule[5], rule[6]
        if per_over is not None:
            over[0].append(position)
            over[1].append(code)
            over[2].append(per_over)
            over[3].append(cap)
    return _Shape(
        higher=len(higher),
        lower_end=len(higher) + len(lower),
        zero_lower=tuple(part[3] for _, part in zero),
        item_criteria=item_criteria,
        item_rules=item_rules,
        item_runs=_runs([section for _, _, section in items]),
        criteria_index=layouts.index(criteria_layout),
        absent_points=(POINTS_ZERO,) * len(absent),
        over_plan=(
            tuple(over[0]),
            tuple(over[1]),
            tuple(over[2]),
            tuple(over[3]),
            tuple(_full_points(cap) for cap in over[3]),
        ),
    )


def _multi_points(
    rule: _Rule,
    parts: tuple[_Part, ...],
    total_weight: Decimal,
    actuals: Mapping[str, Decimal],
    unreported: list[str],
) -> tuple[Decimal, Decimal, int]:
    """A criterion fed by several indicators: weighted means of points and over-plan bonus."""
    maximum, per_percent, kind, step_percent, step_points, per_over, cap = rule
    points = ZERO
    bonus = ZERO
    met = 0
    for code, target_percent, double_target, lower, weight, _ in parts:
        actual = actuals.get(code)
        if actual is None:
            unreported.append(code)
            continue
        if lower:
            if target_percent:
                achieved = max((double_target - actual) / target_percent, ZERO)
            else:
                achieved = ZERO if actual else HUNDRED
        else:
            achieved = actual / target_percent if target_percent else HUNDRED
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
