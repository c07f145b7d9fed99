"""The Telegram adapter: updates in as `Incoming`, owed messages out as messages and keyboards.

python-telegram-bot does the HTTP (its `Bot`, over bot/transport.py), reads the
updates (`Update.de_json`) and runs the one update handler and the error
handler in its `Application`. Updates come in through our own long poll
(`TelegramPoller`), which acknowledges an update to Telegram (the next
`offset`) only after it is kept in the inbox, or through the webhook route of
bot/http_server.py, which answers 200 only after the same. The handler then
has the runtime take the chat's turns; the outbox's sender delivers through
`TelegramChannel.deliver`, which answers the port's four verdicts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    Update,
    WebAppInfo,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, ContextTypes, TypeHandler

from bot.port import Answer, Delivery, Owed, Verdict
from bot.port import Message as OwedMessage
from bot.runtime import Runtime
from bot.tasks import Loop
from bot.transport import DEFAULT_POOL_SIZE, AiohttpRequest
from bot.web.auth import PageAddresses
from handlers.chat import Incoming, InFile, InKind, KeptFile, OutFile, Reply
from handlers.dispatch import menu_commands
from handlers.i18n import t
from handlers.markup import for_buttons
from handlers.renderers.files import make

__all__ = ["CHANNEL", "InvalidToken", "TelegramChannel", "TelegramError", "TelegramPoller", "build_telegram"]

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_CALLBACK_BYTES = 64
TelegramApp = Application[Any, Any, Any, Any, Any, Any]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; those of one chat run in order."""

    def __init__(self, max_concurrent_updates: int = 256,
                 on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()) -> None:
        super().__init__(max_concurrent_updates)
        # What closes with the application (Application.shutdown calls ours), also when
        # the application is driven by hand: the PostgreSQL asyncio engine.
        self._on_shutdown = list(on_shutdown)
        # Per chat: its lock and how many of its updates hold or wait for it.
        self._chats: dict[int, tuple[asyncio.Lock, list[int]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's earlier updates, then process this one."""
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock, users = self._chats.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                await coroutine
        finally:
            # Forget the chat only when no update of it waits: a released lock reads as
            # unlocked until its next waiter runs, and a new lock meanwhile would let
            # a later update overtake that waiter.
            users[0] -= 1
            if not users[0]:
                del self._chats[key]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Close what was handed in to close with the application."""
        for close in self._on_shutdown:
            await close()


def build_telegram(*, token: str, base_url: str, base_file_url: str, http_client: str, read_timeout: float = 5.0,
                   on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()) -> TelegramApp:
    """python-telegram-bot's Application for one bot: our HTTP client, no Updater (our own poll), per-chat order.

    `read_timeout` bounds a Bot API request's answer (a long poll waits its own timeout on top).
    """
    builder = ApplicationBuilder()
    if http_client == "aiohttp":
        builder = builder.request(AiohttpRequest(connection_pool_size=DEFAULT_POOL_SIZE, read_timeout=read_timeout)) \
            .get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=read_timeout))
    else:
        builder = builder.connection_pool_size(DEFAULT_POOL_SIZE).read_timeout(read_timeout)
    application: TelegramApp = (
        builder.token(token).base_url(base_url).base_file_url(base_file_url).updater(None)
        .concurrent_updates(PerChatUpdateProcessor(256, on_shutdown=on_shutdown))
        .build()
    )
    return application


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


def bot_id_of(token: str) -> str:
    """The bot's id, the part of its token before the colon (no request needed)."""
    return token.split(":", 1)[0]


def to_incoming(update: Update, bot_username: str | None, bot_id: str = "") -> Incoming | None:
    """Translate a Telegram update into a neutral message (None for kinds we ignore)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "bot": bot_id,
        "update_id": str(update.update_id),
        "user_id": str(user.id),
        "chat_id": str(chat.id),
        "is_private": chat.type == chat.PRIVATE,
        "user_name": user.full_name,
        "language_code": user.language_code,
    }
    query = update.callback_query
    if query is not None:
        message_id = query.message.message_id if query.message is not None else None
        return Incoming(kind=InKind.option, data=query.data or "", message_id=message_id, option_id=query.id,
                        **common)
    if update.edited_message is not None:
        # An edit is never read as input (the value typed first may be saved already):
        # the person is told so, and how to change the value.
        return Incoming(kind=InKind.edited, text=update.edited_message.text or "", **common)
    message = update.message
    if message is None:
        return None
    text = message.text or ""
    if text.startswith("/") and message.entities and message.entities[0].type == MessageEntity.BOT_COMMAND \
            and message.entities[0].offset == 0:
        head, *args = text.split()
        command, _, target = head[1:].partition("@")
        if target and bot_username and target.lower() != bot_username.lower():
            return None  # a command meant for another bot in a group
        return Incoming(kind=InKind.command, command=command.lower(), args=tuple(args), text=text, **common)
    if message.text is not None:
        return Incoming(kind=InKind.text, text=text, **common)
    if message.document is not None:
        document = message.document
        return Incoming(kind=InKind.file, file=InFile(
            file_id=document.file_id, file_name=document.file_name or "document",
            file_size=document.file_size), **common)
    if message.photo:
        photo = message.photo[-1]
        return Incoming(kind=InKind.file, file=InFile(
            file_id=photo.file_id, file_name=f"photo-{photo.file_unique_id}.jpg",
            file_size=photo.file_size, is_photo=True), **common)
    return Incoming(kind=InKind.unsupported, **common)


def keyboard(reply: Reply, pages: PageAddresses | None = None) -> InlineKeyboardMarkup | None:
    """Options as an inline keyboard; data longer than Telegram allows is a bug, refused loudly.

    An option that opens a web page is a `web_app` button (the Mini App), or a link button to
    a personal link; none without `pages` (no web pages served).
    """
    if not reply.options:
        return None
    rows = []
    for row in reply.options:
        buttons = []
        for option in row:
            if option.page is not None:
                if pages is not None and option.page.link is not None:  # a personal link: a plain link button
                    buttons.append(InlineKeyboardButton(option.label, url=pages.url(option.page)))
                elif pages is not None:  # the Mini App: its initData says who opens it
                    buttons.append(InlineKeyboardButton(option.label, web_app=WebAppInfo(pages.url(option.page))))
                continue
            if len(option.data.encode()) > MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {option.data!r}")
            buttons.append(InlineKeyboardButton(option.label, callback_data=option.data))
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(rows) if rows else None


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split a long message at line breaks so that each part fits one Telegram message."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def verdict_of(error: Exception) -> Delivery:
    """What a failed Bot API request means for the message: blocked, refused, or try again."""
    if isinstance(error, RetryAfter):
        return Delivery(Verdict.retry, detail=str(error), retry_after=_seconds(error.retry_after))
    if isinstance(error, Forbidden):
        return Delivery(Verdict.blocked, detail=str(error))
    if isinstance(error, ChatMigrated):
        return Delivery(Verdict.refused, detail=f"the group moved to chat {error.new_chat_id}")
    if isinstance(error, BadRequest):  # before NetworkError: BadRequest is one
        return Delivery(Verdict.refused, detail=str(error))
    if isinstance(error, TimedOut | NetworkError):  # 5xx, timeouts, refused connections
        return Delivery(Verdict.retry, detail=f"{type(error).__name__}: {error}")
    return Delivery(Verdict.retry, detail=f"{type(error).__name__}: {error}")


class TelegramChannel:
    """One Telegram bot: its Application, its update handler, and its side of the channel port."""

    name = CHANNEL

    def __init__(self, runtime: Runtime, application: TelegramApp, *, bot_id: str,
                 bot_username: str | None = None) -> None:
        self.runtime = runtime
        self.application = application
        self.bot = bot_id
        self.bot_username = bot_username
        self.pages: PageAddresses | None = None  # the web pages' addresses, when they are served

    def install(self) -> None:
        """Register the one update handler and the error handler."""
        self.application.add_handler(TypeHandler(Update, self.on_update))
        self.application.add_error_handler(self.on_error)

    def incoming(self, update: Update) -> Incoming | None:
        """An update as a neutral message (None for kinds the bot ignores)."""
        return to_incoming(update, self.bot_username or self.application.bot.username, self.bot)

    async def receive(self, updates: Sequence[Update]) -> None:
        """Keep updates in the inbox, then queue them for the handler.

        Returns once they are committed: only then may the platform be told they
        arrived (the poller's next offset, the webhook's 200).
        """
        incomings = [found for found in map(self.incoming, updates) if found is not None]
        if incomings:
            await self.runtime.keep(incomings)
        for update in updates:
            await self.application.update_queue.put(update)

    async def receive_json(self, data: object) -> bool:
        """A webhook's body: kept and queued like a polled update; False when it is not an update."""
        try:
            update = Update.de_json(data, self.application.bot)  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError) as error:
            log.warning("webhook body not an update (%s)", error)
            return False
        if update is None:
            return False
        await self.receive([update])
        return True

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Take the chat's waiting turns (this update's among them); the sender delivers the replies."""
        incoming = self.incoming(update)
        if incoming is None:
            if update.callback_query is not None:
                await self.deliver(str(update.callback_query.from_user.id),
                                   Answer(option_id=update.callback_query.id, notice=None))
            return
        await self.runtime.drain(incoming.chat_key)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with context. The update stays in the inbox: the background pass takes it again."""
        where = ""
        if isinstance(update, Update):
            where = (f"update {update.update_id} from user "
                     f"{update.effective_user.id if update.effective_user else '?'} in chat "
                     f"{update.effective_chat.id if update.effective_chat else '?'}")
        log.error("error while handling %s; it is tried again from the inbox", where or update,
                  exc_info=context.error)

    # -- the port -------------------------------------------------------------

    def is_group(self, chat_id: str) -> bool:
        """Telegram's group and channel ids are negative."""
        return chat_id.startswith("-")

    async def deliver(self, chat_id: str, owed: Owed) -> Delivery:
        """Send one owed message (or answer a button); never raises for Telegram's or the network's errors."""
        if isinstance(owed, Answer):
            return await self._answer(owed)
        answered = False
        if owed.answer is not None:  # the pressed button first; a refused answer does not hold the reply
            answer = await self._answer(owed.answer)
            if answer.verdict is Verdict.retry:
                return Delivery(Verdict.retry, detail=answer.detail, retry_after=answer.retry_after,
                                parts_done=owed.parts_done)
            if answer.verdict is not Verdict.delivered:
                log.info("the button answer of outbox message %s not given (%s); sending the reply",
                         owed.outbox_id, answer.detail)
            answered = True
        sent: list[Message] = []
        try:
            done = await self._send(int(chat_id), owed, sent)
        except TelegramError as error:
            failed = verdict_of(error)
            return Delivery(failed.verdict, detail=failed.detail, retry_after=failed.retry_after,
                            parts_done=owed.parts_done + len(sent), answered=answered)
        first = sent[0].message_id if sent else None
        return Delivery(Verdict.delivered, message_id=str(first) if first is not None else None,
                        parts_done=done, answered=answered)

    async def _answer(self, owed: Answer) -> Delivery:
        try:
            await self.application.bot.answer_callback_query(owed.option_id, text=owed.notice)
        except BadRequest as error:  # a press older than Telegram keeps queries for, or answered already
            return Delivery(Verdict.refused, detail=f"button answer: {error}")
        except TelegramError as error:
            return verdict_of(error)
        return Delivery(Verdict.delivered)

    async def _send(self, chat_id: int, owed: OwedMessage, sent: list[Message]) -> int:
        """Edit the pressed message when asked, else send the text's parts, then the files."""
        bot = self.application.bot
        reply = owed.reply
        if reply.menu is not None:
            await self._set_menu(chat_id, reply.menu)
            return 1
        markup = keyboard(reply, self.pages)
        protect = True if reply.protect else None  # None: the parameter is left out
        body = for_buttons(reply.text)  # "bấm": Telegram has buttons (handlers/markup.py)
        if owed.edit_message_id is not None and owed.parts_done == 0 \
                and len(body) <= MessageLimit.MAX_TEXT_LENGTH:
            try:
                edited = await bot.edit_message_text(body, chat_id=chat_id,
                                                     message_id=int(owed.edit_message_id),
                                                     parse_mode=ParseMode.HTML, reply_markup=markup)
                if isinstance(edited, Message):
                    sent.append(edited)
                return 1
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    return 1
                log.info("could not edit message %s in %s (%s); sending a new one", owed.edit_message_id,
                         chat_id, error)
        parts: list[Callable[[], Awaitable[Message]]] = []
        texts = split_text(body) if body else []
        for index, text in enumerate(texts):
            last = index == len(texts) - 1
            parts.append(lambda text=text, last=last: bot.send_message(  # type: ignore[misc]
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup if last else None,
                protect_content=protect))
        for out in reply.files:
            parts.append(lambda out=out: self._send_file(chat_id, out, protect))  # type: ignore[misc]
        for kept in reply.resend:
            # A file a person sent earlier (evidence), sent again by Telegram's own file id.
            if kept.channel == CHANNEL:
                parts.append(lambda kept=kept: self._send_kept(chat_id, kept, protect))  # type: ignore[misc]
        for part in parts[owed.parts_done:]:
            sent.append(await part())
        return len(parts)

    async def _set_menu(self, chat_id: int, menu: str) -> None:
        """The chat's own command menu (`leading:vi`): a member's leaves out the leading units' commands."""
        kind, _, language = menu.partition(":")
        commands = [BotCommand(command, t(language or "vi", key)) for command, key in menu_commands(kind).items()]
        await self.application.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))

    async def _send_file(self, chat_id: int, out: OutFile, protect: bool | None) -> Message:
        bot = self.application.bot
        # Made here, after the commit and off the event loop (charts, paperwork).
        upload = InputFile(await asyncio.to_thread(make, out), filename=out.name)
        if out.is_photo:
            photo: Message = await bot.send_photo(chat_id, upload, caption=out.caption or None,
                                                  protect_content=protect)
            return photo
        document: Message = await bot.send_document(chat_id, upload, caption=out.caption or None,
                                                    protect_content=protect)
        return document


    async def _send_kept(self, chat_id: int, kept: KeptFile, protect: bool | None) -> Message:
        bot = self.application.bot
        if kept.is_photo:
            photo: Message = await bot.send_photo(chat_id, kept.file_id, caption=kept.name, protect_content=protect)
            return photo
        document: Message = await bot.send_document(chat_id, kept.file_id, caption=kept.name,
                                                    protect_content=protect)
        return document


