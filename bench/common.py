"""Shared set-up of the benchmarks: a big bloc, a throw-away PostgreSQL database."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.loading import read_yaml
from rules.config import BlocConfig

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VIETNAM = dt.timezone(dt.timedelta(hours=7))


def open_periods(now: dt.datetime) -> list[dict[str, Any]]:
    """A year-end period whose reporting window is open around `now`, far from every reminder slot.

    For a bot that runs on the real clock (`python -m bot run` in a process of its own).
    """
    local = now.astimezone(VIETNAM).replace(tzinfo=None, microsecond=0)

    def at(days: int) -> str:
        return (local + dt.timedelta(days=days)).isoformat()

    return [{"year": local.year, "kind": "year-end", "reporting": {"opens": at(-10), "deadline": at(20)},
             "review": {"opens": at(20), "deadline": at(30)}, "votes": {"opens": at(34), "deadline": at(35)}}]


def big_bloc(units: int, per_unit: int = 1, *, periods: list[dict[str, Any]] | None = None) -> BlocConfig:
    """The seed's pact and periods (or `periods`) with `units` units of `per_unit` officers, two indicators each."""
    data = copy.deepcopy(read_yaml(ROOT / "examples" / "khoi3-2018.yaml"))
    if periods is not None:
        data["periods"] = periods
    data["bloc"]["code"] = f"R{units}x{per_unit}"
    data["units"] = [{"code": f"U{n:04d}", "name": f"Sở số {n}", "short_name": f"S{n}"} for n in range(units)]
    data["officers"] = [{"code": f"o{n:04d}-{k}", "name": f"Cán bộ {n}.{k}", "unit": f"U{n:04d}"}
                        for n in range(units) for k in range(per_unit)]
    data["indicators"] = [
        {"code": f"I{n:04d}-{k}", "unit": f"U{n:04d}", "criterion": "I.1", "text": f"Chỉ tiêu {k}",
         "measure": "hộ", "target": "29.945"}
        for n in range(units) for k in (1, 2)
    ]
    data["roles"] = {"leader": "U0000", "deputy": "U0001"}
    return BlocConfig.model_validate(data)


def postgres_database() -> tuple[str, Callable[[], None]]:
    """A fresh PostgreSQL database and a function that drops it."""
    name = f"kt_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), drop
