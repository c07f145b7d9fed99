"""Build hook: compile the scoring and ranking rules with mypyc where it can.

Everything else about the package is in pyproject.toml. ``rules/scoring.py``
and ``rules/ranking.py`` stay plain, typed Python (the only source); mypyc turns
them into C extensions next to them, which Python then imports instead. Set
``KHOITHIDUA_PURE=1`` to build without them; if mypyc or a C compiler is
missing, the build goes on without them too. ``rules/__init__.py`` falls back
to the Python source when it is newer than its compiled module (an edit since
the last install).
"""

from __future__ import annotations

import os
import sys

from setuptools import setup

COMPILED = ["rules/scoring.py", "rules/ranking.py"]


def compiled_rules() -> list[object]:
    """The mypyc extensions, or none when asked to stay pure or mypyc cannot be had."""
    if os.environ.get("KHOITHIDUA_PURE") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("mypyc is not available: the rules stay pure Python", file=sys.stderr)
        return []
    # One shared library per module, kept inside the package (not at the top level).
    extensions = mypycify(COMPILED, opt_level="3", separate=True)
    for extension in extensions:
        extension.optional = True  # a failed compile leaves the pure modules in use
    return extensions


setup(ext_modules=compiled_rules())
