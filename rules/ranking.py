"""Ranking units by their scores, with the bloc's tie-breaks, and banding them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import Final

from rules.config import Band, TieBreak
from rules.scoring import UnitScore

__all__ = ["RankedUnit", "band", "rank"]

_SECTION_PREFIX = "section:"
_PLAIN_TIE_BREAKS: Final = {member.value: member for member in TieBreak}
# Read once: on Python 3.11 reading an enum member from its class, or making one from
# its value, costs several comparisons, and a ranking did both for each unit and key.
_INDICATORS_MET: Final = TieBreak.indicators_met
_BONUS: Final = TieBreak.bonus
_FEWER_DEDUCTIONS: Final = TieBreak.fewer_deductions


@dataclass(frozen=True, slots=True)
class RankedUnit:
    """A unit's place: ``rank`` is shared by units still equal after every tie-break."""

    rank: int
    score: UnitScore
    shared: bool

    @property
    def unit_code(self) -> str:
        """The unit's code."""
        return self.score.unit_code


def _check_tie_breaks(scores: Sequence[UnitScore], tie_breaks: Sequence[str]) -> None:
    """Refuse an unknown tie-break, tie or no tie; a section tie-break must name a section every unit has."""
    for key in tie_breaks:
        if key.startswith(_SECTION_PREFIX):
            section = key.removeprefix(_SECTION_PREFIX)
            if any(section not in score.sections for score in scores):
                raise ValueError(f"tie-break {key!r}: no such section in the scores")
        elif key not in _PLAIN_TIE_BREAKS:
            raise ValueError(f"unknown tie-break {key!r}")


def _tie_break_value(score: UnitScore, key: str) -> Decimal:
    """A unit's value for one tie-break, higher is better."""
    if key.startswith(_SECTION_PREFIX):
        return score.sections[key.removeprefix(_SECTION_PREFIX)]
    tie_break = _PLAIN_TIE_BREAKS[key]
    if tie_break is _INDICATORS_MET:
        return Decimal(score.indicators_met)
    if tie_break is _BONUS:
        return score.bonus
    if tie_break is _FEWER_DEDUCTIONS:
        return -score.deductions
    raise ValueError(f"unknown tie-break {key!r}")  # a member added to TieBreak but not here


def _sort_key(score: UnitScore, tie_breaks: Sequence[str]) -> tuple[Decimal, ...]:
    """Total, then each tie-break, negated so that the best unit sorts first."""
    return (-score.total, *(-_tie_break_value(score, key) for key in tie_breaks))


def rank(scores: Sequence[UnitScore], tie_breaks: Sequence[str]) -> list[RankedUnit]:
    """Order units best first and number them by competition ranking (1, 1, 3).

    Units are ordered by total, higher first, then by each tie-break in turn:
    ``section:<code>`` (that section's points, higher first), ``indicators_met``
    (higher first), ``bonus`` (higher first), ``fewer_deductions`` (lower first).
    Units still equal share a rank and are listed by unit code. One sort, then
    one pass over runs of equal keys: O(n log n).
    """
    codes = [score.unit_code for score in scores]
    if len(set(codes)) != len(codes):
        raise ValueError("a unit appears twice in the scores")
    _check_tie_breaks(scores, tie_breaks)
    keys = {score.unit_code: _sort_key(score, tie_breaks) for score in scores}
    ordered = sorted(scores, key=lambda score: (keys[score.unit_code], score.unit_code))
    ranked: list[RankedUnit] = []
    # Units with equal keys are neighbours now: each run takes the rank of its first place.
    for _, run in groupby(ordered, key=lambda score: keys[score.unit_code]):
        tied = list(run)
        place = len(ranked) + 1
        ranked.extend(RankedUnit(place, score, len(tied) > 1) for score in tied)
    return ranked


def band(percent: Decimal, bands: Sequence[Band]) -> str | None:
    """The name of the highest band whose minimum the percent of the standard score reaches.

    That is the first band, in order of minimum from the highest, whose minimum is
    at most ``percent``; of bands with the same minimum, the first listed.
    """
    best: Band | None = None
    for candidate in bands:
        minimum = candidate.min_percent
        if minimum <= percent and (best is None or minimum > best.min_percent):
            best = candidate
    return None if best is None else best.name
