"""Helpers for the reminder tests: link officers, walk the clock through the real scheduler."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import select

from bot.scheduler import PassReport, ReminderScheduler
from fakes.telegram import FakeTelegram, SentMessage
from storage.db import session_scope
from storage.invites import link_account
from storage.models import Officer, stored_id
from tests.chat.driver import Clock
from tests.factories import seed_bloc

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# Telegram ids for the seed's officers, by officer code.
CHAT_IDS = {officer.code: 7000 + index for index, officer in enumerate(seed_bloc().officers)}
ADDRESSES = {code: f"telegram:{chat_id}" for code, chat_id in CHAT_IDS.items()}  # where replies go


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Vietnam wall-clock moment as aware UTC."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=VN).astimezone(dt.UTC)


def link_officers(engine: Engine, fake: FakeTelegram, codes: list[str], language: str = "vi") -> dict[str, int]:
    """Link officers to Telegram accounts (as a redeemed invite would) and open their private chats."""
    with session_scope(engine) as session:
        for code in codes:
            officer = session.exec(select(Officer).where(Officer.code == code)).one()
            officer.language = language
            session.add(officer)
            link_account(session=session, officer_id=stored_id(officer), channel="telegram",
                         external_id=str(CHAT_IDS[code]), now=dt.datetime.now(dt.UTC))
    for code in codes:
        fake.user(CHAT_IDS[code], code, language_code=language)
    return {code: CHAT_IDS[code] for code in codes}


@dataclass
class Walk:
    """Moves the clock step by step, one scheduler pass per step, and keeps what arrived when."""

    fake: FakeTelegram
    clock: Clock
    scheduler: ReminderScheduler
    received: list[tuple[dt.datetime, SentMessage]] = field(default_factory=list)
    reports: list[PassReport] = field(default_factory=list)

    async def step(self) -> list[SentMessage]:
        """One pass at the current clock."""
        mark = self.fake.mark()
        self.reports.append(await self.scheduler.tick())
        arrived = [message for message in self.fake.sent[mark:] if not message.is_edit]
        self.received.extend((self.clock.now, message) for message in arrived)
        return arrived

    async def until(self, end: dt.datetime, every: dt.timedelta = dt.timedelta(minutes=30)) -> None:
        """Step the clock to `end`, a pass at each step."""
        while self.clock.now < end:
            self.clock.now = min(self.clock.now + every, end)
            await self.step()

    def to(self, chat_id: int) -> list[tuple[dt.datetime, SentMessage]]:
        """What one chat received, with the (simulated) moment."""
        return [(moment, message) for moment, message in self.received if message.chat_id == chat_id]

    def local_times(self, chat_id: int, contains: str = "") -> list[str]:
        """`dd/mm HH:MM` local moments of the messages to a chat whose plain text contains `contains`."""
        return [moment.astimezone(VN).strftime("%d/%m %H:%M") for moment, message in self.to(chat_id)
                if contains in (message.plain_text or "")]
