"""The real bot (python-telegram-bot Application) against the fake Bot API server."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.app import BotParts, add_zalo, build_application, start, stop
from bot.file_links import FileLinks
from bot.http_server import HttpServer
from fakes.people import ScriptedOfficer, ZaloScriptedOfficer
from fakes.telegram import FakeTelegram
from fakes.zalo import FakeZalo
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import issue_invites
from tests.chat.driver import Clock
from tests.factories import seed_bloc

DURING = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)


@dataclass
class BotWorld:
    """A running bot, its fake server, its database and the invite codes."""

    fake: FakeTelegram
    engine: Engine
    clock: Clock
    codes: dict[str, str]
    parts: BotParts | None = None
    started: list[BotParts] = field(default_factory=list)
    # The channel the scripted officers use ("telegram" or "zalo"); with "zalo", the bot
    # serves a Zalo bot beside its Telegram one, and its HTTP server hands out file links.
    channel: str = "telegram"
    zalo: FakeZalo | None = None
    server: HttpServer | None = None

    async def start_bot(self, *, run: bool = True, **options: Any) -> BotParts:
        """Build a new Application polling the fake server (`options` go to build_application), and start it
        (unless `run` is False)."""
        parts = build_application(**{"token": self.fake.token, "engine": self.engine, "base_url": self.fake.base_url,
                                     "base_file_url": self.fake.base_file_url,
                                     "bot_username": self.fake.bot_username, "clock": self.clock,
                                     "dispose_engine": False, "poll_timeout": 1, **options})
        if self.zalo is not None:
            self.server = HttpServer(parts.runtime)
            port = await self.server.start("127.0.0.1", 0)
            self.server.links = FileLinks(b"k" * 32, f"http://127.0.0.1:{port}")
            add_zalo(parts, token=self.zalo.token, base_url=self.zalo.base_url, links=self.server.links,
                     poll_timeout=1)
        if run:
            await start(parts)
        self.parts = parts
        self.started.append(parts)
        return parts

    async def stop_bot(self) -> None:
        """Stop the running Application as a shutdown would."""
        parts = self.parts
        if parts is None:
            return
        await stop(parts)
        if self.server is not None:
            await self.server.stop()
            self.server = None
        self.parts = None

    async def wait_handled(self, timeout: float = 10.0) -> None:
        """Wait until the running bot has every queued update, has finished with each, and owes nothing due."""
        assert self.parts is not None
        await self.fake.wait_handled(self.parts.application, timeout)
        if self.zalo is not None:
            await self.zalo.wait_delivered(timeout)
        await self.parts.runtime.settled(timeout)

    def officer(self, user_id: int, name: str, language: str = "vi") -> ScriptedOfficer:
        """A scripted person with a private Telegram chat."""
        return ScriptedOfficer(self.fake, self.fake.user(user_id, name, language_code=language), name,
                               timeout=10.0)

    def person(self, user_id: int, name: str) -> ScriptedOfficer | ZaloScriptedOfficer:
        """A scripted person on the world's channel (on Zalo, `user_id` as a string id)."""
        if self.zalo is None:
            return self.officer(user_id, name)
        return ZaloScriptedOfficer(self.zalo, self.zalo.user(name, str(user_id)), name, timeout=10.0)

    def chat_id(self, user_id: int) -> int | str:
        """The id of a person's private chat on the world's channel."""
        return user_id if self.zalo is None else str(user_id)


@pytest.fixture
def channel() -> str:
    """The officers' channel; a test runs on both with `@pytest.mark.parametrize("channel", CHANNELS)`."""
    return "telegram"


CHANNELS = ["telegram", "zalo"]


@pytest.fixture
async def world(engine: Engine, seeded: None, channel: str) -> AsyncIterator[BotWorld]:
    """The seed bloc loaded, invites issued, the bot polling the fake server(s)."""
    clock = Clock(DURING)
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=DURING - dt.timedelta(days=1),
                               ttl=dt.timedelta(days=30), actor="test")
    codes = {invite.officer_code: invite.code for invite in issued}
    async with FakeTelegram() as fake, FakeZalo(idle_wait=0.2) as zalo:
        created = BotWorld(fake=fake, engine=engine, clock=clock, codes=codes, channel=channel,
                           zalo=zalo if channel == "zalo" else None)
        await created.start_bot()
        try:
            yield created
        finally:
            await created.stop_bot()
