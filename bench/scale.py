"""Benchmark: the bot at a country's size (4.000 units, 8.000 officers in one bloc).

    python bench/scale.py [--units 4000] [--officers-per-unit 2] [--small-units 30]
                          [--officers 20] [--backends sqlite]

One database holds a bloc of `--units` units with `--officers-per-unit` officers
each (the seed's pact, two indicators per unit; bench/common.py `big_bloc`) and
a bloc of `--small-units` units built the same way. Two figures:

1. Start-up: `python -m bot run` in a process of its own, polling the fake Bot API
   server of the tests (fakes/telegram), with an officer of the large bloc's
   `/status` waiting for it: the time from starting the process to that answer
   (target < 5 s), and the process's resident memory then and at its peak (target
   < 250 MB).
2. CPU per chat turn: `Conversation.handle` timed alone (process CPU time, no
   Telegram), `--officers` officers of each bloc doing a whole report (each item
   typed and confirmed, submit, then `/status`), an officer of one bloc then one
   of the other; the large bloc's turns should cost within 10 % of the small one's.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import big_bloc, postgres_database  # noqa: E402
from fakes.telegram import FakeTelegram  # noqa: E402
from handlers.chat import Incoming, InKind, Outcome  # noqa: E402
from handlers.dispatch import Conversation  # noqa: E402
from handlers.services.reporting import unit_items  # noqa: E402
from rules.config import BlocConfig  # noqa: E402
from rules.numbers import format_number  # noqa: E402
from storage.blocs import find_bloc, load_bloc  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.invites import issue_invites, redeem_invite  # noqa: E402

NOW = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)  # within the seed's reporting window
STARTUP_USER = 990_001
_keys = itertools.count(1)


def memory_mb(pid: int) -> tuple[float, float]:
    """A process's resident memory now and at its peak, in MB (Linux /proc)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def prepare(url: str, configs: list[BlocConfig]) -> tuple[dict[str, dict[str, str]], dict[str, float]]:
    """Load the blocs and issue every officer's invite; invite codes by bloc and officer, and timings."""
    migrate(url)
    engine = make_engine(url)
    codes: dict[str, dict[str, str]] = {}
    timings: dict[str, float] = {}
    for config in configs:
        started = time.perf_counter()
        with session_scope(engine) as session:
            load_bloc(session=session, config=config, actor="bench")
        timings[f"load_{len(config.units)}_units_s"] = round(time.perf_counter() - started, 1)
        with session_scope(engine) as session:
            bloc = find_bloc(session=session, bloc_code=config.bloc.code)
            assert bloc is not None
            issued = issue_invites(session=session, bloc_id=bloc.id, now=NOW, ttl=dt.timedelta(days=30),
                                   actor="bench")
        codes[config.bloc.code] = {invite.officer_code: invite.code for invite in issued}
    engine.dispose()
    return codes, timings


