"""Ranking units by their scores, with the bloc's tie-breaks, and banding them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

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


# The tie-breaks other than sections: each unit's value, lower sorting first (better).
_PLAIN_TIE_BREAKS: dict[str, Callable[[UnitScore], Any]] = {
    TieBreak.indicators_met: lambda score: -score.indicators_met,
    TieBreak.bonus: lambda score: -score.bonus,
    TieBreak.fewer_deductions: lambda score: score.deductions,
}


def _check_tie_break(scores: Sequence[UnitScore], key: str) -> None:
    """Refuse a tie-break that is unknown or names a section some unit lacks, tie or no tie."""
    if key.startswith(_SECTION_PREFIX):
        section = key.removeprefix(_SECTION_PREFIX)
        if any(section not in score.sections for score in scores):
            raise ValueError(f"tie-break {key!r}: no such section in the scores")
    elif key not in _PLAIN_TIE_BREAKS:
        raise ValueError(f"unknown tie-break {key!r}")


def _column(scores: Sequence[UnitScore], key: str) -> list[Any]:
    """One (checked) tie-break for every unit, as a value where lower sorts first (better)."""
    if key.startswith(_SECTION_PREFIX):
        section = key.removeprefix(_SECTION_PREFIX)
        return [-score.sections[section] for score in scores]
    value = _PLAIN_TIE_BREAKS[key]
    return [value(score) for score in scores]


def _place_tied(
    ranked: list[RankedUnit], tied: list[UnitScore], tie_breaks: Sequence[str]
) -> None:
    """Units of equal total, ordered by the tie-breaks; those still equal share a rank."""
    columns = [_column(tied, key) for key in tie_breaks]
    keys: list[tuple[Any, ...]] = list(zip(*columns, strict=True)) if columns else [()] * len(tied)
    # Codes are distinct, so the index after them is never compared.
    order = sorted(zip(keys, [score.unit_code for score in tied], range(len(tied)), strict=True))
    # A run of equal keys shares the rank of its first place.
    for _, run in groupby(order, key=itemgetter(0)):
        members = list(run)
        place = len(ranked) + 1
        shared = len(members) > 1
        ranked.extend(
            [RankedUnit(rank=place, score=tied[index], shared=shared) for _, _, index in members]
        )


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
    for key in tie_breaks:
        _check_tie_break(scores, key)
    # Most totals differ: sort by the total alone (one comparison of two numbers
    # instead of two tuples of keys), then order each run of equal totals by the
    # tie-breaks. A stable sort in reverse keeps equal totals in their given order.
    totals = [score.total for score in scores]
    total_of = totals.__getitem__
    ranked: list[RankedUnit] = []
    for _, run in groupby(sorted(range(len(scores)), key=total_of, reverse=True), key=total_of):
        members = list(run)
        if len(members) == 1:
            ranked.append(RankedUnit(rank=len(ranked) + 1, score=scores[members[0]], shared=False))
        else:
            _place_tied(ranked, [scores[index] for index in members], tie_breaks)
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
