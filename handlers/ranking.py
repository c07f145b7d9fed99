"""The ranking of a period: stored figures scored by the pure rules.

Used by the operator's command line and by the chat; returns plain data that a
renderer turns into a terminal table, JSON, a chat message or a document.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from rules.awards import propose_awards
from rules.config import BlocConfig, PeriodKind
from rules.ranking import band, rank
from rules.scoring import ScoreSheet, UnitResults
from storage.blocs import find_bloc, latest_year, period_row
from storage.results import reported_figures
from storage.votes import acclaim_outcome


class RankingError(Exception):
    """The ranking cannot be computed (no such bloc, year or period)."""


@dataclass(frozen=True)
class RankedRow:
    """One unit's line of the ranking."""

    rank: int
    unit_code: str
    unit_name: str
    status: str
    sections: dict[str, Decimal]
    bonus: Decimal
    deductions: Decimal
    total: Decimal
    percent_of_standard: Decimal
    band: str | None
    award: str | None


@dataclass(frozen=True)
class RankingReport:
    """The ranking of a bloc's period."""

    bloc_code: str
    bloc_name: str
    year: int
    period: str
    standard_score: Decimal
    rows: list[RankedRow]

    def as_json(self) -> dict[str, Any]:
        """The JSON shape printed by `python -m bot ranking --format json`."""
        return {
            "bloc": self.bloc_code,
            "bloc_name": self.bloc_name,
            "year": self.year,
            "period": self.period,
            "standard_score": str(self.standard_score),
            "ranking": [
                {
                    "rank": row.rank,
                    "unit_code": row.unit_code,
                    "unit_name": row.unit_name,
                    "status": row.status,
                    "total": str(row.total),
                    "percent_of_standard": str(row.percent_of_standard),
                    "band": row.band,
                    "award": row.award,
                    "sections": {code: str(points) for code, points in row.sections.items()},
                    "bonus": str(row.bonus),
                    "deductions": str(row.deductions),
                }
                for row in self.rows
            ],
        }


def compute_ranking(
    *,
    session: Session,
    bloc_code: str | None,
    year: int | None,
    period: PeriodKind = PeriodKind.year_end,
    acclaim_passed: bool | None = None,
) -> RankingReport:
    """Score every member unit of the period and rank them with awards and bands.

    `acclaim_passed` None reads the stored acclaim of a year-end period (the votes
    feature): a passed acclaim turns `flag-pending-acclaim` into `flag`.
    """
    bloc = find_bloc(session=session, bloc_code=bloc_code)
    if bloc is None:
        raise RankingError(
            f"no bloc {bloc_code!r} in the database" if bloc_code else "give --bloc CODE (none or several blocs)"
        )
    year = year if year is not None else latest_year(session=session, bloc_id=bloc.id)
    stored = period_row(session=session, bloc_id=bloc.id, year=year, kind=period.value) if year else None
    if year is None or stored is None or stored.id is None:
        raise RankingError(f"bloc {bloc.code} has no {period.value} period in {year}")
    figures = {found.unit_code: found for found in reported_figures(session=session, period_id=stored.id)}
    if acclaim_passed is None and period is PeriodKind.year_end:
        acclaim_passed = acclaim_outcome(session=session, bloc_id=bloc.id, year=year)
    return rank_figures(config=bloc.config, year=year, period=period, figures=figures,
                        acclaim_passed=acclaim_passed)


def unit_results(config: BlocConfig, unit_code: str, found: Any, *, reviewed: bool = True) -> UnitResults:
    """A unit's stored figures as the rules score them; `reviewed=False` gives its own figures only.

    The review wins: a reviewed criterion's points override the self score, and a
    reviewed indicator's actual replaces the actual the unit reported. Figures of
    items the pact no longer has (an indicator removed after reporting) are kept
    in the database but do not count.
    """
    if found is None:
        return UnitResults(unit_code=unit_code)
    given = {criterion.code for criterion in config.pact.criteria()}
    own = {indicator.code for indicator in config.indicators_of(unit_code)}
    actuals = {code: value for code, value in found.actuals.items() if code in own}
    if reviewed:
        actuals.update({code: value for code, value in found.reviewed.items() if code in own})
    return UnitResults(
        unit_code=unit_code,
        actuals=actuals,
        self_scores={code: value for code, value in found.scores.items() if code in given},
        reviewed={code: value for code, value in found.reviewed.items() if code in given} if reviewed else {},
    )


def rank_figures(
    *, config: BlocConfig, year: int, period: PeriodKind, figures: dict[str, Any],
    acclaim_passed: bool | None,
) -> RankingReport:
    """Rank a period from figures keyed by unit code (units with none score zero)."""
    sheet = ScoreSheet.build(config.pact, config.indicators)
    members = config.members_in(year)
    scores = []
    statuses: dict[str, str] = {}
    for unit in members:
        found = figures.get(unit.code)
        statuses[unit.code] = found.status if found else "not_started"
        scores.append(sheet.score(unit_results(config, unit.code, found)))
    ranked = rank(scores, config.tie_breaks)
    awards = propose_awards(ranked, config.awards, acclaim_passed)
    names = {unit.code: unit.name for unit in members}
    rows = []
    for item in ranked:
        score = item.score
        award = awards.get(score.unit_code)
        rows.append(
            RankedRow(
                rank=item.rank,
                unit_code=score.unit_code,
                unit_name=names[score.unit_code],
                status=statuses[score.unit_code],
                sections=dict(score.sections),
                bonus=score.bonus,
                deductions=score.deductions,
                total=score.total,
                percent_of_standard=score.percent_of_standard,
                band=band(score.percent_of_standard, config.bands),
                award=award.value if award is not None else None,
            )
        )
    return RankingReport(
        bloc_code=config.bloc.code, bloc_name=config.bloc.name, year=year, period=period.value,
        standard_score=config.pact.standard_score, rows=rows,
    )
