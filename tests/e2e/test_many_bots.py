"""Many bots, one deployment: two Telegram bots in one process, each serving its bloc.

Two fake Bot API servers (one per token), the real applications and sender,
SQLite and PostgreSQL. Each bloc's file names its bot (`bloc.bots.telegram`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.app import BotParts, add_telegram, build_parts, start, stop
from bot.outbox import Sender
from bot.terminal import plain
from fakes.people import ScriptedOfficer
from fakes.telegram import FakeTelegram
from handlers.chat import Reply
from handlers.dispatch import owe, system_clock
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import issue_invites, link_account
from storage.models import BlocGroup, Officer, OfficerAccount, OutboxMessage
from tests.chat.driver import Clock
from tests.e2e.conftest import DURING
from tests.factories import seed_bloc, seed_bloc_data

BOT_A, BOT_B = "111111", "222222"


@dataclass
class TwoBots:
    parts: BotParts
    a: FakeTelegram  # serves K3
    b: FakeTelegram  # serves K4
    codes: dict[str, dict[str, str]]  # bloc -> officer -> invite code


def _bloc(code: str, bot: str) -> object:
    data = seed_bloc_data()
    return seed_bloc(bloc={**data["bloc"], "code": code, "name": f"Khối thi đua {code}", "bots": {"telegram": bot}})


@pytest.fixture
async def two(engine: Engine) -> AsyncIterator[TwoBots]:
    codes: dict[str, dict[str, str]] = {}
    with session_scope(engine) as session:
        for bloc_id, (code, bot) in enumerate((("K3", BOT_A), ("K4", BOT_B)), start=1):
            load_bloc(session=session, config=_bloc(code, bot), actor="test")  # type: ignore[arg-type]
            issued = issue_invites(session=session, bloc_id=bloc_id, now=DURING - dt.timedelta(days=1),
                                   ttl=dt.timedelta(days=30), actor="test")
            codes[code] = {invite.officer_code: invite.code for invite in issued}
    async with FakeTelegram(token=f"{BOT_A}:AAA", bot_username="khoi3_bot") as a, \
            FakeTelegram(token=f"{BOT_B}:BBB", bot_username="khoi4_bot") as b:
        parts = build_parts(engine=engine, clock=Clock(DURING), dispose_engine=False)
        for fake in (a, b):
            add_telegram(parts, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url,
                         poll_timeout=1)
        await start(parts)
        try:
            yield TwoBots(parts, a, b, codes)
        finally:
            await stop(parts)


async def test_each_bloc_reports_through_its_bot_and_posts_go_through_the_right_one(
        two: TwoBots, engine: Engine) -> None:
    mai = ScriptedOfficer(two.a, two.a.user(501, "Mai"), "Mai", timeout=10)
    thanh = ScriptedOfficer(two.b, two.b.user(601, "Thành"), "Thành", timeout=10)
    await mai.say(f"/start {two.codes['K3']['tttt-tdkt']}", "Kính chào")
    await thanh.say(f"/start {two.codes['K4']['tttt-head']}", "Kính chào")
    await mai.say("/report", "1/")
    await thanh.say("/report", "1/")
    assert two.a.messages_to(601) == [] and two.b.messages_to(501) == [], "each bot answers only its own people"
    with session_scope(engine) as session:
        rows = session.exec(select(Officer.code, OfficerAccount.bot).join(
            OfficerAccount, OfficerAccount.officer_id == Officer.id)).all()  # type: ignore[arg-type]
        bots = {code: bot for code, bot in rows}
    assert bots == {"tttt-tdkt": BOT_A, "tttt-head": BOT_B}

    # The K4 leader binds K4's group through K4's bot; a post to that group goes through it.
    group = two.b.group(-1004, "Khối thi đua K4")
    mark = two.b.mark()
    await thanh.user.send_text("/bind", chat=group)
    await two.b.wait_for(lambda m: m.chat_id == group.id and "Đã gắn nhóm này" in plain(m.text), after=mark)
    with session_scope(engine) as session:
        bound = session.exec(select(BlocGroup)).one()
        assert (bound.chat_id, bound.bot) == ("-1004", BOT_B)
        # Owed from no chat (as a ballot's closing is): the process's first bot is K3's, yet
        # the group and the K4 officer are reached through K4's bot, the K3 officer through K3's.
        chats = owe(session, replies=[Reply("Kết quả bỏ phiếu", chat_id="telegram:-1004"),
                                      Reply("Thông báo cho K4", chat_id="telegram:601"),
                                      Reply("Thông báo cho K3", chat_id="telegram:501")],
                    now=system_clock(), bots=two.parts.conversation.bots)
    assert two.parts.conversation.bots["telegram"] == BOT_A
    assert chats == [f"telegram:{BOT_B}:-1004", f"telegram:{BOT_B}:601", f"telegram:{BOT_A}:501"]
    for chat in chats:
        await two.parts.runtime.sender.flush(chat)
    # The running process's own sender may have leased a message before the flush: wait for
    # each to arrive rather than read the servers' records at once.
    await two.b.wait_for(lambda m: m.chat_id == -1004 and plain(m.text) == "Kết quả bỏ phiếu", timeout=10)
    await two.b.wait_for(lambda m: m.chat_id == 601 and plain(m.text) == "Thông báo cho K4", timeout=10)
    await two.a.wait_for(lambda m: m.chat_id == 501 and plain(m.text) == "Thông báo cho K3", timeout=10)
    assert not two.a.messages_to(-1004) and not two.a.messages_to(601)


async def test_an_account_without_a_bot_is_reached_through_the_bot_its_bloc_names(
        two: TwoBots, engine: Engine) -> None:
    two.b.user(602, "Huy")
    with session_scope(engine) as session:
        officer = session.exec(select(Officer).where(Officer.bloc_id == 2, Officer.code == "xd-head")).one()
        assert officer.id is not None
        link_account(session=session, officer_id=officer.id, channel="telegram", external_id="602",
                     now=system_clock())  # linked before accounts knew their bot
        chats = owe(session, replies=[Reply("Nhắc nộp báo cáo", chat_id="telegram:602")], now=system_clock(),
                    bots=two.parts.conversation.bots)
    assert chats == [f"telegram:{BOT_B}:602"]
    await two.parts.runtime.sender.flush(chats[0])
    assert plain(two.b.messages_to(602)[-1].text) == "Nhắc nộp báo cáo"


async def test_a_sender_leases_only_the_messages_of_its_own_bots(two: TwoBots, engine: Engine) -> None:
    """A process serving K3's bot alone leaves K4's messages to the process that serves K4's."""
    alone = Sender(two.parts.runtime.units, [two.parts.telegram[0].channel])
    two.b.user(603, "Hà")
    with session_scope(engine) as session:
        chats = owe(session, replies=[Reply("Cho K4", chat_id="telegram:603")], now=system_clock(),
                    channel="telegram", bot=BOT_B)
    await alone.flush(chats[0])
    assert await alone.sweep() == 0
    # (the running process, which serves K4's bot too, may lease it meanwhile: what counts is that
    # the sender serving K3's bot alone delivered nothing, through neither bot)
    assert alone.delivered == 0 and two.a.messages_to(603) == []
    await two.parts.runtime.sender.flush(chats[0])  # the process that serves K4's bot
    await two.parts.runtime.settled()
    assert plain(two.b.messages_to(603)[-1].text) == "Cho K4"
    with session_scope(engine) as session:
        assert session.exec(select(OutboxMessage.state).where(OutboxMessage.chat_key == chats[0])).one() \
            == "delivered"
