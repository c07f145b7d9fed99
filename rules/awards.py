"""Proposing awards from a ranking: the emulation flag and certificates of merit."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from rules.config import Awards
from rules.ranking import RankedUnit

__all__ = ["Award", "propose_awards"]


class Award(StrEnum):
    """What the bloc proposes a unit for."""

    flag = "flag"
    flag_pending_acclaim = "flag-pending-acclaim"
    merit = "merit"


def propose_awards(
    ranked: Sequence[RankedUnit], awards: Awards, acclaim_passed: bool | None
) -> dict[str, Award | None]:
    """Propose the flag and certificates of merit for ranked units (None: no proposal).

    Flags go to the units ranked within the top ``awards.flags`` ranks whose
    percent of the standard score reaches ``flag_min_percent``. While the
    acclaim vote is pending (``acclaim_passed`` None) they are
    ``flag-pending-acclaim``; once it passed, ``flag``; if it failed they get no
    flag and are considered for a certificate like the other units.

    Certificates go to the next ``awards.certificates`` units in rank order
    (not proposed for a flag) that reach ``certificate_min_percent``.

    Ties: a shared rank straddling a boundary gives the proposal to every unit
    of that rank, so more units than ``flags`` or ``certificates`` may be
    proposed; the bloc settles it (by vote or by the board). ``ranked`` must be
    in rank order, as :func:`rules.ranking.rank` returns it.
    """
    proposals: dict[str, Award | None] = {place.unit_code: None for place in ranked}
    if len(proposals) != len(ranked):
        raise ValueError("a unit appears twice in the ranking")
    if any(later.rank < earlier.rank for earlier, later in zip(ranked, ranked[1:], strict=False)):
        raise ValueError("the ranking is not in rank order")
    flagged = [
        place
        for place in ranked
        if place.rank <= awards.flags
        and place.score.percent_of_standard >= awards.flag_min_percent
    ]
    if acclaim_passed is not False:
        flag = Award.flag if acclaim_passed else Award.flag_pending_acclaim
        for place in flagged:
            proposals[place.unit_code] = flag
    eligible = [
        place
        for place in ranked
        if proposals[place.unit_code] is None
        and place.score.percent_of_standard >= awards.certificate_min_percent
    ]
    if awards.certificates > 0 and eligible:
        chosen = eligible[: awards.certificates]
        last_rank = chosen[-1].rank
        # Whoever shares the rank of the last one chosen is proposed as well.
        chosen.extend(
            place for place in eligible[awards.certificates :] if place.rank == last_rank
        )
        for place in chosen:
            proposals[place.unit_code] = Award.merit
    return proposals
