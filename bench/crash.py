"""Benchmark: `kill -9` the real bot at random and at dangerous moments; nothing is lost.

    python bench/crash.py [--runs 50] [--backend sqlite|postgresql] [--kills 2]
                          [--channel telegram|zalo] [--mode polling|webhook]
                          [--officers 7] [--think-ms 100] [--seed N]

The fake Bot API server runs in this process; the bot is the real `python -m bot run`
in a process of its own (TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL,
TELEGRAM_FILE_BASE_URL and DATABASE_URL pointing at the fake and at a fresh database
per run, copied from a template holding the seed bloc, its reporting window moved
around today, and the officers' invites). In each run the seed's reporters join with
their invite and report every item of their unit (each value typed, confirmed with
the button, then the report submitted) at once, while the bot is killed with SIGKILL
`--kills` times and started again.

With `--channel zalo` the officers are on Zalo instead (the fake Zalo server,
ZALO_BOT_TOKEN and ZALO_API_BASE_URL; an option is chosen by typing its number), and
with `--mode webhook` the fake Zalo server POSTs each event to the bot's webhook
(`run --webhook`, ZALO_WEBHOOK_SECRET) and tries a refused or failed POST again
every 0,1 s for a minute, instead of the bot's long poll. (Telegram is measured in
polling mode only.) Each kill is one of:

- `random`: at a random moment;
- `acknowledged`: Telegram: the moment the fake server sees a getUpdates whose offset
  acknowledges an update (in the server's handler, before it answers). Zalo polling
  has no offset: the moment the fake server has written getUpdates' answer with an
  event (the event is gone from the platform; the bot has it in flight or just read).
  Zalo webhook: the moment the bot answered an event's POST with 200;
- `send_held_delivered`: while a sendMessage is held by the fake (the turn that
  owes it has committed); the held call then reaches the platform, so the
  restarted bot may send it again (a duplicated message, counted apart);
- `send_held_lost`: the same, but the held call then fails: the reply exists only
  in the outbox (between the turn's commit and its send).

At the end of a run, once the bot owes nothing: every value an officer confirmed with
the button is in the Entry table (else a lost value), every message an officer sent
got its answer (else a lost reply: an officer waits `--reply-timeout` seconds), no
item was saved twice (Entry rows, audit rows of one confirmation, a submission
handed in twice), every inbox row processed and every outbox row finished. Messages
the platform received twice are counted, not failed: the outbox is at-least-once.
On Zalo polling, the events the platform handed out that never reached the inbox are
counted apart too (`lost_in_handout`: the bot was killed between getUpdates' answer
and the commit of the event; Zalo's polling has no offset to acknowledge with, so the
platform never hands them out again; their officers' replies are lost replies too).
A lost reply that arrived after the officer gave up is counted again as `late_replies`,
and the events the fake Zalo webhook gave up POSTing as `dropped_by_webhook`.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, func, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.common import open_periods  # noqa: E402
from bot.loading import load_results_file, read_yaml  # noqa: E402
from bot.terminal import plain  # noqa: E402
from fakes.people import ScriptedOfficer, ScriptedZaloOfficer  # noqa: E402
from fakes.telegram import FakeTelegram, JSONDict, SentMessage  # noqa: E402
from fakes.zalo import FakeZalo, SentZaloMessage  # noqa: E402
from handlers.services.reporting import unit_items  # noqa: E402
from rules.config import BlocConfig, OfficerRole  # noqa: E402
from rules.numbers import format_number  # noqa: E402
from storage.blocs import load_bloc  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.invites import issue_invites  # noqa: E402
from storage.models import AuditLog, Entry, InboxMessage, OutboxMessage, Submission  # noqa: E402

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KINDS = ("random", "acknowledged", "send_held_delivered", "send_held_lost")
CHANNELS = ("telegram", "zalo")
MODES = ("polling", "webhook")
FIRST_USER = 700_001
ZALO_SECRET = "crash-bench-webhook-secret"  # noqa: S105 - the fake's webhook secret


# -- the bloc and the databases ------------------------------------------------


def open_bloc(now: dt.datetime) -> BlocConfig:
    """The seed bloc with its year-end reporting window open around `now` (the bot runs on the real clock)."""
    data = read_yaml(ROOT / "examples" / "khoi3-2018.yaml")
    data["periods"] = open_periods(now)
    return BlocConfig.model_validate(data)


@dataclass(frozen=True)
class Officer:
    """A reporter: the invite, the unit and the values to report (item code → value)."""

    code: str
    name: str
    unit: str
    invite: str
    values: tuple[tuple[str, Decimal], ...]


def load_world(engine: Engine, config: BlocConfig, now: dt.datetime) -> list[Officer]:
    """Load the bloc and issue the invites; the seed's reporters with their values."""
    with session_scope(engine) as session:
        load_bloc(session=session, config=config, actor="bench")
        issued = issue_invites(session=session, bloc_id=1, now=now, ttl=dt.timedelta(days=30), actor="bench")
    codes = {invite.officer_code: invite.code for invite in issued}
    results = load_results_file(ROOT / "examples" / "khoi3-2018-results.yaml")
    values = {entry.unit: {**entry.indicators, **entry.criteria} for entry in results.results}
    return [Officer(code=officer.code, name=officer.name, unit=officer.unit, invite=codes[officer.code],
                    values=tuple((item.code, values[officer.unit].get(item.code, Decimal(0)))
                                 for item in unit_items(config, officer.unit)))
            for officer in config.officers if officer.role is OfficerRole.reporter]


