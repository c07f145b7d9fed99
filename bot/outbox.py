"""The sender: what the outbox owes, delivered in order per chat, once it can be.

A chat's messages go out one at a time, in the order they were decided: the
sender leases the head of the chat's queue, delivers it through the chat's
channel, and records the answer in the database. A rate limit, a server error,
a timeout or a refused connection leaves the message at the head, to be tried
again after the platform's `retry_after` or a growing pause; the chat's later
messages wait behind it. A blocked chat or a refused message is recorded and
the queue goes on. A lease whose process died runs out and another process
takes the message again.

At least once, not at most once: when a platform's answer is lost (a timeout
after the message reached it), the message is sent again. A person may then
see a message twice; the other choice would leave them without the next
question, which is worse, and every message the bot sends is safe to read twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sqlmodel import Session

from bot.port import Answer, Channel, Delivery, Message, Owed, Verdict, decode
from bot.units import UnitsOfWork
from handlers.dispatch import reroute_refused, system_clock
from storage.chat import recall_message, remember_message
from storage.messages import (
    BLOCKED,
    DELIVERED,
    REFUSED,
    SUPERSEDED,
    OwedRow,
    due_chats,
    finish_outgoing,
    is_superseded,
    lease_head,
    release_leases,
    retry_outgoing,
    save_payload,
    take_budget,
)

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Limits:
    """The platform's send limits for one bot, for every process together (None: no limit)."""

    per_second: int | None = 30
    per_group_minute: int | None = 20


@dataclass(frozen=True)
class SenderSettings:
    """How long a lease holds, how retries back off, how long a message is worth trying."""

    lease: dt.timedelta = dt.timedelta(seconds=60)
    first_retry: float = 0.5
    longest_retry: float = 60.0
    give_up_after: dt.timedelta = dt.timedelta(days=1)


