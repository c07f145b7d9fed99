"""Scoring and ranking run compiled when they can, and never as an out-of-date build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import rules
import rules.ranking
import rules.scoring

RULES = Path(rules.__file__).resolve().parent
PROBE = "import rules, rules.ranking, rules.scoring; print(rules.COMPILED, rules.scoring.__file__)"


def test_the_flag_says_which_modules_run() -> None:
    compiled = [module.__file__ is not None and not module.__file__.endswith(".py")
                for module in (rules.scoring, rules.ranking)]
    assert compiled == [rules.COMPILED] * 2


def probe(package_parent: Path) -> list[str]:
    environment = {**os.environ, "PYTHONPATH": str(package_parent)}
    answer = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True,
        check=True, cwd=package_parent,
    )
    return answer.stdout.split()


def copy_sources(tmp_path: Path) -> Path:
    """The rules package's Python files, and nothing else, in a folder of their own."""
    copy = tmp_path / "rules"
    copy.mkdir()
    for source in RULES.glob("*.py"):
        shutil.copy2(source, copy / source.name)
    return copy


def test_an_extension_older_than_its_source_is_passed_over(tmp_path: Path) -> None:
    copy = copy_sources(tmp_path)
    # Stand-ins for the built extensions, older than the sources: were they
    # loaded, the import would fail (they are not shared libraries).
    for name in ("scoring", "ranking"):
        built = copy / f"{name}{EXTENSION_SUFFIXES[0]}"
        built.write_bytes(b"not a shared library")
        source_time = (copy / f"{name}.py").stat().st_mtime
        os.utime(built, (source_time - 60, source_time - 60))
    compiled, scoring_file = probe(tmp_path)
    assert compiled == "False"
    assert scoring_file == str(copy / "scoring.py")


def test_without_extensions_the_sources_run(tmp_path: Path) -> None:
    copy = copy_sources(tmp_path)
    assert probe(tmp_path) == ["False", str(copy / "scoring.py")]
