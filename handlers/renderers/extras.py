"""Where a unit's bonus and deduction points come from, in words (from `rules.extras`).

One short line per source, the same in the officer's summary, the reviewer's card,
the group's table and the score sheet: which rule, which indicator over plan,
capped at what. Nothing is said when a unit has no bonus and no deduction.
"""

from __future__ import annotations

from decimal import Decimal

from handlers.i18n import Safe, points, t
from rules.extras import Extra, ExtraKind, Extras
from rules.numbers import format_number, format_percent


def _above(language: str, line: Extra) -> str:
    return ", ".join(t(language, "extra_above", code=code, percent=format_percent(achieved, locale=language))
                     for code, achieved in line.above_plan)


def extras_in_total(language: str, bonus: Decimal, deductions: Decimal) -> Safe:
    """` (thưởng 0,35; trừ 1)` after a total: only the parts that are not zero."""
    parts = []
    if bonus:
        parts.append(t(language, "extra_total_bonus", points=points(bonus, language)))
    if deductions:
        parts.append(t(language, "extra_total_deductions", points=points(deductions, language)))
    return Safe(t(language, "extra_total", parts=Safe("; ".join(parts))) if parts else "")


def extras_lines(language: str, extras: Extras | None) -> list[Safe]:
    """One line per bonus or deduction source, then the caps that cut a sum (none when there is nothing)."""
    if extras is None:
        return []
    lines: list[Safe] = []
    for line in extras.lines:
        common = {"code": line.code, "name": line.name, "points": points(line.points, language),
                  "max": format_number(line.maximum, locale=language)}
        if line.kind is ExtraKind.over_plan:
            key = "extra_over_plan_averaged" if line.averaged else "extra_over_plan"
            lines.append(t(language, key, above=_above(language, line),
                           per=format_number(line.per_percent or Decimal(0), locale=language), **common))
        else:
            lines.append(t(language, f"extra_{line.kind.value}", **common))
    if extras.bonus_capped:
        lines.append(t(language, "extra_bonus_cap", before=points(extras.bonus_before_cap, language),
                       max=format_number(extras.bonus_cap, locale=language)))
    if extras.deductions_capped:
        lines.append(t(language, "extra_deduction_cap", before=points(extras.deductions_before_cap, language),
                       max=format_number(extras.deductions_cap, locale=language)))
    return lines


def extras_short(language: str, extras: Extras | None) -> list[Safe]:
    """The same sources in a few words each, for a table's narrow column (the group's, the score sheet's)."""
    if extras is None:
        return []
    lines: list[Safe] = []
    for line in extras.lines:
        value = points(line.points, language)
        if line.kind is ExtraKind.over_plan:
            lines.append(t(language, "extra_short_over_plan", code=line.code, points=value,
                           above=_above(language, line)))
        else:
            lines.append(t(language, f"extra_short_{line.kind.value}", code=line.code, points=value))
    if extras.bonus_capped:
        lines.append(t(language, "extra_short_bonus_cap", max=format_number(extras.bonus_cap, locale=language)))
    if extras.deductions_capped:
        lines.append(t(language, "extra_short_deduction_cap",
                       max=format_number(extras.deductions_cap, locale=language)))
    return lines
