"""The bloc's rules as pure functions over plain data.

Reading numbers (:mod:`rules.numbers`), the configuration (:mod:`rules.config`),
scoring (:mod:`rules.scoring`), ranking (:mod:`rules.ranking`), awards
(:mod:`rules.awards`) and votes (:mod:`rules.voting`). Nothing here talks to a
chat, a database or a clock.

Scoring and ranking are compiled with mypyc when the package is installed
(``setup.py``): Python then imports the C extension beside each source file.
An extension older than its source (the source was edited since the last
``pip install -e .``) would run the old rules, so then both modules are loaded
from their sources instead. :data:`COMPILED` tells which ran.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

__all__ = ["COMPILED"]

_COMPILED_MODULES = ("scoring", "ranking")  # in import order: ranking imports scoring


def _compiled_and_current() -> tuple[bool, bool]:
    """Whether every compiled module exists, and whether none is older than its source."""
    here = Path(__file__).parent
    found, current = True, True
    for name in _COMPILED_MODULES:
        source = here / f"{name}.py"
        extensions = [here / f"{name}{suffix}" for suffix in EXTENSION_SUFFIXES]
        built = [path for path in extensions if path.exists()]
        if not built:
            found = False
        elif any(path.stat().st_mtime < source.stat().st_mtime for path in built):
            current = False
    return found, current


def _load_sources() -> None:
    """Import the compiled modules from their Python sources instead."""
    here = Path(__file__).parent
    for name in _COMPILED_MODULES:
        spec = importlib.util.spec_from_file_location(f"{__name__}.{name}", here / f"{name}.py")
        if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
            raise ImportError(f"cannot load {name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        globals()[name] = module  # as the import system sets a submodule on its package


_found, _current = _compiled_and_current()
if _found and not _current:
    _load_sources()
#: True when scoring and ranking run compiled, False when they run as Python.
COMPILED: bool = _found and _current
