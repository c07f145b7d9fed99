"""The ranking of a period: stored figures scored by the pure rules.

Used by the chat, the votes, the operator's command line and the paperwork;
returns plain data (one :class:`RankedRow` per unit) that a renderer turns into
a terminal table, JSON, a chat message, a chart or a document.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from rules.awards import propose_awards
from rules.config import BlocConfig, PeriodKind
from rules.extras import Extras, ExtrasPlan
from rules.ranking import band, rank
from rules.scoring import ScoreSheet, UnitResults
from storage.blocs import BlocRef, find_bloc, latest_year
from storage.results import ReportedFigures, reported_figures
from storage.review import HANDED_IN, PeriodInfo, find_period
from storage.votes import acclaim_outcome


class RankingError(LookupError):
    """The ranking cannot be computed (no such bloc, year or period).

    `key` and `params` name the catalog text that says so (`handlers/locales/*/cli.yaml`).
    """

    def __init__(self, message: str, key: str = "", **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class RankedRow:
    """One ranked unit: its place, its points (own and reviewed) and what it is proposed for.

    The one row type of a ranked unit, shown in the chat's table, the chart, the
    score sheet, the minutes and the command line. `criteria` are the points that
    count (after review), `self_criteria` the unit's own, both by criterion code.
    """

    rank: int
    shared_rank: bool
    unit_code: str
    unit_name: str
    status: str
    self_criteria: Mapping[str, Decimal]
    criteria: Mapping[str, Decimal]
    sections: Mapping[str, Decimal]
    bonus: Decimal
    deductions: Decimal
    total: Decimal
    percent_of_standard: Decimal
    band: str | None
    award: str | None
    # Where the bonus and deductions come from (rules.extras), in pact order.
    extras: Extras | None = field(default=None, compare=False)

    @property
    def submitted(self) -> bool:
        """Whether the unit handed its report in."""
        return self.status in HANDED_IN


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
        """The JSON shape printed by `python -m bot ranking --format json` (and kept when published)."""
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


def find_bloc_period(
    *, session: Session, bloc_code: str | None, year: int | None, kind: PeriodKind = PeriodKind.year_end,
) -> tuple[BlocRef, PeriodInfo]:
    """The bloc by code (or the only one) and its period of a year (the newest year by default)."""
    bloc = find_bloc(session=session, bloc_code=bloc_code)
    if bloc is None:
        if bloc_code:
            raise RankingError(f"no bloc {bloc_code!r} in the database", "cli_no_bloc", bloc=bloc_code)
        raise RankingError("give --bloc CODE (none or several blocs)", "cli_no_bloc_given")
    year = year if year is not None else latest_year(session=session, bloc_id=bloc.id)
    period = find_period(session=session, bloc_id=bloc.id, year=year, kind=kind.value) if year else None
    if period is None:
        raise RankingError(f"bloc {bloc.code} has no {kind.value} period in {year}", "cli_no_period_of_year",
                           bloc=bloc.code, kind=kind.value, year=year or "")
    return bloc, period


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
    bloc, found = find_bloc_period(session=session, bloc_code=bloc_code, year=year, kind=period)
    return rank_period(session=session, bloc=bloc, period=found, acclaim_passed=acclaim_passed)


def rank_period(
    *, session: Session, bloc: BlocRef, period: PeriodInfo, acclaim_passed: bool | None = None,
) -> RankingReport:
    """The ranking of a known period (see :func:`compute_ranking`)."""
    kind = PeriodKind(period.kind)
    figures = {found.unit_code: found for found in reported_figures(session=session, period_id=period.id)}
    if acclaim_passed is None and kind is PeriodKind.year_end:
        acclaim_passed = acclaim_outcome(session=session, bloc_id=bloc.id, year=period.year)
    return rank_figures(config=bloc.config, year=period.year, period=kind, figures=figures,
                        acclaim_passed=acclaim_passed)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What ranking reads of a configuration, read once: its score sheet and its extras' plan."""

    config: weakref.ref[BlocConfig]
    sheet: ScoreSheet
    extras: ExtrasPlan


# The score sheet and extras' plan of each parsed configuration, built on its first
# ranking and kept while the configuration object lives. The bot keeps one parsed
# configuration per text (storage/blocs.py) and configurations are frozen, so they
# never go stale; a changed file is a new object with its own. Keyed by the object's
# id, with a weak reference that drops the entry when the object goes (configurations
# are not hashable). bench/ranking_instructions.py, 30 units x 55 indicators: building
# both is about 11 M of the 46 M instructions a first ranking costs.
_SHEETS: dict[int, _Prepared] = {}


