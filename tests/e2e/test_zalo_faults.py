"""Zalo's faults on sendMessage: every reply arrives, once where the platform never got it, in order.

The fake Zalo server answers 500, 502, 503, 429 "quota exceeded", slowly, or not at all
(beyond the client's read timeout); the real application polls it, on SQLite and
PostgreSQL. What the chat saw is compared with what the outbox owed it, in the
outbox's order, and the officer's values and report with the database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from bot.outbox import SenderSettings
from bot.zalo_channel import ZaloChannel
from bot.zalo_client import ZaloTimeouts
from fakes.people import ZaloScriptedOfficer
from fakes.zalo import FakeZalo
from handlers.chat import KeptFile, Reply
from handlers.dispatch import owe, system_clock
from handlers.markup import to_plain
from rules.numbers import format_number
from storage.db import session_scope
from storage.models import Entry, OutboxMessage, Submission
from tests.e2e.conftest import BotWorld
from tests.e2e.outbox_waits import first_copies, tried, wait_db
from tests.e2e.test_report_by_chat import SEED_TTTT

# Retries quickly (20, 40, 80 ms... at most 0,2 s), so that a test's faults pass in a second or two.
QUICK = SenderSettings(first_retry=0.02, longest_retry=0.2)
TIMEOUT = 0.5  # the client's read timeout in the tests of hung answers
SLOW = 0.1  # a slow answer (0,3 s made the slow test's 20 answers take 6 s of waiting, for nothing more)
VALUES = [(code, Decimal(value)) for code, value in SEED_TTTT]

pytestmark = pytest.mark.parametrize("channel", ["zalo"])


async def _quick(world: BotWorld, *, read_timeout: float | None = None) -> tuple[ZaloChannel, FakeZalo]:
    """The bot again with quick retries (and the client's read timeout, if given)."""
    await world.stop_bot()
    parts = await world.start_bot(sender=QUICK)
    assert world.zalo is not None
    [(zalo_bot, _poller)] = parts.zalo
    zalo_bot.quota_pause = 0.3
    if read_timeout is not None:
        zalo_bot.client.timeouts = ZaloTimeouts(read=read_timeout)
    return zalo_bot, world.zalo


def _person(world: BotWorld, user_id: int) -> ZaloScriptedOfficer:
    person = world.person(user_id, "Mai")
    assert isinstance(person, ZaloScriptedOfficer)
    return person


def _owed(engine: Engine, chat_id: str) -> list[tuple[str, str]]:
    """The texts the outbox owed a chat, in order, with their states (a button's answer, a menu: none on Zalo)."""
    with session_scope(engine) as session:
        rows = session.exec(select(OutboxMessage.state, OutboxMessage.payload)
                            .where(OutboxMessage.channel == "zalo", OutboxMessage.chat_id == chat_id)
                            .order_by(col(OutboxMessage.id))).all()
    texts = [(state, json.loads(payload).get("reply", {}).get("text")) for state, payload in rows]
    return [(state, to_plain(text, typed=True)) for state, text in texts if text is not None]


def _seen(fake: FakeZalo, chat_id: str) -> list[str]:
    return [message.text for message in fake.messages_to(chat_id)]


def _in_order(owed: list[tuple[str, str]], seen: list[str]) -> None:
    """Each owed message delivered, and the chat saw exactly them, one each, in the outbox's order."""
    assert {state for state, _ in owed} == {"delivered"}
    assert len(seen) == len(owed), f"seen {len(seen)} messages, owed {len(owed)}"
    for (_state, text), message in zip(owed, seen, strict=True):
        # Zalo's text: the plain text, then its numbered options (or the commands that answer).
        assert message.startswith(text), f"{message[:60]!r} is not {text[:60]!r}"


async def _join(world: BotWorld, mai: ZaloScriptedOfficer) -> None:
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")


async def _finish_and_check(world: BotWorld, mai: ZaloScriptedOfficer, done: int) -> None:
    """Report the items left and submit; every value stored once, the report handed in."""
    for index in range(done, len(VALUES)):
        typed = format_number(VALUES[index][1])
        await mai.say(typed, f"Số liệu vừa nhập: {typed}")  # (a late copy of an earlier echo may still arrive)
        following = f"Mục {index + 2}/" if index + 1 < len(VALUES) else "Tổng hợp"
        await mai.press("Đúng, lưu", following)
    await mai.press("Nộp báo cáo", "Đã nộp báo cáo")
    await world.wait_handled(15)
    with session_scope(world.engine) as session:
        values = dict(session.exec(select(Entry.item_code, Entry.value)).all())
        count = session.exec(select(func.count()).select_from(Entry)).one()
        statuses = session.exec(select(Submission.status)).all()
    assert count == len(VALUES) and values == dict(VALUES)
    assert statuses == ["submitted"]


FAULTS: dict[str, Callable[[FakeZalo], None]] = {
    "500 twice": lambda fake: fake.fail_next("sendMessage", status=500, count=2),
    "502": lambda fake: fake.fail_next("sendMessage", status=502),
    "503 on every method": lambda fake: fake.fail_next("*", status=503, count=2),
    "429 quota exceeded": lambda fake: fake.fail_next("sendMessage", status=429, description="Quota exceeded"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_errors_of_the_platform_every_reply_once_in_order(world: BotWorld, fault: str) -> None:
    _bot, fake = await _quick(world)
    mai = _person(world, 7110)
    await _join(world, mai)
    for index in range(3):  # each of the first three items typed and confirmed through the fault
        FAULTS[fault](fake)
        await mai.say(format_number(VALUES[index][1]), "Số liệu vừa nhập")
        FAULTS[fault](fake)
        await mai.press("Đúng, lưu", f"Mục {index + 2}/")
    await _finish_and_check(world, mai, 3)
    _in_order(_owed(world.engine, mai.chat_id), _seen(fake, mai.chat_id))


async def test_a_spent_quota_keeps_every_reply_until_it_returns(world: BotWorld) -> None:
    """While Zalo answers 429 "quota exceeded" to every message, the replies wait; they go out, in order, after."""
    _bot, fake = await _quick(world)
    mai = _person(world, 7111)
    await _join(world, mai)
    mark = mai.mark()
    fake.set_quota(fake.quota_used)
    typed = asyncio.create_task(mai.say(format_number(VALUES[0][1]), "Số liệu vừa nhập"))
    await wait_db(world.engine, tried(mai.chat_id), "refused send recorded")
    assert mai.mark() == mark and not typed.done()
    fake.set_quota(None)
    await typed
    await mai.press("Đúng, lưu", "Mục 2/")
    await _finish_and_check(world, mai, 1)
    _in_order(_owed(world.engine, mai.chat_id), _seen(fake, mai.chat_id))


async def test_slow_answers_every_reply_once_in_order(world: BotWorld) -> None:
    _bot, fake = await _quick(world)
    # Slow: each answer some hundred times a turn's own time, far inside the client's read timeout.
    fake.set_delay("sendMessage", SLOW)
    mai = _person(world, 7112)
    await _join(world, mai)
    await _finish_and_check(world, mai, 0)
    _in_order(_owed(world.engine, mai.chat_id), _seen(fake, mai.chat_id))


async def test_a_hung_send_the_platform_never_got_arrives_once(world: BotWorld) -> None:
    """Held beyond the client's read timeout, then failed: the retry delivers it, once."""
    _bot, fake = await _quick(world, read_timeout=TIMEOUT)
    mai = _person(world, 7113)
    await _join(world, mai)
    for index in range(2):
        hold = fake.hold("sendMessage", chat=mai.user)
        typed = asyncio.create_task(mai.say(format_number(VALUES[index][1]), "Số liệu vừa nhập"))
        await asyncio.wait_for(hold.arrived.wait(), 10)
        await wait_db(world.engine, tried(mai.chat_id), "timed-out send recorded")
        fake.fail_next("sendMessage", status=502, count=hold.held)  # none of the held calls got through
        hold.release()
        await typed
        await mai.press("Đúng, lưu", f"Mục {index + 2}/")
    await _finish_and_check(world, mai, 2)
    _in_order(_owed(world.engine, mai.chat_id), _seen(fake, mai.chat_id))


async def test_a_hung_send_the_platform_did_get_arrives_and_at_most_repeats(world: BotWorld) -> None:
    """Answered after the read timeout: the message reached the platform and is sent again (at least once)."""
    _bot, fake = await _quick(world, read_timeout=TIMEOUT)
    mai = _person(world, 7114)
    await _join(world, mai)
    fake.set_delay("sendMessage", 3 * TIMEOUT)
    typed = asyncio.create_task(mai.say(format_number(VALUES[0][1]), "Số liệu vừa nhập"))
    await wait_db(world.engine, tried(mai.chat_id), "timed-out send recorded")
    fake.set_delay("sendMessage", 0)
    await typed
    await mai.press("Đúng, lưu", "Mục 2/")
    await _finish_and_check(world, mai, 1)
    owed = _owed(world.engine, mai.chat_id)
    seen = _seen(fake, mai.chat_id)
    _in_order(owed, first_copies(seen))
    timed_out = len([params for params in fake.calls_of("sendMessage") if params.get("chat_id") == mai.chat_id]) \
        - len(owed)
    # A copy for each timed-out call at most (whether the fake finished a call its client gave up
    # on depends on the moment the connection closed, so "at least one copy" would be a race).
    assert 0 <= len(seen) - len(owed) <= timed_out


async def test_a_report_through_5xx_and_429_answers_loses_and_duplicates_nothing(world: BotWorld) -> None:
    # Quick retries, as the file's other tests (the default back-off made its 14 faults 9 s of waiting).
    await _quick(world)
    assert world.zalo is not None
    mai = _person(world, 7101)
    await _join(world, mai)
    for index, (_code, value) in enumerate(VALUES):
        world.zalo.fail_next("sendMessage", status=[500, 502, 429][index % 3], count=1 + index % 2)
        await mai.say(format_number(value), "Số liệu vừa nhập")
        following = f"Mục {index + 2}/" if index + 1 < len(VALUES) else "Tổng hợp"
        await mai.press("Đúng, lưu", following)
    world.zalo.fail_next("sendMessage", status=503)
    await mai.press("Nộp báo cáo", "Đã nộp báo cáo")
    await world.wait_handled()
    with session_scope(world.engine) as session:
        entries = dict(session.exec(select(Entry.item_code, Entry.value)).all())
        count = session.exec(select(func.count()).select_from(Entry)).one()
        submission = session.exec(select(Submission)).one()
    assert count == len(VALUES) and entries == dict(VALUES)
    assert submission.status == "submitted"
    texts = _seen(world.zalo, mai.chat_id)
    assert len(texts) == len(set(texts)), "no reply went out twice"
    assert sum("Đã nộp báo cáo" in text for text in texts) == 1
    _in_order(_owed(world.engine, mai.chat_id), texts)


async def test_a_failed_picture_after_a_long_text_is_sent_again_alone(world: BotWorld) -> None:
    """A text over 2.000 characters goes in pieces, then the picture; the picture fails once:
    the retry sends the picture, and no piece twice (a retry resumes at the first message not sent)."""
    zalo_bot, fake = await _quick(world)
    mai = _person(world, 7115)
    lines = [f"Dòng {number}: " + "số liệu thi đua " * 8 for number in range(1, 41)]
    photo = KeptFile(channel="zalo", file_id="https://photo.example.vn/bien-ban.jpg", name="bien-ban.jpg",
                     is_photo=True)
    fake.fail_next("sendPhoto", status=502)
    with session_scope(world.engine) as session:
        chats = owe(session, channel="zalo", bot=zalo_bot.bot, now=system_clock(),
                    replies=[Reply("\n".join(lines), chat_id=f"zalo:{mai.chat_id}", resend=(photo,))])
    assert world.parts is not None
    for chat in chats:
        await world.parts.runtime.sender.flush(chat)
    await fake.wait_until(lambda: any(m.method == "sendPhoto" for m in fake.messages_to(mai.user)), 10,
                          what="the picture")
    await world.wait_handled()
    sent = fake.messages_to(mai.user)
    pieces = [message.text for message in sent if message.method == "sendMessage"]
    assert len(pieces) > 1 and "\n".join(pieces) == "\n".join(lines), "every piece once, in order"
    assert [message.photo for message in sent if message.method == "sendPhoto"] == [photo.file_id]
    assert sent[-1].method == "sendPhoto" and len(fake.calls_of("sendPhoto")) == 2
    assert _owed(world.engine, mai.chat_id)[0][0] == "delivered"
