"""The rules package stays pure: no chat, no database, no clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "rules"
FORBIDDEN_MODULES = ("telegram", "sqlmodel", "sqlalchemy", "time", "asyncio", "random")
CLOCK_CALLS = ("now", "utcnow", "today")  # the time module itself may not be imported


@pytest.mark.parametrize("path", sorted(RULES.glob("*.py")), ids=lambda path: path.name)
def test_rules_module_imports_no_io_and_reads_no_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, f"{path.name} calls .{node.func.attr}()"
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            raise AssertionError(f"{path.name}: a float literal {node.value}; use Decimal")


def test_importing_rules_loads_no_chat_or_database() -> None:
    code = (
        "import sys, rules.numbers, rules.config, rules.scoring, rules.ranking, "
        "rules.awards, rules.voting; "
        "print(','.join(m for m in ('telegram', 'sqlmodel', 'sqlalchemy') if m in sys.modules))"
    )
    found = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", code], cwd=RULES.parent, capture_output=True, text=True,
        check=True,
    )
    assert found.stdout.strip() == ""


def test_rules_run_from_their_sources() -> None:
    # Python imports an extension module before the source beside it: a
    # rules/*.so left by an old compiled build (mypyc, until 12/2026) would
    # silently run old rules. Delete it.
    built = [path.name for path in RULES.iterdir() if path.name.endswith(tuple(EXTENSION_SUFFIXES))]
    assert built == []
