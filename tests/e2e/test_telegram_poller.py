"""The Telegram long poll goes on after a failure that is not the platform's, and loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from telegram import Bot, Update

from bot.telegram_channel import TelegramPoller
from fakes.telegram import FakeTelegram


class FailingOnce:
    """A channel whose first `receive` fails (the database out of reach, say)."""

    def __init__(self, bot: Bot) -> None:
        self.application = SimpleNamespace(bot=bot)
        self.calls = 0
        self.kept: list[str] = []

    async def receive(self, updates: Sequence[Update]) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the database is out of reach")
        self.kept.extend(update.message.text or "" for update in updates if update.message is not None)


async def test_a_failed_keep_neither_ends_the_poll_nor_acknowledges_the_update(
        caplog: pytest.LogCaptureFixture) -> None:
    async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
        channel = FailingOnce(bot)
        poller = TelegramPoller(channel, timeout=1)  # type: ignore[arg-type]
        lan = fake.user(801, "Lan")
        await lan.send_text("first")
        poller.start()
        try:
            for _ in range(200):
                if channel.calls >= 2 and channel.kept:
                    break
                await asyncio.sleep(0.05)
            await lan.send_text("second")
            for _ in range(200):
                if "second" in channel.kept:
                    break
                await asyncio.sleep(0.05)
        finally:
            await poller.stop()
    assert channel.kept == ["first", "second"], "the failed update was handed out again, and polling went on"
    assert "could not be kept" in caplog.text
