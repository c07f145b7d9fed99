"""Scripted officers who talk to the real bot through the fake servers (Telegram's, Zalo's).

Used by the offline demo, the end-to-end tests and the chat benchmark: each
types, chooses options and waits for the bot's answer as a person would, and
keeps a readable transcript. A Telegram officer presses a button; a Zalo
officer types the number of the option (Zalo has no buttons).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal

from bot.terminal import plain
from fakes.telegram import FakeChat, FakeTelegram, FakeUser, SentMessage
from fakes.zalo import FakeZalo, FakeZaloChat, FakeZaloUser, SentZaloMessage
from rules.numbers import format_number

__all__ = ["ScriptedOfficer", "ScriptedZaloOfficer", "option_command", "option_labels", "option_number"]


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

    channel = "telegram"

    @property
    def chat_id(self) -> str:
        """The private chat's id on the platform."""
        return str(self.user.id)

    async def wait_choice(self, contains: str, after: int) -> None:
        """Wait for a new message (not an edit) with options that contains `contains`; it becomes `last`."""
        def is_choice(message: SentMessage) -> bool:
            return message.chat_id == self.user.id and not message.is_edit \
                and contains in plain(message.text) and bool(message.buttons)

        self.last = await self.fake.wait_for(is_choice, after=after, timeout=self.timeout)

    def mark(self) -> int:
        """A marker for `wait_choice(after=...)`."""
        return self.fake.mark()

    async def say_in_group(self, group: FakeChat, text: str) -> None:
        """Write in a group chat (the bot sees every message there)."""
        await self.user.send_text(text, chat=group)


async def _report(person: ScriptedOfficer | ScriptedZaloOfficer, values: list[tuple[str, Decimal]]) -> None:
    await person.say("/report", "Mục 1/")
    for index, (_code, value) in enumerate(values):
        # (on Zalo a number typed at an item's prompt is its value, not the pick of an option)
        await person.say(format_number(value), "Số liệu vừa nhập")
        following = f"Mục {index + 2}/" if index + 1 < len(values) else "Tổng hợp"
        await person.press("Đúng, lưu", following)
    await person.press("Nộp báo cáo", "Đã nộp báo cáo")


def option_labels(text: str) -> list[str]:
    """The labels of the numbered options in a text ("2. ✅ Đúng, lưu" → "✅ Đúng, lưu"), in order."""
    labels = []
    for line in text.splitlines():
        number, dot, rest = line.partition(". ")
        if dot and number.isdigit():
            labels.append(rest)
    return labels


def option_command(text: str, label: str) -> str | None:
    """The command of the option whose label contains `label`, where a step takes a typed number and
    its options are typed as commands ("✅ Mở phiếu: /1", "◀️ Mục trước: /back")."""
    for line in text.splitlines():
        shown, colon, command = line.rpartition(": /")
        if colon and label in shown and command and " " not in command:
            return f"/{command}"
    return None


def option_number(text: str, label: str) -> str | None:
    """The number of the option whose label contains `label`, in a text with numbered lines ("2. ✅ Đúng, lưu")."""
    for line in text.splitlines():
        number, dot, rest = line.partition(". ")
        if dot and number.isdigit() and label in rest:
            return number
    return None


@dataclass
class ScriptedZaloOfficer:
    """One person in a private chat with the Zalo bot: options are chosen by typing their number."""

    fake: FakeZalo
    user: FakeZaloUser
    name: str
    transcript: list[tuple[str, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    last: SentZaloMessage | None = None
    timeout: float = 15.0
    think: float = 0.0  # seconds to wait before each message (a person's pace)
    channel = "zalo"

    @property
    def chat_id(self) -> str:
        """The private chat's id on the platform (the person's id)."""
        return self.user.id

    def mark(self) -> int:
        """A marker for `wait_choice(after=...)`: how many messages the bot sent to this person."""
        return len(self.fake.messages_to(self.user))

    async def _await(self, mark: int, expect: str, started: float, *, numbered: bool = False) -> SentZaloMessage:
        def since() -> list[SentZaloMessage]:
            return self.fake.messages_to(self.user)[mark:]

        def found() -> SentZaloMessage | None:
            return next((message for message in since() if expect in message.text + message.caption
                         and (not numbered or option_number(message.text, "") is not None)), None)

        await self.fake.wait_until(lambda: found() is not None, self.timeout,
                                   what=lambda: f"Zalo message with {expect!r} to {self.name}")
        message = found()
        if message is None:
            raise RuntimeError("the awaited message vanished")
        self.latencies.append(time.perf_counter() - started)
        for sent in since():
            self.transcript.append(("bot", sent.text or sent.caption))
            if sent is message:
                break
        self.last = message
        return message

    async def wait_for(self, expect: str, after: int, started: float | None = None) -> SentZaloMessage:
        """The first message to this person (from index `after`, see `mark`) that contains `expect`."""
        return await self._await(after, expect, time.perf_counter() if started is None else started)

    async def say(self, text: str, expect: str) -> SentZaloMessage:
        """Type `text` and wait for a reply that contains `expect`."""
        if self.think:
            await asyncio.sleep(self.think)
        self.transcript.append((self.name, text))
        mark, started = self.mark(), time.perf_counter()
        self.user.send_text(text)
        return await self._await(mark, expect, started)

    async def press(self, label: str, expect: str) -> SentZaloMessage:
        """Type the number (or the command) of the option labelled `label` in the last message; wait for `expect`."""
        if self.last is None:
            raise RuntimeError("nothing to choose from yet")
        typed = option_number(self.last.text, label) or option_command(self.last.text, label)
        if typed is None:
            raise AssertionError(f"no option containing {label!r} in: {self.last.text}")
        return await self.say(typed, expect)

    async def report(self, values: list[tuple[str, Decimal]]) -> None:
        """Do a whole report: each item's value typed the Vietnamese way, confirmed; submit."""
        await _report(self, values)

    async def wait_choice(self, contains: str, after: int) -> None:
        """Wait for a message with numbered options that contains `contains`; it becomes `last`."""
        await self._await(after, contains, time.perf_counter(), numbered=True)

    async def say_in_group(self, group: FakeZaloChat, text: str) -> None:
        """Write in a group chat, mentioning the bot (it sees group messages only then)."""
        self.user.send_text(text, group=group)


# The name the end-to-end tests use (tests/e2e/conftest.py).
ZaloScriptedOfficer = ScriptedZaloOfficer