class Databases:
    """A template database prepared once (migrated, the bloc, the invites), a fresh copy per run."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.officers: list[Officer] = []
        self._template: str | None = None
        self._names: list[str] = []
        self._admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT") \
            if backend == "postgresql" else None

    def _pg_url(self, name: str) -> str:
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def prepare(self, config: BlocConfig, now: dt.datetime) -> None:
        """Build the template."""
        if self._admin is None:
            path = self.folder / "template.db"
            url = f"sqlite:///{path}"
        else:
            name = f"kt_crash_{uuid.uuid4().hex[:8]}_tpl"
            with self._admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self._names.append(name)
            url = self._pg_url(name)
        migrate(url)
        engine = make_engine(url)
        try:
            self.officers = load_world(engine, config, now)
        finally:
            engine.dispose()
        if self._admin is None:
            connection = sqlite3.connect(path)  # the WAL folded into the file, which is then copied alone
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            self._template = str(path)
        else:
            self._template = name

    @contextlib.contextmanager
    def fresh(self, number: int) -> Iterator[str]:
        """A copy of the template for one run; its URL. Dropped after (kept on SQLite in the run folder)."""
        assert self._template is not None
        if self._admin is None:
            path = self.folder / f"run{number}.db"
            shutil.copyfile(self._template, path)
            yield f"sqlite:///{path}"
            return
        name = f"{self._template[:-4]}_r{number}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"'))
        try:
            yield self._pg_url(name)
        finally:
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop the template."""
        if self._admin is not None:
            with self._admin.connect() as connection:
                for name in self._names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self._admin.dispose()


# -- the platform ----------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on this machine a moment ago (for the bot's webhook server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


Person = ScriptedOfficer | ScriptedZaloOfficer


