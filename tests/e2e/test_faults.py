"""Faults of the platform: every reply arrives, once where the platform never got it, in order.

The fake Bot API server answers 429 with retry_after, 500, 502, slowly, or not at all
(beyond the client's read timeout); the real Application polls it, on SQLite and
PostgreSQL. What each chat saw is compared with what the outbox owed it, in the
outbox's order, and the officer's values and step with the database. Also: a new bot
token on an existing database, and update ids that start again from 1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col, select

from bot.outbox import SenderSettings
from bot.runtime import RecoverySettings
from bot.terminal import plain
from fakes.people import ScriptedOfficer
from fakes.telegram import FakeTelegram
from handlers.markup import for_buttons
from storage.db import session_scope
from storage.models import Entry, InboxMessage, OutboxMessage, Submission
from tests.e2e.conftest import BotWorld
from tests.e2e.outbox_waits import first_copies, tried, wait_db

# Retries quickly (20, 40, 80 ms... at most 0,2 s), so that a test's faults pass in a second or two.
QUICK = SenderSettings(first_retry=0.02, longest_retry=0.2)
TIMEOUT = 0.5  # the client's read timeout in the tests of hung answers
SLOW = 0.1  # a slow answer (0,3 s made the slow tests' 30 answers take 9 s of waiting, for nothing more)
MAI = [("TT-1", Decimal(30544)), ("TT-2", Decimal("31.5")), ("I.2", Decimal("9.8")),
       ("II.1", Decimal("9.8")), ("II.2", Decimal("9.8")), ("III.1", Decimal(10)),
       ("III.2", Decimal("9.8")), ("III.3", Decimal("9.5")), ("B.1", Decimal(0))]


async def _quick(world: BotWorld, **options: object) -> None:
    await world.stop_bot()
    await world.start_bot(sender=QUICK, **options)


def _owed(engine: Engine, chat_id: int) -> list[tuple[str, str | None]]:
    """What the outbox owed a chat, in order: (state, the message's text; None for a button's answer)."""
    with session_scope(engine) as session:
        rows = session.exec(select(OutboxMessage.state, OutboxMessage.payload)
                            .where(OutboxMessage.chat_id == str(chat_id)).order_by(col(OutboxMessage.id))).all()
    texts = [(state, json.loads(payload).get("reply", {}).get("text")) for state, payload in rows]
    return [(state, for_buttons(text) if text is not None else None) for state, text in texts]


def _seen(world: BotWorld, chat_id: int) -> list[str | None]:
    return [message.text for message in world.fake.messages_to(chat_id)]


async def _settled(world: BotWorld) -> None:
    await world.wait_handled(15)


async def _finish_and_check(world: BotWorld, mai: ScriptedOfficer, done: int) -> None:
    """Report the items left and submit; every value stored once, the report handed in."""
    for index in range(done, len(MAI)):
        # The echo of this value (a late copy of an earlier echo may still arrive).
        await mai.say(_typed(MAI[index][1]), f"Số liệu vừa nhập: {_typed(MAI[index][1])}")
        following = f"Mục {index + 2}/" if index + 1 < len(MAI) else "Tổng hợp"
        await mai.press("Đúng, lưu", following)
    await mai.press("Nộp báo cáo", "Đã nộp báo cáo")
    await _settled(world)
    with session_scope(world.engine) as session:
        values = dict(session.exec(select(Entry.item_code, Entry.value)).all())
        statuses = session.exec(select(Submission.status)).all()
    assert values == dict(MAI)
    assert statuses == ["submitted"]


def _typed(value: Decimal) -> str:
    from rules.numbers import format_number

    return format_number(value)


FAULTS: dict[str, Callable[[FakeTelegram], None]] = {
    "429 with retry_after": lambda fake: fake.fail_next("sendMessage", status=429, retry_after=1),
    "500 twice": lambda fake: fake.fail_next("sendMessage", status=500, count=2),
    "502 on every method": lambda fake: fake.fail_next("*", status=502, count=3),
    "500 on the button's answer": lambda fake: fake.fail_next("answerCallbackQuery", status=500, count=2),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_errors_of_the_platform_every_reply_once_in_order(world: BotWorld, fault: str) -> None:
    await _quick(world)
    mai = world.officer(530, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    for index in range(3):  # each of the first three items typed and confirmed through the fault
        FAULTS[fault](world.fake)
        await mai.say(_typed(MAI[index][1]), "Số liệu vừa nhập")
        FAULTS[fault](world.fake)
        await mai.press("Đúng, lưu", f"Mục {index + 2}/")
    await _finish_and_check(world, mai, 3)
    owed = _owed(world.engine, 530)
    assert {state for state, _ in owed} == {"delivered"}
    assert _seen(world, 530) == [text for _, text in owed if text is not None]
    presses = len(MAI) + 1
    answered = {answer.callback_query_id for answer in world.fake.callback_answers if answer.user_id == 530}
    assert len(answered) == presses, "every press answered"


async def test_slow_answers_every_reply_once_in_order(world: BotWorld) -> None:
    await _quick(world)
    # Slow: each answer some hundred times a turn's own time, far inside the client's read timeout.
    world.fake.set_delay("sendMessage", SLOW)
    world.fake.set_delay("answerCallbackQuery", SLOW)
    mai = world.officer(531, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    await _finish_and_check(world, mai, 0)
    owed = _owed(world.engine, 531)
    assert {state for state, _ in owed} == {"delivered"}
    assert _seen(world, 531) == [text for _, text in owed if text is not None]


async def test_a_hung_send_the_platform_never_got_arrives_once(world: BotWorld) -> None:
    """Held beyond the read timeout, then failed: the retry delivers it, once."""
    await _quick(world, request_timeout=TIMEOUT)
    mai = world.officer(532, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    for index in range(2):
        hold = world.fake.hold("sendMessage", chat=mai.user)
        typed = asyncio.create_task(mai.say(_typed(MAI[index][1]), "Số liệu vừa nhập"))
        await asyncio.wait_for(hold.arrived.wait(), 10)
        await wait_db(world.engine, tried(532), "timed-out send recorded")
        world.fake.fail_next("sendMessage", status=502, count=hold.held)  # none of the held calls got through
        hold.release()
        await typed
        await mai.press("Đúng, lưu", f"Mục {index + 2}/")
    await _finish_and_check(world, mai, 2)
    owed = _owed(world.engine, 532)
    assert {state for state, _ in owed} == {"delivered"}
    assert _seen(world, 532) == [text for _, text in owed if text is not None]


async def test_a_hung_send_the_platform_did_get_arrives_and_at_most_repeats(world: BotWorld) -> None:
    """Answered after the read timeout: the message reached the platform and is sent again (at least once)."""
    await _quick(world, request_timeout=TIMEOUT)
    mai = world.officer(533, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    world.fake.set_delay("sendMessage", 3 * TIMEOUT)
    typed = asyncio.create_task(mai.say(_typed(MAI[0][1]), "Số liệu vừa nhập"))
    await wait_db(world.engine, tried(533), "timed-out send recorded")
    world.fake.set_delay("sendMessage", 0)
    await typed
    await mai.press("Đúng, lưu", "Mục 2/")
    await _finish_and_check(world, mai, 1)
    owed = _owed(world.engine, 533)
    expected = [text for _, text in owed if text is not None]
    seen = _seen(world, 533)
    assert {state for state, _ in owed} == {"delivered"}
    assert first_copies(seen) == expected
    timed_out = sum(1 for method, params in world.fake.calls
                    if method == "sendMessage" and params.get("chat_id") == 533) - len(expected)
    # A copy for each timed-out call at most (whether the fake finished a call its client gave up
    # on depends on the moment the connection closed, so "at least one copy" would be a race).
    assert 0 <= len(seen) - len(expected) <= timed_out


# -- update keys: a new bot token, update ids from 1 again, old keys pruned --------


async def _join_and_talk(world: BotWorld, user_id: int, code: str) -> ScriptedOfficer:
    person = world.officer(user_id, "Mai")
    await person.say(f"/start {code}", "Kính chào")
    await person.say("/report", "Mục 1/")
    await person.say("30.544", "Số liệu vừa nhập")
    await person.press("Đúng, lưu", "Mục 2/")
    return person


async def test_a_new_bot_token_on_the_same_database_drops_nothing(world: BotWorld) -> None:
    await _join_and_talk(world, 540, world.codes["tttt-tdkt"])
    await world.wait_handled()
    await world.stop_bot()
    async with FakeTelegram(token="654321:OTHER-TOKEN") as other:  # update ids start from 1 again
        moved = BotWorld(fake=other, engine=world.engine, clock=world.clock, codes=world.codes)
        await moved.start_bot()
        try:
            mai = moved.officer(540, "Mai")
            await mai.say("/report", "Mục 2/")  # the first update of the new bot has an old id
            await mai.say("31,5", "Số liệu vừa nhập")
            await mai.press("Đúng, lưu", "Mục 3/")
            await moved.wait_handled()
        finally:
            await moved.stop_bot()
    with session_scope(world.engine) as session:
        keys = session.exec(select(InboxMessage.bot, InboxMessage.update_id, InboxMessage.outcome)).all()
        values = dict(session.exec(select(Entry.item_code, Entry.value)).all())
    assert {bot for bot, _, _ in keys} == {"123456", "654321"}
    colliding = {key for bot, key, _ in keys if bot == "123456"} & {key for bot, key, _ in keys if bot == "654321"}
    assert colliding, "the two bots' update ids overlap"
    assert {outcome for _, _, outcome in keys} == {"done"}
    assert values == {"TT-1": Decimal(30544), "TT-2": Decimal("31.5")}


async def _age_inbox(engine: Engine, age: dt.timedelta) -> None:
    then = dt.datetime.now(dt.UTC) - age
    with session_scope(engine) as session:
        session.connection().execute(update(InboxMessage).values(received_at=then, processed_at=then))


async def test_update_ids_from_1_again_after_a_quiet_week_drop_nothing(world: BotWorld) -> None:
    """Telegram may start its update ids afresh after a week without updates; the old keys must not swallow them."""
    await _join_and_talk(world, 541, world.codes["tttt-tdkt"])
    await world.wait_handled()
    await world.stop_bot()
    await _age_inbox(world.engine, dt.timedelta(days=7, hours=1))  # a quiet week; not pruned yet
    async with FakeTelegram() as fresh:  # the same bot, its update ids from 1 again
        again = BotWorld(fake=fresh, engine=world.engine, clock=world.clock, codes=world.codes)
        await again.start_bot()
        try:
            mai = again.officer(541, "Mai")
            await mai.say("/report", "Mục 2/")
            await mai.say("31,5", "Số liệu vừa nhập")
            await mai.press("Đúng, lưu", "Mục 3/")
            await again.wait_handled()
        finally:
            await again.stop_bot()
    with session_scope(world.engine) as session:
        values = dict(session.exec(select(Entry.item_code, Entry.value)).all())
    assert values == {"TT-1": Decimal(30544), "TT-2": Decimal("31.5")}


async def test_old_update_keys_are_pruned_and_recent_ones_kept(world: BotWorld) -> None:
    keep = dt.timedelta(days=8)
    await _quick(world, recovery=RecoverySettings(keep_for=keep, prune_every=dt.timedelta(0)))
    await _join_and_talk(world, 542, world.codes["tttt-tdkt"])
    await world.wait_handled()
    with session_scope(world.engine) as session:
        kept = len(session.exec(select(InboxMessage.id)).all())
    await _age_inbox(world.engine, keep + dt.timedelta(hours=1))
    mai = world.officer(542, "Mai")
    await mai.say("31,5", "Số liệu vừa nhập")  # a recent update, kept
    await world.wait_handled()
    assert world.parts is not None
    await world.parts.runtime.recover()
    with session_scope(world.engine) as session:
        left = session.exec(select(InboxMessage.update_id)).all()
    assert kept == 4 and len(left) == 1
    # The pruned ids may come again as new updates; the kept one is still recognised.
    assert plain(world.fake.messages_to(542)[-1].text).count("Số liệu vừa nhập") == 1


async def test_a_retry_is_tried_at_its_pause_not_at_the_background_pass(world: BotWorld) -> None:
    """The background pass runs once an hour here: the failed replies still arrive, by the retry's own timer."""
    await _quick(world, recovery=RecoverySettings(interval=3600))
    mai = world.officer(536, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    world.fake.fail_next("sendMessage", status=500, count=2)
    await mai.say("/report", "Mục 1/")
    world.fake.fail_next("sendMessage", status=502, count=1)
    await mai.say(_typed(MAI[0][1]), "Số liệu vừa nhập")
    await _settled(world)
    owed = _owed(world.engine, 536)
    assert {state for state, _ in owed} == {"delivered"}
    assert _seen(world, 536) == [text for _, text in owed if text is not None]


async def test_a_reply_that_failed_after_its_button_was_answered_does_not_answer_it_again(world: BotWorld) -> None:
    """The press is answered in its reply's row: a 500 on the reply is retried without a second answer."""
    await _quick(world)
    mai = world.officer(537, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    await mai.say(_typed(MAI[0][1]), "Số liệu vừa nhập")
    world.fake.fail_next("editMessageText", status=500, count=2)  # the pressed message's edit carries the answer
    world.fake.fail_next("sendMessage", status=500, count=2)
    await mai.press("Đúng, lưu", "Mục 2/")
    await _settled(world)
    presses = [answer.callback_query_id for answer in world.fake.callback_answers if answer.user_id == 537]
    assert len(presses) == 1
    assert world.fake.methods.answer_attempts[presses[0]] == 1, "answered once, before the first try"
    owed = _owed(world.engine, 537)
    assert [state for state, _ in owed] == ["delivered"] * len(owed)
    assert _seen(world, 537) == [text for _, text in owed if text is not None]
    with session_scope(world.engine) as session:
        payloads = [json.loads(payload) for payload in session.exec(
            select(OutboxMessage.payload).where(OutboxMessage.chat_id == "537"))]
    assert not [found for found in payloads if "answer" in found and "reply" not in found], \
        "no row of its own for a button's answer"


async def test_a_wait_for_progress_ends_when_a_flush_ends_and_at_once_after_one(world: BotWorld) -> None:
    """What Runtime.settled and the reminders' passes wait on instead of sleeping between looks: the end
    of a flush (or a drain) of this process wakes them; one that ended since they looked ends the wait at once."""
    from handlers.chat import Reply
    from handlers.dispatch import owe, system_clock

    await world.stop_bot()
    parts = await world.start_bot(recovery=RecoverySettings(interval=3600))  # no background flush meanwhile
    await world.wait_handled()
    sender = parts.runtime.sender
    seen = sender.progress
    waiting = asyncio.create_task(sender.wait_progress(seen, timeout=3600))
    await asyncio.sleep(0.05)
    assert not waiting.done(), "nothing ended: the wait goes on"
    mai = world.fake.user(537, "Mai")
    with session_scope(world.engine) as session:
        chats = owe(session, replies=[Reply("Tin nhắn", chat_id=f"telegram:{mai.id}")], now=system_clock(),
                    bots=parts.conversation.bots)
    await sender.flush(chats[0])
    await asyncio.wait_for(waiting, 10)  # woken by the flush's end, not by its hour
    assert sender.progress > seen
    await asyncio.wait_for(sender.wait_progress(seen, timeout=3600), 10)  # ended since `seen`: at once
    assert [plain(message.text) for message in world.fake.messages_to(mai)] == ["Tin nhắn"]
