"""`python -m bot` with every SQL statement and transaction counted (bench/chat_process.py --count).

Installs SQLAlchemy event hooks on every engine (the asyncio engine's too), then runs
the bot's command line. On SIGUSR1 it appends one JSON line of the counts so far
(statements, commits, rollbacks; with BENCH_STATEMENT_TEXTS=1 also how often each statement
ran) to the file named by BENCH_COUNTS_FILE; the benchmark signals before and after its
waves and takes the difference.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

counts = {"statements": 0, "commits": 0, "rollbacks": 0}
texts: Counter[str] = Counter()  # with BENCH_STATEMENT_TEXTS: each statement's first 100 characters


@event.listens_for(Engine, "before_cursor_execute")
def _statement(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    counts["statements"] += 1
    if os.environ.get("BENCH_STATEMENT_TEXTS"):
        texts[" ".join(statement.split())[:100]] += 1


@event.listens_for(Engine, "commit")
def _commit(*_args: Any) -> None:
    counts["commits"] += 1


@event.listens_for(Engine, "rollback")
def _rollback(*_args: Any) -> None:
    counts["rollbacks"] += 1


def _write(*_args: Any) -> None:
    with open(os.environ["BENCH_COUNTS_FILE"], "a") as out:
        out.write(json.dumps({**counts, "texts": dict(texts.most_common())} if texts else counts) + "\n")


signal.signal(signal.SIGUSR1, _write)

if __name__ == "__main__":
    from bot.cli import main

    sys.exit(main())
