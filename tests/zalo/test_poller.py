"""The Zalo long poll goes on after a failure that is not the platform's (the database, a bug)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from bot.zalo_channel import ZaloPoller
from bot.zalo_client import ZaloBotClient, ZaloTimeouts
from fakes.zalo import FakeZalo


class FailingOnce:
    """A channel whose first `receive` fails (the database out of reach, say)."""

    def __init__(self, client: ZaloBotClient) -> None:
        self.client = client
        self.calls = 0
        self.kept: list[Mapping[str, Any]] = []

    async def receive(self, events: list[Mapping[str, Any]]) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the database is out of reach")
        self.kept.extend(events)


async def test_a_failed_keep_does_not_end_the_poll(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeZalo(idle_wait=0.2) as fake, ZaloBotClient(
            fake.token, base_url=fake.base_url, timeouts=ZaloTimeouts(read=1, poll_grace=1)) as client:
        channel = FailingOnce(client)
        poller = ZaloPoller(channel, timeout=1)  # type: ignore[arg-type]
        lan = fake.user("Lan")
        lost = lan.send_text("first")
        poller.start()
        try:
            await fake.wait_until(lambda: channel.calls == 1, 5, what="the first keep")
            kept = lan.send_text("second")
            for _ in range(100):
                if channel.kept:
                    break
                await asyncio.sleep(0.05)
        finally:
            await poller.stop()
    assert channel.kept == [kept], "the poll went on after the failure"
    assert str(lost["message"]["message_id"]) in caplog.text and "lost" in caplog.text
