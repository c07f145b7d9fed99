"""Helpers for the reminder tests: link officers, walk the clock through the real scheduler."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import select

from bot.scheduler import Pacer, PassReport, ReminderScheduler
from fakes.telegram import FakeTelegram, SentMessage
from fakes.zalo import FakeZalo
from fakes.zalo.models import SentZaloMessage
from storage.db import session_scope
from storage.invites import link_account
from storage.models import Officer, stored_id
from tests.chat.driver import Clock
from tests.factories import seed_bloc

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# Telegram ids for the seed's officers, by officer code.
CHAT_IDS = {officer.code: 7000 + index for index, officer in enumerate(seed_bloc().officers)}
ADDRESSES = {code: f"telegram:{chat_id}" for code, chat_id in CHAT_IDS.items()}  # where replies go
# A walk's passes send at this pace: its time is simulated, and the fake server has no rate limit, so the
# reminders' real-time pacing (29 a second: 34 ms between sends) only made each pass that sends slower.
WALK_PACE = 1000.0


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Vietnam wall-clock moment as aware UTC."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=VN).astimezone(dt.UTC)


def link_officers(engine: Engine, fake: FakeTelegram, codes: list[str], language: str = "vi", *,
                  zalo: FakeZalo | None = None) -> dict[str, int]:
    """Link officers to Telegram accounts, or Zalo ones when `zalo` is given (as a redeemed invite
    would), and open their private chats (the same number as id on both)."""
    channel = "telegram" if zalo is None else "zalo"
    with session_scope(engine) as session:
        for code in codes:
            officer = session.exec(select(Officer).where(Officer.code == code)).one()
            officer.language = language
            session.add(officer)
            link_account(session=session, officer_id=stored_id(officer), channel=channel,
                         external_id=str(CHAT_IDS[code]), now=dt.datetime.now(dt.UTC))
    for code in codes:
        if zalo is None:
            fake.user(CHAT_IDS[code], code, language_code=language)
        else:
            zalo.user(code, str(CHAT_IDS[code]))
    return {code: CHAT_IDS[code] for code in codes}


Received = SentMessage | SentZaloMessage


def shown(message: Received) -> str:
    """What a person reads of a message on either channel."""
    if isinstance(message, SentZaloMessage):
        return message.text or message.caption
    return message.plain_text or ""


@dataclass
class Walk:
    """Moves the clock step by step, one scheduler pass per step, and keeps what arrived when."""

    fake: FakeTelegram
    clock: Clock
    scheduler: ReminderScheduler
    received: list[tuple[dt.datetime, Received]] = field(default_factory=list)
    reports: list[PassReport] = field(default_factory=list)
    zalo: FakeZalo | None = None  # what the Zalo bot sent is kept too

    async def step(self) -> list[Received]:
        """One pass at the current clock (at the walk's pace: the scheduler may be a restarted bot's)."""
        if self.scheduler.pacer.interval > 1 / WALK_PACE:
            self.scheduler.pacer = Pacer(WALK_PACE)
        mark = self.fake.mark()
        zalo_mark = len(self.zalo.sent) if self.zalo is not None else 0
        self.reports.append(await self.scheduler.tick())
        arrived: list[Received] = [message for message in self.fake.sent[mark:] if not message.is_edit]
        if self.zalo is not None:
            arrived.extend(self.zalo.sent[zalo_mark:])
        self.received.extend((self.clock.now, message) for message in arrived)
        return arrived

    async def until(self, end: dt.datetime, every: dt.timedelta = dt.timedelta(minutes=30)) -> None:
        """Step the clock to `end`, a pass at each step."""
        while self.clock.now < end:
            self.clock.now = min(self.clock.now + every, end)
            await self.step()

    def to(self, chat_id: int) -> list[tuple[dt.datetime, Received]]:
        """What one chat (on either channel) received, with the (simulated) moment."""
        return [(moment, message) for moment, message in self.received if message.chat_id in (chat_id, str(chat_id))]

    def local_times(self, chat_id: int, contains: str = "") -> list[str]:
        """`dd/mm HH:MM` local moments of the messages to a chat whose plain text contains `contains`."""
        return [moment.astimezone(VN).strftime("%d/%m %H:%M") for moment, message in self.to(chat_id)
                if contains in shown(message)]
