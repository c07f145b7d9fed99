"""The ranking service's score sheet, built once per configuration, and the figures that count."""

from __future__ import annotations

import gc
from dataclasses import replace
from decimal import Decimal

from handlers.services import ranking
from rules.config import BlocConfig, PeriodKind
from storage.results import ReportedFigures
from tests.rules.factories import seed_config

D = Decimal


def _figures(config: BlocConfig) -> dict[str, ReportedFigures]:
    """Every unit reports 110 % of each indicator and 4 points for each other criterion; SXD is reviewed."""
    given = [criterion.code for criterion in config.pact.criteria() if criterion.kind.value != "indicator"]
    figures = {}
    for unit in config.units:
        actuals = {indicator.code: indicator.target * D("1.1") for indicator in config.indicators_of(unit.code)}
        figures[unit.code] = ReportedFigures(
            unit_code=unit.code, status="submitted", actuals=actuals, scores=dict.fromkeys(given, D(4)),
            reviewed={"II.1": D(1)} if unit.code == "SXD" else {},
        )
    return figures


def _rank(config: BlocConfig, figures: dict[str, ReportedFigures]) -> ranking.RankingReport:
    return ranking.rank_figures(config=config, year=2018, period=PeriodKind.year_end, figures=figures,
                                acclaim_passed=None)


def test_a_configuration_keeps_one_score_sheet_and_another_configuration_gets_its_own() -> None:
    config = seed_config()
    sheet = ranking.score_sheet(config)
    assert ranking.score_sheet(config) is sheet
    other = seed_config()
    assert ranking.score_sheet(other) is not sheet
    assert ranking.score_sheet(other).indicators == sheet.indicators


def test_the_sheet_goes_with_its_configuration() -> None:
    config = seed_config()
    ranking.score_sheet(config)
    key = id(config)
    assert key in ranking._SHEETS
    del config
    gc.collect()
    assert key not in ranking._SHEETS


def test_ranking_again_on_the_kept_sheet_gives_the_same_report_as_a_first_ranking() -> None:
    config = seed_config()
    figures = _figures(config)
    first = _rank(config, figures)
    again = _rank(config, figures)
    fresh = _rank(seed_config(), figures)
    assert again == first == fresh
    reviewed = next(row for row in first.rows if row.unit_code == "SXD")
    assert reviewed.criteria["II.1"] == D("1.00") and reviewed.self_criteria["II.1"] == D("4.00")


def test_figures_for_items_the_pact_or_the_unit_does_not_have_do_not_count() -> None:
    config = seed_config()
    unit = config.units[0].code
    mine = config.indicators_of(unit)[0].code
    theirs = config.indicators_of(config.units[1].code)[0].code
    found = ReportedFigures(unit_code=unit, status="submitted", actuals={mine: D(5), theirs: D(7)},
                            scores={"II.1": D(3), "Z.9": D(2)}, reviewed={mine: D(6), "Z.9": D(1)})
    counted = ranking.unit_results(config, unit, found)
    assert dict(counted.actuals) == {mine: D(6)}
    assert dict(counted.self_scores) == {"II.1": D(3)}
    assert dict(counted.reviewed) == {}
    own = ranking.unit_results(config, unit, found, reviewed=False)
    assert dict(own.actuals) == {mine: D(5)}


def test_a_reviewed_units_own_points_are_its_own_figures_scored_whole() -> None:
    config = seed_config()
    figures = _figures(config)
    households = config.indicators_of("SXD")[0]
    figures["SXD"] = replace(figures["SXD"], reviewed={"II.1": D(1), "B.1": D(0),
                                                       households.code: households.target * D("0.5")})
    row = next(row for row in _rank(config, figures).rows if row.unit_code == "SXD")
    sheet = ranking.score_sheet(config)
    own = sheet.score(ranking.unit_results(config, "SXD", figures["SXD"], reviewed=False))
    reviewed = sheet.score(ranking.unit_results(config, "SXD", figures["SXD"]))
    assert {code: str(points) for code, points in row.self_criteria.items()} == {
        code: str(points) for code, points in own.criteria.items()}
    assert row.criteria == reviewed.criteria != own.criteria
    assert row.self_criteria[households.criterion] != row.criteria[households.criterion]
