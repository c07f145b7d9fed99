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
from fakes.zalo import FakeZalo
from fakes.zalo.models import SentZaloMessage
from fakes.zalo.users import FakeZaloUser
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
        await _report(self, values)


async def _report(person: ScriptedOfficer | ZaloScriptedOfficer, values: list[tuple[str, Decimal]]) -> None:
    await person.say("/report", "Mục 1/")
    for index, (_code, value) in enumerate(values):
        await person.say(format_number(value), "Số liệu vừa nhập")
        following = f"Mục {index + 2}/" if index + 1 < len(values) else "Tổng hợp"
        await person.press("Đúng, lưu", following)
    await person.press("Nộp báo cáo", "Đã nộp báo cáo")


def option_number(text: str, label: str) -> str | None:
    """The number of the first numbered option line ("2. ✅ Đúng, lưu") whose label contains `label`."""
    for line in text.splitlines():
        number, dot, rest = line.partition(". ")
        if dot and number.isdigit() and label in rest:
            return number
    return None


@dataclass
class ZaloScriptedOfficer:
    """One person in a private Zalo chat with the bot: the same script as :class:`ScriptedOfficer`,
    typing an option's number where a Telegram officer presses its button."""

    fake: FakeZalo
    user: FakeZaloUser
    name: str
    transcript: list[tuple[str, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    last: SentZaloMessage | None = None
    timeout: float = 15.0
    think: float = 0.0

    def mark(self) -> int:
        """How many messages the bot sent this person so far (to wait for the next ones)."""
        return len(self.fake.messages_to(self.user))

    async def wait_for(self, expect: str, after: int, started: float | None = None) -> SentZaloMessage:
        """The first message to this person (from index `after`) that contains `expect`."""
        began = time.perf_counter() if started is None else started
        chat = self.user.id

        def found() -> SentZaloMessage | None:
            messages = self.fake.by_chat.get(chat, [])[after:]
            return next((message for message in messages if expect in message.text + message.caption), None)

        await self.fake.wait_until(lambda: found() is not None, self.timeout,
                                   what=lambda: f"reply containing {expect!r} to {self.name}")
        message = found()
        if message is None:
            raise RuntimeError("the awaited message vanished")
        self.latencies.append(time.perf_counter() - began)
        for sent in self.fake.by_chat.get(chat, [])[after:]:
            self.transcript.append(("bot", sent.text or sent.caption))
            if sent is message:
                break
        self.last = message
        return message

    async def say(self, text: str, expect: str) -> SentZaloMessage:
        """Type `text` and wait for a reply that contains `expect`."""
        if self.think:
            await asyncio.sleep(self.think)
        self.transcript.append((self.name, text))
        mark, started = self.mark(), time.perf_counter()
        self.user.send_text(text)
        return await self.wait_for(expect, mark, started)

    async def press(self, label: str, expect: str) -> SentZaloMessage:
        """Type the number of the option labelled `label` on the last message and wait for `expect`."""
        if self.last is None:
            raise RuntimeError("nothing to choose yet")
        number = option_number(self.last.text, label)
        if number is None:
            raise AssertionError(f"no option containing {label!r}: {self.last.text}")
        return await self.say(number, expect)

    async def report(self, values: list[tuple[str, Decimal]]) -> None:
        """Do a whole report: each item's value typed the Vietnamese way, confirmed; submit."""
        await _report(self, values)
