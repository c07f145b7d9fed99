"""Benchmark: replicas of the real bot behind HAProxy on one PostgreSQL database, one killed mid-run.

    python bench/replicas.py [--officers 200] [--replicas 3] [--kill-at 0.4] [--runs 1,3,3-kill]

Each run gets a fresh PostgreSQL database (dropped after) with a bloc of
`--officers` units of one officer each, its reporting window open today. N
processes of `python -m bot run --webhook http://127.0.0.1:<lb port>` (the real
bot, each with its own WEBHOOK_PORT, the rate limit lifted with
TELEGRAM_MESSAGES_PER_SECOND=0) sit behind HAProxy (a configuration written for
the run's ports, like deploy/haproxy.cfg: health checks on /healthz, a failed
request retried on another replica). The fake Bot API server (fakes/telegram)
runs in this process and POSTs each update to the load balancer, as Telegram
does: up to 40 at once, one at a time per chat, again after a 5xx or a refused
connection. Every officer joins with the invite and does a whole report at the
same time.

Runs: `1` and `3` measure throughput with one and with three replicas; `3-kill`
kills one of three replicas with SIGKILL once `--kill-at` of the updates are
delivered. After each run it checks the database and the fake server's record:
every confirmed value in the Entry table, no entry twice, every update stored,
processed once and answered, every message owed delivered, every pressed button
answered, and each chat's messages in the order the turns decided them (a
message sent twice in a row, the other replica's resend of what the dead one
sent without recording it, is counted, not an error). The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import csv
import datetime as dt
import io
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import Engine, func, text  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from bench.common import postgres_database  # noqa: E402
from bot.loading import read_yaml  # noqa: E402
from fakes.people import ScriptedOfficer  # noqa: E402
from fakes.telegram import FakeTelegram  # noqa: E402
from handlers.markup import for_buttons  # noqa: E402
from handlers.services.reporting import unit_items  # noqa: E402
from rules.config import BlocConfig  # noqa: E402
from storage.blocs import load_bloc  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.invites import issue_invites  # noqa: E402
from storage.models import Entry, InboxMessage, OutboxMessage, Submission, Unit  # noqa: E402

SECRET = "replicas-webhook-secret"  # noqa: S105 (the fake server's, for this run only)


def haproxy_binary() -> str | None:
    """HAProxy from Debian's package (in /usr/sbin, which is not on every PATH)."""
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return found if Path(found).exists() else None


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def haproxy_config(*, port: int, stats_port: int, servers: Sequence[int], check_ms: int = 500) -> str:
    """deploy/haproxy.cfg for a test or a benchmark: plain HTTP on 127.0.0.1, the ports given, quick checks."""
    lines = [
        "global",
        "    maxconn 2048",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 30s",
        "    timeout server 15s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on all-retryable-errors",
        "    timeout check 5s",
        "frontend telegram",
        f"    bind 127.0.0.1:{port}",
        "    default_backend bot",
        "backend bot",
        "    balance roundrobin",
        "    option httpchk",
        "    http-check send meth GET uri /healthz",
        "    http-check expect status 200",
        f"    default-server check inter {check_ms}ms fall 3 rise 1",
        *(f"    server r{index} 127.0.0.1:{server}" for index, server in enumerate(servers)),
        "frontend stats",
        f"    bind 127.0.0.1:{stats_port}",
        "    stats enable",
        "    stats uri /stats",
    ]
    return "\n".join(lines) + "\n"


def reporting_bloc(units: int, today: dt.date) -> BlocConfig:
    """The seed's pact with `units` units of one officer each (two indicators each), reporting open today.

    The replicas run on the real clock, so the period is moved around today;
    its deadline is far enough that no reminder is due during a run.
    """
    data = copy.deepcopy(read_yaml(ROOT / "examples" / "khoi3-2018.yaml"))
    data["bloc"]["code"] = f"REPL{units}"
    data["units"] = [{"code": f"U{n:04d}", "name": f"Sở số {n}", "short_name": f"S{n}"} for n in range(units)]
    data["officers"] = [{"code": f"o{n:04d}", "name": f"Cán bộ {n}", "unit": f"U{n:04d}"} for n in range(units)]
    data["indicators"] = [
        {"code": f"I{n:04d}-{k}", "unit": f"U{n:04d}", "criterion": "I.1", "text": f"Chỉ tiêu {k}",
         "measure": "hộ", "target": "29.945"}
        for n in range(units) for k in (1, 2)
    ]
    data["roles"] = {"leader": "U0000", "deputy": "U0001"}
    opens, deadline = today - dt.timedelta(days=5), today + dt.timedelta(days=60)
    data["periods"] = [{
        "year": today.year, "kind": "year-end",
        "reporting": {"opens": f"{opens}T08:00:00", "deadline": f"{deadline}T17:00:00"},
        "review": {"opens": f"{deadline}T17:00:00", "deadline": f"{deadline + dt.timedelta(days=10)}T17:00:00"},
        "votes": {"opens": f"{deadline + dt.timedelta(days=14)}T08:00:00",
                  "deadline": f"{deadline + dt.timedelta(days=14)}T17:00:00"},
    }]
    return BlocConfig.model_validate(data)


