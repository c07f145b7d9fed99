"""Drive a real python-telegram-bot Application against the fake Telegram server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
from collections.abc import AsyncIterator

import aiohttp
import aiohttp.web
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from fakes.telegram import FakeTelegram, parse_html

Context = ContextTypes.DEFAULT_TYPE


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.2+ warns (PTBDeprecationWarning) whenever RetryAfter is built unless
    # PTB_TIMEDELTA is set; warnings are errors in this project.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def build_app(fake: FakeTelegram, builder: ApplicationBuilder | None = None) -> Application:  # type: ignore[type-arg]
    builder = builder or ApplicationBuilder()
    return builder.token(fake.token).base_url(fake.base_url).base_file_url(fake.base_file_url).build()


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def echo(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


async def test_echo_bot(fake: FakeTelegram) -> None:
    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    alice = fake.user(1001, "Alice", username="alice")
    async with polling(app):
        await alice.send_text("xin chào")
        reply = await fake.next_reply(alice)
        assert reply.text == "xin chào"
        assert reply.chat_id == 1001
        await alice.send_text("123")  # sent raw by PTB, must stay a string
        assert (await fake.next_reply(alice)).text == "123"
        await fake.wait_handled(app)
    assert [m.text for m in fake.messages_to(alice)] == ["xin chào", "123"]
    assert any(method == "getMe" for method, _ in fake.calls)


async def test_command_with_argument_and_bot_mention(fake: FakeTelegram) -> None:
    async def start(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"code={','.join(context.args or [])}")

    app = build_app(fake)
    app.add_handler(CommandHandler("start", start))
    bob = fake.user(1002, "Bob")
    group = fake.group(-100555, "Khối thi đua")
    async with polling(app):
        await bob.send_text("/start ABC123")
        assert (await fake.next_reply(bob)).text == "code=ABC123"
        await bob.send_command("start", "X", chat=group, at_bot=True)
        reply = await fake.next_reply(group)
        assert reply.text == "code=X"
        assert fake.message(group, reply.message_id).chat_id == group.id


async def test_inline_keyboard_press_and_edit(fake: FakeTelegram) -> None:
    async def menu(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Đồng ý", callback_data="vote:yes")],
             [InlineKeyboardButton("Không", callback_data="vote:no")]]
        )  # fmt: skip
        await update.effective_message.reply_text("Bỏ phiếu?", reply_markup=keyboard)

    async def on_vote(update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"got {query.data}")
        await query.edit_message_text(f"Đã chọn: {query.data}")

    app = build_app(fake)
    app.add_handler(CommandHandler("vote", menu))
    app.add_handler(CallbackQueryHandler(on_vote, pattern=r"^vote:"))
    carol = fake.user(1003, "Carol")
    async with polling(app):
        await carol.send_command("vote")
        question = await fake.next_reply(carol)
        assert question.buttons == [("Đồng ý", "vote:yes"), ("Không", "vote:no")]
        with pytest.raises(AssertionError, match="no button"):
            await carol.press(question, text="Maybe")
        pressed = await carol.press(question, text="Không")
        edit = await fake.wait_for(lambda m: m.method == "editMessageText")
        assert edit.text == "Đã chọn: vote:no"
        await fake.wait_answered(pressed)
    assert fake.callback_answers[0].text == "got vote:no"
    current = fake.message(carol, question.message_id)
    assert current.text == "Đã chọn: vote:no"
    assert current.reply_markup is None  # editing without reply_markup drops the keyboard


async def test_document_upload_download(fake: FakeTelegram) -> None:
    received: list[bytes] = []

    async def on_document(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        document = update.effective_message.document
        assert document is not None
        tg_file = await context.bot.get_file(document.file_id)
        received.append(bytes(await tg_file.download_as_bytearray()))
        await update.effective_message.reply_document(
            document=b"%PDF-1.4 report", filename="bao_cao.pdf", caption="<b>Báo cáo</b>",
            parse_mode="HTML",
        )  # fmt: skip

    app = build_app(fake)
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    dave = fake.user(1004, "Dave")
    content = bytes(range(256)) * 10
    async with polling(app):
        await dave.send_document("ket_qua.xlsx", content, "application/vnd.ms-excel")
        reply = await fake.next_reply(dave)
    assert received == [content]
    assert reply.method == "sendDocument"
    assert (reply.file_name, reply.file_bytes) == ("bao_cao.pdf", b"%PDF-1.4 report")
    assert reply.plain_text == "Báo cáo"


async def test_set_my_commands_per_language(fake: FakeTelegram) -> None:
    app = build_app(fake)
    async with app:
        await app.bot.set_my_commands([("start", "Bắt đầu"), ("report", "Báo cáo")])
        await app.bot.set_my_commands([("start", "Start")], language_code="en")
        await app.bot.set_my_commands([("admin", "Quản trị")], scope={"type": "chat", "chat_id": -100555})
        commands = await app.bot.get_my_commands(language_code="en")
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await app.bot.set_my_commands([("Bad-Name", "x")])
    assert fake.commands_for("") == [("start", "Bắt đầu"), ("report", "Báo cáo")]
    assert fake.commands[("default", "en")] == [("start", "Start")]
    assert fake.commands_for(scope="chat:-100555") == [("admin", "Quản trị")]
    assert [c.command for c in commands] == ["start"]


async def test_retry_after_with_aio_rate_limiter(fake: FakeTelegram) -> None:
    app = build_app(fake, ApplicationBuilder().rate_limiter(AIORateLimiter(max_retries=2)))
    app.add_handler(MessageHandler(filters.TEXT, echo))
    erin = fake.user(1005, "Erin")
    fake.fail_next("sendMessage", status=429, retry_after=1)
    async with polling(app):
        await erin.send_text("ping")
        reply = await fake.next_reply(erin, timeout=5)
    assert reply.text == "ping"
    assert fake.too_many_requests == 1
    assert [m for m, _ in fake.calls].count("sendMessage") == 2


async def test_rate_limit_window() -> None:
    async with FakeTelegram(rate_limit=3) as limited:
        limited.user(7, "Gina")
        app = build_app(limited)
        async with app:
            for _ in range(3):
                await app.bot.send_message(7, "ok")
            with pytest.raises(RetryAfter) as info:
                await app.bot.send_message(7, "too many")
        assert info.value.retry_after == dt.timedelta(seconds=1)
        assert limited.too_many_requests == 1
        assert len(limited.sent) == 3


async def test_server_error_reaches_error_handler(fake: FakeTelegram) -> None:
    errors: list[object] = []

    async def on_error(update: object, context: Context) -> None:
        errors.append(context.error)

    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_error_handler(on_error)
    frank = fake.user(1006, "Frank")
    fake.fail_next("sendMessage", status=500)
    async with polling(app):
        await frank.send_text("hello")
        await fake.wait_handled(app)
        await frank.send_text("again")
        assert (await fake.next_reply(frank)).text == "again"
    assert len(errors) == 1 and isinstance(errors[0], NetworkError)
    assert "Internal Server Error" in str(errors[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode(fake: FakeTelegram) -> None:
    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    henry = fake.user(1007, "Henry")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token="s3cret"
        )
        try:
            assert fake.webhook_url == url
            with pytest.raises(Exception, match="webhook is active"):
                await app.bot.get_updates()
            await henry.send_text("qua webhook")
            assert (await fake.next_reply(henry)).text == "qua webhook"
            bogus = {"update_id": 999, "message": {"message_id": 1, "date": 1, "chat": {}}}
            assert await fake.post_to_webhook(bogus, secret_token="wrong") == 403
            assert await fake.post_to_webhook(bogus, secret_token=None) == 403
            await fake.wait_handled(app)
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.webhook_deliveries[0].status == 200
    assert [m.text for m in fake.messages_to(henry)] == ["qua webhook"]


async def test_webhook_retries_when_down(fake: FakeTelegram) -> None:
    port = free_port()
    ivy = fake.user(1008, "Ivy")
    app = build_app(fake)
    async with app:
        await app.bot.set_webhook(f"http://127.0.0.1:{port}/nobody-home")
        await ivy.send_text("lost")
        await fake.wait_until(lambda: len(fake.webhook_deliveries) == fake.webhook_retries + 1,
                              what="every delivery attempt")
        info = await app.bot.get_webhook_info()
        await app.bot.delete_webhook()
    assert [d.status for d in fake.webhook_deliveries] == [None] * (fake.webhook_retries + 1)
    assert info.last_error_message is not None


async def test_duplicate_update_is_redelivered(fake: FakeTelegram) -> None:
    seen: list[int] = []

    async def record(update: Update, context: Context) -> None:
        seen.append(update.update_id)

    app = build_app(fake)
    app.add_handler(MessageHandler(filters.ALL, record))
    jack = fake.user(1009, "Jack")
    async with polling(app):
        first = await jack.send_text("một")
        await fake.wait_handled(app)
        fake.inject_duplicate(first)
        await jack.send_text("hai")
        await fake.wait_handled(app)
    assert seen == [first["update_id"], first["update_id"], first["update_id"] + 1]


async def test_validation_errors(fake: FakeTelegram) -> None:
    kim = fake.user(1010, "Kim")
    app = build_app(fake)
    async with app:
        bot = app.bot
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(kim.id, "<b>x", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(kim.id, "a < b", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(kim.id, "Tom & Jerry", parse_mode="HTML")
        ok = await bot.send_message(kim.id, "a &lt; b <i>c</i>", parse_mode="HTML")
        assert ok.text == "a < b c"
        assert ok.entities[0].type == "italic"
        with pytest.raises(BadRequest, match="(?i)message text is empty"):
            await bot.send_message(kim.id, "")
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(kim.id, "x" * 4097)
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(kim.id, "k", reply_markup=too_long)
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("a &lt; b <i>c</i>", kim.id, ok.message_id, parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(424242, "who?")
        await kim.block_bot()
        with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
            await bot.send_message(kim.id, "hello?")
        await kim.unblock_bot()
        await bot.send_message(kim.id, "welcome back")
    assert fake.messages_to(kim)[-1].text == "welcome back"


def test_parse_html_rules() -> None:
    assert parse_html("<b>đậm</b> &amp; <a href='https://x.y'>link</a>") == (
        "đậm & link",
        [{"type": "bold", "offset": 0, "length": 3},
         {"type": "text_link", "offset": 6, "length": 4, "url": "https://x.y"}],
    )  # fmt: skip
    assert parse_html('<pre><code class="language-py">x</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 1, "language": "py"}
    ]
    assert parse_html("😀<u>a</u>")[1] == [{"type": "underline", "offset": 2, "length": 1}]
    for bad in ["<b>x", "a < b", "<foo>x</foo>", "<b>x</i>", "</b>", "&nbsp;", '<span class="x">s</span>']:
        with pytest.raises(ValueError):
            parse_html(bad)


async def test_wrong_token_is_rejected() -> None:
    async with FakeTelegram(token="123456:RIGHT") as server:
        app = (
            ApplicationBuilder()
            .token("123456:WRONG")
            .base_url(server.base_url)
            .base_file_url(server.base_file_url)
            .build()
        )
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await app.initialize()
        # app.shutdown() is a no-op after a failed initialize: close the HTTP clients directly.
        await app.bot.shutdown()


async def test_unknown_method_and_raw_json(fake: FakeTelegram) -> None:
    fake.user(5, "Lan")
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}"
        async with session.post(f"{url}/noSuchMethod", json={}) as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found: method not found"
        async with session.post(f"{url}/sendMessage", json={"chat_id": 5, "text": "hi"}) as response:
            body = await response.json()
    assert body["ok"] is True and body["result"]["text"] == "hi"
    assert fake.sent[-1].text == "hi"


PNG_10x20 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (10).to_bytes(4, "big") + (20).to_bytes(4, "big") + b"\x08\x02"


async def test_user_media_and_block_updates(fake: FakeTelegram) -> None:
    statuses: list[str] = []

    async def on_media(update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if message.photo:
            data = await (await message.photo[-1].get_file()).download_as_bytearray()
            await message.reply_text(f"photo {len(data)} bytes")
        elif message.sticker:
            await message.reply_text(f"sticker {message.sticker.emoji}")
        elif message.voice:
            duration = message.voice.duration
            seconds = duration.total_seconds() if isinstance(duration, dt.timedelta) else duration
            await message.reply_text(f"voice {seconds:.0f}s")

    async def on_member(update: Update, context: Context) -> None:
        assert update.my_chat_member is not None
        statuses.append(update.my_chat_member.new_chat_member.status)

    app = build_app(fake)
    app.add_handler(MessageHandler(filters.PHOTO | filters.Sticker.ALL | filters.VOICE, on_media))
    app.add_handler(ChatMemberHandler(on_member, ChatMemberHandler.MY_CHAT_MEMBER))
    mai = fake.user(1011, "Mai")
    async with polling(app):
        await mai.send_photo(PNG_10x20)
        assert (await fake.next_reply(mai)).text == f"photo {len(PNG_10x20)} bytes"
        await mai.send_sticker(emoji="🎉")
        assert (await fake.next_reply(mai)).text == "sticker 🎉"
        await mai.send_voice(duration=3)
        assert (await fake.next_reply(mai)).text == "voice 3s"
        await mai.block_bot()
        await mai.unblock_bot()
        await fake.wait_handled(app)
    assert statuses == ["kicked", "member"]


async def test_bot_photo_reply_parameters_and_chat_action(fake: FakeTelegram) -> None:
    nam = fake.user(1012, "Nam")
    question = await nam.send_text("gửi ảnh đi")
    app = build_app(fake)
    async with app:
        bot = app.bot
        await bot.send_chat_action(nam.id, ChatAction.UPLOAD_PHOTO)
        photo = await bot.send_photo(
            nam.id, PNG_10x20, caption="Biểu đồ", reply_parameters=ReplyParameters(question["message"]["message_id"])
        )
        assert photo.photo[-1].width == 10 and photo.reply_to_message is not None
        assert photo.reply_to_message.text == "gửi ảnh đi"
        with pytest.raises(BadRequest, match="(?i)image_process_failed"):
            await bot.send_photo(nam.id, b"not an image")
        with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
            await bot.send_message(nam.id, "x", reply_parameters=ReplyParameters(999))
        assert await bot.delete_message(nam.id, photo.message_id)
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await bot.delete_message(nam.id, photo.message_id)
    sent = fake.messages_to(nam)[0]
    assert (sent.kind, sent.file_bytes, sent.text, sent.reply_to_message_id) == (
        "photo",
        PNG_10x20,
        "Biểu đồ",
        question["message"]["message_id"],
    )
    assert fake.message(nam, sent.message_id).deleted
    assert fake.chat_actions == [(nam.id, "upload_photo")]


async def test_long_poll_wakes_promptly_and_stops_fast(fake: FakeTelegram) -> None:
    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    oanh = fake.user(1013, "Oanh")
    loop = asyncio.get_running_loop()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=30)
        await fake.wait_polling()  # the bot is now inside a long poll
        started = loop.time()
        await oanh.send_text("nhanh")
        await fake.next_reply(oanh)
        assert loop.time() - started < 0.5
        started = loop.time()
        await app.updater.stop()
        await app.stop()
    assert loop.time() - started < 2


async def test_second_poller_terminates_first(fake: FakeTelegram) -> None:
    url = f"{fake.base_url}{fake.token}/getUpdates"
    async with aiohttp.ClientSession() as session:

        async def poll(timeout: int) -> tuple[int, dict[str, object]]:
            async with session.post(url, data={"timeout": str(timeout)}) as response:
                return response.status, await response.json()

        first = asyncio.create_task(poll(5))
        await fake.wait_polling()
        assert await poll(0) == (200, {"ok": True, "result": []})
        status, body = await asyncio.wait_for(first, 1)
    assert status == 409 and "terminated by other getUpdates request" in str(body["description"])


async def test_per_chat_rate_limit_delay_and_wildcard_faults() -> None:
    async with FakeTelegram(per_chat_rate_limit=1) as fake:
        fake.user(1, "A")
        fake.user(2, "B")
        app = build_app(fake)
        async with app:
            await app.bot.send_message(1, "a1")
            with pytest.raises(RetryAfter):
                await app.bot.send_message(1, "a2")
            await app.bot.send_message(2, "b1")  # other chats are not limited
            fake.set_delay("sendMessage", 0.3)
            fake.fail_next("*", status=502, count=2)
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await app.bot.get_me()
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(NetworkError):
                await app.bot.send_message(2, "b2")
            assert loop.time() - started >= 0.3
        assert fake.too_many_requests == 1
        assert [m.text for m in fake.sent] == ["a1", "b1"]


async def test_a_held_call_waits_until_released_and_other_chats_go_on(fake: FakeTelegram) -> None:
    app = build_app(fake, ApplicationBuilder().concurrent_updates(True))
    app.add_handler(MessageHandler(filters.TEXT, echo))
    slow, quick = fake.user(1014, "Chậm"), fake.user(1015, "Nhanh")
    hold = fake.hold("sendMessage", chat=slow)
    async with polling(app):
        await slow.send_text("một")
        await asyncio.wait_for(hold.arrived.wait(), 5)
        await quick.send_text("hai")
        assert (await fake.next_reply(quick)).text == "hai"
        assert fake.messages_to(slow) == [] and hold.held == 1
        hold.release()
        assert (await fake.next_reply(slow)).text == "một"
        await fake.wait_handled(app)


async def test_waits_for_a_number_of_messages_and_for_every_answer_of_a_press(fake: FakeTelegram) -> None:
    async def twice(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
        await update.effective_message.reply_text("một", reply_markup=keyboard)
        await update.effective_message.reply_text("hai")

    async def on_press(update: Update, context: Context) -> None:
        assert update.callback_query is not None
        with contextlib.suppress(BadRequest):  # the second answer of one press is refused
            await update.callback_query.answer("ok")

    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT, twice))
    app.add_handler(CallbackQueryHandler(on_press))
    thu = fake.user(1016, "Thu")
    async with polling(app):
        mark = fake.mark()
        await thu.send_text("?")
        first, second = await fake.wait_for_messages(thu, 2, after=mark)
        assert (first.text, second.text) == ("một", "hai")
        with pytest.raises(TimeoutError, match="3 messages to chat 1016"):
            await fake.wait_for_messages(thu, 3, timeout=0.05, after=mark)
        press = await thu.press(first)
        await fake.wait_answered(press)
        fake.inject_duplicate(press)
        await fake.wait_answered(press, times=2)
        await fake.wait_handled(app)
    assert [answer.text for answer in fake.callback_answers] == ["ok"]


class WebhookReceiver:
    """A webhook that holds each POST until released, answering a chosen status once per update."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[int, int]] = []  # (update id, chat id) in the order they came
        self.open = 0
        self.most_open = 0
        self.release = asyncio.Event()
        self.arrived = asyncio.Condition()
        self.fail_once: dict[int, int] = {}  # update id -> status answered to its first delivery

    async def handle(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        update = await request.json()
        update_id = int(update["update_id"])
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        async with self.arrived:
            self.arrivals.append((update_id, int(update["message"]["chat"]["id"])))
            self.arrived.notify_all()
        try:
            await self.release.wait()
        finally:
            self.open -= 1
        status = self.fail_once.pop(update_id, 200)
        return aiohttp.web.Response(status=status)

    async def wait_arrivals(self, count: int) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.arrivals) >= count), 5)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    app = aiohttp.web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield hook, f"http://127.0.0.1:{port}/hook"
    finally:
        hook.release.set()
        await runner.cleanup()


