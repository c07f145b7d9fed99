"""The product stands without its test doubles, and its modules import one another without circles.

The product is every module under bot/, handlers/, storage/ and rules/ (Alembic's
scripts under storage/migrations/ are run by Alembic, not imported). The test doubles
(fakes/) may import the product; the product imports them only in `python -m bot demo`,
inside the command.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "handlers", "storage", "rules")
SKIPPED = ("storage.migrations", "bot.__main__")  # run by Alembic; runs the command line
# The one place the product may import the doubles: the demo command, when it runs.
ALLOWED_FAKES_IMPORTS = {("bot.cli", "cmd_demo")}

_IMPORT_ALL_WITHOUT_FAKES = """
import importlib, json, sys

class NoFakes:
    '''Makes the test doubles unimportable, as on a machine that installed only the product.'''

    def find_spec(self, name, path=None, target=None):
        if name == "fakes" or name.startswith("fakes."):
            raise ImportError(f"the product imported the test doubles: {name}")
        return None

sys.meta_path.insert(0, NoFakes())
failed = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps(failed))
"""


def product_modules(root: Path = ROOT, packages: tuple[str, ...] = PRODUCT) -> dict[str, Path]:
    """Every product module by its dotted name."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if not any(name == skipped or name.startswith(skipped + ".") for skipped in SKIPPED):
                modules[name] = path
    return modules


def _imports(name: str, path: Path) -> list[tuple[str, str | None]]:
    """Every module `name` imports, anywhere in it (lazy and TYPE_CHECKING imports too),
    with the function that imports it (None: at module level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = function or node.name
        if isinstance(node, ast.Import):
            found.extend((alias.name, function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` imports the module a.b when there is one, else names of a.
            found.extend((f"{base}.{alias.name}", function) for alias in node.names)
            found.append((base, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, None)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """For each module, the modules among `modules` that it imports."""
    return {name: {target for target, _ in _imports(name, path) if target in modules and target != name}
            for name, path in modules.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another, directly or round a circle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def test_every_product_module_imports_without_the_fakes() -> None:
    names = sorted(product_modules())
    assert "bot.cli" in names and "handlers.dispatch" in names and "storage.db" in names and "rules.scoring" in names
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", _IMPORT_ALL_WITHOUT_FAKES, json.dumps(names)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert json.loads(result.stdout) == {}


def test_the_product_imports_the_fakes_only_in_the_demo_command() -> None:
    imported = [(name, function, target) for name, path in product_modules().items()
                for target, function in _imports(name, path) if target.split(".")[0] == "fakes"]
    assert {(name, function) for name, function, _ in imported} <= ALLOWED_FAKES_IMPORTS, imported


def test_no_import_circles_among_product_modules() -> None:
    assert import_cycles(import_graph(product_modules())) == []


def test_a_circle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    """The checker itself: the old `bot/cli.py` <-> `bot/demo.py` circle, both ends lazy."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "cli.py").write_text("def demo():\n    from app.demo import play\n")
    (tmp_path / "app" / "demo.py").write_text("def play():\n    from app.cli import table\n")
    (tmp_path / "app" / "users.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .server import Server\n")
    (tmp_path / "app" / "server.py").write_text("from app.users import User\n")
    graph = import_graph(product_modules(tmp_path, ("app",)))
    assert sorted(import_cycles(graph)) == [["app.cli", "app.demo"], ["app.server", "app.users"]]


# The Telegram adapter: its module and its HTTP client. Nothing else of the product
# knows python-telegram-bot, so a second channel is one adapter more.
TELEGRAM_ADAPTER = {"bot.telegram_channel", "bot.transport"}


def test_only_the_telegram_adapter_imports_telegram() -> None:
    importing = {name for name, path in product_modules().items()
                 for target, _ in _imports(name, path) if target.split(".")[0] == "telegram"}
    assert importing == TELEGRAM_ADAPTER
