"""Zalo's faults on sendMessage (5xx, 429 "quota exceeded") during a whole report: no reply lost,
no entry lost or duplicated. The real application against the fake Zalo server, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from fakes.people import ZaloScriptedOfficer
from rules.numbers import format_number
from storage.db import session_scope
from storage.models import Entry, Submission
from tests.e2e.conftest import BotWorld
from tests.e2e.test_report_by_chat import SEED_TTTT


@pytest.mark.parametrize("channel", ["zalo"])
async def test_a_report_through_5xx_and_429_answers_loses_and_duplicates_nothing(world: BotWorld) -> None:
    assert world.parts is not None and world.zalo is not None
    [(zalo_bot, _poller)] = world.parts.zalo
    zalo_bot.quota_pause = 0.3
    mai = world.person(7101, "Mai")
    assert isinstance(mai, ZaloScriptedOfficer)
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    for index, (_code, value) in enumerate(SEED_TTTT):
        fault = [500, 502, 429][index % 3]
        world.zalo.fail_next("sendMessage", status=fault, count=1 + index % 2)
        await mai.say(format_number(value), "Số liệu vừa nhập")
        following = f"Mục {index + 2}/" if index + 1 < len(SEED_TTTT) else "Tổng hợp"
        await mai.press("Đúng, lưu", following)
    world.zalo.fail_next("sendMessage", status=503)
    await mai.press("Nộp báo cáo", "Đã nộp báo cáo")
    await world.wait_handled()
    with session_scope(world.engine) as session:
        entries = dict(session.exec(select(Entry.item_code, Entry.value)).all())
        count = session.exec(select(func.count()).select_from(Entry)).one()
        submission = session.exec(select(Submission)).one()
    assert count == len(SEED_TTTT) and entries == {code: Decimal(value) for code, value in SEED_TTTT}
    assert submission.status == "submitted"
    texts = [message.text for message in world.zalo.messages_to(mai.user)]
    assert len(texts) == len(set(texts)), "no reply went out twice"
    assert sum("Đã nộp báo cáo" in text for text in texts) == 1
