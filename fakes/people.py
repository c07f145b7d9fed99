"""A scripted officer who talks to the real bot through the fake Bot API server.

Used by the offline demo, the end-to-end tests and the chat benchmark: it
types, presses buttons and waits for the bot's answer as a person would,
and keeps a readable transcript.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal

from bot.terminal import plain
from fakes.telegram import FakeTelegram, FakeUser, SentMessage
from rules.numbers import format_number


@dataclass
class ScriptedOfficer:
    """One person in a private chat with the bot."""

    fake: FakeTelegram
    user: FakeUser
    name: str
    transcript: list[tuple[str, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    last: SentMessage | None = None
    timeout: float = 15.0
    # Seconds the person takes before each message or press (0: answers at once).
    think: float = 0.0

    async def _await(self, mark: int, expect: str, started: float) -> SentMessage:
        chat_id = self.user.id

        def matches(message: SentMessage) -> bool:
            return message.chat_id == chat_id and expect in plain(message.text)

        found = await self.fake.wait_for(matches, timeout=self.timeout, after=mark)
        self.latencies.append(time.perf_counter() - started)
        for message in self.fake.sent[mark:]:
            if message.chat_id == chat_id and message.message_id <= found.message_id \
                    and not message.is_edit:
                self.transcript.append(("bot", plain(message.text)))
        self.last = found
        return found

    async def say(self, text: str, expect: str) -> SentMessage:
        """Type `text` and wait for a reply that contains `expect`."""
        if self.think:
            await asyncio.sleep(self.think)
        self.transcript.append((self.name, text))
        mark, started = self.fake.mark(), time.perf_counter()
        await self.user.send_text(text)
        return await self._await(mark, expect, started)

    async def press(self, label: str, expect: str) -> SentMessage:
        """Press the button labelled `label` on the last message and wait for `expect`."""
        if self.think:
            await asyncio.sleep(self.think)
        if not (self.last is not None):
            raise RuntimeError("nothing to press yet")
        message = self.fake.message(self.user.id, self.last.message_id)
        chosen = next((text for text, _ in message.buttons if label in text), None)
        if chosen is None:
            raise AssertionError(f"no button containing {label!r}: {message.buttons}")
        self.transcript.append((self.name, f"[{chosen}]"))
        mark, started = self.fake.mark(), time.perf_counter()
        await self.user.press(message, text=chosen)
        return await self._await(mark, expect, started)

    async def report(self, values: list[tuple[str, Decimal]]) -> None:
        """Do a whole report: each item's value typed the Vietnamese way, confirmed; submit."""
        await self.say("/report", "Mục 1/")
        for index, (_code, value) in enumerate(values):
            await self.say(format_number(value), "Số liệu vừa nhập")
            following = f"Mục {index + 2}/" if index + 1 < len(values) else "Tổng hợp"
            await self.press("Đúng, lưu", following)
        await self.press("Nộp báo cáo", "Đã nộp báo cáo")