@dataclass
class Replica:
    """One `python -m bot run --webhook` process."""

    index: int
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None
    killed: bool = False


class Cluster:
    """HAProxy and N replicas of the real bot on one database, webhooks from a fake Bot API server.

    `async with Cluster(...)` returns once HAProxy sees every replica healthy
    and the webhook is set; leaving stops the replicas (SIGTERM) and HAProxy.
    """

    def __init__(self, *, fake: FakeTelegram, database_url: str, replicas: int, folder: Path,
                 lease_seconds: float | None = None, check_ms: int = 500) -> None:
        binary = haproxy_binary()
        if binary is None:
            raise RuntimeError("HAProxy is not installed (apt-get install haproxy)")
        self.haproxy_binary = binary
        self.fake = fake
        self.database_url = database_url
        self.folder = folder
        self.lease_seconds = lease_seconds
        self.check_ms = check_ms
        self.port, self.stats_port = free_port(), free_port()
        self.replicas = [Replica(index, free_port(), folder / f"replica-{index}.log") for index in range(replicas)]
        self.haproxy: asyncio.subprocess.Process | None = None
        self.http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """The load balancer's base URL, given to every replica as `--webhook`."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Cluster:
        self.http = aiohttp.ClientSession()
        config = self.folder / "haproxy.cfg"
        config.write_text(haproxy_config(port=self.port, stats_port=self.stats_port,
                                         servers=[replica.port for replica in self.replicas],
                                         check_ms=self.check_ms))
        with (self.folder / "haproxy.log").open("wb") as log:  # the child keeps its own copy
            self.haproxy = await asyncio.create_subprocess_exec(
                self.haproxy_binary, "-db", "-f", str(config), stdout=asyncio.subprocess.DEVNULL, stderr=log)
        try:
            for replica in self.replicas:
                await self._start(replica)
            await self.wait_states(dict.fromkeys(self.names, "UP"), timeout=120)
            path = f"/telegram/{self.fake.token.split(':', 1)[0]}"
            await self.fake.wait_until(lambda: self.fake.webhook_url == self.url + path, timeout=30,
                                       what="the webhook set to the load balancer")
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        for replica in self.replicas:
            if replica.process is not None and replica.process.returncode is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in self.replicas:
            if replica.process is not None:
                try:
                    await asyncio.wait_for(replica.process.wait(), 30)
                except TimeoutError:
                    replica.process.kill()
                    await replica.process.wait()
        if self.haproxy is not None and self.haproxy.returncode is None:
            self.haproxy.terminate()
            await self.haproxy.wait()
        if self.http is not None:
            await self.http.close()

    @property
    def names(self) -> list[str]:
        """The replicas' server names in HAProxy's configuration."""
        return [f"r{replica.index}" for replica in self.replicas]

    def environment(self, replica: Replica) -> dict[str, str]:
        """What a replica is started with: the settings of .env.example, for this run."""
        env = {key: value for key, value in os.environ.items() if key not in ("HTTP_PORT",)}
        env.update({
            "DATABASE_URL": self.database_url,
            "TELEGRAM_BOT_TOKEN": self.fake.token,
            "TELEGRAM_API_BASE_URL": self.fake.base_url,
            "TELEGRAM_FILE_BASE_URL": self.fake.base_file_url,
            "BOT_USERNAME": self.fake.bot_username,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(replica.port),
            "TELEGRAM_MESSAGES_PER_SECOND": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        })
        if self.lease_seconds is not None:
            env["OUTBOX_LEASE_SECONDS"] = str(self.lease_seconds)
        return env

    async def _start(self, replica: Replica) -> None:
        # In a folder of its own: no .env of the checkout is read.
        cwd = self.folder / f"replica-{replica.index}"
        cwd.mkdir(exist_ok=True)
        with replica.log.open("wb") as log:  # the child keeps its own copy
            replica.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--webhook", self.url, cwd=cwd, env=self.environment(replica),
                stdout=asyncio.subprocess.DEVNULL, stderr=log)

    async def states(self) -> dict[str, str]:
        """Each replica's state as HAProxy sees it (UP, DOWN, ...), from its stats page."""
        assert self.http is not None
        async with self.http.get(f"http://127.0.0.1:{self.stats_port}/stats;csv") as response:
            body = await response.text()
        rows = csv.DictReader(io.StringIO(body.lstrip("# ")))
        return {row["svname"]: row["status"].split(" ")[0] for row in rows
                if row["pxname"] == "bot" and row["svname"] not in ("FRONTEND", "BACKEND")}

    async def wait_states(self, wanted: dict[str, str], timeout: float) -> None:
        """Wait until HAProxy sees the replicas as wanted (its checks run every `check_ms`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: dict[str, str] = {}
        while True:
            for replica in self.replicas:
                process = replica.process
                if not replica.killed and process is not None and process.returncode is not None:
                    raise RuntimeError(f"replica {replica.index} exited with {process.returncode}: "
                                       f"{replica.log.read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                seen = await self.states()
                if all(seen.get(name) == state for name, state in wanted.items()):
                    return
            if loop.time() > deadline:
                raise TimeoutError(f"HAProxy did not see {wanted} within {timeout}s (it sees {seen})")
            await asyncio.sleep(self.check_ms / 3000)

    async def kill(self, index: int) -> float:
        """SIGKILL one replica; the seconds until HAProxy took it out of the rotation."""
        replica = self.replicas[index]
        assert replica.process is not None
        started = time.perf_counter()
        replica.killed = True
        replica.process.send_signal(signal.SIGKILL)
        await replica.process.wait()
        await self.wait_states({f"r{index}": "DOWN"}, timeout=30)
        return time.perf_counter() - started


@dataclass
class Officer:
    """A scripted officer, the values they confirm, their invite."""

    person: ScriptedOfficer
    unit: str
    code: str
    values: list[tuple[str, Decimal]]

    @property
    def updates(self) -> int:
        """How many updates a whole report is: /start, /report, each value typed and confirmed, submit."""
        return 2 + 2 * len(self.values) + 1


def prepare(url: str, officers: int) -> tuple[BlocConfig, dict[str, str]]:
    """Migrate, load the bloc, issue every officer's invite; the bloc and the codes by officer."""
    migrate(url)
    today = dt.datetime.now(dt.UTC).date()
    config = reporting_bloc(officers, today)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            load_bloc(session=session, config=config, actor="bench")
            issued = issue_invites(session=session, bloc_id=1, now=dt.datetime.now(dt.UTC),
                                   ttl=dt.timedelta(days=30), actor="bench")
    finally:
        engine.dispose()
    return config, {invite.officer_code: invite.code for invite in issued}