def _prepared(config: BlocConfig) -> _Prepared:
    """The configuration's sheet and extras' plan, built once per configuration."""
    key = id(config)
    cached = _SHEETS.get(key)
    if cached is not None and cached.config() is config:
        return cached
    prepared = _Prepared(config=weakref.ref(config, lambda _: _SHEETS.pop(key, None)),
                         sheet=ScoreSheet.build(config.pact, config.indicators), extras=ExtrasPlan.of(config.pact))
    _SHEETS[key] = prepared
    return prepared


def score_sheet(config: BlocConfig) -> ScoreSheet:
    """The configuration's score sheet (its pact and every unit's indicators), built once per configuration."""
    return _prepared(config).sheet


def unit_results(config: BlocConfig, unit_code: str, found: ReportedFigures | None, *,
                 reviewed: bool = True) -> UnitResults:
    """A unit's stored figures as the rules score them; `reviewed=False` gives its own figures only.

    The review wins: a reviewed criterion's points override the self score, and a
    reviewed indicator's actual replaces the actual the unit reported. Figures of
    items the pact no longer has (an indicator removed after reporting) are kept
    in the database but do not count.
    """
    sheet = score_sheet(config)
    return _counted_results(unit_code, found, given=sheet.criterion_codes,
                            own=sheet.indicator_criteria.get(unit_code, {}).keys(), reviewed=reviewed)


def _counted_results(unit_code: str, found: ReportedFigures | None, *, given: Set[str],
                     own: Set[str], reviewed: bool) -> UnitResults:
    """:func:`unit_results`, with the codes that count (the sheet's: gathered once per configuration)."""
    if found is None:
        return UnitResults(unit_code=unit_code)
    actuals = _counted(found.actuals, own)
    if reviewed and found.reviewed:
        actuals = {**actuals, **_counted(found.reviewed, own)}
    return UnitResults(
        unit_code=unit_code,
        actuals=actuals,
        self_scores=_counted(found.scores, given),
        reviewed=_counted(found.reviewed, given) if reviewed else {},
    )


def _counted(values: Mapping[str, Decimal], codes: Set[str]) -> Mapping[str, Decimal]:
    """The values of the codes that count.

    Most often every code counts: then the values themselves, which UnitResults copies
    (one check of the codes, not a dictionary built value by value: bench/ranking.py).
    """
    if values.keys() <= codes:
        return values
    return {code: value for code, value in values.items() if code in codes}


def rank_figures(
    *, config: BlocConfig, year: int, period: PeriodKind, figures: Mapping[str, ReportedFigures],
    acclaim_passed: bool | None,
) -> RankingReport:
    """Rank a period from figures keyed by unit code (units with none score zero)."""
    prepared = _prepared(config)
    sheet = prepared.sheet
    given = sheet.criterion_codes
    members = config.members_in(year)
    scores = []
    own_points: dict[str, Mapping[str, Decimal]] = {}
    statuses: dict[str, str] = {}
    for unit in members:
        found = figures.get(unit.code)
        statuses[unit.code] = found.status if found else "not_started"
        feeds = sheet.indicator_criteria.get(unit.code, {})
        score = sheet.score(_counted_results(unit.code, found, given=given, own=feeds.keys(), reviewed=True))
        scores.append(score)
        # The score's mappings are the rows' own (nothing else holds the score): not copied.
        points = score.criteria
        if found is not None and found.reviewed:
            # The unit's own points differ from the reviewed ones only where the review changed
            # something: a criterion's points, or an actual of one of its indicators.
            changed = {code for code in found.reviewed if code in given}
            changed.update(feeds[code] for code in found.reviewed if code in feeds)
            own = _counted_results(unit.code, found, given=given, own=feeds.keys(), reviewed=False)
            points = {**points, **sheet.criterion_points(own, changed)}
        own_points[unit.code] = points
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
                shared_rank=item.shared,
                unit_code=score.unit_code,
                unit_name=names[score.unit_code],
                status=statuses[score.unit_code],
                self_criteria=own_points[score.unit_code],
                criteria=score.criteria,
                sections=score.sections,
                bonus=score.bonus,
                deductions=score.deductions,
                total=score.total,
                percent_of_standard=score.percent_of_standard,
                band=band(score.percent_of_standard, config.bands),
                award=award.value if award is not None else None,
                extras=prepared.extras.explain(score, sheet.indicators.get(score.unit_code, {})),
            )
        )
    return RankingReport(
        bloc_code=config.bloc.code, bloc_name=config.bloc.name, year=year, period=period.value,
        standard_score=config.pact.standard_score, rows=rows,
    )

