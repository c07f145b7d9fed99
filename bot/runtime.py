"""What runs behind every channel: keep, handle, deliver, recover.

A channel hands the runtime the updates it received; the runtime keeps them
in the inbox (the channel acknowledges them to the platform only after that),
handles each chat's updates in order (`Conversation.turn_in`, one transaction
each, replies written to the outbox) and has the sender deliver what the
turns owe. A background pass picks up what a stopped process left: updates
kept and not handled, messages owed and not delivered (all of them at start);
it also forgets processed updates and delivered messages after some days.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from bot.outbox import Sender
from bot.port import Owed
from bot.tasks import Loop
from bot.units import UnitsOfWork
from handlers.chat import Incoming, Outcome
from handlers.dispatch import Conversation, system_clock
from storage.messages import OwedRow, due_chats, prune, waiting_chats

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class RecoverySettings:
    """How often the background pass runs, how old a kept update must be for it, how long keys are kept."""

    interval: float = 1.0
    grace: dt.timedelta = dt.timedelta(seconds=5)
    keep_for: dt.timedelta = dt.timedelta(days=8)
    prune_every: dt.timedelta = dt.timedelta(hours=1)


class Runtime:
    """The conversation, its units of work and the sender, shared by every channel of a process."""

    def __init__(self, conversation: Conversation, units: UnitsOfWork, sender: Sender, *,
                 recovery: RecoverySettings | None = None) -> None:
        self.conversation = conversation
        self.units = units
        self.sender = sender
        self.recovery = recovery or RecoverySettings()
        self._draining: dict[str, bool] = {}
        self._loop = Loop("runtime-recovery", self._run)
        self._wake = asyncio.Event()
        self._pruned_at: dt.datetime | None = None
        self.turns = 0  # updates handled by this process (what `run` says at its stop)

    # The real time: the inbox's and the outbox's times are not the bloc's calendar.
    clock = staticmethod(system_clock)

    async def keep(self, incomings: Sequence[Incoming]) -> list[bool]:
        """Store updates in the inbox (committed when this returns); True for each one new."""
        return await self.units.run_alone(lambda session: self.conversation.keep_in(session, incomings))

    async def drain(self, chat: str) -> int:
        """Handle every update `chat` has waiting, in order, and deliver what each turn owes.

        Returns the number of turns taken. A chat already being drained in this
        process is not drained twice at once: the running drain looks once more.
        A turn says whether another update was waiting behind its own; when none
        was and no one asked since, the drain stops without a look that would
        find nothing (an update kept later is drained by whoever kept it, or by
        the background pass).
        """
        if chat in self._draining:
            self._draining[chat] = True
            return 0
        self._draining[chat] = False
        turns = 0
        try:
            while True:
                done, outcome, leased = await self.units.run(lambda session: self._turn(session, chat))
                if not done:
                    continue
                if outcome is not None:
                    turns += 1
                    self.turns += 1
                    for index, owed in enumerate(outcome.chats):
                        await self.sender.flush(owed, leased=leased if index == 0 else None)
                    if outcome.waiting:
                        continue
                if not self._draining[chat]:
                    return turns
                self._draining[chat] = False
        finally:
            del self._draining[chat]
            self.sender.note_progress()

    def _turn(self, session: Session, chat: str) -> tuple[bool, Outcome | None, tuple[OwedRow, Owed | None] | None]:
        """A turn, and the head of its first chat's queue leased in its transaction (a transaction fewer)."""
        done, outcome = self.conversation.turn_in(session, chat)
        leased = self.sender.lease_in(session, outcome.chats[0]) \
            if done and outcome is not None and outcome.chats else None
        return done, outcome, leased

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until no update is waiting and no message is owed that is due (tests, benchmarks).

        Checked again each time a drain or a flush of this process ends, and
        every 50 ms for the work of other processes; TimeoutError after `timeout`.
        (It slept the 50 ms after every look: a wait for the end of the last
        turn's last send cost that much, in every move of the demo's clock.)
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            seen = self.sender.progress  # before the look: an end during it ends the wait below at once
            if not self._draining and not self.sender.busy and not await self.units.run(self._anything_left):
                return
            if loop.time() > deadline:
                raise TimeoutError(f"the runtime did not settle within {timeout}s")
            await self.sender.wait_progress(seen, 0.05)

    def _anything_left(self, session: Session) -> bool:
        now = self.clock()
        return bool(waiting_chats(session=session, received_before=now, limit=1)
                    or due_chats(session=session, now=now, limit=1, bots=list(self.sender.channels)))

    # -- the background pass ------------------------------------------------

    def start(self) -> None:
        """Start the background pass (its first run recovers everything left)."""
        self._loop.start()

    def wake(self) -> None:
        """Run the background pass now (e.g. after a test changed the clock)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop the background pass."""
        await self._loop.stop()

    async def _run(self) -> None:
        first = True
        while True:
            try:
                await self.recover(everything=first)
                first = False
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the background pass failed; trying again")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.recovery.interval)

    async def recover(self, *, everything: bool = False) -> tuple[int, int]:
        """One background pass: (chats drained, chats flushed)."""
        now = self.clock()
        before = now if everything else now - self.recovery.grace
        chats = await self.units.run(lambda session: waiting_chats(session=session, received_before=before))
        for chat in chats:
            await self.drain(chat)
        flushed = await self.sender.sweep()
        if self._pruned_at is None or now - self._pruned_at >= self.recovery.prune_every:
            self._pruned_at = now
            dropped = await self.units.run(
                lambda session: prune(session=session, before=now - self.recovery.keep_for))
            if any(dropped):
                log.info("forgot %s processed updates and %s finished messages", *dropped)
        return len(chats), flushed