def officers_of(fake: FakeTelegram, config: BlocConfig, codes: dict[str, str], *, timeout: float,
                first_user: int = 800_000) -> list[Officer]:
    """One scripted person per officer of the bloc; indicators 30.000, self scores 1."""
    people = []
    for n, officer in enumerate(config.officers):
        person = ScriptedOfficer(fake, fake.user(first_user + n, officer.name), officer.name, timeout=timeout)
        values = [(item.code, Decimal(30000) if item.is_indicator else Decimal(1))
                  for item in unit_items(config, officer.unit)]
        people.append(Officer(person, officer.unit, codes[officer.code], values))
    return people


async def whole_report(officer: Officer) -> None:
    """Join with the invite and report every item, then submit."""
    await officer.person.say(f"/start {officer.code}", "Kính chào")
    await officer.person.report(officer.values)


async def settle(engine: Engine, timeout: float) -> None:
    """Wait until no update is waiting and no message is owed (what the replicas still owe after the script)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        with session_scope(engine) as session:
            waiting = session.exec(select(func.count()).select_from(InboxMessage)
                                   .where(col(InboxMessage.processed_at).is_(None))).one()
            owed = session.exec(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.state == "pending")).one()
        if not waiting and not owed:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{waiting} updates waiting and {owed} messages owed after {timeout}s")
        await asyncio.sleep(0.2)


@dataclass
class Findings:
    """What the checks found after a run; `problems` empty when nothing was lost, doubled or reordered."""

    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


def in_order(owed: list[str], sent: list[str]) -> tuple[bool, int]:
    """Whether `sent` is `owed` in order, a message sent again right after itself allowed; and how many were."""
    again = 0
    position = 0
    for index, message in enumerate(sent):
        if position < len(owed) and message == owed[position]:
            position += 1
        elif index and message == sent[index - 1]:
            again += 1
        else:
            return False, again
    return position == len(owed), again


def check(engine: Engine, fake: FakeTelegram, officers: list[Officer]) -> Findings:
    """Every confirmed value stored once, every update processed once and answered, every chat in order."""
    found = Findings()
    with session_scope(engine) as session:
        stored = session.exec(
            select(Unit.code, Entry.item_code, Entry.value)
            .join(Submission, col(Submission.id) == Entry.submission_id)
            .join(Unit, col(Unit.id) == Submission.unit_id)).all()
        submitted = Counter(session.exec(
            select(Unit.code).join(Submission, col(Submission.unit_id) == Unit.id)
            .where(Submission.status == "submitted")).all())
        inbox = session.exec(select(InboxMessage.update_id, InboxMessage.processed_at, InboxMessage.outcome)).all()
        outbox = session.exec(select(OutboxMessage.chat_id, OutboxMessage.state, OutboxMessage.payload)
                              .order_by(col(OutboxMessage.id))).all()
        duplicate_entries = session.connection().execute(text(
            "SELECT count(*) FROM (SELECT submission_id, item_code FROM entry "
            "GROUP BY submission_id, item_code HAVING count(*) > 1) AS doubled")).scalar_one()
    values = {(unit, item): value for unit, item, value in stored}
    expected = {(officer.unit, code): value for officer in officers for code, value in officer.values}
    lost = [key for key, value in expected.items() if values.get(key) != value]
    if lost:
        found.problems.append(f"{len(lost)} confirmed values lost, e.g. {lost[:3]}")
    if duplicate_entries or len(stored) != len(values):
        found.problems.append(f"{duplicate_entries} entries stored twice")
    not_submitted = [officer.unit for officer in officers if submitted[officer.unit] != 1]
    if not_submitted:
        found.problems.append(f"{len(not_submitted)} reports not submitted once, e.g. {not_submitted[:3]}")

    posted = {delivery.update_id for delivery in fake.webhook_deliveries}
    accepted = {delivery.update_id for delivery in fake.webhook_deliveries if delivery.status == 200}
    kept = Counter(int(update_id) for update_id, _, _ in inbox)
    updates = sum(officer.updates for officer in officers)
    if len(posted) != updates or accepted != posted or fake.pending_update_count:
        found.problems.append(f"{updates} updates scripted, {len(posted)} posted, {len(accepted)} accepted, "
                              f"{fake.pending_update_count} still pending at the fake server")
    if set(kept) != posted or any(count > 1 for count in kept.values()):
        found.problems.append(f"inbox: {len(kept)} updates kept of {len(posted)} posted")
    unprocessed = [update_id for update_id, processed_at, outcome in inbox
                   if processed_at is None or outcome != "done"]
    if unprocessed:
        found.problems.append(f"{len(unprocessed)} updates not processed (or failed), e.g. {unprocessed[:3]}")
    presses = {answer.callback_query_id for answer in fake.callback_answers}
    # A button answered by a replica that died before recording it is answered again by
    # another; Telegram refuses a second answer of one press. Answered, not lost.
    answered_again = [payload for _, state, payload in outbox
                      if state == "refused" and "reply" not in json.loads(payload)
                      and json.loads(payload).get("answer") in presses]
    undelivered = Counter(state for _, state, _ in outbox if state != "delivered")
    undelivered["refused"] -= len(answered_again)
    if +undelivered:
        found.problems.append(f"outbox messages not delivered: {dict(+undelivered)}")
    pressed = sum(len(officer.values) + 1 for officer in officers)
    if len(presses) != pressed:
        found.problems.append(f"{pressed} buttons pressed, {len(presses)} answered")

    owed: dict[int, list[str]] = {}
    for chat_id, state, payload in outbox:
        reply = json.loads(payload).get("reply")
        if reply is not None and state == "delivered":
            owed.setdefault(int(chat_id), []).append(for_buttons(reply["text"]))  # as Telegram words it
    resent = 0
    disordered = []
    for officer in officers:
        chat = officer.person.user.id
        sent = [message.text or "" for message in fake.messages_to(chat, include_edits=True)]
        ordered, again = in_order(owed.get(chat, []), sent)
        resent += again
        if not ordered:
            disordered.append(chat)
    if disordered:
        found.problems.append(f"{len(disordered)} chats' messages not in the order decided, e.g. {disordered[:3]}")
    found.figures.update({
        "updates": updates, "messages_sent": len(fake.sent), "messages_sent_again": resent,
        "buttons_answered_again": len(answered_again),
        "webhook_attempts_failed": sum(1 for d in fake.webhook_deliveries if d.status != 200),
        "webhook_failures": dict(Counter((d.error or "")[:60] for d in fake.webhook_deliveries
                                         if d.status != 200).most_common(4)),
        "webhook_most_at_once": fake.webhook_most_at_once, "entries": len(stored),
    })
    return found


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


async def kill_when(cluster: Cluster, fake: FakeTelegram, share: float, updates: int,
                    index: int = 0) -> dict[str, float]:
    """Kill replica `index` once `share` of the run's updates were accepted; what it took."""
    deliveries = fake.webhook_deliveries
    threshold = int(share * updates)
    await fake.wait_until(lambda: sum(1 for d in deliveries if d.status == 200) >= threshold, timeout=600,
                          what=f"{threshold} updates accepted")
    down = await cluster.kill(index)
    return {"killed_after_updates": threshold, "lb_took_it_out_s": round(down, 2)}


