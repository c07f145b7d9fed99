"""The reminder scheduler: APScheduler wakes a pass; the database decides what is due.

A pass (at start-up, then every `interval_seconds`) asks, for each bloc, what is
due at the injected clock's `now` (`handlers.flows.reminders.due_messages`: deadlines,
statuses and the sent-log in, pure rules in the middle) and sends it. Nothing
about reminders lives in the scheduler's memory: a restart, a second process or
a tick that came late only changes when the question is asked.

Each message is written at most once: its sent-log row (unique key) and its
outbox row are committed together, in one transaction, before anything goes
out; the outbox's sender then delivers it like every other reply (bot/outbox.py:
in order per chat, the bot's send budget, 429 after its retry_after, 5xx and
timeouts with backoff), and the pass records the answer in the sent-log. A crash
after that commit leaves the message owed: the next process sends it. A crash
before it leaves nothing: the next pass plans the message again. A message a
claim stands for and no outbox row holds (`sending`, left by an older version)
is not sent again; the next reminder (3 days, 1 day, the morning of the deadline)
is the retry.

Two processes on one PostgreSQL database: the one holding a bloc's advisory lock
(`storage.reminders.BlocLock`) plans its messages; the other skips that bloc. A
message for a bot another process runs is delivered by that process's sender.

A 403 (the officer blocked the bot) is recorded, not retried, and the leader is
told once per unit and period; so is a 403 on any other message the outbox
delivered in the period (storage/reminders.py).

We use APScheduler directly, not python-telegram-bot's JobQueue: the job is one
interval that needs no CallbackContext, the dependency is already there without
the `job-queue` extra, and starting it is explicit, so tests and other features'
end-to-end tests that start an Application do not get reminders they did not ask for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from apscheduler.job import Job  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from sqlalchemy import Engine
from sqlmodel import Session

from handlers.chat import Reply
from handlers.flows.reminders import Outgoing, due_messages
from storage.db import session_scope
from storage.messages import BLOCKED, DELIVERED, PENDING, outgoing_state
from storage.reminders import BlocLock, LogStatus, bloc_ids, claim_message, finish_message

# Writes a reminder to the outbox in the caller's transaction: (its chat's key, its outbox id),
# None when no bot reaches the address.
Owe = Callable[[Session, str, Reply], tuple[str, int] | None]
Claimed = tuple[int, tuple[str, int] | None]  # the sent-log row's id, what `Owe` answered

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
# Share of the bot-wide message rate the reminders use: smooth pacing a little under
# the limit keeps a strict sliding window from ever answering 429.
PACE_SHARE = 0.98
# How many messages one transaction claims (sent-log and outbox rows), one chunk ahead of the sends.
CLAIM_CHUNK = 16
# How many times a pass plans again in a row (after a 403, the leader's notice is due at once).
MAX_ROUNDS = 3


class Progress(Protocol):
    """What a pass waits on for a reminder's outbox answer: the sender's count of flushes ended, and the
    wait for the next one (bot/outbox.py's Sender)."""

    @property
    def progress(self) -> int: ...

    async def wait_progress(self, since: int, timeout: float) -> None: ...


class Pacer:
    """Spaces sends evenly at `rate` per second, with no burst and no catching up after a pause."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next send may start."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            start = max(loop.time(), self._next)
            self._next = start + self.interval
            delay = start - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)


@dataclass
class PassReport:
    """What one pass did."""

    at: dt.datetime
    planned: int = 0
    delivered: int = 0
    blocked: int = 0
    failed: int = 0
    taken_elsewhere: int = 0  # already in the sent-log when this process tried to claim it
    locked_blocs: int = 0  # blocs another process was sending for

    def add(self, other: PassReport) -> None:
        """Add another round's counts."""
        self.planned += other.planned
        self.delivered += other.delivered
        self.blocked += other.blocked
        self.failed += other.failed
        self.taken_elsewhere += other.taken_elsewhere


class ReminderScheduler:
    """Runs reminder passes: at start-up, every `interval_seconds`, and on `tick()`."""

    def __init__(
        self,
        *,
        owe: Owe,
        flush: Callable[[str], Awaitable[None]],
        engine: Engine,
        clock: Clock,
        interval_seconds: float = 60.0,
        messages_per_second: float = 30.0 * PACE_SHARE,
        concurrency: int = 8,
        delivery_wait: float = 20.0,
        progress: Progress | None = None,
    ) -> None:
        self.owe = owe
        self.flush = flush
        self.progress = progress  # None: the state of a reminder still owed is looked at every 0,1 s
        self.delivery_wait = delivery_wait  # how long a pass waits for the outbox's answer
        self.engine = engine
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.concurrency = concurrency
        self.pacer = Pacer(messages_per_second)
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.passes = 0
        self.delivered = 0  # reminders delivered by this process
        self._scheduler: AsyncIOScheduler | None = None
        self._job: Job | None = None
        self._waiters: list[asyncio.Future[PassReport]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        # Other periodic work run after each pass's reminders, with the pass's `now`
        # (bot/app.py adds the closing of ballots whose time is up, handlers/flows/votes/due.py).
        self.tasks: list[Callable[[dt.datetime], Awaitable[None]]] = []

    # -- lifecycle -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the scheduler was started and not stopped."""
        return self._scheduler is not None

    async def start(self) -> None:
        """Start APScheduler in this event loop; the first pass runs at once (start-up catch-up)."""
        if self._scheduler is not None:
            return
        self._stopping = False
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=dt.UTC)
        self._job = scheduler.add_job(
            self._run_job, IntervalTrigger(seconds=self.interval_seconds, timezone=dt.UTC),
            id="reminders", name="reminders", max_instances=1, coalesce=True, misfire_grace_time=None,
            next_run_time=dt.datetime.now(dt.UTC),
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info("reminder scheduler %s started (every %ss)", self.name, self.interval_seconds)

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Stop: no new message is claimed, the ones under way finish, then APScheduler stops."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        self._stopping = True
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        except TimeoutError:
            log.warning("a reminder pass did not finish within %ss; cancelling it", grace_seconds)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the shutdown runs on the loop
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters = []

    async def tick(self) -> PassReport:
        """Ask APScheduler for a pass now and wait for it (a pass already under way runs again)."""
        if self._scheduler is None or self._job is None:
            raise RuntimeError("the reminder scheduler is not started")
        waiter: asyncio.Future[PassReport] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self._idle.is_set():
            self._job.modify(next_run_time=dt.datetime.now(dt.UTC))
        return await waiter

    async def _run_job(self) -> None:
        """The APScheduler job: passes until nobody waits for a newer one."""
        self._idle.clear()
        try:
            while not self._stopping:
                waiters, self._waiters = self._waiters, []
                try:
                    report = await self.run_pass()
                except Exception as error:
                    log.exception("reminder pass failed")
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(error)
                else:
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(report)
                if not self._waiters:
                    break
        finally:
            self._idle.set()

    # -- one pass --------------------------------------------------------------------

    async def run_pass(self) -> PassReport:
        """Plan and send everything due now, bloc by bloc."""
        now = self.clock()
        self.passes += 1
        report = PassReport(at=now)
        for bloc_id in await asyncio.to_thread(self._bloc_ids):
            if self._stopping:
                break
            lock = BlocLock(self.engine, bloc_id)
            if not await asyncio.to_thread(lock.acquire):
                report.locked_blocs += 1
                continue
            try:
                for _ in range(MAX_ROUNDS):
                    outgoing = await asyncio.to_thread(self._plan, bloc_id, now)
                    if not outgoing:
                        break
                    round_report = await self._send_all(outgoing, now)
                    report.add(round_report)
                    if not round_report.blocked:
                        break  # only a 403 makes something new due (the leader's notice)
            finally:
                await asyncio.to_thread(lock.release)
        for task in self.tasks:
            try:
                await task(now)
            except Exception:
                log.exception("periodic task %s failed", getattr(task, "__name__", task))
        self.delivered += report.delivered
        if report.planned:
            log.info("reminder pass at %s: %s", now.isoformat(), report)
        return report

    def _bloc_ids(self) -> list[int]:
        with session_scope(self.engine) as session:
            return bloc_ids(session=session)

    def _plan(self, bloc_id: int, now: dt.datetime) -> list[Outgoing]:
        with session_scope(self.engine) as session:
            return due_messages(session=session, bloc_id=bloc_id, now=now)

    def _claim_many(self, items: list[Outgoing], now: dt.datetime) -> list[Claimed | None]:
        """Each message's sent-log row and outbox row, in one transaction (None: claimed elsewhere)."""
        claimed: list[Claimed | None] = []
        with session_scope(self.engine) as session:
            for item in items:
                log_id = claim_message(session=session, bloc_id=item.bloc_id, key=item.message.key,
                                       chat_id=item.chat_id, slot_at=item.message.slot_at, now=now,
                                       claimed_by=self.name)
                claimed.append(None if log_id is None else (log_id, self.owe(session, item.chat_id, item.reply)))
        return claimed

    def _state(self, outbox_id: int) -> str | None:
        with session_scope(self.engine) as session:
            return outgoing_state(session=session, outbox_id=outbox_id)

    def _finish(self, log_id: int, status: LogStatus, error: str | None) -> None:
        with session_scope(self.engine) as session:
            finish_message(session=session, log_id=log_id, status=status, now=self.clock(), error=error)

    async def _send_all(self, outgoing: list[Outgoing], now: dt.datetime) -> PassReport:
        """Claim a chunk ahead (sent-log and outbox rows together), hand each to the sender at the
        pacer's beat, record the answers in the background.

        A crash loses nothing claimed: the outbox holds it and the next process
        sends it. Sends overlap (up to `concurrency`) to hide network latency.
        """
        report = PassReport(at=now, planned=len(outgoing))
        in_flight = asyncio.Semaphore(self.concurrency)
        sending: set[asyncio.Task[None]] = set()

        async def send_and_finish(item: Outgoing, log_id: int, owed: tuple[str, int] | None) -> None:
            try:
                status, error = await self._send(item, owed)
                if status is LogStatus.delivered:
                    report.delivered += 1
                elif status is LogStatus.blocked:
                    report.blocked += 1
                else:
                    report.failed += 1
                await asyncio.to_thread(self._finish, log_id, status, error)
            finally:
                in_flight.release()

        def claim(start: int) -> asyncio.Task[list[Claimed | None]] | None:
            if start >= len(outgoing) or self._stopping:
                return None  # not claimed: still due for the next pass or process
            return asyncio.create_task(asyncio.to_thread(self._claim_many, outgoing[start:start + CLAIM_CHUNK], now))

        claiming = claim(0)
        try:
            for start in range(0, len(outgoing), CLAIM_CHUNK):
                if claiming is None:
                    break
                claimed = await claiming
                claiming = claim(start + CLAIM_CHUNK)  # a claim made before a stop is still sent
                for item, found in zip(outgoing[start:start + CLAIM_CHUNK], claimed, strict=True):
                    if found is None:
                        report.taken_elsewhere += 1
                        continue
                    await in_flight.acquire()
                    await self.pacer.wait()
                    task = asyncio.create_task(send_and_finish(item, *found))
                    sending.add(task)
                    task.add_done_callback(sending.discard)
        finally:
            if claiming is not None:  # only after an error or a stop: the outbox sends what was claimed
                await asyncio.gather(claiming, return_exceptions=True)
            if sending:
                await asyncio.gather(*sending, return_exceptions=True)
        return report

    async def _send(self, item: Outgoing, owed: tuple[str, int] | None) -> tuple[LogStatus, str | None]:
        """Have the outbox deliver one reminder and wait for its answer; never raises.

        Still owed after `delivery_wait` (a long retry_after, an outage, a bot another
        process runs): the sent-log says `queued` and the outbox delivers it later.
        """
        if owed is None:
            log.warning("no bot reaches %s; reminder not sent", item.chat_id)
            return LogStatus.failed, "no bot reaches the address"
        chat, outbox_id = owed
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.delivery_wait
        try:
            await self.flush(chat)
            while True:
                seen = self.progress.progress if self.progress is not None else 0
                state = await asyncio.to_thread(self._state, outbox_id)
                if state != PENDING or loop.time() >= deadline:
                    break
                # Still owed: another task is flushing the chat (it sends this one next), or a retry is
                # due. Looked at again when a flush ends, 0,1 s at most (it slept the 0,1 s every time).
                if self.progress is not None:
                    await self.progress.wait_progress(seen, 0.1)
                else:
                    await asyncio.sleep(0.1)
                await self.flush(chat)
        except Exception as error:
            log.exception("reminder to chat %s failed", item.chat_id)
            return LogStatus.failed, repr(error)
        if state == DELIVERED:
            return LogStatus.delivered, None
        if state == BLOCKED:
            log.info("officer %s blocked the bot", item.message.officer_id)
            return LogStatus.blocked, "blocked"
        if state == PENDING:
            return LogStatus.queued, "owed in the outbox"
        log.warning("reminder to chat %s not delivered: %s", item.chat_id, state)
        return LogStatus.failed, state
