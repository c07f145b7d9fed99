"""Test data factories: bloc configurations built from the seed example, varied per test."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from bot.loading import read_yaml
from rules.config import BlocConfig, ResultsFile

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