async def run(*, officers: int, replicas: int, kill_at: float | None, folder: Path,
              lease_seconds: float | None = None, timeout: float = 300) -> dict[str, Any]:
    """One run on a fresh database: every officer reports at once; the figures and the checks' findings."""
    url, drop = postgres_database()
    try:
        config, codes = prepare(url, officers)
        engine = make_engine(url)
        try:
            # Telegram keeps trying a webhook for hours; the fake as long as the run lasts.
            async with FakeTelegram(webhook_retries=100_000) as fake, \
                    Cluster(fake=fake, database_url=url, replicas=replicas, folder=folder,
                            lease_seconds=lease_seconds) as cluster:
                people = officers_of(fake, config, codes, timeout=timeout)
                updates = sum(officer.updates for officer in people)
                killer = asyncio.create_task(kill_when(cluster, fake, kill_at, updates)) \
                    if kill_at is not None else None
                started = time.perf_counter()
                try:
                    await asyncio.gather(*(whole_report(officer) for officer in people))
                except BaseException:
                    if killer is not None:
                        killer.cancel()
                    raise
                elapsed = time.perf_counter() - started
                killed = await killer if killer is not None else None
                await settle(engine, timeout=120)
                findings = check(engine, fake, people)
        finally:
            engine.dispose()
    finally:
        drop()
    latencies = [value for officer in people for value in officer.person.latencies]
    result: dict[str, Any] = {
        "replicas": replicas, "officers": officers, "elapsed_s": round(elapsed, 1),
        "updates_per_s": round(findings.figures["updates"] / elapsed, 1),
        "replies_per_s": round(findings.figures["messages_sent"] / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        **findings.figures,
    }
    if killed is not None:
        result["kill"] = killed
    result["problems"] = findings.problems
    return result


def parse_runs(spec: str) -> list[tuple[int, bool]]:
    """`1,3,3-kill` -> [(1, False), (3, False), (3, True)]."""
    runs = []
    for part in spec.split(","):
        count, _, kill = part.partition("-")
        runs.append((int(count), kill == "kill"))
    return runs


async def main() -> None:
    """Every run asked for, one after the other; a line each, then one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--runs", default="1,3,3-kill", help="replica counts, '-kill' to kill one mid-run")
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of the updates accepted before the kill")
    parser.add_argument("--lease-seconds", type=float, default=None,
                        help="OUTBOX_LEASE_SECONDS of the replicas (default: the bot's, 60)")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for replicas, kill in parse_runs(args.runs):
        with tempfile.TemporaryDirectory(prefix="kt-replicas-") as folder:
            result = await run(officers=args.officers, replicas=replicas, kill_at=args.kill_at if kill else None,
                               folder=Path(folder), lease_seconds=args.lease_seconds)
        name = f"replicas_{replicas}" + ("_one_killed" if kill else "")
        results[name] = result
        print(f"{name}: {result}", flush=True)
    one, three = results.get("replicas_1"), results.get("replicas_3")
    if one and three:
        results["speedup_3_over_1"] = round(three["updates_per_s"] / one["updates_per_s"], 2)
    results["ok"] = all(not result["problems"] for result in results.values() if isinstance(result, dict))
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
