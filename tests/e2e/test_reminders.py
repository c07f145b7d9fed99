"""End-to-end: a week of simulated time through the real scheduler, Application and fake Bot API.

The seed bloc's reporting deadline is Thursday 10/01/2019 17:00 (Vietnam time).
With a holiday on Thursday 03/01, the default reminders fall on Friday 04/01
07:30 (moved off the holiday to the next working moment), Monday 07/01 08:00,
Wednesday 09/01 08:00 (with the leader's digest) and Thursday 10/01 08:00; the
leader hears who missed the deadline at 17:00 on Thursday. Every test runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlmodel import col, select

from bot.terminal import plain
from fakes.people import ZaloScriptedOfficer
from fakes.telegram import SentMessage
from fakes.zalo import SentZaloMessage
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import link_account
from storage.models import Officer, ReminderLog, stored_id
from storage.reminders import claim_message
from tests.e2e.conftest import CHANNELS, CHANNELS_AND_MIXED, BotWorld
from tests.e2e.test_report_by_chat import SEED_TTTT
from tests.factories import seed_bloc
from tests.reminders.helpers import CHAT_IDS, VN, Walk, link_officers, local

HOLIDAY = {"working_hours": {"holidays": ["2019-01-01", "2019-01-03"]}}
# One reporter per unit, and both officers of the deputy unit (SGTVT).
LINKED = ["xd-tdkt", "ct-tdkt", "gtvt-tdkt", "gtvt-head", "tnmt-tdkt", "khcn-tdkt", "nn-tdkt"]
REMINDER = "Nhắc hạn nộp báo cáo"
REMINDER_TIMES = ["04/01 07:30", "07/01 08:00", "09/01 08:00", "10/01 08:00"]


@pytest.fixture
async def week(world: BotWorld) -> AsyncIterator[Walk]:
    """The seed bloc with a holiday, officers linked, the clock on Wednesday 02/01 at noon."""
    with session_scope(world.engine) as session:
        load_bloc(session=session, config=seed_bloc(reminders=HOLIDAY), actor="test")
    for code in LINKED:  # each on their channel (in a mixed world, some on each)
        on_zalo = world.channel_of(CHAT_IDS[code]) == "zalo"
        link_officers(world.engine, world.fake, [code], zalo=world.zalo if on_zalo else None)
    world.clock.now = local(2019, 1, 2, 12)
    assert world.parts is not None
    scheduler = world.parts.reminders
    await scheduler.start()
    walk = Walk(world.fake, world.clock, scheduler, zalo=world.zalo)
    try:
        yield walk
    finally:
        if world.parts is not None:
            await world.parts.reminders.stop()


async def _join_leader(world: BotWorld) -> int:
    """Mai, the leader unit's reporter, joins through her invite (as a person would)."""
    mai = world.person(CHAT_IDS["tttt-tdkt"], "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    return CHAT_IDS["tttt-tdkt"]


@pytest.mark.parametrize("channel", CHANNELS_AND_MIXED)
async def test_a_week_of_reminders_at_the_right_local_times(world: BotWorld, week: Walk) -> None:
    leader_chat = await _join_leader(world)
    mai = world.person(leader_chat, "Mai")
    await week.until(local(2019, 1, 8, 10))
    # Tuesday 10:00: the leader unit submits its whole report.
    await mai.report(SEED_TTTT)
    await week.until(local(2019, 1, 11, 12))

    for code in LINKED:
        assert week.local_times(CHAT_IDS[code], REMINDER) == REMINDER_TIMES, code
    # The unit that submitted mid-week gets no more reminders.
    assert week.local_times(leader_chat, REMINDER) == REMINDER_TIMES[:2]
    assert week.local_times(leader_chat, "Tiến độ nộp báo cáo") == ["09/01 08:00"]
    assert week.local_times(leader_chat, "Hết hạn nộp báo cáo") == ["10/01 17:00"]
    # Nothing at night, on the weekend or on the holiday.
    for moment, _message in week.received:
        local_moment = moment.astimezone(dt.timezone(dt.timedelta(hours=7)))
        assert local_moment.weekday() < 5 and local_moment.date() != dt.date(2019, 1, 3)
        assert dt.time(7, 30) <= local_moment.time() <= dt.time(17, 30)

    first = next(message for _, message in week.to(CHAT_IDS["xd-tdkt"]))
    text = world.read(first)
    assert "Sở Xây dựng chưa bắt đầu báo cáo" in text and "còn 6 ngày" in text
    assert "Còn thiếu: XD-1, XD-2, I.2" in text
    if isinstance(first, SentMessage):
        assert first.buttons == [("📝 Tiếp tục báo cáo", "r:start")]
    else:  # on Zalo the one option is numbered under the text
        assert world.options(first) == ["📝 Tiếp tục báo cáo"]
    last = [message for _, message in week.to(CHAT_IDS["xd-tdkt"])][-1]
    assert "hôm nay" in world.read(last)
    digest = next(world.read(message) for _, message in week.to(leader_chat) if "Tiến độ" in world.read(message))
    assert "Đã nộp (1/7): Sở Thông tin và Truyền thông" in digest and "Chưa nộp (6/7)" in digest
    missed = next(world.read(message) for _, message in week.to(leader_chat) if "Hết hạn" in world.read(message))
    assert "Chưa nộp đúng hạn (6/7)" in missed and "Sở Thông tin và Truyền thông" not in missed
    with session_scope(world.engine) as session:
        statuses = set(session.exec(select(ReminderLog.status)))
    assert statuses == {"delivered"}


@pytest.mark.parametrize("channel", CHANNELS)
async def test_the_reminder_button_resumes_the_report(world: BotWorld, week: Walk) -> None:
    link_officers(world.engine, world.fake, ["tttt-tdkt"], zalo=world.zalo)
    await week.until(local(2019, 1, 4, 8))
    assert week.local_times(CHAT_IDS["xd-tdkt"], REMINDER) == ["04/01 07:30"]
    huy = world.person(CHAT_IDS["xd-tdkt"], "Hà")
    huy.last = week.to(CHAT_IDS["xd-tdkt"])[-1][1]  # type: ignore[assignment]  # the reminder, on its channel
    await huy.press("Tiếp tục báo cáo", "Mục 1/")


async def test_a_restart_sends_nothing_twice_and_misses_nothing(world: BotWorld, week: Walk) -> None:
    await week.until(local(2019, 1, 7, 9))
    assert all(week.local_times(CHAT_IDS[code], REMINDER) == REMINDER_TIMES[:2] for code in LINKED)
    await week.scheduler.stop()
    await world.stop_bot()
    # Down from Monday 09:00 to Wednesday 10:00: the Wednesday 08:00 reminder was missed.
    world.clock.now = local(2019, 1, 9, 10)
    # A process crashed after claiming xd-tdkt's Wednesday reminder, before sending it.
    with session_scope(world.engine) as session:
        row = session.exec(select(ReminderLog).where(ReminderLog.chat_id == f"telegram:{CHAT_IDS['xd-tdkt']}")).first()
        assert row is not None
        claimed = claim_message(session=session, bloc_id=1, key=(row.period_id, row.unit_id, "remind", 1,
                                                                  row.deadline, row.officer_id),
                                chat_id=row.chat_id, slot_at=local(2019, 1, 9, 8), now=world.clock.now,
                                claimed_by="crashed")
        assert claimed is not None
    for _ in range(2):  # two restarts in a row
        parts = await world.start_bot()
        week.scheduler = parts.reminders
        await week.scheduler.start()
        await week.step()  # the start-up pass (and nothing more on the second start)
        await week.scheduler.stop()
        await world.stop_bot()
    parts = await world.start_bot()
    week.scheduler = parts.reminders
    await week.scheduler.start()
    await week.until(local(2019, 1, 10, 12))
    for code in LINKED:
        expected = ["04/01 07:30", "07/01 08:00", "09/01 10:00", "10/01 08:00"]
        if code == "xd-tdkt":
            expected.remove("09/01 10:00")  # at-most-once: the claimed one is not sent again
        assert week.local_times(CHAT_IDS[code], REMINDER) == expected, code
    with session_scope(world.engine) as session:
        statuses = list(session.exec(select(ReminderLog.status).where(ReminderLog.status != "delivered")))
    assert statuses == ["sending"]


async def test_a_blocked_officer_is_reported_to_the_leader_once(world: BotWorld, week: Walk) -> None:
    leader_chat = await _join_leader(world)
    await week.until(local(2019, 1, 4, 8))
    ct = world.fake.user(CHAT_IDS["ct-tdkt"], "ct-tdkt")
    await ct.block_bot()
    await week.until(local(2019, 1, 10, 9))
    notices = [message for _, message in week.to(leader_chat) if "không gửi được" in plain(message.text)]
    assert len(notices) == 1
    assert "Sở Công thương" in plain(notices[0].text) and "Vũ Thị Lan" in plain(notices[0].text)
    assert week.local_times(leader_chat, "không gửi được") == ["07/01 08:00"]  # told in the same pass
    with session_scope(world.engine) as session:
        rows = list(session.exec(select(ReminderLog.status, ReminderLog.days_before)
                                 .where(ReminderLog.chat_id == f"telegram:{CHAT_IDS['ct-tdkt']}")))
    # Every later reminder was tried once and recorded as blocked, never retried.
    assert rows == [("delivered", 7), ("blocked", 3), ("blocked", 1), ("blocked", 0)]
    blocked_sends = [call for call in world.fake.calls
                     if call[0] == "sendMessage" and call[1].get("chat_id") == CHAT_IDS["ct-tdkt"]]
    assert len(blocked_sends) == 4


async def test_a_429_is_retried_after_retry_after_and_delivered_once(world: BotWorld, week: Walk) -> None:
    await week.until(local(2019, 1, 4, 7))
    world.fake.fail_next("sendMessage", status=429, retry_after=1)
    calls_before = len([call for call in world.fake.calls if call[0] == "sendMessage"])
    await week.until(local(2019, 1, 4, 7, 30))
    sends = [call for call in world.fake.calls if call[0] == "sendMessage"][calls_before:]
    assert len(sends) == len(LINKED) + 1  # one refused with 429, then retried by AIORateLimiter
    assert world.fake.too_many_requests == 1
    for code in LINKED:
        assert week.local_times(CHAT_IDS[code], REMINDER) == ["04/01 07:30"], code


async def test_a_blocked_reply_of_any_kind_is_reported_to_the_leader_once(world: BotWorld, week: Walk) -> None:
    """Not only reminders: any message the outbox found blocked (403) tells the leader unit, once."""
    from handlers.chat import Reply
    from handlers.dispatch import owe, system_clock
    from storage.models import OutboxMessage

    assert world.parts is not None
    leader_chat = await _join_leader(world)
    ct = world.fake.user(CHAT_IDS["ct-tdkt"], "ct-tdkt")
    await ct.block_bot()
    with session_scope(world.engine) as session:  # a review notice, say, before any reminder is due
        chats = owe(session, replies=[Reply("Kết quả thẩm định", chat_id=f"telegram:{CHAT_IDS['ct-tdkt']}")],
                    now=system_clock(), bots=world.parts.conversation.bots)
    await world.parts.runtime.sender.flush(chats[0])
    with session_scope(world.engine) as session:
        # The notice's row (the chat may also be owed its command menu, set by the start).
        assert session.exec(select(OutboxMessage.state).where(
            OutboxMessage.chat_key == chats[0], col(OutboxMessage.payload).contains("Kết quả thẩm định"))).one() \
            == "blocked"
    await week.step()  # Wednesday 02/01 12:00, a working moment: no reminder is due yet
    assert week.local_times(leader_chat, "không gửi được") == ["02/01 12:00"]
    await week.until(local(2019, 1, 8, 9))  # the reminders to ct-tdkt are blocked too: no second notice
    notices = [message for _, message in week.to(leader_chat) if "không gửi được" in plain(message.text)]
    assert len(notices) == 1 and "Sở Công thương" in plain(notices[0].text)


@pytest.mark.parametrize("channel", ["mixed"])
async def test_an_officer_on_both_channels_chooses_where_reminders_come(world: BotWorld, week: Walk) -> None:
    """Linked on Telegram and Zalo, Hà picks Zalo on Telegram: the reminder comes on Zalo although she used
    Telegram last; back to "the channel I used last", it follows the channel she wrote on."""
    assert world.zalo is not None
    number = CHAT_IDS["xd-tdkt"]
    assert world.channel_of(number) == "telegram"
    with session_scope(world.engine) as session:
        officer = stored_id(session.exec(select(Officer).where(Officer.code == "xd-tdkt")).one())
        link_account(session=session, officer_id=officer, channel="zalo", external_id=str(number),
                     now=dt.datetime.now(dt.UTC))
    on_telegram = world.officer(number, "Hà")
    on_zalo = ZaloScriptedOfficer(world.zalo, world.zalo.user("Hà", str(number)), "Hà", timeout=10.0)
    # An officer on one channel only is told there is nothing to choose (on Zalo: no numbered options).
    only = world.person(CHAT_IDS["ct-tdkt"], "Lan")
    assert isinstance(only, ZaloScriptedOfficer)
    told = await only.say("/channel", "chỉ liên kết với Zalo")
    assert not world.options(told)

    asked = await on_telegram.say("/channel", "Kênh nhận thông báo")
    assert "kênh đồng chí dùng gần nhất" in world.read(asked)
    assert world.options(asked) == ["🕘 Kênh dùng gần nhất", "Telegram", "Zalo"]
    await on_telegram.press("Zalo", "qua Zalo")
    await week.until(local(2019, 1, 4, 8))

    def reminders(kind: type) -> list[str]:
        """The local moments of the reminders Hà received on one channel."""
        return [moment.astimezone(VN).strftime("%d/%m %H:%M") for moment, message in week.to(number)
                if isinstance(message, kind) and REMINDER in world.read(message)]

    assert reminders(SentZaloMessage) == ["04/01 07:30"] and reminders(SentMessage) == [], "Zalo, as chosen"
    # On Zalo she goes back to the channel used last (typing the option's number), then writes on Telegram.
    asked = await on_zalo.say("/channel", "Kênh nhận thông báo")
    assert "Zalo" in world.read(asked) and world.options(asked) == ["🕘 Kênh dùng gần nhất", "Telegram", "Zalo"]
    await on_zalo.press("Kênh dùng gần nhất", "kênh đồng chí dùng gần nhất")
    await on_telegram.say("/status", "Sở Xây dựng")
    await week.until(local(2019, 1, 7, 9))
    assert reminders(SentMessage) == ["07/01 08:00"], "Telegram, used last"
    assert reminders(SentZaloMessage) == ["04/01 07:30"]