async def test_webhook_delivers_chats_in_parallel_and_each_chat_in_order(
        fake: FakeTelegram, receiver: tuple[WebhookReceiver, str]) -> None:
    hook, url = receiver
    people = [fake.user(1100 + n, f"P{n}") for n in range(5)]
    app = build_app(fake)
    async with app:
        await app.bot.set_webhook(url, max_connections=3)
        for person in people:
            await person.send_text("một")
        await people[0].send_text("hai")
        await hook.wait_arrivals(3)
        # Three chats at once (max_connections), the first chat's second update not before its first.
        assert hook.most_open == 3 and sorted(chat for _, chat in hook.arrivals) == [1100, 1101, 1102]
        hook.release.set()
        await fake.wait_delivered()
    chats = [chat for _, chat in hook.arrivals]
    assert sorted(chats) == sorted([1100, 1100, 1101, 1102, 1103, 1104])
    first, second = (update_id for update_id, chat in hook.arrivals if chat == 1100)
    assert first < second and hook.most_open == 3 == fake.webhook_most_at_once


async def test_webhook_delivers_again_after_a_server_error(
        fake: FakeTelegram, receiver: tuple[WebhookReceiver, str]) -> None:
    hook, url = receiver
    jane, kim = fake.user(1200, "Jane"), fake.user(1201, "Kim")
    app = build_app(fake)
    async with app:
        await app.bot.set_webhook(url)
        first = await jane.send_text("một")
        hook.fail_once[int(first["update_id"])] = 502
        await jane.send_text("hai")
        await kim.send_text("ba")
        hook.release.set()
        await fake.wait_delivered()
    jane_arrivals = [update_id for update_id, chat in hook.arrivals if chat == 1200]
    # The 502 was delivered again, before the chat's next update.
    assert jane_arrivals == [int(first["update_id"]), int(first["update_id"]), int(first["update_id"]) + 1]
    assert [d.status for d in fake.webhook_deliveries if d.update_id == int(first["update_id"])] == [502, 200]
