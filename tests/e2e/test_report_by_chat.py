"""End-to-end: officers report through the real Application and the fake Bot API server.

Each test checks the reply and the database; every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from bot.terminal import plain
from storage.db import session_scope
from storage.models import AuditLog, Entry, Evidence, Submission, Unit, YearRoles, stored_id
from tests.e2e.conftest import CHANNELS, BotWorld

SEED_TTTT = [("TT-1", Decimal(30544)), ("TT-2", Decimal("31.5")), ("I.2", Decimal("9.8")),
             ("II.1", Decimal("9.8")), ("II.2", Decimal("9.8")), ("III.1", Decimal(10)),
             ("III.2", Decimal("9.8")), ("III.3", Decimal("9.5")), ("B.1", Decimal(0))]


def _count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _snapshot(engine: Engine) -> tuple[int, int, int]:
    return _count(engine, Entry), _count(engine, AuditLog), _count(engine, Evidence)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_onboarding_and_whole_report(world: BotWorld) -> None:
    mai = world.person(501, "Mai")
    await mai.say("/start", "mã mời cá nhân")
    await mai.say("/start not-a-code", "không đúng")
    welcome = await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    assert "Trần Thị Mai" in plain(welcome.text) and "Sở Thông tin và Truyền thông" in plain(welcome.text)
    await mai.report(SEED_TTTT)
    with session_scope(world.engine) as session:
        submission = session.exec(select(Submission)).one()
        value = session.exec(select(Entry.value).where(Entry.item_code == "TT-1")).one()
    assert submission.status == "submitted" and value == Decimal(30544)
    echoes = [text for speaker, text in mai.transcript if "30.544 hộ = 102,0% kế hoạch" in text]
    assert echoes, "the actual is echoed back formatted with its achievement"
    if world.channel == "telegram":  # every pressed button was answered
        assert len(world.fake.callback_answers) >= len(SEED_TTTT) + 1
    # a second person cannot reuse the code
    other = world.person(502, "Other")
    await other.say(f"/start {world.codes['tttt-tdkt']}", "đã được sử dụng")
    world.check_wording()  # "chọn" on Zalo (typed numbers), "bấm" on Telegram (buttons)


async def test_command_menu_in_two_languages(world: BotWorld) -> None:
    vietnamese = dict(world.fake.commands_for(""))
    english = dict(world.fake.commands_for("en"))
    assert set(vietnamese) == set(english) >= {"report", "status", "cancel", "help", "lang", "channel"}
    assert vietnamese["report"] != english["report"]


async def test_bad_input_is_answered_and_changes_nothing(world: BotWorld) -> None:
    mai = world.officer(503, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    before = _snapshot(world.engine)
    await mai.say("ba mươi nghìn", "không đọc được số")
    await mai.say("-5", "không thể là số âm")
    await mai.say("9" * 5000, "quá dài")
    await mai.say("🎉🎉", "không đọc được số")
    await mai.say("<b>1</b> & <script>", "không đọc được số")
    mark = world.fake.mark()
    await mai.user.send_sticker()
    await world.fake.wait_for(lambda m: m.chat_id == 503 and "cần một con số" in plain(m.text), after=mark)
    mark = world.fake.mark()
    await mai.user.send_voice()
    await world.fake.wait_for(lambda m: m.chat_id == 503 and "cần một con số" in plain(m.text), after=mark)
    assert _snapshot(world.engine) == before
    await mai.say("300.000", "trên 1.000%")  # absurd: asked to confirm, nothing saved yet
    assert _snapshot(world.engine) == before
    await mai.press("Nhập lại", "gõ lại")
    await mai.say("30,544", "hai cách")
    await mai.press("30.544", "30.544 hộ = 102,0% kế hoạch")


async def test_html_in_notes_and_names_is_escaped(world: BotWorld) -> None:
    mai = world.officer(504, "<b>Mai</b> & co")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    await mai.say("30.544", "Số liệu vừa nhập")
    await mai.press("Lưu và gửi minh chứng", "Gửi minh chứng")
    await mai.say("Biên bản <i>số 5</i> & phụ lục <script>alert(1)</script> 🎉", "Đã lưu ghi chú")
    mark = world.fake.mark()
    await mai.user.send_document("báo cáo <1>.pdf", b"%PDF-1.4 test", "application/pdf")
    reply = await world.fake.wait_for(lambda m: m.chat_id == 504 and "Đã nhận tệp" in plain(m.text),
                                      after=mark)
    assert "báo cáo <1>.pdf" in plain(reply.text)
    with session_scope(world.engine) as session:
        notes = list(session.exec(select(Evidence.note)))
        files = list(session.exec(select(Evidence.file_name)))
    assert any(note and "<script>" in note for note in notes)
    assert "báo cáo <1>.pdf" in files


async def test_stale_and_foreign_buttons_are_refused(world: BotWorld) -> None:
    mai = world.officer(505, "Mai")
    huy = world.officer(506, "Huy")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await huy.say(f"/start {world.codes['xd-head']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    confirm = await mai.say("30.544", "Số liệu vừa nhập")
    await mai.press("Nhập lại", "gõ lại")
    before = _snapshot(world.engine)
    # the old confirm message's button is stale now
    mark = world.fake.mark()
    await mai.user.press(world.fake.message(505, confirm.message_id), text="✅ Đúng, lưu")
    await world.fake.wait_for(lambda m: m.chat_id == 505 and "tin nhắn cũ" in plain(m.text), after=mark)
    # Huy replays Mai's button data in his own chat: refused
    data = next(d for _, d in confirm.buttons if d)
    forged = await huy.user.press_raw(confirm.message_id, data)
    await world.fake.wait_answered(forged)
    await world.wait_handled()
    assert _snapshot(world.engine) == before
    answers = [answer for answer in world.fake.callback_answers if answer.text]
    assert answers and all("cũ" in (answer.text or "") or "liên kết" in (answer.text or "") for answer in answers)


async def test_strangers_are_told_how_to_join(world: BotWorld) -> None:
    stranger = world.officer(507, "Stranger")
    await stranger.say("/report", "chưa được liên kết")
    await stranger.say("30.544", "chưa được liên kết")


async def test_an_officer_reports_only_for_their_own_unit(world: BotWorld) -> None:
    huy = world.officer(508, "Huy")
    await huy.say(f"/start {world.codes['xd-head']}", "Sở Xây dựng")
    first = await huy.say("/report", "Mục 1/")
    assert "chương trình phát triển đô thị" in plain(first.text)
    await huy.say("1", "Số liệu vừa nhập")
    await huy.press("Đúng, lưu", "Mục 2/")
    with session_scope(world.engine) as session:
        codes = list(session.exec(select(Entry.item_code)))
    assert codes == ["XD-1"]


async def test_same_update_twice_is_processed_once(world: BotWorld) -> None:
    mai = world.officer(509, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    confirm = await mai.say("30.544", "Số liệu vừa nhập")
    mark = world.fake.mark()
    update = await mai.user.press(world.fake.message(509, confirm.message_id), text="✅ Đúng, lưu")
    await world.fake.wait_for(lambda m: m.chat_id == 509 and "Mục 2/" in plain(m.text), after=mark)
    world.fake.inject_duplicate(update)
    await world.wait_handled()
    prompts = [m for m in world.fake.messages_to(509)[0:] if "Mục 2/" in plain(m.text)]
    assert len(prompts) == 1
    assert _count(world.engine, Entry) == 1


async def test_restart_in_the_middle_keeps_every_confirmed_value(world: BotWorld) -> None:
    mai = world.officer(510, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    await mai.say("30.544", "Số liệu vừa nhập")
    await mai.press("Đúng, lưu", "Mục 2/")
    await mai.say("31,5", "Số liệu vừa nhập")
    await world.stop_bot()
    await world.start_bot()  # a new Application on the same database
    resumed = await mai.say("/report", "Số liệu vừa nhập")
    assert "31,5% = 105,0% kế hoạch" in plain(resumed.text)  # a percent sign against its number
    await mai.press("Đúng, lưu", "Mục 3/")
    with session_scope(world.engine) as session:
        values = dict(session.exec(select(Entry.item_code, Entry.value)).all())
    assert values == {"TT-1": Decimal(30544), "TT-2": Decimal("31.5")}


async def test_rate_limit_429_is_retried(world: BotWorld) -> None:
    mai = world.officer(511, "Mai")
    world.fake.fail_next("sendMessage", status=429, retry_after=1)
    await mai.say("/help", "mã mời cá nhân")
    sends = [call for call in world.fake.calls if call[0] == "sendMessage"]
    assert len(sends) == 2  # refused once with 429, then retried after retry_after


async def test_a_failed_send_is_tried_again_and_arrives_once(world: BotWorld) -> None:
    mai = world.officer(512, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    world.fake.fail_next("sendMessage", status=500)
    mark = world.fake.mark()
    # The reply owed stays in the outbox and goes out on a later try: once, and right.
    await mai.say("30.544", "Số liệu vừa nhập")
    await world.wait_handled()
    sent = [m for m in world.fake.sent[mark:] if m.chat_id == 512]
    assert len(sent) == 1
    await mai.press("Đúng, lưu", "Mục 2/")


async def test_a_failed_send_after_a_pressed_button_arrives_and_the_value_is_kept(
    world: BotWorld,
) -> None:
    mai = world.officer(513, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    await mai.say("30.544", "Số liệu vừa nhập")
    assert mai.last is not None
    message = world.fake.message(513, mai.last.message_id)
    button = next(text for text, _ in message.buttons if "Đúng, lưu" in text)
    world.fake.fail_next("sendMessage", status=502, count=2)
    mark = world.fake.mark()
    await mai.user.press(message, text=button)
    # The button is answered, and after two refused sends the next question arrives once.
    await world.fake.wait_for(lambda m: m.chat_id == 513 and "Mục 2/" in plain(m.text), after=mark)
    assert [a for a in world.fake.callback_answers if a.user_id == 513]
    assert _count(world.engine, Entry) == 1, "the confirmed value was committed before the send"
    assert len([m for m in world.fake.sent[mark:] if m.chat_id == 513 and "Mục 2/" in plain(m.text)]) == 1


async def test_chats_run_concurrently(world: BotWorld) -> None:
    """While one chat's update is in flight (its reply held by the server), another chat is answered."""
    slow, quick = world.officer(598, "Slow"), world.officer(599, "Quick")
    await slow.say(f"/start {world.codes['khcn-tdkt']}", "Kính chào")
    await quick.say(f"/start {world.codes['nn-tdkt']}", "Kính chào")
    hold = world.fake.hold("sendMessage", chat=slow.user)
    in_flight = asyncio.create_task(slow.say("/report", "Mục 1/"))
    await asyncio.wait_for(hold.arrived.wait(), 10)
    await quick.say("/report", "Mục 1/")  # times out when chats are processed one after another
    assert not in_flight.done() and hold.held == 1
    hold.release()
    await in_flight

    people = [world.officer(600 + n, f"P{n}") for n in range(5)]
    codes = ["tttt-head", "xd-tdkt", "ct-tdkt", "gtvt-tdkt", "tnmt-tdkt"]
    await asyncio.gather(*(p.say(f"/start {world.codes[c]}", "Kính chào") for p, c in zip(people, codes, strict=True)))
    await asyncio.gather(*(p.say("/report", "Mục 1/") for p in people))
    await asyncio.gather(*(p.say("5", "Số liệu vừa nhập") for p in people))
    await asyncio.gather(*(p.press("Đúng, lưu", "Mục 2/") for p in people))
    assert _count(world.engine, Entry) == 5