class Sender:
    """Delivers the outbox, chat by chat, through the channels it was given."""

    def __init__(self, units: UnitsOfWork, channels: Iterable[Channel], *, limits: Limits | None = None,
                 settings: SenderSettings | None = None, clock: Clock = system_clock) -> None:
        self.units = units
        self.channels = {(channel.name, channel.bot): channel for channel in channels}
        self.limits = limits or Limits()
        self.settings = settings or SenderSettings()
        self.clock = clock
        self._busy: dict[str, bool] = {}  # chat -> asked again while busy
        # chat -> its head, leased by a turn's transaction while the chat was being flushed here:
        # the running flush takes it (nothing else would until its lease ran out).
        self._handed: dict[str, tuple[OwedRow, Owed | None]] = {}
        self.delivered = 0
        # Per channel, the bot that sends to that channel's people (Conversation.bots; set by the factory).
        self.bots: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        # Progress: each end of a flush (and of a drain: Runtime) counted, and told to who waits for it.
        self.progress = 0
        self._progressed = asyncio.Event()

    @property
    def busy(self) -> bool:
        """Whether a chat is being flushed in this process now."""
        return bool(self._busy)

    def note_progress(self) -> None:
        """Count a flush or a drain that ended, and wake who waits for one."""
        self.progress += 1
        self._progressed.set()
        self._progressed = asyncio.Event()

    async def wait_progress(self, since: int, timeout: float) -> None:
        """Return once a flush or a drain ended after `progress` was `since` (at once if one did), or
        after `timeout` seconds: a poll of what may have changed that wakes when it did."""
        if self.progress != since:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progressed.wait(), timeout)

    def add(self, channel: Channel) -> None:
        """Deliver through one more channel."""
        self.channels[(channel.name, channel.bot)] = channel

    async def take_over(self) -> int:
        """Free the leases a stopped process left on the messages of this sender's bots; how many.

        Only for a process that sends for its bots alone (SQLite's one process, a
        bot's one long poll): otherwise a lease may be another live process's, and
        a dead one's runs out by itself (`SenderSettings.lease`). Without this the
        replies a killed process was sending waited out its lease after a restart.
        """
        started = self.clock()

        def free(session: Session) -> int:
            return sum(release_leases(session=session, channel=name, bot=bot, taken_before=started,
                                      lease=self.settings.lease) for name, bot in self.channels)

        freed = await self.units.run(free)
        if freed:
            log.info("took over %s messages a stopped process was sending", freed)
        return freed

    def lease_in(self, session: Session, chat: str) -> tuple[OwedRow, Owed | None] | None:
        """Lease the head of `chat`'s queue in the caller's transaction (a turn's, which just wrote it),
        for `flush(chat, leased=...)` after the commit: one transaction fewer per turn. None when the
        chat is not this sender's or its head is not due or is leased (an earlier message being sent)."""
        if not self.serves(chat):
            return None
        session.flush()  # the rows the turn added
        return self._lease(session, chat)

    async def flush(self, chat: str, leased: tuple[OwedRow, Owed | None] | None = None) -> None:
        """Deliver what `chat` is owed now, in order; return when it is owed nothing due.

        A chat being flushed in this process is not flushed twice at once: the
        second call asks the first to look once more before it stops (and hands
        it the head it `leased`, from `lease_in`).
        """
        if not self.serves(chat):
            return  # another process's bot: its sender delivers it (a lease here would hold it back)
        if chat in self._busy:
            if leased is not None:
                self._handed[chat] = leased
            self._busy[chat] = True
            return
        self._busy[chat] = False
        try:
            while True:
                if leased is None:
                    leased = self._handed.pop(chat, None) \
                        or await self.units.run(lambda session: self._lease(session, chat))
                while leased is not None:
                    leased = await self._deliver(chat, *leased)
                if not self._busy[chat]:
                    return
                self._busy[chat] = False
        except asyncio.CancelledError:
            self._handed.pop(chat, None)  # left leased: taken over at the next start, or its lease runs out
            raise
        finally:
            del self._busy[chat]
            stranded = self._handed.pop(chat, None)
            if stranded is not None:  # handed over as this flush failed: delivered by a flush of its own
                task = asyncio.create_task(self.flush(chat, leased=stranded))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self.note_progress()

    def serves(self, chat: str) -> bool:
        """Whether a chat (`<channel>:<bot>:<id>`) is one of this sender's bots'."""
        name, _, rest = chat.partition(":")
        return (name, rest.partition(":")[0]) in self.channels

    async def sweep(self, at_once: int = 8) -> int:
        """Flush every chat of this sender's bots with a message due (left by a failure, a restart, another process)."""
        served = list(self.channels)
        chats = await self.units.run(lambda session: due_chats(session=session, now=self.clock(), bots=served))
        gate = asyncio.Semaphore(at_once)

        async def one(chat: str) -> None:
            async with gate:
                await self.flush(chat)

        await asyncio.gather(*(one(chat) for chat in chats))
        return len(chats)

    async def _deliver(self, chat: str, row: OwedRow, owed: Owed | None) -> tuple[OwedRow, Owed | None] | None:
        """Deliver a leased head of a chat's queue; the next head, leased, or None when none is due.

        The transaction that records a delivery also leases the next message of
        the chat, so a queue of n messages costs n + 1 transactions, not 2n + 1.
        """
        if owed is None:  # superseded, recorded: the next one
            return await self.units.run(lambda session: self._lease(session, chat))
        channel = self.channels.get((row.channel, row.bot))
        if channel is None:
            await self.units.run(lambda session: retry_outgoing(
                session=session, outbox_id=row.id, at=self.clock() + dt.timedelta(seconds=30),
                error=f"no channel {row.channel}/{row.bot} in this process"))
            return None
        if not isinstance(owed, Answer):
            await self._wait_for_budget(channel, row.chat_id)
        try:
            delivery = await channel.deliver(row.chat_id, owed)
        except Exception as error:  # noqa: BLE001 (a bug in an adapter must not stop the queue)
            log.exception("delivery of outbox message %s to %s failed", row.id, chat)
            delivery = Delivery(Verdict.retry, detail=f"{type(error).__name__}: {error}")
        rerouted: list[str] = []  # chats owed a refused group post instead, flushed after the commit
        pause: list[float] = []  # the retry's pause, when the message stays at the head

        def record_and_lease(session: Session) -> tuple[OwedRow, Owed | None] | None:
            rerouted.clear()  # (a transaction tried again starts afresh)
            pause.clear()
            again = self._record(session, row, owed, delivery, rerouted)
            if again is not None:
                pause.append(again)
                return None
            if not row.more:
                # Nothing was behind it when it was leased: no look for a next one (a statement a
                # turn). One owed since by this process asked this flush to look again (`_busy`); one
                # owed by another process meanwhile is found by the background pass's sweep.
                return None
            return self._lease(session, chat)

        # A delivery recorded with nothing else (the common case) is one statement: no transaction.
        alone = delivery.verdict is Verdict.delivered and not row.more and _kept_as(owed, delivery) is None
        leased = await (self.units.run_alone if alone else self.units.run)(record_and_lease)
        if pause:
            self._retry_later(chat, pause[0])
        for other in dict.fromkeys(found for found in rerouted if found != chat):
            task = asyncio.create_task(self.flush(other))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return leased

    def _lease(self, session: Session, chat: str) -> tuple[OwedRow, Owed | None] | None:
        now = self.clock()
        row = lease_head(session=session, chat_key=chat, now=now, lease=self.settings.lease)
        if row is None:
            return None
        if is_superseded(session=session, owed=row):
            answer = row.payload.get("answer")
            if answer is not None:  # the edit is not needed, but the pressed button it carries is answered
                return row, Answer(option_id=str(answer), notice=row.payload.get("notice"))
            finish_outgoing(session=session, outbox_id=row.id, state=SUPERSEDED, now=now)
            return row, None
        owed = decode(row.payload, row.id)
        if isinstance(owed, Message) and owed.reply.edit_key:
            kept = recall_message(session=session, key=owed.reply.edit_key)
            if kept is not None and kept[0] == row.chat_id:
                owed = replace(owed, edit_message_id=kept[1], outbox_id=row.id)
        return row, owed

    def _retry_later(self, chat: str, pause: float) -> None:
        """Flush a chat again when its head's retry is due (the background sweep is the fallback:
        after a restart, or for another process's message, it finds what is due within its interval)."""
        def due() -> None:
            self._timers.discard(handle)
            task = asyncio.create_task(self.flush(chat))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        # A few ms late rather than early: the head is due by the wall clock, the timer runs by the loop's.
        handle = asyncio.get_running_loop().call_later(pause + 0.005, due)
        self._timers.add(handle)

    def cancel_timers(self) -> None:
        """Forget the retries this process planned (at its stop; the sweep of the next start finds them)."""
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()

    def _record(self, session: Session, row: OwedRow, owed: Owed, delivery: Delivery,
                rerouted: list[str] | None = None) -> float | None:
        """Keep a delivery's answer; None when the chat's queue may go on now, else the pause
        before its head is tried again."""
        now = self.clock()
        if delivery.verdict is Verdict.delivered:
            finish_outgoing(session=session, outbox_id=row.id, state=DELIVERED, now=now)
            self.delivered += 1
            key = _kept_as(owed, delivery)
            if key is not None and delivery.message_id is not None:
                remember_message(session=session, key=key, chat_id=row.chat_id, message_id=delivery.message_id)
            return None
        if delivery.verdict is Verdict.blocked:
            log.warning("chat %s blocked the bot; outbox message %s not delivered (%s)", row.chat_key, row.id,
                        delivery.detail)
            finish_outgoing(session=session, outbox_id=row.id, state=BLOCKED, now=now, error=delivery.detail)
            return None
        if delivery.verdict is Verdict.refused:
            log.error("chat %s refused outbox message %s for good: %s", row.chat_key, row.id, delivery.detail)
            finish_outgoing(session=session, outbox_id=row.id, state=REFUSED, now=now, error=delivery.detail)
            if delivery.group_refused and rerouted is not None:
                # In this transaction: the post is owed to the officers once, with the refusal recorded.
                rerouted.extend(reroute_refused(session, channel=row.channel, bot=row.bot,
                                                      chat_id=row.chat_id, payload=row.payload, now=now,
                                                      bots=self.bots))
            return None
        if not delivery.held and now - row.created_at > self.settings.give_up_after:
            log.error("outbox message %s to %s given up after %s attempts: %s", row.id, row.chat_key,
                      row.attempts + 1, delivery.detail)
            finish_outgoing(session=session, outbox_id=row.id, state=REFUSED, now=now,
                            error=f"given up: {delivery.detail}")
            return None
        pause = delivery.retry_after if delivery.retry_after is not None else min(
            self.settings.longest_retry, self.settings.first_retry * 2 ** min(row.attempts, 16))
        pause *= random.uniform(1.0, 1.2)  # noqa: S311 (spreading retries, not a secret)
        log.info("outbox message %s to %s: retry in %.1f s (%s)", row.id, row.chat_key, pause, delivery.detail)
        progressed = isinstance(owed, Message) and delivery.parts_done > owed.parts_done
        if progressed:
            row.payload["parts_done"] = delivery.parts_done
        if delivery.answered and "answer" in row.payload:  # the button is not answered again
            del row.payload["answer"]
            row.payload.pop("notice", None)
            progressed = True
        if progressed:
            save_payload(session=session, outbox_id=row.id, payload=row.payload)
        retry_outgoing(session=session, outbox_id=row.id, at=now + dt.timedelta(seconds=pause),
                       error=delivery.detail)
        return pause

    async def _wait_for_budget(self, channel: Channel, chat_id: str) -> None:
        """Wait until the bot (and a group) may send one more message, counted for every process."""
        limits = [(f"{channel.name}:{channel.bot}", 1, self.limits.per_second)]
        if channel.is_group(chat_id):
            limits.append((f"{channel.name}:{channel.bot}:{chat_id}", 60, self.limits.per_group_minute))
        for scope, seconds, limit in limits:
            if limit is None:
                continue
            while True:
                now = self.clock().timestamp()
                window = int(now // seconds)
                taken = await self.units.run(lambda session, scope=scope, window=window, limit=limit:  # type: ignore[misc]
                                             take_budget(session=session, scope=scope, window=window, limit=limit))
                if taken:
                    break
                await asyncio.sleep((window + 1) * seconds - now + 0.001)


def _kept_as(owed: Owed, delivery: Delivery) -> str | None:
    """The key a delivered message is remembered by (to be edited later), if it is one."""
    if not isinstance(owed, Message) or delivery.message_id is None:
        return None
    return owed.reply.remember_as or owed.reply.edit_key or None
