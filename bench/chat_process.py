"""Benchmark: the bot in a process of its own, as a deployment runs it, against an echo bot.

    python bench/chat_process.py [--officers 200] [--latency-officers 10] [--latency-waves 5]
                                 [--backends sqlite,postgresql] [--profile DIR]

bench/chat.py runs the fake Bot API server, the scripted officers and the bot in one
process. Here the fake server and the officers are this process, and the bot is the
real `python -m bot run` (TELEGRAM_MESSAGES_PER_SECOND=0: the send budget lifted, as the fake
server has no limit), inbox, outbox and sender included. The ceiling is a plain
python-telegram-bot echo bot, also in a process of its own (`--echo-bot`, polling the
same kind of fake server), answering the same number of turns per person. Figures:
replies per second and p50/p95 latency for `--officers` officers at once (their ratio
to the echo bot's), and for `--latency-officers` officers at once in
`--latency-waves` groups one after the other, and the CPU time the bot's process
spent per turn (user + system, from /proc/PID/stat, counted over the waves only: it
depends less on the machine's load than the rates do). `--no-echo` skips the echo
bot's runs. `--profile DIR` runs the bot under cProfile (one file per run in DIR; the
profile is written when the bot stops). `--count` runs it with every SQL statement and
commit counted (bench/counted_bot.py) and adds `statements_per_turn` and
`commits_per_turn` (over the waves only). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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

from bench.chat import figures  # noqa: E402
from bench.common import big_bloc, open_periods, postgres_database  # noqa: E402
from fakes.people import ScriptedOfficer  # noqa: E402
from fakes.telegram import FakeTelegram  # noqa: E402
from handlers.services.reporting import unit_items  # noqa: E402
from storage.blocs import load_bloc  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.invites import issue_invites  # noqa: E402


def echo_bot() -> None:
    """The echo bot's process: python-telegram-bot polling the server of TELEGRAM_API_BASE_URL."""
    from telegram import Update
    from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.message is not None
        await context.bot.send_message(update.effective_chat.id, update.message.text or "")

    application = (ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"])
                   .base_url(os.environ["TELEGRAM_API_BASE_URL"])
                   .base_file_url(os.environ["TELEGRAM_FILE_BASE_URL"]).concurrent_updates(256)
                   .rate_limiter(AIORateLimiter(overall_max_rate=10_000.0))
                   .connection_pool_size(64).build())
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(poll_interval=0.0, timeout=1, stop_signals=(signal.SIGINT, signal.SIGTERM))


class Process:
    """A bot in a process of its own, polling the fake server."""

    def __init__(self, fake: FakeTelegram, argv: list[str], env: dict[str, str]) -> None:
        self.fake = fake
        self.argv = argv
        self.env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
                    "TELEGRAM_FILE_BASE_URL": fake.base_file_url, "PYTHONPATH": str(ROOT),
                    "LOG_LEVEL": "WARNING", **env}
        self.process: asyncio.subprocess.Process | None = None

    def counts(self) -> dict[str, Any]:
        """The statements and commits a counted bot (bench/counted_bot.py) ran so far; {} if not counted."""
        path = self.env.get("BENCH_COUNTS_FILE")
        if path is None or self.process is None:
            return {}
        before = len(Path(path).read_text().splitlines()) if Path(path).exists() else 0
        self.process.send_signal(signal.SIGUSR1)
        for _ in range(500):
            lines = Path(path).read_text().splitlines() if Path(path).exists() else []
            if len(lines) > before:
                return dict(json.loads(lines[-1]))
            time.sleep(0.01)
        raise TimeoutError("the counted bot did not write its counts")

    def cpu_seconds(self) -> float:
        """The user and system CPU time the process has used so far (Linux's /proc)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def __aenter__(self) -> Process:
        """Start it and wait until it polls."""
        self._cwd = tempfile.TemporaryDirectory()  # no .env of the checkout is read
        self.process = await asyncio.create_subprocess_exec(*self.argv, cwd=self._cwd.name, env=self.env)
        await self.fake.wait_until(lambda: self.fake.updates.polls_waiting > 0, 120, what="the bot's first poll")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Stop it as an operator does (SIGINT)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self._cwd.cleanup()


async def echo_run(people: int, turns: int) -> dict[str, float]:
    """The ceiling: the echo bot's process answering `turns` messages for each person at once."""
    async with FakeTelegram() as fake, Process(fake, [sys.executable, __file__, "--echo-bot"], {}) as bot:
        scripted = [ScriptedOfficer(fake, fake.user(900_000 + n, f"E{n}"), f"E{n}", timeout=120)
                    for n in range(people)]

        async def talk(person: ScriptedOfficer, index: int) -> None:
            for turn in range(turns):
                await person.say(f"echo {index} {turn}", f"echo {index} {turn}")

        started, cpu = time.perf_counter(), bot.cpu_seconds()
        await asyncio.gather(*(talk(person, n) for n, person in enumerate(scripted)))
        elapsed, cpu = time.perf_counter() - started, bot.cpu_seconds() - cpu
    latencies = [value for person in scripted for value in person.latencies]
    return {**figures(latencies, len(latencies), elapsed), "cpu_ms_per_turn": round(cpu * 1000 / len(latencies), 2)}


