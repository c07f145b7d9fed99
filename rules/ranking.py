"""Ranking units by their scores, with the bloc's tie-breaks, and banding them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from rules.collector import YOUNG_BATCH, collect_young, collector_paused
from rules.config import Band, TieBreak
from rules.scoring import UnitScore

__all__ = ["RankedUnit", "band", "rank"]

_SECTION_PREFIX = "section:"


class RankedUnit(NamedTuple):
    """A unit's place: ``rank`` is shared by units still equal after every tie-break.

    A named tuple, like :class:`UnitScore`: immutable and quick to make.
    """

    rank: int
    score: UnitScore
    shared: bool

    @property
    def unit_code(self) -> str:
        """The unit's code."""
        return self.score.unit_code


# How each tie-break is read (small ints: compared without a call per unit).
_SECTION, _MET, _BONUS, _DEDUCTIONS = 0, 1, 2, 3
_PLAIN_TIE_BREAKS: dict[str, int] = {
    TieBreak.indicators_met: _MET,
    TieBreak.bonus: _BONUS,
    TieBreak.fewer_deductions: _DEDUCTIONS,
}


def _read_tie_breaks(
    scores: Sequence[UnitScore], tie_breaks: Sequence[str]
) -> list[tuple[int, str]]:
    """Each tie-break as (how to read it, section code); refuse an unknown one, tie or no tie.

    A ``section:<code>`` tie-break must name a section every unit has.
    """
    readings: list[tuple[int, str]] = []
    for key in tie_breaks:
        if key.startswith(_SECTION_PREFIX):
            section = key.removeprefix(_SECTION_PREFIX)
            for score in scores:
                if section not in score.sections:
                    raise ValueError(f"tie-break {key!r}: no such section in the scores")
            readings.append((_SECTION, section))
        else:
            reading = _PLAIN_TIE_BREAKS.get(key)
            if reading is None:
                raise ValueError(f"unknown tie-break {key!r}")
            readings.append((reading, ""))
    return readings


def _tie_key(score: UnitScore, readings: list[tuple[int, str]]) -> tuple[Any, ...]:
    """A unit's tie-break values in order, each one where lower sorts first (better)."""
    values: list[Any] = []
    for reading, section in readings:
        if reading == _SECTION:
            values.append(-score.sections[section])
        elif reading == _MET:
            values.append(-score.indicators_met)
        elif reading == _BONUS:
            values.append(-score.bonus)
        else:
            values.append(score.deductions)
    return tuple(values)


def _place_tied(
    ranked: list[RankedUnit], tied: list[UnitScore], readings: list[tuple[int, str]]
) -> None:
    """Units of equal total, ordered by the tie-breaks; those still equal share a rank."""
    # Codes are distinct, so the index after them is never compared.
    order = sorted(
        [(_tie_key(score, readings), score.unit_code, index) for index, score in enumerate(tied)]
    )
    # A run of equal keys shares the rank of its first place.
    start = 0
    while start < len(order):
        key = order[start][0]
        end = start + 1
        while end < len(order) and order[end][0] == key:
            end += 1
        place = len(ranked) + 1
        shared = end - start > 1
        for position in range(start, end):
            ranked.append(RankedUnit(place, tied[order[position][2]], shared))
        start = end


def rank(scores: Sequence[UnitScore], tie_breaks: Sequence[str]) -> list[RankedUnit]:
    """Order units best first and number them by competition ranking (1, 1, 3).

    Units are ordered by total, higher first, then by each tie-break in turn:
    ``section:<code>`` (that section's points, higher first), ``indicators_met``
    (higher first), ``bonus`` (higher first), ``fewer_deductions`` (lower first).
    Units still equal share a rank and are listed by unit code. O(n log n).
    """
    codes = [score.unit_code for score in scores]
    if len(set(codes)) != len(codes):
        raise ValueError("a unit appears twice in the scores")
    readings = _read_tie_breaks(scores, tie_breaks)
    # Most totals differ: sort by the total alone (one comparison of two numbers
    # instead of two tuples of keys), then order each run of equal totals by the
    # tie-breaks. A stable sort in reverse keeps equal totals in their given order.
    totals = [score.total for score in scores]
    order = sorted(range(len(scores)), key=totals.__getitem__, reverse=True)
    ranked: list[RankedUnit] = []
    start = 0
    collected = 0
    with collector_paused():  # one place kept per unit, none in a cycle: rules.collector
        while start < len(order):
            total = totals[order[start]]
            end = start + 1
            while end < len(order) and totals[order[end]] == total:
                end += 1
            if end - start == 1:
                ranked.append(RankedUnit(len(ranked) + 1, scores[order[start]], False))
            else:
                tied = [scores[order[position]] for position in range(start, end)]
                _place_tied(ranked, tied, readings)
            start = end
            if len(ranked) - collected >= YOUNG_BATCH:
                collect_young()
                collected = len(ranked)
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
