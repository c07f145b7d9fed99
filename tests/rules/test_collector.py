"""Scoring many units keeps the cycle collector off the scores, and gives it back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from decimal import Decimal

import pytest

from rules.collector import YOUNG_BATCH, collector_paused
from rules.ranking import rank
from rules.scoring import ScoreSheet, UnitResults
from tests.rules.factories import indicator, indicator_criterion, pact, section


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.enable()
    yield
    if not was_on:
        gc.disable()


def sheet_and_results(units: int) -> tuple[ScoreSheet, list[UnitResults]]:
    the_pact = pact(section("I", "10", indicator_criterion("C", "10")))
    sheet = ScoreSheet.build(the_pact, [indicator(f"X{n}", f"U{n}", "C", "8") for n in range(units)])
    return sheet, [UnitResults(f"U{n}", {f"X{n}": Decimal(n % 11)}) for n in range(units)]


def test_the_collector_is_off_while_units_are_scored_and_on_again_after(collector_on: None) -> None:
    seen: list[bool] = []
    sheet, results = sheet_and_results(YOUNG_BATCH * 2 + 5)
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])
            seen.append(gc.isenabled())

    gc.callbacks.append(count)
    try:
        scores = sheet.score_all(results)
    finally:
        gc.callbacks.remove(count)
    assert len(scores) == len(results)
    assert gc.isenabled()
    # Only the youngest generation was collected, by hand, once per batch.
    assert collections == [0, 0]
    assert seen == [False, False]


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    was_on = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        if was_on:
            gc.enable()


def test_the_collector_comes_back_after_an_error(collector_on: None) -> None:
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError("refused")
    assert gc.isenabled()


def test_ranking_many_units_collects_only_the_young_by_hand(collector_on: None) -> None:
    sheet, results = sheet_and_results(YOUNG_BATCH * 3)
    scores = sheet.score_all(results)
    collections: list[tuple[int, bool]] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append((info["generation"], gc.isenabled()))

    gc.callbacks.append(count)
    try:
        ranked = rank(scores, ["indicators_met"])
    finally:
        gc.callbacks.remove(count)
    assert [place.unit_code for place in ranked][:1] == ["U10"]  # 10 of 8: 125 % of plan
    assert gc.isenabled()
    # Places come in runs of equal totals (here 11 runs of about 35 units), so a
    # collection follows the first run that brings 128 more places.
    assert collections
    assert set(collections) == {(0, False)}
