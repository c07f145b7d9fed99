"""The real bot (python-telegram-bot Application) against the fake Bot API server."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.app import BotParts, build_application, start, stop
from fakes.people import ScriptedOfficer
from fakes.telegram import FakeTelegram
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

    async def start_bot(self, *, run: bool = True, **options: Any) -> BotParts:
        """Build a new Application polling the fake server (`options` go to build_application), and start it
        (unless `run` is False)."""
        parts = build_application(**{"token": self.fake.token, "engine": self.engine, "base_url": self.fake.base_url,
                                     "base_file_url": self.fake.base_file_url,
                                     "bot_username": self.fake.bot_username, "clock": self.clock,
                                     "dispose_engine": False, "poll_timeout": 1, **options})
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
        self.parts = None

    async def wait_handled(self, timeout: float = 10.0) -> None:
        """Wait until the running bot has every queued update, has finished with each, and owes nothing due."""
        assert self.parts is not None
        await self.fake.wait_handled(self.parts.application, timeout)
        await self.parts.runtime.settled(timeout)

    def officer(self, user_id: int, name: str, language: str = "vi") -> ScriptedOfficer:
        """A scripted person with a private chat."""
        return ScriptedOfficer(self.fake, self.fake.user(user_id, name, language_code=language), name,
                               timeout=10.0)


@pytest.fixture
async def world(engine: Engine, seeded: None) -> AsyncIterator[BotWorld]:
    """The seed bloc loaded, invites issued, the bot polling the fake server."""
    clock = Clock(DURING)
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=DURING - dt.timedelta(days=1),
                               ttl=dt.timedelta(days=30), actor="test")
    codes = {invite.officer_code: invite.code for invite in issued}
    async with FakeTelegram() as fake:
        created = BotWorld(fake=fake, engine=engine, clock=clock, codes=codes)
        await created.start_bot()
        try:
            yield created
        finally:
            await created.stop_bot()
