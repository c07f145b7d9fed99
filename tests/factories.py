"""Test data factories: bloc configurations built from the seed example, varied per test."""

from __future__ import annotations

import copy
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from bot.loading import read_yaml
from handlers.services.reporting import unit_items
from rules.config import BlocConfig, CriterionKind, OfficerRole, ResultsFile

ROOT = Path(__file__).resolve().parent.parent
SEED_BLOC = ROOT / "examples" / "khoi3-2018.yaml"
SEED_RESULTS = ROOT / "examples" / "khoi3-2018-results.yaml"


@cache
def _parsed(path: Path) -> Any:
    """A seed file parsed once per process (parsing costs ~30 ms; callers get a deep copy)."""
    return read_yaml(path)


def seed_bloc_data(**changes: Any) -> dict[str, Any]:
    """The seed bloc as parsed YAML, with top-level keys replaced by `changes`."""
    data = copy.deepcopy(_parsed(SEED_BLOC))
    data.update(changes)
    return dict(data)


def seed_bloc(**changes: Any) -> BlocConfig:
    """The seed bloc, validated."""
    return BlocConfig.model_validate(seed_bloc_data(**changes))


def seed_results_data(**changes: Any) -> dict[str, Any]:
    """The seed results as parsed YAML, with top-level keys replaced."""
    data = copy.deepcopy(_parsed(SEED_RESULTS))
    data.update(changes)
    return dict(data)


def seed_results(**changes: Any) -> ResultsFile:
    """The seed results, validated."""
    return ResultsFile.model_validate(seed_results_data(**changes))


def seed_report(unit_code: str) -> list[tuple[str, Decimal]]:
    """A seed unit's year-end report as its officer enters it: (item, value) in the report's order.

    The results file's actuals and self-scores, 0 for the bonus it leaves empty;
    its deductions are not the unit's to report (see :func:`seed_deductions`).
    """
    entry = next(entry for entry in seed_results().results if entry.unit == unit_code)
    figures = {**entry.indicators, **entry.criteria}
    return [(item.code, figures.get(item.code, Decimal(0))) for item in unit_items(seed_bloc(), unit_code)]


def seed_deductions() -> list[tuple[str, str, Decimal]]:
    """The deductions in the seed results, (unit, criterion, points): the reviewer sets them on review."""
    config = seed_bloc()
    kinds = {criterion.code: criterion.kind for criterion in config.pact.criteria()}
    return [(entry.unit, code, value) for entry in seed_results().results
            for code, value in entry.criteria.items() if kinds[code] is CriterionKind.deduction]


def seed_reporter(unit_code: str) -> str:
    """The code of the seed unit's reporting officer (cán bộ đầu mối)."""
    return next(officer.code for officer in seed_bloc().officers
                if officer.unit == unit_code and officer.role is OfficerRole.reporter)
