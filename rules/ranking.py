"""Ranking units by their scores, with the bloc's tie-breaks, and banding them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from rules.config import Band, TieBreak
from rules.scoring import UnitScore

__all__ = ["RankedUnit", "band", "rank"]

_SECTION_PREFIX = "section:"


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


def _column(scores: Sequence[UnitScore], key: str) -> list[Any]:
    """One tie-break for every unit, as a value where lower sorts first (better)."""
    if key.startswith(_SECTION_PREFIX):
        section = key.removeprefix(_SECTION_PREFIX)
        try:
            return [-score.sections[section] for score in scores]
        except KeyError:
            raise ValueError(f"tie-break {key!r}: no such section in the scores") from None
    if key == TieBreak.indicators_met:
        return [-score.indicators_met for score in scores]
    if key == TieBreak.bonus:
        return [-score.bonus for score in scores]
    if key == TieBreak.fewer_deductions:
        return [score.deductions for score in scores]
    raise ValueError(f"unknown tie-break {key!r}")


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
    # One key per unit, built column by column (cheaper than a key function per
    # unit), negated where higher is better so that one ascending sort does it.
    columns = [[-score.total for score in scores]]
    columns.extend(_column(scores, key) for key in tie_breaks)
    keys = list(zip(*columns, strict=True))
    # Codes are distinct, so the index after them is never compared.
    order = sorted(zip(keys, codes, range(len(keys)), strict=True))
    ranked: list[RankedUnit] = []
    # A run of equal keys shares the rank of its first place.
    for _, run in groupby(order, key=itemgetter(0)):
        members = list(run)
        place = len(ranked) + 1
        shared = len(members) > 1
        ranked.extend(
            [RankedUnit(rank=place, score=scores[index], shared=shared) for _, _, index in members]
        )
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