class Platform:
    """The fake platform of one run, Telegram's or Zalo's, and what the bench does with it."""

    def __init__(self, channel: str, mode: str) -> None:
        if channel == "telegram" and mode != "polling":
            raise ValueError("the crash bench runs Telegram in polling mode only")
        self.channel = channel
        self.mode = mode
        self.telegram = FakeTelegram() if channel == "telegram" else None
        # Zalo's webhook: a refused or failed POST is tried again every 0,1 s for a minute (the bot restarts).
        self.zalo = FakeZalo(webhook_retries=600, webhook_retry_delay=0.1) if channel == "zalo" else None
        self.port = free_port() if mode == "webhook" else 0

    async def __aenter__(self) -> Platform:
        await self.fake.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.fake.stop()

    @property
    def fake(self) -> FakeTelegram | FakeZalo:
        """The fake server."""
        fake = self.telegram or self.zalo
        assert fake is not None
        return fake

    @property
    def calls(self) -> list[tuple[str, JSONDict]]:
        """Every call the bot made, in order."""
        return self.fake.calls

    def env(self) -> dict[str, str]:
        """The bot's settings that point it at this platform."""
        if self.telegram is not None:
            return {"TELEGRAM_BOT_TOKEN": self.telegram.token, "TELEGRAM_API_BASE_URL": self.telegram.base_url,
                    "TELEGRAM_FILE_BASE_URL": self.telegram.base_file_url}
        assert self.zalo is not None
        env = {"ZALO_BOT_TOKEN": self.zalo.token, "ZALO_API_BASE_URL": self.zalo.base_url}
        if self.mode == "webhook":
            env |= {"ZALO_WEBHOOK_SECRET": ZALO_SECRET, "WEBHOOK_LISTEN": "127.0.0.1",
                    "WEBHOOK_PORT": str(self.port)}
        return env

    def arguments(self) -> list[str]:
        """`python -m bot run`'s arguments."""
        return ["--webhook", f"http://127.0.0.1:{self.port}"] if self.mode == "webhook" else []

    @property
    def up_call(self) -> str:
        """The call a (new) process makes once it is up: its first poll, or setting its webhook."""
        return "setWebhook" if self.mode == "webhook" else "getUpdates"

    def person(self, number: int, officer: Officer, *, timeout: float, think: float) -> Person:
        """A scripted officer on this platform."""
        if self.telegram is not None:
            return ScriptedOfficer(self.telegram, self.telegram.user(FIRST_USER + number, officer.name),
                                   officer.name, timeout=timeout, think=think)
        assert self.zalo is not None
        return ScriptedZaloOfficer(self.zalo, self.zalo.user(officer.name, str(FIRST_USER + number)),
                                   officer.name, timeout=timeout, think=think)

    def on_acknowledged(self, callback: Callable[[], None] | None) -> None:
        """Call `callback` at each moment the platform takes an update as delivered; None removes it."""
        if self.telegram is not None:
            self.telegram.on_acknowledged(None if callback is None else lambda _updates: callback())
        elif self.zalo is not None and self.mode == "webhook":
            self.zalo.on_webhook_accepted(None if callback is None else lambda _event: callback())
        elif self.zalo is not None:
            self.zalo.on_handed_out(None if callback is None else lambda _event: callback())

    def handed_out(self) -> list[str]:
        """Zalo polling: the message ids of every event getUpdates handed out (it hands none out twice)."""
        if self.zalo is None:
            return []
        return [str(event.get("message", {}).get("message_id", "")) for event in self.zalo.handed_out]

    def duplicated_messages(self) -> int:
        """Messages the platform received twice in a row in one chat (same text and buttons)."""
        count = 0
        if self.zalo is not None:
            for chat in self.zalo.by_chat.values():
                previous: SentZaloMessage | None = None
                for sent in chat:
                    if previous is not None and (sent.text, sent.photo, sent.caption) == (
                            previous.text, previous.photo, previous.caption):
                        count += 1
                    previous = sent
            return count
        assert self.telegram is not None
        for messages in self.telegram.state.by_chat.values():
            last: SentMessage | None = None
            for message in messages:
                if message.is_edit:
                    continue
                if last is not None and (message.text, message.reply_markup) == (last.text, last.reply_markup):
                    count += 1
                last = message
        return count

    def dropped_by_webhook(self) -> int:
        """Zalo webhook: events the platform gave up POSTing (refused or unreachable for a minute)."""
        return 0 if self.zalo is None else len(self.zalo.updates.dropped)

    def duplicated_button_answers(self) -> int:
        """Button presses answered twice (Telegram; Zalo has no buttons)."""
        if self.telegram is None:
            return 0
        attempts = self.telegram.methods.answer_attempts
        return sum(count - 1 for count in attempts.values() if count > 1)

    def answered(self) -> set[str]:
        """The button presses the platform accepted an answer to (Telegram)."""
        return set() if self.telegram is None else {a.callback_query_id for a in self.telegram.callback_answers}


# -- the bot's process ---------------------------------------------------------