async def test_an_older_edit_of_a_kept_message_never_overwrites_a_newer_one(world: BotWorld) -> None:
    """Turnout edits come from turns of different chats: an edit with a newer one owed is skipped."""
    from handlers.chat import Reply
    from handlers.dispatch import owe, system_clock
    from storage.db import session_scope

    group = world.fake.group(-1009, "Nhóm")
    parts = world.parts
    assert parts is not None
    channel = parts.channel
    replies = [Reply("🗳 0/7", chat_id=f"telegram:{group.id}", remember_as="turnout:test"),
               Reply("🗳 1/7", chat_id=f"telegram:{group.id}", edit_key="turnout:test"),
               Reply("🗳 2/7", chat_id=f"telegram:{group.id}", edit_key="turnout:test")]
    with session_scope(world.engine) as session:
        chats = owe(session, channel=channel.name, bot=channel.bot, replies=replies, now=system_clock())
    await parts.runtime.sender.flush(chats[0])
    messages = world.fake.messages_to(group)
    assert len(messages) == 1
    assert world.fake.message(group, messages[0].message_id).text == "🗳 2/7"
    texts = [call[1].get("text") for call in world.fake.calls if call[0] in ("sendMessage", "editMessageText")]
    assert "🗳 1/7" not in texts, "the older edit was never sent"


