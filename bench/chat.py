"""Benchmark: whole reports by chat through the fake Bot API, against an echo-bot ceiling.

    python bench/chat.py [--officers 200] [--latency-officers 10] [--latency-waves 5]
                         [--think-ms 1000] [--backends sqlite,postgresql]

For each backend: N scripted officers each join with their invite and do a
whole report (every item typed and confirmed, then submitted) at the same time,
through the real python-telegram-bot Application polling the fake server. In the
same run, a plain python-telegram-bot echo bot on the same fake server answers
the same number of turns: its rate is the ceiling the transport allows. Prints
replies per second and p50/p95 reply latency for both, the ratio, and the same
with few officers for latency (in `--latency-waves` groups of that many, one
group after the other, so that the 95th percentile rests on enough replies).
Those officers answer at once, so the latency is
mostly each one waiting for the others' turns; a last run has the same few
officers pause `--think-ms` before every message, as people on phones do (no
echo run). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    filters,
)

from bench.common import big_bloc, postgres_database  # noqa: E402
from bot.app import build_application  # noqa: E402
from fakes.people import ScriptedOfficer  # noqa: E402
from fakes.telegram import FakeTelegram  # noqa: E402
from handlers.services.reporting import unit_items  # noqa: E402
from storage.blocs import load_bloc  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.invites import issue_invites  # noqa: E402

NOW = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)
# Both bots get the same rate limiter, set far above Telegram's 30/s: the fake
# server has no limit, and the benchmark measures the bot's own cost per reply.
RATE = 10_000.0


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def figures(latencies: list[float], turns: int, elapsed: float) -> dict[str, float]:
    """Rate and latency percentiles in milliseconds."""
    return {
        "replies_per_s": round(turns / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
    }


async def echo_run(fake: FakeTelegram, people: int, turns: int) -> dict[str, float]:
    """The ceiling: a plain PTB echo bot answering `turns` messages for each person."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.message is not None
        await context.bot.send_message(update.effective_chat.id, update.message.text or "")

    application = (ApplicationBuilder().token(fake.token).base_url(fake.base_url)
                   .base_file_url(fake.base_file_url).concurrent_updates(256)
                   .rate_limiter(AIORateLimiter(overall_max_rate=RATE))
                   .connection_pool_size(64).build())
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        scripted = [ScriptedOfficer(fake, fake.user(900_000 + n, f"E{n}"), f"E{n}", timeout=60)
                    for n in range(people)]

        async def talk(person: ScriptedOfficer, index: int) -> None:
            for turn in range(turns):
                await person.say(f"echo {index} {turn}", f"echo {index} {turn}")

        started = time.perf_counter()
        await asyncio.gather(*(talk(person, n) for n, person in enumerate(scripted)))
        elapsed = time.perf_counter() - started
        await application.updater.stop()
        await application.stop()
    latencies = [value for person in scripted for value in person.latencies]
    return figures(latencies, len(latencies), elapsed)