class BotProcess:
    """`python -m bot run` against the fake server and one database; killed and started again."""

    def __init__(self, platform: Platform, url: str, log_path: Path, *, extra_env: dict[str, str] | None = None,
                 ) -> None:
        self.platform = platform
        self.url = url
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.refused_starts = 0
        self._cwd = tempfile.mkdtemp(prefix="kt-crash-")  # no .env of the checkout is read

    @property
    def pid(self) -> int:
        """The running process's id."""
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        """Start the bot (it migrates, then polls the fake server)."""
        env = {**os.environ, "DATABASE_URL": self.url, **self.platform.env(),
               "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", **self.extra_env}
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1} at {time.time():.3f}\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", *self.platform.arguments(), cwd=self._cwd, env=env,
                stdout=log, stderr=log)
        self.starts += 1

    def kill_now(self) -> None:
        """SIGKILL, at once (callable from inside the fake server's handler)."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)

    async def kill(self) -> None:
        """SIGKILL and reap."""
        self.kill_now()
        if self.process is not None:
            await self.process.wait()

    async def watch(self) -> None:
        """Start the bot again when it stops by itself (a start refused while the killed one's lock lingers)."""
        while True:
            await asyncio.sleep(0.2)
            process = self.process
            if process is not None and process.returncode is not None and process.returncode != -signal.SIGKILL:
                self.refused_starts += 1
                if self.refused_starts > 20:
                    raise RuntimeError(f"the bot does not start; see {self.log_path}")
                await asyncio.sleep(0.5)
                await self.start()

    async def stop(self) -> None:
        """SIGINT, as an operator stops it; SIGKILL if it does not stop within 20 s."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            await self.kill()

    def cleanup(self) -> None:
        """Remove the working folder."""
        shutil.rmtree(self._cwd, ignore_errors=True)


# -- the officers ---------------------------------------------------------------


@dataclass
class Reporter:
    """An officer reporting through the fake server; what was confirmed and what got no answer."""

    person: Person
    officer: Officer
    confirmed: dict[str, Decimal] = field(default_factory=dict)
    submitted: bool = False
    lost: list[str] = field(default_factory=list)
    awaited: tuple[str, int] | None = None  # at the lost reply: what was awaited, how many such had come

    def matching(self, expect: str) -> int:
        """How many messages to this officer so far contain `expect`."""
        person = self.person
        texts = [message.text for message in person.fake.messages_to(person.user)] \
            if isinstance(person, ScriptedZaloOfficer) else [message.text for message in person.fake.messages_to(
                person.user)]
        return sum(1 for text in texts if text is not None and expect in plain(text))

    def came_late(self) -> bool:
        """Whether the reply given up on arrived after all (once the bot owed nothing)."""
        return self.awaited is not None and self.matching(self.awaited[0]) > self.awaited[1]

    async def run(self) -> None:
        """Join, report every item (typed, confirmed), submit. Stops at the first reply that never came."""
        person = self.person
        expect = ""
        try:
            expect = "Kính chào"
            await person.say(f"/start {self.officer.invite}", expect)
            expect = "Mục 1/"
            await person.say("/report", expect)
            for index, (code, value) in enumerate(self.officer.values):
                expect = f"Số liệu vừa nhập: {format_number(value)}"
                await person.say(format_number(value), "Số liệu vừa nhập")
                expect = f"Mục {index + 2}/" if index + 1 < len(self.officer.values) else "Tổng hợp"
                await person.press("Đúng, lưu", expect)
                self.confirmed[code] = value
            expect = "Đã nộp báo cáo"
            await person.press("Nộp báo cáo", expect)
            self.submitted = True
        except TimeoutError:
            last = person.transcript[-1][1] if person.transcript else "?"
            self.lost.append(f"{self.officer.code}: no answer to {last!r}")
            self.awaited = (expect, self.matching(expect))


# -- one run -------------------------------------------------------------------


@dataclass
class RunResult:
    """What one run found."""

    kills: Counter[str] = field(default_factory=Counter)
    confirmed: int = 0
    lost_values: int = 0
    lost_replies: int = 0
    duplicated_entries: int = 0
    duplicated_audit_rows: int = 0
    duplicated_submissions: int = 0
    duplicated_messages: int = 0
    duplicated_button_answers: int = 0
    lost_in_handout: int = 0
    late_replies: int = 0
    dropped_by_webhook: int = 0
    unprocessed_updates: int = 0
    failed_turns: int = 0
    undelivered: int = 0
    refused_starts: int = 0
    longest_wait_s: float = 0.0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


class Killer:
    """Kills the bot at the planned moments and starts it again."""

    def __init__(self, platform: Platform, bot: BotProcess, rng: random.Random) -> None:
        self.platform = platform
        self.fake = platform.fake
        self.bot = bot
        self.rng = rng
        self.kills: Counter[str] = Counter()

    async def _alive(self) -> None:
        """Wait until the (new) process polls (or set its webhook): it is up and may be killed meaningfully."""
        seen = len(self.platform.calls)
        up = self.platform.up_call
        await self.fake.wait_until(
            lambda: any(method == up for method, _ in self.platform.calls[seen:]), 60, what=f"a new {up}")

    async def _restart(self) -> None:
        await self.bot.kill()
        await asyncio.sleep(self.rng.uniform(0.0, 0.3))
        await self.bot.start()

    async def one(self, kind: str) -> None:
        """One kill of `kind` (waits for its moment), then the restart."""
        await self._alive()
        platform, fake = self.platform, self.fake
        if kind == "random":
            await asyncio.sleep(self.rng.uniform(0.05, 1.0))
        elif kind == "acknowledged":
            skip = self.rng.randrange(0, 6)
            moment = asyncio.get_running_loop().create_future()

            def acknowledged() -> None:
                nonlocal skip
                if skip > 0:
                    skip -= 1
                    return
                self.bot.kill_now()  # inside the server's handler
                platform.on_acknowledged(None)
                if not moment.done():
                    moment.set_result(None)

            platform.on_acknowledged(acknowledged)
            try:
                await asyncio.wait_for(moment, 60)
            finally:
                platform.on_acknowledged(None)
        else:
            await asyncio.sleep(self.rng.uniform(0.0, 0.5))
            hold = fake.hold("sendMessage")
            try:
                await asyncio.wait_for(hold.arrived.wait(), 60)
                await asyncio.sleep(self.rng.uniform(0.0, 0.05))  # more sends may queue up behind it
                self.bot.kill_now()
                await self.bot.kill()
                if kind == "send_held_lost":
                    fake.fail_next("sendMessage", status=502, count=hold.held)
            finally:
                hold.release()
        self.kills[kind] += 1
        await self._restart()


async def one_run(url: str, officers: list[Officer], kinds: list[str], *, rng: random.Random, think: float,
                  reply_timeout: float, log_path: Path, extra_env: dict[str, str] | None = None,
                  channel: str = "telegram", mode: str = "polling") -> RunResult:
    """The officers reporting on the database at `url`, the bot killed at the moments of `kinds`; the checks."""
    result = RunResult()
    started = time.perf_counter()
    async with Platform(channel, mode) as platform:
        bot = BotProcess(platform, url, log_path, extra_env=extra_env)
        reporters = [Reporter(platform.person(n, officer, timeout=reply_timeout, think=think), officer)
                     for n, officer in enumerate(officers)]
        killer = Killer(platform, bot, rng)
        await bot.start()
        watcher = asyncio.create_task(bot.watch())
        try:
            people = asyncio.gather(*(reporter.run() for reporter in reporters))

            async def kill_all() -> None:
                for kind in kinds:
                    await killer.one(kind)

            killing = asyncio.create_task(kill_all())
            await people
            if not killing.done():  # the reports ended first: the kills left are not made
                killing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await killing
            await settle(url, timeout=reply_timeout)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await bot.stop()
            bot.cleanup()
        result.kills = killer.kills
        result.refused_starts = bot.refused_starts
        result.duplicated_messages = platform.duplicated_messages()
        result.duplicated_button_answers = platform.duplicated_button_answers()
        result.dropped_by_webhook = platform.dropped_by_webhook()
        result.late_replies = sum(1 for reporter in reporters if reporter.came_late())
        result.longest_wait_s = round(max((v for r in reporters for v in r.person.latencies), default=0.0), 2)
        answered = platform.answered()
        handed_out = platform.handed_out()
    check(url, reporters, result, answered, handed_out=handed_out)
    result.seconds = round(time.perf_counter() - started, 1)
    return result


async def settle(url: str, *, timeout: float) -> None:
    """Wait until every kept update is processed and every owed message finished."""
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                waiting = session.exec(select(func.count()).select_from(InboxMessage)
                                       .where(InboxMessage.processed_at.is_(None))).one()  # type: ignore[union-attr]
                owed = session.exec(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.state == "pending")).one()
            if not waiting and not owed:
                return
            await asyncio.sleep(0.2)
    finally:
        engine.dispose()


def check(url: str, reporters: list[Reporter], result: RunResult, answered: set[str], *,
          handed_out: list[str] | None = None) -> None:
    """Compare what the officers were told with what the database holds.

    `answered`: the button presses the platform accepted an answer to. A second
    answer of one press (sent again after a kill) is refused by the platform: it
    is a duplicate, not a message lost. `handed_out`: the Zalo message ids the
    platform handed out by getUpdates (counted when not in the inbox).
    """
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            entries = session.exec(select(Entry.item_code, Entry.value, Entry.submission_id)).all()
            audits = session.exec(select(AuditLog.unit_code, AuditLog.action, AuditLog.target, AuditLog.after)
                                  .where(AuditLog.actor != "bench")).all()
            submissions = session.exec(select(Submission.status, Submission.version)).all()
            result.unprocessed_updates = int(session.exec(
                select(func.count()).select_from(InboxMessage)
                .where(InboxMessage.processed_at.is_(None))).one())  # type: ignore[union-attr]
            result.failed_turns = int(session.exec(
                select(func.count()).select_from(InboxMessage).where(InboxMessage.outcome == "failed")).one())
            unfinished = session.exec(select(OutboxMessage.payload).where(OutboxMessage.state != "delivered")).all()
            unit_of_submission = dict(session.exec(text(  # type: ignore[call-overload]
                "SELECT submission.id, unit.code FROM submission JOIN unit ON unit.id = submission.unit_id")).all())
            kept = set(session.exec(select(InboxMessage.update_id)).all()) if handed_out else set()
    finally:
        engine.dispose()
    result.lost_in_handout = sum(1 for message_id in handed_out or [] if message_id not in kept)
    # A button's answer alone, refused because it was answered before the kill, is not lost; a reply
    # that carried one is.
    result.undelivered = sum(1 for found in map(json.loads, unfinished)
                             if "reply" in found or str(found.get("answer")) not in answered)
    stored = {(unit_of_submission[submission], code): value for code, value, submission in entries}
    per_item = Counter((unit_of_submission[submission], code) for code, _value, submission in entries)
    result.duplicated_entries = sum(count - 1 for count in per_item.values() if count > 1)
    sets = Counter((unit, target) for unit, action, target, _after in audits if action.endswith(".set"))
    result.duplicated_audit_rows = sum(count - 1 for count in sets.values() if count > 1)
    handed_in = Counter(unit for unit, action, _target, after in audits
                        if action == "submission.status" and after and json.loads(after) == "submitted")
    result.duplicated_submissions = sum(count - 1 for count in handed_in.values() if count > 1) + sum(
        1 for status, version in submissions if status == "submitted" and version > 1)
    for reporter in reporters:
        unit = reporter.officer.unit
        for code, value in reporter.confirmed.items():
            result.confirmed += 1
            if stored.get((unit, code)) != value:
                result.lost_values += 1
                result.problems.append(f"{unit} {code}: confirmed {value}, stored {stored.get((unit, code))}")
        if reporter.submitted and not handed_in.get(unit):
            result.lost_values += 1
            result.problems.append(f"{unit}: told 'submitted', not handed in")
        result.lost_replies += len(reporter.lost)
        result.problems.extend(reporter.lost)
    if result.unprocessed_updates or result.failed_turns or result.undelivered:
        result.problems.append(f"{result.unprocessed_updates} updates unprocessed, {result.failed_turns} failed "
                               f"turns, {result.undelivered} messages not delivered")


def plan(rng: random.Random, runs: int, kills: int, kinds: tuple[str, ...] = KINDS) -> list[list[str]]:
    """The kinds of each run's kills: every kind as often as the others, in a random order."""
    every = [kinds[index % len(kinds)] for index in range(runs * kills)]
    rng.shuffle(every)
    return [every[run * kills:(run + 1) * kills] for run in range(runs)]


def summary(backend: str, results: list[RunResult], elapsed: float, *, channel: str = "telegram",
            mode: str = "polling") -> dict[str, Any]:
    """The figures of every run together."""
    kills: Counter[str] = Counter()
    for result in results:
        kills.update(result.kills)
    total: dict[str, Any] = {"backend": backend, "channel": channel, "mode": mode, "runs": len(results),
                             "kills": sum(kills.values()),
                             "kills_by_kind": dict(sorted(kills.items()))}
    for name in ("confirmed", "lost_values", "lost_replies", "duplicated_entries", "duplicated_audit_rows",
                 "duplicated_submissions", "duplicated_messages", "duplicated_button_answers", "lost_in_handout",
                 "late_replies", "dropped_by_webhook",
                 "unprocessed_updates", "failed_turns", "undelivered", "refused_starts"):
        total[name] = sum(getattr(result, name) for result in results)
    waits = sorted(result.longest_wait_s for result in results)
    total["longest_wait_s"] = waits[-1] if waits else 0.0
    total["median_longest_wait_s"] = waits[len(waits) // 2] if waits else 0.0
    total["runs_with_problems"] = sum(1 for result in results if result.problems)
    total["seconds"] = round(elapsed, 1)
    total["met"] = not (total["lost_values"] or total["lost_replies"] or total["duplicated_entries"]
                        or total["duplicated_audit_rows"] or total["duplicated_submissions"])
    return total


async def bench(backend: str, runs: int, kills: int, *, seed: int, officers: int, think: float,
                reply_timeout: float, keep: Path | None = None, channel: str = "telegram", mode: str = "polling",
                kinds: tuple[str, ...] = KINDS,
                on_run: Callable[[int, RunResult], None] | None = None) -> dict[str, Any]:
    """Every run on one backend; the figures."""
    rng = random.Random(seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kt-crash-") as temporary:
        folder = keep or Path(temporary)
        databases = Databases(backend, folder)
        now = dt.datetime.now(dt.UTC)
        databases.prepare(open_bloc(now), now)
        results = []
        try:
            for number, planned in enumerate(plan(rng, runs, kills, kinds), start=1):
                with databases.fresh(number) as url:
                    result = await one_run(url, databases.officers[:officers], planned, rng=rng, think=think,
                                           reply_timeout=reply_timeout, log_path=folder / f"run{number}.log",
                                           channel=channel, mode=mode)
                results.append(result)
                if on_run is not None:
                    on_run(number, result)
        finally:
            databases.close()
    return summary(backend, results, time.perf_counter() - started, channel=channel, mode=mode)


def main() -> None:
    """Parse the arguments, run, print one line per run and the figures last."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--kills", type=int, default=2, help="kills per run")
    parser.add_argument("--channel", choices=CHANNELS, default="telegram", help="where the officers are")
    parser.add_argument("--mode", choices=MODES, default="polling",
                        help="how the bot gets updates (webhook: Zalo only)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="the kinds of kills, separated by commas")
    parser.add_argument("--officers", type=int, default=7, help="reporters at once (the seed has 7)")
    parser.add_argument("--think-ms", type=float, default=100, help="each officer's pause before a message")
    parser.add_argument("--reply-timeout", type=float, default=120,
                        help="seconds an officer waits for an answer before it counts as lost")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", type=Path, help="keep the runs' logs and SQLite files in this folder")
    args = parser.parse_args()
    kinds = tuple(kind for kind in args.kinds.split(",") if kind)
    if not kinds or set(kinds) - set(KINDS):
        parser.error(f"--kinds: some of {', '.join(KINDS)}")
    if args.channel == "telegram" and args.mode == "webhook":
        parser.error("--mode webhook: Zalo only (--channel zalo)")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)

    def report(number: int, result: RunResult) -> None:
        kinds = ",".join(sorted(result.kills.elements()))
        print(f"run {number}: {result.seconds} s, kills {kinds or '-'}, confirmed {result.confirmed}, "
              f"lost values {result.lost_values}, lost replies {result.lost_replies}, duplicated entries "
              f"{result.duplicated_entries + result.duplicated_audit_rows + result.duplicated_submissions}, "
              f"duplicated messages {result.duplicated_messages}, longest wait {result.longest_wait_s} s"
              + (f", lost in the handout {result.lost_in_handout}" if result.lost_in_handout else "")
              + (f", of the lost replies arrived late {result.late_replies}" if result.late_replies else "")
              + (f", dropped by the webhook {result.dropped_by_webhook}" if result.dropped_by_webhook else "")
              + (f"; {'; '.join(result.problems)}" if result.problems else ""), flush=True)

    figures = asyncio.run(bench(args.backend, args.runs, args.kills, seed=args.seed, officers=args.officers,
                                think=args.think_ms / 1000, reply_timeout=args.reply_timeout, keep=args.keep,
                                channel=args.channel, mode=args.mode, kinds=kinds, on_run=report))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
