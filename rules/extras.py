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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from rules.config import CriterionKind, Indicator, Pact
from rules.scoring import UnitScore

__all__ = ["Extra", "ExtraKind", "Extras", "ExtrasPlan", "explain_extras"]

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


# Read once (see rules/scoring.py: reading an enum member from its class is slow on 3.11).
_DEDUCTION: Final = ExtraKind.deduction


@dataclass(frozen=True, slots=True)
class _Source:
    """A criterion that may give bonus or deduction points, as the extras read it.

    ``maximum`` is a bonus or deduction criterion's maximum, or an over-plan rule's cap;
    ``per_percent`` the over-plan points per percent above plan (None for the others).
    """

    kind: ExtraKind
    code: str
    name: str
    maximum: Decimal
    per_percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ExtrasPlan:
    """What the extras read of a pact, read once: a ranking explains every unit's extras from it.

    The pact's models are slow to read (see rules/scoring.py's score sheet); a
    ranking keeps one plan per configuration (handlers/services/ranking.py).
    ``over_plan``: the indicator criteria whose rule gives over-plan bonus, in pact
    order; ``given``: the bonus criteria, then the deduction criteria.
    """

    over_plan: tuple[_Source, ...]
    given: tuple[_Source, ...]
    bonus_cap: Decimal
    deductions_cap: Decimal

    @classmethod
    def of(cls, pact: Pact) -> ExtrasPlan:
        """Read the pact once."""
        over_plan = []
        for section in pact.sections:
            for criterion in section.criteria:
                over = criterion.scoring_rule.over_plan
                if criterion.kind is CriterionKind.indicator and over is not None:
                    over_plan.append(_Source(kind=ExtraKind.over_plan, code=criterion.code, name=criterion.name,
                                             maximum=over.cap, per_percent=over.points_per_percent))
        given = [_Source(kind=kind, code=criterion.code, name=criterion.name, maximum=criterion.max)
                 for kind, extras in ((ExtraKind.bonus, pact.bonus), (ExtraKind.deduction, pact.deductions))
                 for criterion in extras.criteria]
        return cls(over_plan=tuple(over_plan), given=tuple(given), bonus_cap=pact.bonus.max,
                   deductions_cap=pact.deductions.max)

    def explain(self, score: UnitScore, indicators: Mapping[str, Sequence[Indicator]]) -> Extras:
        """The lines behind a unit's bonus and deductions (only those that gave points).

        ``indicators``: the unit's indicators by the criterion they feed (those of the
        criteria that earned over-plan bonus are enough).
        """
        lines: list[Extra] = []
        bonus_lines = deduction_lines = ZERO
        # Most criteria earned no over-plan bonus: only those that did are looked at further
        # (a third of a ranking's time went here when every criterion and indicator was).
        earned_by = score.over_plan
        if earned_by:
            achievements = score.achievements
            for source in self.over_plan:
                earned = earned_by.get(source.code, ZERO)
                if not earned:
                    continue
                mine = indicators.get(source.code, ())
                above = []
                for indicator in mine:
                    code = indicator.code
                    achieved = achievements.get(code, ZERO)
                    if achieved > HUNDRED:
                        above.append((code, achieved))
                lines.append(Extra(kind=source.kind, code=source.code, name=source.name, points=earned,
                                   maximum=source.maximum, per_percent=source.per_percent, above_plan=tuple(above),
                                   averaged=len(mine) > 1))
                bonus_lines += earned
        criteria = score.criteria
        for source in self.given:
            given = criteria.get(source.code, ZERO)
            if given:
                lines.append(Extra(kind=source.kind, code=source.code, name=source.name, points=given,
                                   maximum=source.maximum))
                if source.kind is _DEDUCTION:
                    deduction_lines += given
                else:
                    bonus_lines += given
        return Extras(lines=tuple(lines), bonus=score.bonus, bonus_before_cap=bonus_lines,
                      bonus_cap=self.bonus_cap, deductions=score.deductions,
                      deductions_before_cap=deduction_lines, deductions_cap=self.deductions_cap)


def explain_extras(pact: Pact, indicators: Iterable[Indicator], score: UnitScore) -> Extras:
    """The lines behind a unit's bonus and deductions (only those that gave points).

    ``indicators``: the unit's indicators (any others are ignored). To explain many
    units' extras, make an :class:`ExtrasPlan` of the pact once and ask it.
    """
    earned_by = score.over_plan
    by_criterion: dict[str, list[Indicator]] = {}
    if earned_by:
        for indicator in indicators:
            if indicator.criterion in earned_by:
                by_criterion.setdefault(indicator.criterion, []).append(indicator)
    return ExtrasPlan.of(pact).explain(score, by_criterion)
