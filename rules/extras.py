"""Where a unit's bonus and deduction points come from, line by line.

A leader who must defend a ranking is asked "why +0,35?": this module answers
from the same pact and score the total came from. Plain functions over plain
data, like :mod:`rules.scoring`; the renderers put the lines into words.

* an indicator criterion with over-plan bonus gives one line: its points, the
  indicators above plan with their achievement, the rule (points per percent
  above plan, the cap) and whether several indicators were averaged;
* a bonus or deduction criterion with points gives one line, with its maximum;
* when the pact's cap on all bonus (or all deductions) cut the sum, that is said
  once, with the sum before the cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from rules.config import Criterion, CriterionKind, Indicator, Pact
from rules.scoring import UnitScore

__all__ = ["Extra", "ExtraKind", "Extras", "explain_extras"]

ZERO: Final = Decimal(0)
HUNDRED: Final = Decimal(100)


class ExtraKind(StrEnum):
    """What a line of the extras is."""

    over_plan = "over_plan"  # bonus of an indicator criterion for achievement above plan
    bonus = "bonus"  # a bonus criterion of the pact
    deduction = "deduction"  # a deduction criterion of the pact


@dataclass(frozen=True, slots=True)
class Extra:
    """One source of bonus or deduction points.

    ``maximum`` is the criterion's maximum, or the over-plan cap of the rule;
    ``per_percent`` the over-plan points per percent above plan; ``above_plan``
    the unit's indicators of that criterion above plan, with their achievement;
    ``averaged`` whether the criterion averages several indicators (so the points
    are their weighted mean, not a sum).
    """

    kind: ExtraKind
    code: str
    name: str
    points: Decimal
    maximum: Decimal
    per_percent: Decimal | None = None
    above_plan: tuple[tuple[str, Decimal], ...] = ()
    averaged: bool = False


@dataclass(frozen=True, slots=True)
class Extras:
    """A unit's bonus and deduction lines, in pact order, with the caps that cut them."""

    lines: tuple[Extra, ...]
    bonus: Decimal
    bonus_before_cap: Decimal
    bonus_cap: Decimal
    deductions: Decimal
    deductions_before_cap: Decimal
    deductions_cap: Decimal

    @property
    def over_plan(self) -> Decimal:
        """The bonus earned above plan by indicator criteria, before the pact's cap."""
        return sum((line.points for line in self.lines if line.kind is ExtraKind.over_plan), ZERO)

    @property
    def bonus_capped(self) -> bool:
        """Whether the pact's bonus cap cut the sum of the bonus lines."""
        return self.bonus_before_cap > self.bonus

    @property
    def deductions_capped(self) -> bool:
        """Whether the pact's deduction cap cut the sum of the deduction lines."""
        return self.deductions_before_cap > self.deductions

    def of_kind(self, *kinds: ExtraKind) -> tuple[Extra, ...]:
        """The lines of the given kinds, in pact order."""
        return tuple(line for line in self.lines if line.kind in kinds)


def explain_extras(pact: Pact, indicators: Iterable[Indicator], score: UnitScore, *,
                   over_plan_criteria: Sequence[Criterion] | None = None) -> Extras:
    """The lines behind a unit's bonus and deductions (only those that gave points).

    ``over_plan_criteria``: the pact's indicator criteria with over-plan bonus, in
    pact order, when the caller has them already (a :class:`ScoreSheet` keeps them);
    else they are found in the pact.
    """
    lines: list[Extra] = []
    # Most criteria earned no over-plan bonus: only those that did are looked at further
    # (a third of a ranking's time went here when every criterion and indicator was).
    earned_by = score.over_plan
    by_criterion: dict[str, list[Indicator]] = {}
    if earned_by:
        for indicator in indicators:
            if indicator.criterion in earned_by:
                by_criterion.setdefault(indicator.criterion, []).append(indicator)
    if not earned_by:
        over_plan_criteria = ()
    elif over_plan_criteria is None:
        over_plan_criteria = [criterion for section in pact.sections for criterion in section.criteria
                              if criterion.kind is CriterionKind.indicator
                              and criterion.scoring_rule.over_plan is not None]
    for criterion in over_plan_criteria:
        earned = earned_by.get(criterion.code, ZERO)
        over = criterion.scoring_rule.over_plan
        if not earned or over is None:
            continue
        mine = by_criterion.get(criterion.code, [])
        above = tuple((indicator.code, score.achievements[indicator.code]) for indicator in mine
                      if score.achievements.get(indicator.code, ZERO) > HUNDRED)
        lines.append(Extra(kind=ExtraKind.over_plan, code=criterion.code, name=criterion.name, points=earned,
                           maximum=over.cap, per_percent=over.points_per_percent, above_plan=above,
                           averaged=len(mine) > 1))
    for kind, extras in ((ExtraKind.bonus, pact.bonus), (ExtraKind.deduction, pact.deductions)):
        for criterion in extras.criteria:
            given = score.criteria.get(criterion.code, ZERO)
            if given:
                lines.append(Extra(kind=kind, code=criterion.code, name=criterion.name, points=given,
                                   maximum=criterion.max))
    bonus_lines = sum((line.points for line in lines if line.kind is not ExtraKind.deduction), ZERO)
    deduction_lines = sum((line.points for line in lines if line.kind is ExtraKind.deduction), ZERO)
    return Extras(lines=tuple(lines), bonus=score.bonus, bonus_before_cap=bonus_lines, bonus_cap=pact.bonus.max,
                  deductions=score.deductions, deductions_before_cap=deduction_lines,
                  deductions_cap=pact.deductions.max)
