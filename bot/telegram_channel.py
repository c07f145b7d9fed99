"""The Telegram adapter: updates in as `Incoming`, replies out as messages and keyboards.

python-telegram-bot does the transport (polling or its webhook server), the
rate limiting (`AIORateLimiter`) and the error handler; the conversation itself
is the channel-neutral `Conversation`, synchronous: called in a worker thread on
PostgreSQL and on the event loop on SQLite, no more at once than the database serves.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, BaseUpdateProcessor, ContextTypes, TypeHandler

from handlers.chat import Incoming, InFile, InKind, Outcome, Reply
from handlers.dispatch import Conversation, menu_commands
from handlers.i18n import language_of, t
from storage.db import units_of_work_at_once

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_CALLBACK_BYTES = 64
# Turns in worker threads at once, at most. A turn is mostly Python (the ORM), which
# holds the GIL: more threads overlap no more database waits but take the GIL from
# the event loop. 200 officers on PostgreSQL (bench/chat.py): with the pool's 32 at
# once the loop stalled until a reply was lost to a 6 s connect timeout (in two runs
# of three); with 4, 0,64 of the echo bot's rate (docs/performance.md).
TURNS_AT_ONCE = 4
ResultT = TypeVar("ResultT")


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


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


def to_incoming(update: Update, bot_username: str | None) -> Incoming | None:
    """Translate a Telegram update into a neutral message (None for kinds we ignore)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "update_key": f"tg:{update.update_id}",
        "user_id": user.id,
        "chat_id": chat.id,
        "is_private": chat.type == chat.PRIVATE,
        "user_name": user.full_name,
        "language_code": user.language_code,
    }
    query = update.callback_query
    if query is not None:
        message_id = query.message.message_id if query.message is not None else None
        return Incoming(kind=InKind.option, data=query.data or "", message_id=message_id, **common)
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


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Options as an inline keyboard; data longer than Telegram allows is a bug, refused loudly."""
    if not reply.options:
        return None
    rows = []
    for row in reply.options:
        buttons = []
        for option in row:
            if len(option.data.encode()) > MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {option.data!r}")
            buttons.append(InlineKeyboardButton(option.label, callback_data=option.data))
        rows.append(buttons)
    return InlineKeyboardMarkup(rows)


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


async def send_reply(application: Application[Any, Any, Any, Any, Any, Any], chat_id: int, reply: Reply,
                     edit_message_id: int | None = None) -> list[Message]:
    """Render one reply: edit the pressed message when asked, else send; files after the text."""
    bot = application.bot
    target = reply.chat_id if reply.chat_id is not None else chat_id
    markup = keyboard(reply)
    sent: list[Message] = []
    if (reply.edit or reply.edit_key) and edit_message_id is not None \
            and len(reply.text) <= MessageLimit.MAX_TEXT_LENGTH:
        try:
            edited = await bot.edit_message_text(reply.text, chat_id=target, message_id=edit_message_id,
                                                 parse_mode=ParseMode.HTML, reply_markup=markup)
            if isinstance(edited, Message):
                sent.append(edited)
            return sent
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return sent
            log.info("could not edit message %s in %s (%s); sending a new one", edit_message_id, target, error)
    if reply.text:
        parts = split_text(reply.text)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            sent.append(await bot.send_message(target, part, parse_mode=ParseMode.HTML,
                                               reply_markup=markup if last else None))
    for out in reply.files:
        # Made here, after the commit and off the event loop (charts, paperwork).
        upload = InputFile(await asyncio.to_thread(out.render), filename=out.name)
        if out.is_photo:
            sent.append(await bot.send_photo(target, upload, caption=out.caption or None))
        else:
            sent.append(await bot.send_document(target, upload, caption=out.caption or None))
    for kept in reply.resend:
        # A file a person sent earlier (evidence), sent again by Telegram's own file id.
        if kept.channel != CHANNEL:
            continue
        if kept.is_photo:
            sent.append(await bot.send_photo(target, kept.file_id, caption=kept.name))
        else:
            sent.append(await bot.send_document(target, kept.file_id, caption=kept.name))
    return sent


class TelegramChannel:
    """Connects a python-telegram-bot Application to the conversation."""

    def __init__(self, conversation: Conversation, bot_username: str | None = None,
                 async_engine: AsyncEngine | None = None) -> None:
        self.conversation = conversation
        self.bot_username = bot_username
        # Edits of one kept message (a ballot's turnout) come from updates of different
        # chats, processed concurrently: each outcome gets a stamp in the order its
        # transaction finished, and an edit older than one already sent is skipped.
        self._stamps = itertools.count(1)
        self._latest_edit: dict[str, int] = {}
        self._edit_locks: dict[str, asyncio.Lock] = {}
        # Units of work beyond what the database serves at once wait here, not for a
        # pool connection (whose timeout would be an error shown to the person).
        self._async_engine = async_engine
        if async_engine is not None:  # turns on the loop: as many as its pool serves
            at_once = units_of_work_at_once(async_engine.sync_engine)
        else:
            at_once = min(TURNS_AT_ONCE, units_of_work_at_once(conversation.engine))
        self._database_slots = asyncio.Semaphore(at_once)
        self._on_loop = conversation.engine.dialect.name == "sqlite"

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Register the one update handler and the error handler."""
        application.add_handler(TypeHandler(Update, self.on_update))
        application.add_error_handler(self.on_error)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handle one update: run the conversation, answer the button, send the replies."""
        incoming = to_incoming(update, self.bot_username or context.bot.username)
        if incoming is None:
            if update.callback_query is not None:
                await update.callback_query.answer()
            return
        outcome = await self._handle(incoming)
        stamp = next(self._stamps)  # no await since the commit: stamps follow commit order
        if update.callback_query is None:
            await self.deliver(context.application, outcome.replies, incoming.chat_id, incoming.message_id,
                               stamp)
            return
        # Every pressed button is answered, so the phone stops its spinner; the answer
        # goes out while the replies are sent, not before them.
        answering = asyncio.create_task(self._answer(update.callback_query, outcome.notice))
        try:
            await self.deliver(context.application, outcome.replies, incoming.chat_id, incoming.message_id,
                               stamp)
        finally:
            await answering

    @staticmethod
    async def _answer(query: CallbackQuery, notice: str | None) -> None:
        """Answer a pressed button. A failed answer only leaves the spinner turning a few
        seconds more (e.g. a press older than Telegram keeps queries for): it is logged
        and does not stop the replies, which carry what the person needs."""
        try:
            await query.answer(text=notice)
        except TelegramError as error:
            log.warning("could not answer button press %s (%s)", query.id, error)

    async def _unit_of_work(self, work: Callable[..., ResultT], *args: Any) -> ResultT:
        """Run a synchronous unit of work once the database has room for it.

        On PostgreSQL in a worker thread: the event loop stays free for other chats
        meanwhile, also while a turn does heavy work of its own (/publish draws a chart
        and writes the paperwork). On SQLite, which serves one writer at a time, on the
        event loop: in a thread, every statement hands the GIL back and forth with the
        busy loop, and 200 officers got 0,46–0,48 of the echo bot's rate against
        0,91 on the loop (bench/chat.py, docs/performance.md). The price: a long turn
        on SQLite holds up the other chats' sending, and a scheduler transaction in
        progress makes the loop wait in SQLite's busy handler.
        """
        async with self._database_slots:
            if self._on_loop:
                return work(*args)
            return await asyncio.to_thread(work, *args)

    async def _handle(self, incoming: Incoming) -> Outcome:
        """Run the conversation for one message.

        On PostgreSQL with an asyncio engine, on the event loop with every database
        wait awaited (`Conversation.handle_async`): in a worker thread each statement
        hands the GIL back and forth with the loop, and 200 officers got 0,36 of the
        echo bot's rate against the 0,5 target (bench/chat.py, docs/performance.md).
        """
        if self._async_engine is not None:
            async with self._database_slots:
                return await self.conversation.handle_async(self._async_engine, incoming)
        return await self._unit_of_work(self.conversation.handle, incoming)

    async def deliver(self, application: Application[Any, Any, Any, Any, Any, Any], replies: list[Reply],
                      chat_id: int | None = None, message_id: int | None = None,
                      stamp: int | None = None) -> None:
        """Send replies (also those of scheduled jobs, which carry their own chat ids)."""
        stamp = stamp if stamp is not None else next(self._stamps)
        for reply in replies:
            if reply.edit_key:
                await self._deliver_edit(application, reply, chat_id, stamp)
                continue
            target = reply.chat_id if reply.chat_id is not None else chat_id
            if target is None:
                log.error("a reply without a chat was dropped: %.60s", reply.text)
                continue
            edit_id = message_id if reply.edit else None
            try:
                sent = await send_reply(application, target, reply, edit_id)
            except Forbidden:
                log.warning("chat %s blocked the bot; reply dropped", target)
                continue
            except BadRequest as error:
                # e.g. the bot was removed from the group: the data is committed already,
                # so the other replies (the person's own confirmation) still go out.
                log.warning("chat %s refused a reply (%s); the other replies are still sent", target, error)
                continue
            if reply.remember_as and sent:
                await self._unit_of_work(self.conversation.remember, reply.remember_as, target,
                                         sent[0].message_id)

    async def _deliver_edit(self, application: Application[Any, Any, Any, Any, Any, Any], reply: Reply,
                            chat_id: int | None, stamp: int) -> None:
        """Edit a kept message, unless a newer edit of it was already sent."""
        key = reply.edit_key or ""
        lock = self._edit_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if stamp < self._latest_edit.get(key, 0):
                return
            self._latest_edit[key] = stamp
            target = reply.chat_id if reply.chat_id is not None else chat_id
            if target is None:
                return
            kept = await self._unit_of_work(self.conversation.recall, key)
            edit_id = kept[1] if kept is not None and kept[0] == target else None
            try:
                sent = await send_reply(application, target, reply, edit_id)
            except (Forbidden, BadRequest) as error:
                log.warning("chat %s refused an edit of %s (%s)", target, key, error)
                return
            if sent:
                await self._unit_of_work(self.conversation.remember, key, target, sent[0].message_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with context and tell the person; their place in the conversation is kept."""
        where = ""
        if isinstance(update, Update):
            where = (f"update {update.update_id} from user "
                     f"{update.effective_user.id if update.effective_user else '?'} in chat "
                     f"{update.effective_chat.id if update.effective_chat else '?'}")
        log.error("error while handling %s", where or update, exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            language = language_of(update.effective_user.language_code if update.effective_user else None)
            if update.callback_query is not None:
                # Most often answered already (the answer goes out with the replies).
                await self._answer(update.callback_query, None)
            try:
                await context.bot.send_message(update.effective_chat.id, t(language, "error_generic"),
                                               parse_mode=ParseMode.HTML)
            except Exception:  # noqa: BLE001 (the error handler must not raise)
                log.warning("could not tell chat %s about the error", update.effective_chat.id)


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu: Vietnamese by default, English for English-speaking clients."""
    for language, code in (("vi", None), ("vi", "vi"), ("en", "en")):
        commands = [BotCommand(command, t(language, key)) for command, key in menu_commands().items()]
        await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