async def start_up(url: str, code: str) -> dict[str, float]:
    """Start `python -m bot run` with one `/status` waiting; time to its answer and memory."""
    engine = make_engine(url)
    with session_scope(engine) as session:  # the officer is linked already, as in a running year
        redeem_invite(session=session, code=code, channel="telegram", external_id=str(STARTUP_USER), now=NOW)
    engine.dispose()
    async with FakeTelegram() as fake:
        user = fake.user(STARTUP_USER, "Cán bộ")
        mark = fake.mark()
        await user.send_text("/status")
        env = {**os.environ, "DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": fake.token,
               "TELEGRAM_API_BASE_URL": fake.base_url, "TELEGRAM_FILE_BASE_URL": fake.base_file_url,
               "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
        with tempfile.TemporaryDirectory() as cwd:  # no .env of the checkout is read
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=cwd, env=env)
            try:
                await fake.wait_for(lambda message: message.chat_id == STARTUP_USER, timeout=120, after=mark)
                answered = time.perf_counter() - started
                rss, peak = memory_mb(process.pid)
            finally:
                process.send_signal(signal.SIGINT)
                await process.wait()
    return {"first_answer_s": round(answered, 2), "rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1)}


class Officer:
    """One officer talking to the conversation directly; counts the CPU of each turn."""

    def __init__(self, conversation: Conversation, user_id: int) -> None:
        self.conversation = conversation
        self.user_id = user_id
        self.last = Outcome()
        self.cpu: list[float] = []

    def send(self, timed: bool = True, **values: Any) -> Outcome:
        """One turn."""
        incoming = Incoming(channel="telegram", update_id=f"bench:{os.getpid()}:{next(_keys)}", user_id=self.user_id,
                            chat_id=self.user_id, is_private=True, **values)
        started = time.process_time()
        self.last = self.conversation.handle(incoming)
        if timed:
            self.cpu.append(time.process_time() - started)
        return self.last

    def press(self, label: str) -> Outcome:
        """Press the button of the last reply whose label contains `label`."""
        for reply in reversed(self.last.replies):
            for row in reply.options:
                for option in row:
                    if label in option.label:
                        return self.send(kind=InKind.option, data=option.data)
        raise AssertionError(f"no button {label!r}")

    def whole_report(self, code: str, values: list[Decimal]) -> None:
        """Join (not timed), report every item, submit, ask the status."""
        self.send(timed=False, kind=InKind.command, command="start", args=(code,))
        self.send(kind=InKind.command, command="report")
        for value in values:
            self.send(kind=InKind.text, text=format_number(value))
            self.press("Đúng, lưu")
        self.press("Nộp báo cáo")
        self.send(kind=InKind.command, command="status")


def turns(url: str, configs: list[BlocConfig], codes: dict[str, dict[str, str]],
          officers: int) -> dict[str, dict[str, float]]:
    """CPU per turn in each bloc: `officers` officers of each, alternating between the blocs."""
    engine = make_engine(url)
    conversation = Conversation(engine, clock=lambda: NOW)
    cpu: dict[str, list[float]] = {config.bloc.code: [] for config in configs}
    # Officers of the first units (unit 0 leads, 1 is deputy: the same for both blocs).
    for round_ in range(officers + 1):
        for config in configs:
            officer = config.officers[round_ * (len(config.officers) // len(config.units))]
            values = [Decimal(30000) if item.is_indicator else Decimal(1)
                      for item in unit_items(config, officer.unit)]
            person = Officer(conversation, 700_000 + round_ * 10 + configs.index(config))
            person.whole_report(codes[config.bloc.code][officer.code], values)
            if round_:  # the first round warms up (the first turn of a bloc parses its configuration)
                cpu[config.bloc.code].extend(person.cpu)
    engine.dispose()
    result = {}
    for config in configs:
        values = sorted(cpu[config.bloc.code])
        result[f"units_{len(config.units)}"] = {
            "turns": len(values),
            "cpu_ms_mean": round(sum(values) / len(values) * 1000, 2),
            "cpu_ms_median": round(values[len(values) // 2] * 1000, 2),
        }
    return result


def database(backend: str, folder: str) -> tuple[str, Callable[[], None] | None]:
    """A fresh database of the backend, and how to drop it (None for a SQLite file)."""
    if backend == "sqlite":
        return f"sqlite:///{folder}/scale.db", None
    return postgres_database()


async def main() -> None:
    """Build the blocs once per backend, then measure start-up and turns."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=4000)
    parser.add_argument("--officers-per-unit", type=int, default=2)
    parser.add_argument("--small-units", type=int, default=30)
    parser.add_argument("--officers", type=int, default=20, help="officers of each bloc reporting, timed")
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    started = time.perf_counter()
    small = big_bloc(args.small_units, args.officers_per_unit)
    large = big_bloc(args.units, args.officers_per_unit)
    configs = [small, large]
    result: dict[str, Any] = {"units": args.units, "officers": len(large.officers),
                              "build_configs_s": round(time.perf_counter() - started, 1)}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            url, drop = database(backend, folder)
            try:
                codes, timings = prepare(url, configs)
                # The start-up officer is the large bloc's last, away from those timed below.
                startup = await start_up(url, codes[large.bloc.code][large.officers[-1].code])
                per_turn = turns(url, configs, codes, args.officers)
            finally:
                if drop is not None:
                    drop()
        small_ms = per_turn[f"units_{args.small_units}"]["cpu_ms_mean"]
        large_ms = per_turn[f"units_{args.units}"]["cpu_ms_mean"]
        result[backend] = {**timings, "start_up": startup, "turn_cpu": per_turn,
                           "large_over_small": round(large_ms / small_ms, 3)}
        print(f"{backend}: start-up {startup}; CPU per turn {per_turn}; "
              f"{args.units} over {args.small_units} units: {large_ms / small_ms:.3f}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