async def bot_run(url: str, officers: int, waves: int, profile: Path | None,
                  count: bool = False) -> tuple[dict[str, float], int]:
    """`python -m bot run`: `officers` officers join and do a whole report at once, `waves` groups in turn."""
    migrate(url)
    engine = make_engine(url)
    config = big_bloc(officers * waves, periods=open_periods(dt.datetime.now(dt.UTC)))
    with session_scope(engine) as session:
        load_bloc(session=session, config=config, actor="bench")
        issued = issue_invites(session=session, bloc_id=1, now=dt.datetime.now(dt.UTC),
                               ttl=dt.timedelta(days=30), actor="bench")
    engine.dispose()
    codes = {invite.officer_code: invite.code for invite in issued}
    argv = [sys.executable, "-m", "bot", "run"]
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        out = profile / f"bot-{url.split(':')[0].split('+')[0]}-{officers}x{waves}-{int(time.time())}.prof"
        argv = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "bot", "run"]
    env = {"DATABASE_URL": url, "TELEGRAM_MESSAGES_PER_SECOND": "0"}
    counted = tempfile.NamedTemporaryFile(suffix=".counts", delete=False) if count else None
    if counted is not None:
        counted.close()
        argv = [sys.executable, "-m", "bench.counted_bot", "run"]
        env["BENCH_COUNTS_FILE"] = counted.name
    async with (FakeTelegram() as fake, Process(fake, argv, env) as bot):
        people = []
        for n, officer in enumerate(config.officers):
            person = ScriptedOfficer(fake, fake.user(800_000 + n, officer.name), officer.name, timeout=120)
            values = [(item.code, Decimal(30000) if item.is_indicator else Decimal(1))
                      for item in unit_items(config, officer.unit)]
            people.append((person, officer.code, values))

        async def report(person: ScriptedOfficer, code: str, values: list[tuple[str, Decimal]]) -> None:
            await person.say(f"/start {codes[code]}", "Kính chào")
            await person.report(values)

        elapsed = cpu = 0.0
        ran: dict[str, Any] = {}
        for wave in range(waves):
            group = people[wave * officers:(wave + 1) * officers]
            started, used, counts = time.perf_counter(), bot.cpu_seconds(), bot.counts()
            await asyncio.gather(*(report(*entry) for entry in group))
            elapsed, cpu = elapsed + time.perf_counter() - started, cpu + bot.cpu_seconds() - used
            if counted is not None:
                await asyncio.sleep(0.2)  # the last reply's record
                now = bot.counts()
                ran = {key: ran.get(key, 0) + value - counts[key] for key, value in now.items() if key != "texts"}
                if "texts" in now:  # BENCH_STATEMENT_TEXTS=1: the statements of the run, per turn
                    before = counts.get("texts", {})
                    for text, seen in now["texts"].items():
                        print(f"{(seen - before.get(text, 0)) / len(group) / 21:6.2f}  {text}", file=sys.stderr)
    if counted is not None:
        os.unlink(counted.name)
    latencies = [value for person, _, _ in people for value in person.latencies]
    result = {**figures(latencies, len(latencies), elapsed), "cpu_ms_per_turn": round(cpu * 1000 / len(latencies), 2)}
    for key in ("statements", "commits"):
        if key in ran:
            result[f"{key}_per_turn"] = round(ran[key] / len(latencies), 2)
    return result, len(people[0][0].latencies)


def database(backend: str, folder: str) -> tuple[str, Callable[[], None] | None]:
    """A fresh database of the backend, and how to drop it (None for a SQLite file)."""
    if backend == "sqlite":
        return f"sqlite:///{folder}/bench.db", None
    return postgres_database()


async def measure(backend: str, officers: int, waves: int, profile: Path | None, echo: bool,
                  count: bool = False) -> dict[str, Any]:
    """Our bot's process and the echo bot's with the same people at once and the same turns."""
    with tempfile.TemporaryDirectory() as folder:
        url, drop = database(backend, folder)
        try:
            ours, turns_each = await bot_run(url, officers, waves, profile, count)
        finally:
            if drop is not None:
                drop()
    if not echo:
        return {"bot": ours, "turns_per_officer": turns_each, "waves": waves}
    ceiling = await echo_run(officers, turns_each * waves)
    return {"bot": ours, "echo": ceiling, "turns_per_officer": turns_each, "waves": waves,
            "throughput_ratio": round(ours["replies_per_s"] / ceiling["replies_per_s"], 3)}


async def main() -> None:
    """Every backend at both sizes; the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--latency-officers", type=int, default=10)
    parser.add_argument("--latency-waves", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--profile", type=Path, help="run the bot under cProfile, its profiles in this folder")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo bot's runs")
    parser.add_argument("--count", action="store_true", help="count the bot's SQL statements and commits")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    for backend in args.backends.split(","):
        load = await measure(backend, args.officers, 1, args.profile, not args.no_echo, args.count)
        light = await measure(backend, args.latency_officers, args.latency_waves, args.profile, not args.no_echo,
                              args.count)
        result[backend] = {f"officers_{args.officers}": load, f"officers_{args.latency_officers}": light}
        print(f"{backend}: {args.officers} officers: bot {load['bot']}, echo {load.get('echo')}, ratio "
              f"{load.get('throughput_ratio')}; {args.latency_officers} officers x {args.latency_waves}: bot "
              f"{light['bot']}, echo {light.get('echo')}; load average {os.getloadavg()[0]:.2f}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1:] == ["--echo-bot"]:
        echo_bot()
    else:
        asyncio.run(main())