async def test_an_edited_message_is_answered_not_read(world: BotWorld) -> None:
    """Issue 16: an officer who edits the number they typed got no answer; now they are told how to change it."""
    mai = world.officer(507, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    mark = world.fake.mark()
    typed = await mai.user.send_text("30.544")
    await world.fake.wait_for(lambda m: m.chat_id == 507 and "Số liệu vừa nhập" in plain(m.text), after=mark)
    before = _snapshot(world.engine)
    mark = world.fake.mark()
    await mai.user.edit_text(typed, "31.000")
    answer = await world.fake.wait_for(lambda m: m.chat_id == 507 and "tin nhắn đã sửa" in plain(m.text),
                                       after=mark)
    assert "Nhập lại" in plain(answer.text) and "Sửa một mục" in plain(answer.text)
    await world.wait_handled()
    assert _snapshot(world.engine) == before, "the edit changed nothing"
    confirm = next(message for message in reversed(world.fake.sent[:mark])
                   if message.chat_id == 507 and "Số liệu vừa nhập" in plain(message.text))
    mai.last = confirm
    await mai.press("Đúng, lưu", "Mục 2/")
    with session_scope(world.engine) as session:
        assert session.exec(select(Entry.value).where(Entry.item_code == "TT-1")).one() == Decimal(30544)


def _menus_set(world: BotWorld) -> list[int]:
    """The chats whose own menu the bot set (setMyCommands with a chat scope), in order."""
    chats = []
    for method, params in world.fake.calls:
        scope = params.get("scope")
        scope = json.loads(scope) if isinstance(scope, str) else scope
        if method == "setMyCommands" and isinstance(scope, dict) and scope.get("type") == "chat":
            chats.append(int(scope["chat_id"]))
    return chats


async def test_each_chat_gets_the_menu_of_its_role(world: BotWorld) -> None:
    """Issue 16: one global menu showed members /review, /publish, /deadline; now the menu is per chat by role,
    set when an officer links, when the language or the roles change (at start), and the groups get theirs."""
    fake = world.fake
    default = dict(fake.commands_for(""))
    assert "report" in default and not {"review", "publish", "deadline"} & set(default)
    assert set(dict(fake.commands_for("", "all_group_chats"))) == {"bind"}
    member = world.officer(511, "Hà")
    await member.say(f"/start {world.codes['xd-tdkt']}", "Kính chào")
    lead = world.officer(512, "Mai")
    await lead.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    other = world.officer(513, "Lan")
    await other.say(f"/start {world.codes['ct-tdkt']}", "Kính chào")
    await world.wait_handled()
    assert not {"review", "publish", "deadline"} & set(dict(fake.commands_for("", "chat:511")))
    assert "report" in dict(fake.commands_for("", "chat:511"))
    leading = dict(fake.commands_for("", "chat:512"))
    assert {"review", "publish", "deadline", "report"} <= set(leading)
    assert leading["review"].startswith("Rà soát")
    await lead.say("/lang", "Chọn ngôn ngữ")
    await lead.press("English", "English")
    await world.wait_handled()
    assert dict(fake.commands_for("", "chat:512"))["review"].startswith("Review")
    assert sorted(_menus_set(world)) == [511, 512, 512, 513]
    # The roles change while the bot is down: at start, only the chats whose menu changed are set again.
    await world.stop_bot()
    with session_scope(world.engine) as session:
        roles = session.exec(select(YearRoles)).one()
        roles.leader_unit_id = stored_id(session.exec(select(Unit).where(Unit.code == "SXD")).one())
        session.add(roles)
    calls = len(_menus_set(world))
    await world.start_bot()
    await world.fake.wait_until(lambda: len(_menus_set(world)) >= calls + 2)
    await world.wait_handled()
    assert sorted(_menus_set(world)[calls:]) == [511, 512]
    assert {"review", "publish", "deadline"} <= set(dict(fake.commands_for("", "chat:511")))
    assert not {"review", "publish", "deadline"} & set(dict(fake.commands_for("", "chat:512")))


async def test_an_officer_goes_back_and_jumps_from_status(world: BotWorld) -> None:
    mai = world.officer(507, "Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    await mai.say("/report", "Mục 1/")
    mark = world.fake.mark()
    await mai.user.send_document("bien-ban.pdf", b"%PDF-1.4 test", "application/pdf")
    refused = await world.fake.wait_for(lambda m: m.chat_id == 507 and "Đã nhận tệp nhưng chưa lưu" in plain(m.text),
                                        after=mark)
    assert "gõ số liệu của mục này trước, bấm 📎 Lưu và gửi minh chứng, rồi gửi lại tệp" in plain(refused.text)
    assert _count(world.engine, Evidence) == 0
    await mai.say("30.544", "Số liệu vừa nhập")
    await mai.press("Đúng, lưu", "Mục 2/")
    previous = await mai.press("Mục trước", "Mục 1/")
    assert "Số liệu đã lưu: 30.544 hộ" in plain(previous.text)
    await mai.say("30.600", "Số liệu vừa nhập")
    await mai.press("Đúng, lưu", "Mục 2/")
    status = await mai.say("/status", "Còn thiếu 8 mục")
    assert "• TT-2 – " in plain(status.text)
    await mai.press("III.1", "Mục 6/")
    await mai.say("10", "Số liệu vừa nhập")
    await mai.press("Đúng, lưu", "Mục 7/")
    with session_scope(world.engine) as session:
        values = dict(session.exec(select(Entry.item_code, Entry.value)).all())
    assert values == {"TT-1": Decimal(30600), "III.1": Decimal(10)}


async def test_a_head_a_turn_leased_while_its_chat_was_being_flushed_is_handed_to_that_flush(
        world: BotWorld) -> None:
    """A turn leases its first reply in its own transaction and hands it to the flush; when a flush of
    the chat is already running in the process, that flush takes it (else it waited out its lease)."""
    from handlers.chat import Reply
    from handlers.dispatch import owe, system_clock
    from storage.messages import outgoing_state

    parts = world.parts
    assert parts is not None
    sender, channel = parts.runtime.sender, parts.channel
    person = world.fake.user(590, "Lan")
    with session_scope(world.engine) as session:
        chats = owe(session, channel=channel.name, bot=channel.bot, default_chat=str(person.id),
                    replies=[Reply("Tin nhắn một")], now=system_clock())
    chat = chats[0]
    gate, looking = asyncio.Event(), asyncio.Event()
    real_run = sender.units.run
    running: list[asyncio.Task[None]] = []

    async def run(work: Any) -> Any:
        if running and asyncio.current_task() is running[0] and not gate.is_set():
            looking.set()
            await gate.wait()  # the running flush, about to look for its chat's head
        return await real_run(work)

    sender.units.run = run  # type: ignore[method-assign]
    try:
        running.append(asyncio.create_task(sender.flush(chat)))
        await asyncio.wait_for(looking.wait(), 10)
        with session_scope(world.engine) as session:  # the turn's transaction: its reply leased there
            leased = sender.lease_in(session, chat)
        assert leased is not None
        await sender.flush(chat, leased=leased)  # handed over: the running flush delivers it
        gate.set()
        await asyncio.wait_for(running[0], 10)
    finally:
        sender.units.run = real_run  # type: ignore[method-assign]
    assert [plain(message.text) for message in world.fake.messages_to(person)] == ["Tin nhắn một"]
    with session_scope(world.engine) as session:
        assert outgoing_state(session=session, outbox_id=leased[0].id) == "delivered"


async def test_a_message_another_process_owed_while_the_chat_was_being_sent_to_still_goes_out(
        world: BotWorld) -> None:
    """A flush does not look for a next message when none was behind the one it leased; one that another
    process owed the chat meanwhile (and could not send: the head was leased here) goes out at the
    background pass's sweep, after the first."""
    from handlers.chat import Reply
    from handlers.dispatch import owe, system_clock

    parts = world.parts
    assert parts is not None
    sender, channel = parts.runtime.sender, parts.channel
    person = world.fake.user(591, "Lan")

    def owe_one(text: str) -> str:
        with session_scope(world.engine) as session:
            return owe(session, channel=channel.name, bot=channel.bot, default_chat=str(person.id),
                       replies=[Reply(text)], now=system_clock())[0]

    hold = world.fake.hold("sendMessage", chat=person)
    chat = owe_one("Tin nhắn một")
    flushing = asyncio.create_task(sender.flush(chat))
    await asyncio.wait_for(hold.arrived.wait(), 10)
    owe_one("Tin nhắn hai")  # as another process does: written, its flush finds the head leased
    hold.release()
    await asyncio.wait_for(flushing, 10)
    await world.fake.wait_for_messages(person, 2, timeout=10)
    assert [plain(message.text) for message in world.fake.messages_to(person)] == ["Tin nhắn một", "Tin nhắn hai"]
