"""Benchmark: what `/publish` does for a 30-unit bloc, chart and paperwork included.

    python bench/publish.py [--units 30] [--runs 7] [--backends sqlite,postgresql]

A generated bloc (the seed's pact, `--units` units with two indicators each,
random but seeded results, every report handed in) is loaded into a fresh
database. Each run then does, in one transaction that is rolled back so the next
run starts from the same state, what the review flow's "publish" button does:
rank the period once (`handlers.services.review.ranking_view`), publish it
(`publish`: the period locked, the snapshot kept, the paperwork's data, the
audit), and render the group's table, the chart, the score sheet and the
minutes. The first run is reported apart ("cold"): it pays for importing
matplotlib, openpyxl and python-docx, which the bot imports on first use. The
target is a warm median under 1 s; CPU medians are printed too, because other
work on the machine stretches the wall clock. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from bench.common import big_bloc, postgres_database  # noqa: E402
from handlers.renderers.documents import paperwork_files  # noqa: E402
from handlers.renderers.files import make  # noqa: E402
from handlers.renderers.review import ranking_chart, ranking_parts  # noqa: E402
from handlers.services import review as service  # noqa: E402
from handlers.services.ranking import find_bloc_period  # noqa: E402
from rules.config import ResultsFile  # noqa: E402
from storage.blocs import load_bloc  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.results import import_results  # noqa: E402

SEED = 20190124
NOW = dt.datetime(2019, 1, 21, 3, 0, tzinfo=dt.UTC)
SELF_CRITERIA = ("I.2", "II.1", "II.2", "III.1", "III.2", "III.3")


def results(units: int, bloc_code: str) -> ResultsFile:
    """Every unit's figures: actuals from 90 % to 110 % of plan, self-scores from 8 to 10."""
    rng = random.Random(SEED)
    entries = [
        {"unit": f"U{n:04d}",
         "indicators": {f"I{n:04d}-{k}": str(int(29945 * rng.uniform(0.9, 1.1))) for k in (1, 2)},
         "criteria": {code: str(Decimal(rng.randint(80, 100)) / 10) for code in SELF_CRITERIA}}
        for n in range(units)
    ]
    return ResultsFile.model_validate({"bloc": bloc_code, "year": 2018, "period": "year-end", "results": entries})


def database(backend: str, folder: str) -> tuple[str, Callable[[], None] | None]:
    """A fresh database of the backend, and how to drop it (PostgreSQL)."""
    if backend == "sqlite":
        return f"sqlite:///{folder}/bench.db", None
    url, drop = postgres_database()
    return url, drop


def one_publication(engine: Any, bloc_code: str) -> dict[str, float]:
    """One /publish, timed by part (wall clock and CPU), rolled back at the end."""
    times: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        times[f"{name}_s"], times[f"{name}_cpu_s"] = time.perf_counter() - wall, time.process_time() - cpu
        return result

    started, cpu = time.perf_counter(), time.process_time()
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection)
        try:
            bloc, period = find_bloc_period(session=session, bloc_code=bloc_code, year=2018)
            view = timed("rank", lambda: service.ranking_view(session=session, bloc=bloc, period=period))
            published = timed("publish", lambda: service.publish(session=session, bloc=bloc, period=period,
                                                                 view=view, actor="bench", now=NOW))
            parts = timed("table", lambda: ranking_parts("vi", view))
            chart = timed("chart", lambda: ranking_chart("vi", view, bloc.config))
            # The files are made when the channel sends them (OutFile.render): made here, as sent.
            files = timed("paperwork", lambda: [make(file) for file in
                                                paperwork_files(published.score_sheet, published.minutes)])
            assert parts and chart[:4] == b"\x89PNG" and len(files) == 2 and all(files)
            assert len(view.report.rows) == len(bloc.config.units)
        finally:
            session.close()
            transaction.rollback()
    times["total_s"] = time.perf_counter() - started
    times["total_cpu_s"] = time.process_time() - cpu
    return times


def measure(backend: str, units: int, runs: int) -> dict[str, Any]:
    """Load the bloc and its results, then time `runs` publications."""
    config = big_bloc(units)
    with tempfile.TemporaryDirectory() as folder:
        url, drop = database(backend, folder)
        try:
            migrate(url)
            engine = make_engine(url)
            with session_scope(engine) as session:
                load_bloc(session=session, config=config, actor="bench")
            with session_scope(engine) as session:
                import_results(session=session, results=results(units, config.bloc.code), actor="bench")
            samples = [one_publication(engine, config.bloc.code) for _ in range(runs)]
            engine.dispose()
        finally:
            if drop is not None:
                drop()
    cold, warm = samples[0], samples[1:] or samples
    figures: dict[str, Any] = {"backend": backend, "units": units, "runs": runs,
                               "cold_total_s": round(cold["total_s"], 4)}
    for key in warm[0]:
        figures[f"median_{key}"] = round(statistics.median(sample[key] for sample in warm), 4)
    return figures


def main() -> None:
    """Run the benchmark and print the figures, one JSON line last."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    report = []
    for backend in args.backends.split(","):
        figures = measure(backend, args.units, args.runs)
        report.append(figures)
        print(f"{backend}: {args.units} units, cold {figures['cold_total_s'] * 1000:.0f} ms; warm median "
              f"{figures['median_total_s'] * 1000:.0f} ms (rank {figures['median_rank_s'] * 1000:.0f}, "
              f"publish {figures['median_publish_s'] * 1000:.0f}, table {figures['median_table_s'] * 1000:.1f}, "
              f"chart {figures['median_chart_s'] * 1000:.0f}, paperwork {figures['median_paperwork_s'] * 1000:.0f}); "
              f"CPU median {figures['median_total_cpu_s'] * 1000:.0f} ms (chart "
              f"{figures['median_chart_cpu_s'] * 1000:.0f}, paperwork {figures['median_paperwork_cpu_s'] * 1000:.0f})")
    target = max(figures["median_total_s"] for figures in report)
    print(json.dumps({"bench": "publish", "units": args.units, "target_s": 1.0, "met": target < 1.0,
                      "results": report}, ensure_ascii=False))


if __name__ == "__main__":
    main()