async def bot_run(fake: FakeTelegram, url: str, officers: int,
                  think: float = 0.0, waves: int = 1) -> tuple[dict[str, float], int]:
    """Our bot: `officers` officers join and each do a whole report at the same time.

    With `think` > 0 each person waits that long before every message or press
    (starting one after the other over one `think`), as people on phones do.
    With `waves` > 1, that many groups of `officers` officers report one group
    after the other, and the figures pool every group's replies: more replies
    make a steadier 95th percentile than one short run.
    """
    migrate(url)
    engine = make_engine(url, pool_size=16, max_overflow=16) if url.startswith("postgresql") \
        else make_engine(url)
    config = big_bloc(officers * waves)
    with session_scope(engine) as session:
        load_bloc(session=session, config=config, actor="bench")
        issued = issue_invites(session=session, bloc_id=1, now=NOW, ttl=dt.timedelta(days=30),
                               actor="bench")
    codes = {invite.officer_code: invite.code for invite in issued}
    parts = build_application(token=fake.token, engine=engine, base_url=fake.base_url,
                              base_file_url=fake.base_file_url, bot_username=fake.bot_username,
                              clock=lambda: NOW, messages_per_second=RATE)
    application = parts.application
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        people = []
        for n, officer in enumerate(config.officers):
            person = ScriptedOfficer(fake, fake.user(800_000 + n, officer.name), officer.name, timeout=120,
                                     think=think)
            values = [(item.code, Decimal(30000) if item.is_indicator else Decimal(1))
                      for item in unit_items(config, officer.unit)]
            people.append((person, officer.code, values))

        async def report(person: ScriptedOfficer, code: str, values: list[tuple[str, Decimal]],
                         index: int) -> None:
            if think:  # the n-th person starts n/N of a pause after the first
                await asyncio.sleep(think * index / officers)
            await person.say(f"/start {codes[code]}", "Kính chào")
            await person.report(values)

        elapsed = 0.0
        for wave in range(waves):
            group = people[wave * officers:(wave + 1) * officers]
            started = time.perf_counter()
            await asyncio.gather(*(report(*entry, index) for index, entry in enumerate(group)))
            elapsed += time.perf_counter() - started
        await application.updater.stop()
        await application.stop()
    engine.dispose()
    latencies = [value for person, _, _ in people for value in person.latencies]
    turns_each = len(people[0][0].latencies)
    return figures(latencies, len(latencies), elapsed), turns_each


def database(backend: str, folder: str) -> tuple[str, Callable[[], None] | None]:
    """A fresh database of the backend, and how to drop it (None for a SQLite file)."""
    if backend == "sqlite":
        return f"sqlite:///{folder}/bench.db", None
    return postgres_database()


async def paced(backend: str, officers: int, think: float) -> dict[str, float]:
    """Our bot with people who take `think` seconds before each message (no echo run)."""
    with tempfile.TemporaryDirectory() as folder:
        url, drop = database(backend, folder)
        try:
            async with FakeTelegram() as fake:
                ours, _ = await bot_run(fake, url, officers, think=think)
        finally:
            if drop is not None:
                drop()
    return ours


async def measure(backend: str, officers: int, waves: int = 1) -> dict[str, Any]:
    """Our bot and the echo ceiling with the same number of people at once and turns."""
    with tempfile.TemporaryDirectory() as folder:
        url, drop = database(backend, folder)
        try:
            async with FakeTelegram() as fake:
                ours, turns_each = await bot_run(fake, url, officers, waves=waves)
            async with FakeTelegram() as fake:
                echo = await echo_run(fake, officers, turns_each * waves)
        finally:
            if drop is not None:
                drop()
    return {"bot": ours, "echo": echo, "turns_per_officer": turns_each, "waves": waves,
            "throughput_ratio": round(ours["replies_per_s"] / echo["replies_per_s"], 3)}


async def main() -> None:
    """Run every backend at both sizes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--latency-officers", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--latency-waves", type=int, default=5,
                        help="for the latency run: groups of officers reporting one after the other")
    parser.add_argument("--think-ms", type=int, default=1000,
                        help="for the paced run: each person's pause before every message")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    for backend in args.backends.split(","):
        load = await measure(backend, args.officers)
        light = await measure(backend, args.latency_officers, args.latency_waves)
        human = await paced(backend, args.latency_officers, args.think_ms / 1000)
        result[backend] = {f"officers_{args.officers}": load, f"officers_{args.latency_officers}": light,
                           f"officers_{args.latency_officers}_paced_{args.think_ms}ms": human}
        print(f"{backend}: {args.officers} officers: bot {load['bot']}, echo {load['echo']}, "
              f"ratio {load['throughput_ratio']}; {args.latency_officers} officers: bot {light['bot']}, "
              f"echo {light['echo']}; {args.latency_officers} officers pausing {args.think_ms} ms: "
              f"bot {human}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
