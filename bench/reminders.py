"""Benchmark: 1.000 officers due a reminder at the same moment, under a 30-per-second limit.

    python bench/reminders.py [--units 200] [--officers-per-unit 5] [--rate-limit 30]
                              [--backends postgresql,sqlite]

For each backend: a bloc of `units` member units with `officers-per-unit` linked
officers each, none of which has submitted; the clock is set to a reminder slot
(Monday 07/01/2019 08:00, 3 days before the seed's deadline) and one pass of the
real reminder scheduler runs through the real python-telegram-bot Application
(AIORateLimiter at 30/s) against the fake Bot API server, which answers 429 with
retry_after above `rate-limit` messages in any one second. Checks that every
officer got exactly one message and every sent-log row is `delivered`; prints
the rate, the span of the sends, the 429s; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from bench.common import big_bloc, postgres_database  # noqa: E402
from bot.app import build_application  # noqa: E402
from fakes.telegram import FakeTelegram, SentMessage  # noqa: E402
from storage.blocs import load_bloc  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.invites import link_account  # noqa: E402
from storage.models import Officer, ReminderLog, stored_id  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BEFORE = dt.datetime(2019, 1, 7, 7, 0, tzinfo=VN).astimezone(dt.UTC)
SLOT = dt.datetime(2019, 1, 7, 8, 0, tzinfo=VN).astimezone(dt.UTC)
FIRST_CHAT = 500_000


class MovableClock:
    """The injected clock, set by the benchmark."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def run(url: str, units: int, per_unit: int, rate_limit: float) -> dict[str, Any]:
    """Load the bloc, link every officer, run one pass at the slot, check and measure it."""
    migrate(url)
    engine = make_engine(url)
    config = big_bloc(units, per_unit)
    with session_scope(engine) as session:
        load_bloc(session=session, config=config, actor="bench")
        for index, officer in enumerate(session.exec(select(Officer).order_by(Officer.id))):  # type: ignore[arg-type]
            link_account(session=session, officer_id=stored_id(officer), channel="telegram",
                         external_id=str(FIRST_CHAT + index), now=dt.datetime.now(dt.UTC))
    officers = len(config.officers)
    async with FakeTelegram(rate_limit=rate_limit) as fake:
        for index in range(officers):
            fake.user(FIRST_CHAT + index, f"O{index}")
        arrivals: list[float] = []
        record = fake.state.record

        def timed(message: SentMessage) -> None:
            arrivals.append(time.perf_counter())
            record(message)

        fake.state.record = timed  # type: ignore[method-assign,assignment]
        clock = MovableClock(BEFORE)
        parts = build_application(token=fake.token, engine=engine, base_url=fake.base_url,
                                  base_file_url=fake.base_file_url, clock=clock, messages_per_second=rate_limit,
                                  dispose_engine=False)
        await parts.application.initialize()
        scheduler = parts.reminders
        scheduler.interval_seconds = 3600.0
        await scheduler.start()
        await scheduler.tick()  # nothing is due at 07:00
        clock.now = SLOT
        started = time.perf_counter()
        report = await scheduler.tick()
        elapsed = time.perf_counter() - started
        await scheduler.stop()
        await parts.application.shutdown()
        per_chat = Counter(message.chat_id for message in fake.sent)
        too_many = fake.too_many_requests
    with session_scope(engine) as session:
        statuses = Counter(session.exec(select(ReminderLog.status)))
    engine.dispose()
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    sustained = (len(arrivals) - 1) / span if span else 0.0
    exactly_once = len(per_chat) == officers and set(per_chat.values()) == {1}
    return {
        "officers": officers,
        "delivered": report.delivered,
        "recipients": len(per_chat),
        "duplicates": sum(count - 1 for count in per_chat.values()),
        "exactly_once": exactly_once and statuses == Counter({"delivered": officers}),
        "rate_limit": rate_limit,
        "too_many_requests_429": too_many,
        "plan_s": round(arrivals[0] - started, 2) if arrivals else None,
        "send_span_s": round(span, 2),
        "sustained_per_s": round(sustained, 2),
        "share_of_limit": round(sustained / rate_limit, 3),
        "pass_s": round(elapsed, 2),
        "overall_per_s": round(officers / elapsed, 2),
    }


async def main() -> None:
    """Run each backend and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--officers-per-unit", type=int, default=5)
    parser.add_argument("--rate-limit", type=float, default=30.0)
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            drop = None
            if backend == "sqlite":
                url = f"sqlite:///{folder}/bench.db"
            else:
                url, drop = postgres_database()
            try:
                figures = await run(url, args.units, args.officers_per_unit, args.rate_limit)
            finally:
                if drop is not None:
                    drop()
        result[backend] = figures
        print(f"{backend}: {figures}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