class TelegramPoller:
    """Long polling that acknowledges an update only once it is kept.

    Telegram forgets the updates before `offset` when it is passed; the offset
    moves past an update only after `TelegramChannel.receive` committed it, so a
    crash at any moment leaves it either with Telegram or in the inbox. One
    consumer per bot: Telegram answers a second one with 409 Conflict, and the
    caller refuses to start a second polling process (bot/leases.py).
    """

    def __init__(self, channel: TelegramChannel, *, timeout: int = 30, pause: float = 0.0) -> None:
        self.channel = channel
        self.timeout = timeout
        self.pause = pause
        self._loop = Loop("telegram-poller", self._run)
        self.offset: int | None = None

    def start(self) -> None:
        """Start polling in a task."""
        self._loop.start()

    @property
    def running(self) -> bool:
        """Whether the poll loop runs."""
        return self._loop.running

    async def stop(self) -> None:
        """Stop polling; an update fetched and not yet kept is fetched again next time."""
        await self._loop.stop()

    async def _run(self) -> None:
        bot = self.channel.application.bot
        failures = 0
        while True:
            try:
                updates = await bot.get_updates(offset=self.offset, timeout=self.timeout,
                                                allowed_updates=Update.ALL_TYPES)
                failures = 0
            except RetryAfter as error:
                await asyncio.sleep(_seconds(error.retry_after))
                continue
            except TimedOut:
                continue
            except InvalidToken:
                log.error("Telegram rejected the bot token; polling stops")
                raise
            except Conflict as error:
                log.error("another process polls this bot (%s): run one polling process per bot, or "
                          "webhook mode for several replicas", error)
                await asyncio.sleep(5)
                continue
            except TelegramError as error:
                failures += 1
                pause = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("getUpdates failed (%s); again in %.1f s", error, pause)
                await asyncio.sleep(pause)
                continue
            if updates:
                try:
                    await self.channel.receive(updates)
                except Exception:
                    # Not kept (the database out of reach, a bug): not acknowledged either, so
                    # Telegram hands the updates out again; polling goes on after a pause.
                    failures += 1
                    pause = min(30.0, 0.5 * 2 ** min(failures, 6))
                    log.exception("updates %s-%s could not be kept; asked again in %.1f s",
                                  updates[0].update_id, updates[-1].update_id, pause)
                    await asyncio.sleep(pause)
                    continue
                self.offset = updates[-1].update_id + 1  # acknowledged on the next request
            elif self.pause:
                await asyncio.sleep(self.pause)


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The default menus: Vietnamese by default, English for English-speaking clients.

    A private chat not yet linked gets a member's menu (no `/review`, `/publish`, `/deadline`);
    a linked officer's chat gets its own by role (`TelegramChannel._set_menu`), group chats theirs.
    """
    for language, code in (("vi", None), ("vi", "vi"), ("en", "en")):
        commands = [BotCommand(command, t(language, key)) for command, key in menu_commands("member").items()]
        await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
        group = [BotCommand(command, t(language, key)) for command, key in menu_commands("group").items()]
        await application.bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats(), language_code=code)
