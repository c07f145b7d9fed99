"""A rehearsed bloc through the real bot and the fake Bot API: its year open now, every message marked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import select

from bot.terminal import plain
from fakes.telegram import FakeTelegram
from rules.rehearsal import rehearse
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import issue_invites
from storage.models import Period
from tests.chat.driver import Clock
from tests.e2e.conftest import BotWorld
from tests.factories import seed_bloc


async def test_a_rehearsed_seed_year_is_open_now_and_every_message_says_rehearsal(engine: Engine,
                                                                                 seeded: None) -> None:
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as session:
        load_bloc(session=session, config=rehearse(seed_bloc(), now), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=now, ttl=dt.timedelta(days=30), actor="test")
        period = session.exec(select(Period).where(Period.kind == "year-end")).one()
        assert period.reporting_opens <= now < period.reporting_deadline
    codes = {invite.officer_code: invite.code for invite in issued}
    async with FakeTelegram() as fake:
        world = BotWorld(fake=fake, engine=engine, clock=Clock(now), codes=codes)
        await world.start_bot()
        try:
            mai = world.officer(601, "Mai")
            await mai.say(f"/start {codes['tttt-tdkt']}", "Kính chào")
            await mai.say("/report", "Mục 1/")
            await mai.say("30.544", "Số liệu vừa nhập")
            await mai.press("Đúng, lưu", "Mục 2/")
            await mai.say("/status", "Tiến độ báo cáo")
            await world.wait_handled()
        finally:
            await world.stop_bot()
    texts = [plain(message.text) for message in fake.sent if message.chat_id == 601 and message.text]
    assert len(texts) >= 5
    assert all(text.startswith("[DIỄN TẬP]") for text in texts), texts
    assert not any("hết hạn" in text for text in texts)
