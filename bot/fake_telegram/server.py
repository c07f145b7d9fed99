"""The fake Telegram Bot API server (aiohttp), written from the Bot API documentation."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.fake_telegram.html import EntityParseError, parse_html
from bot.fake_telegram.models import (
    SEND_METHODS,
    CallbackAnswer,
    FakeChat,
    JSONDict,
    SentMessage,
    StoredFile,
    UploadedFile,
    WebhookDelivery,
)
from bot.fake_telegram.users import FakeUser

__all__ = ["FakeTelegram"]

_LOG = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024

# Form fields that are strings in the Bot API: PTB sends str values raw (not JSON-encoded),
# so "123" as a text must stay a string. Everything else is JSON-decoded when possible.
_STRING_FIELDS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "file_id",
        "language_code", "action", "inline_message_id", "ip_address", "title", "description",
        "short_description", "name", "query", "business_connection_id", "message_effect_id",
        "emoji", "document", "photo", "sticker", "voice", "audio", "video", "animation",
        "thumbnail", "certificate", "first_name", "last_name", "phone_number", "address",
        "question", "explanation", "custom_title", "next_offset", "vcard",
    }
)  # fmt: skip

# Methods counted by the message rate limits.
_RATE_LIMITED = SEND_METHODS | {
    "copymessage",
    "forwardmessage",
    "sendmediagroup",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
    "editmessagemedia",
}

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip

# Update types delivered when allowed_updates was never specified (Bot API default).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

_FILE_KINDS = {  # kind -> (file_id prefix, folder, default extension)
    "document": ("BQAC", "documents", "bin"),
    "photo": ("AgAC", "photos", "jpg"),
    "voice": ("AwAC", "voice", "oga"),
    "sticker": ("CAAC", "stickers", "webp"),
}

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class _ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass(slots=True)
class _Fault:
    status: int
    retry_after: int | None
    description: str | None


class _Signal:
    """Wake-all notification (like asyncio.Condition.notify_all, without the lock)."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify_all(self) -> None:
        """Wake every current waiter."""
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        """Wait for the next notify_all, or until ``timeout`` seconds passed."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            with contextlib.suppress(ValueError):
                self._waiters.remove(fut)


def _chat_key(chat: int | FakeChat | FakeUser) -> int:
    return chat if isinstance(chat, int) else chat.id


def _update_type(update: JSONDict) -> str:
    return next((key for key in update if key != "update_id"), "")


def _png_size(content: bytes) -> tuple[int, int] | None:
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return None


_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")


def _is_image(content: bytes) -> bool:
    return content.startswith(_IMAGE_MAGIC) or (content[:4] == b"RIFF" and content[8:12] == b"WEBP")


def _inline_markup(markup: JSONDict | None) -> JSONDict | None:
    """Only inline keyboards are attached to (and echoed with) a message."""
    if markup and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


class FakeTelegram:
    """A local fake of the Telegram Bot API for one bot token.

    Point PTB at it with ``ApplicationBuilder().token(fake.token).base_url(fake.base_url)
    .base_file_url(fake.base_file_url)``. Script users with :meth:`user` / :meth:`group`
    and inspect what the bot did through :attr:`sent`, :attr:`calls` and friends.
    """

    def __init__(
        self,
        *,
        token: str = "123456:FAKE-TOKEN",  # noqa: S107 - a fake bot token
        bot_username: str = "khoithidua_bot",
        rate_limit: float | None = None,
        per_chat_rate_limit: float | None = None,
        bot_first_name: str = "Khối thi đua",
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retries: int = 3,
    ) -> None:
        """Configure the server; nothing listens before :meth:`start`."""
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.rate_limit = rate_limit
        self.per_chat_rate_limit = per_chat_rate_limit
        self.host = host
        self.webhook_retries = webhook_retries
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = False
        self._closed_event = asyncio.Event()

        # Public records.
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, JSONDict]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.too_many_requests = 0

        # Chats, users and messages.
        self._chats: dict[int, FakeChat] = {}
        self._users: dict[int, FakeUser] = {}
        self._blocked: set[int] = set()
        self._by_chat: dict[int, list[SentMessage]] = {}
        self._current: dict[tuple[int, int], SentMessage] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._message_ids: dict[int, int] = {}
        self._reply_cursor: dict[int, int] = {}
        self._pending_callbacks: dict[str, tuple[int, str | None]] = {}
        self._callback_counter = 0

        # Files.
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = 0

        # Updates.
        self._pending: deque[JSONDict] = deque()
        self._redeliver: list[JSONDict] = []
        self._next_update_id = 1
        self._max_fetched_id = 0
        self._allowed_updates: list[str] | None = None
        self._updates_signal = _Signal()
        self._sent_signal = _Signal()
        self._poll_generation = 0

        # Webhook.
        self._webhook_url: str | None = None
        self._webhook_secret: str | None = None
        self._webhook_max_connections = 40
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_busy = False
        self._webhook_last_error: tuple[int, str] | None = None

        # Faults, delays, rate limits, activity.
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        self._inflight = 0
        self._last_activity = time.monotonic()

        handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getme": self._m_get_me,
            "logout": self._m_true,
            "close": self._m_true,
            "setwebhook": self._m_set_webhook,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "sendmessage": self._m_send_message,
            "senddocument": self._m_send_document,
            "sendphoto": self._m_send_photo,
            "editmessagetext": self._m_edit_message_text,
            "editmessagecaption": self._m_edit_message_caption,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "deletemessage": self._m_delete_message,
            "answercallbackquery": self._m_answer_callback_query,
            "sendchataction": self._m_send_chat_action,
            "setmycommands": self._m_set_my_commands,
            "getmycommands": self._m_get_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "getfile": self._m_get_file,
        }
        self._handlers = handlers

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening (on an ephemeral port by default)."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        self._closing = False
        self._closed_event = asyncio.Event()
        _LOG.debug("FakeTelegram listening on %s:%s", self.host, self._port)

    async def stop(self) -> None:
        """Stop the server, waking long polls and cancelling webhook delivery."""
        self._closing = True
        self._closed_event.set()
        self._updates_signal.notify_all()
        self._sent_signal.notify_all()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        """Start the server for an ``async with`` block."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server at the end of an ``async with`` block."""
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Bot API base URL for PTB (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """File download base URL for PTB (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot's ``User`` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------ scripting API

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        language_code: str = "vi",
        last_name: str | None = None,
    ) -> FakeUser:
        """Create (or replace) a scripted user with a private chat ``id == user_id``."""
        fake_user = FakeUser(
            self,
            user_id,
            first_name,
            username=username,
            language_code=language_code,
            last_name=last_name,
        )
        self._users[user_id] = fake_user
        self._chats[user_id] = fake_user.chat
        return fake_user

    def group(
        self,
        chat_id: int,
        title: str,
        *,
        supergroup: bool | None = None,
        username: str | None = None,
    ) -> FakeChat:
        """Create a group chat (negative id; "-100..." ids are supergroups by default)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if supergroup is None:
            supergroup = str(chat_id).startswith("-100")
        chat = FakeChat(id=chat_id, type="supergroup" if supergroup else "group", title=title, username=username)
        self._chats[chat_id] = chat
        return chat

    def inject(self, update: JSONDict) -> JSONDict:
        """Queue a raw update (an ``update_id`` is assigned unless present) and return it."""
        return self._enqueue(dict(update))

    def inject_duplicate(self, update: JSONDict) -> JSONDict:
        """Deliver ``update`` once more with the SAME update_id (at-least-once delivery)."""
        if "update_id" not in update:
            raise ValueError("inject_duplicate needs an update that has an update_id")
        self._redeliver.append(update)
        self._redeliver.sort(key=lambda u: int(u["update_id"]))
        self._touch()
        self._updates_signal.notify_all()
        return update

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` ("*" = any but getUpdates) fail."""
        if status == 429 and retry_after is None:
            retry_after = 1
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(_Fault(status, retry_after, description) for _ in range(count))

    def set_delay(self, method: str, seconds: float) -> None:
        """Delay every answer of ``method`` by ``seconds`` (0 removes the delay)."""
        if seconds > 0:
            self._delays[method.lower()] = seconds
        else:
            self._delays.pop(method.lower(), None)

    async def post_to_webhook(self, update: JSONDict, *, secret_token: str | None) -> int:
        """POST ``update`` to the current webhook with a chosen secret; return the HTTP status."""
        if self._webhook_url is None or self._session is None:
            raise RuntimeError("no webhook is set")
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        async with self._session.post(self._webhook_url, data=json.dumps(update).encode(), headers=headers) as response:
            return response.status

    # ------------------------------------------------------------------ inspection API

    @property
    def webhook_url(self) -> str | None:
        """The webhook URL set by the bot, if any."""
        return self._webhook_url

    @property
    def pending_update_count(self) -> int:
        """Updates not yet confirmed (polling) or delivered (webhook)."""
        return len(self._pending) + len(self._redeliver)

    def mark(self) -> int:
        """Return a marker (index into :attr:`sent`) for ``wait_for(..., after=marker)``."""
        return len(self.sent)

    def messages_to(self, chat: int | FakeChat | FakeUser, *, include_edits: bool = False) -> list[SentMessage]:
        """Messages the bot sent to a chat, in order (edit snapshots only if asked)."""
        items = self._by_chat.get(_chat_key(chat), [])
        return list(items) if include_edits else [m for m in items if not m.is_edit]

    def message(self, chat: int | FakeChat | FakeUser, message_id: int) -> SentMessage:
        """The current state (after edits/deletion) of a bot message; KeyError if unknown."""
        return self._current[(_chat_key(chat), message_id)]

    def commands_for(self, language_code: str = "", scope: str = "default") -> list[tuple[str, str]]:
        """Commands set with setMyCommands for a language ("" = default) and scope key."""
        return self.commands.get((scope, language_code), [])

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = 5.0,
        *,
        after: int = 0,
    ) -> SentMessage:
        """Return the first entry of :attr:`sent` at index >= ``after`` matching ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = after
        while True:
            while index < len(self.sent):
                item = self.sent[index]
                index += 1
                if predicate(item):
                    return item
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise TimeoutError(f"no matching message within {timeout}s; last sent: {self.sent[-5:]}")
            await self._sent_signal.wait(remaining)

    async def next_reply(
        self,
        chat: int | FakeChat | FakeUser,
        timeout: float = 5.0,
        *,
        include_edits: bool = False,
    ) -> SentMessage:
        """Wait for the next message to ``chat`` after the last one returned for it."""
        chat_id = _chat_key(chat)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            items = self._by_chat.get(chat_id, [])
            cursor = self._reply_cursor.get(chat_id, 0)
            while cursor < len(items):
                item = items[cursor]
                cursor += 1
                self._reply_cursor[chat_id] = cursor
                if include_edits or not item.is_edit:
                    return item
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise TimeoutError(f"no new message to chat {chat_id} within {timeout}s; last sent there: {items[-3:]}")
            await self._sent_signal.wait(remaining)

    async def settle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:
        """Wait until all queued updates were fetched and the bot made no call for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            idle = now - self._last_activity
            if self._all_fetched() and self._inflight == 0 and idle >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(
                    f"bot did not settle within {timeout}s (pending updates: "
                    f"{self.pending_update_count}, requests in flight: {self._inflight})"
                )
            await asyncio.sleep(max(0.005, min(quiet - idle, deadline - now, 0.05)))

    # ------------------------------------------------------------------ internals: updates

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _all_fetched(self) -> bool:
        if self._redeliver:
            return False
        if self._webhook_url is not None:
            return not self._pending and not self._webhook_busy
        return not self._pending or int(self._pending[-1]["update_id"]) <= self._max_fetched_id

    def _enqueue(self, update: JSONDict) -> JSONDict:
        if "update_id" in update:
            update_id = int(update["update_id"])
            self._next_update_id = max(self._next_update_id, update_id + 1)
        else:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
        if self._pending and int(self._pending[-1]["update_id"]) > int(update["update_id"]):
            # An explicit, older update_id: keep the queue ordered.
            items = sorted([*self._pending, update], key=lambda u: int(u["update_id"]))
            self._pending = deque(items)
        else:
            self._pending.append(update)
        self._touch()
        self._updates_signal.notify_all()
        return update

    def _allowed(self, update: JSONDict) -> bool:
        kind = _update_type(update)
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _DEFAULT_EXCLUDED_UPDATES

    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset > 0:
            while pending and int(pending[0]["update_id"]) < offset:
                pending.popleft()
        elif offset < 0:
            while len(pending) > -offset:
                pending.popleft()

    def _take_batch(self, limit: int) -> list[JSONDict]:
        batch = self._redeliver[:limit]
        del self._redeliver[:limit]
        dropped: set[int] = set()
        for update in self._pending:
            if len(batch) >= limit:
                break
            if self._allowed(update):
                batch.append(update)
            else:
                dropped.add(int(update["update_id"]))
        if dropped:
            self._pending = deque(u for u in self._pending if int(u["update_id"]) not in dropped)
        if batch:
            batch.sort(key=lambda u: int(u["update_id"]))
            self._max_fetched_id = max(self._max_fetched_id, int(batch[-1]["update_id"]))
            self._touch()
        return batch

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook_url is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        # A new getUpdates request terminates an older one still waiting.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify_all()
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing:
                return []
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            if self._webhook_url is not None:
                raise _ApiError(409, "Conflict: webhook was set while polling")
            batch = self._take_batch(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            await self._updates_signal.wait(remaining)

    # ------------------------------------------------------------------ internals: webhook

    def _ensure_webhook_task(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._webhook_loop(), name="FakeTelegram:webhook")

    async def _webhook_loop(self) -> None:
        while self._webhook_url is not None and not self._closing:
            if self._redeliver:
                update, from_pending = self._redeliver[0], False
            elif self._pending:
                update, from_pending = self._pending[0], True
            else:
                await self._updates_signal.wait(None)
                continue
            if not self._allowed(update):
                self._drop_delivered(update, from_pending)
                continue
            self._webhook_busy = True
            try:
                delivered = await self._deliver(update)
            finally:
                self._webhook_busy = False
            if delivered is None:
                continue  # the webhook changed while delivering: retry with the new one
            self._drop_delivered(update, from_pending)
            self._max_fetched_id = max(self._max_fetched_id, int(update["update_id"]))
            self._touch()

    def _drop_delivered(self, update: JSONDict, from_pending: bool) -> None:
        if from_pending:
            for index, item in enumerate(self._pending):
                if item is update:
                    del self._pending[index]
                    return
        else:
            for index, item in enumerate(self._redeliver):
                if item is update:
                    del self._redeliver[index]
                    return

    async def _deliver(self, update: JSONDict) -> bool | None:
        """POST one update, retrying; True when accepted, False when given up, None if reset."""
        url = self._webhook_url
        body = json.dumps(update).encode()
        update_id = int(update["update_id"])
        for attempt in range(self.webhook_retries + 1):
            if self._webhook_url != url or url is None or self._session is None:
                return None
            headers = {"Content-Type": "application/json"}
            if self._webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
            try:
                async with self._session.post(
                    url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                ) as response:
                    status: int | None = response.status
                    error = None
                    if not 200 <= response.status < 300:
                        error = f"Wrong response from the webhook: {status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, f"Connection failed: {exc!r}"
            self.webhook_deliveries.append(WebhookDelivery(update_id, status, error))
            if error is None:
                return True
            self._webhook_last_error = (int(time.time()), error)
            _LOG.debug("webhook delivery of update %s failed: %s", update_id, error)
            await self._sleep(0.05 * 2**attempt)
        return False

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up early when the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed_event.wait(), seconds)

    # ------------------------------------------------------------------ internals: HTTP

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {}
        for key, query_value in request.query.items():
            params[key] = self._decode_field(key, query_value)
        if request.method != "POST" or not request.body_exists:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: JSON object expected")
            params.update(body)
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(
                    name=value.filename or key,
                    content=value.file.read(),
                    mime_type=value.content_type or "application/octet-stream",
                )
            elif isinstance(value, bytes | bytearray):
                params[key] = self._decode_field(key, value.decode())
            else:
                params[key] = self._decode_field(key, value)
        return params

    @staticmethod
    def _decode_field(name: str, raw: str) -> Any:
        if name in _STRING_FIELDS:
            return raw
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def _error_response(self, status: int, description: str, parameters: JSONDict | None = None) -> web.Response:
        if status == 429:
            self.too_many_requests += 1
        body: JSONDict = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    def _fault_response(self, fault: _Fault) -> web.Response:
        if fault.status == 429:
            retry = fault.retry_after or 1
            description = fault.description or f"Too Many Requests: retry after {retry}"
            return self._error_response(429, description, {"retry_after": retry})
        description = fault.description or _DEFAULT_DESCRIPTIONS.get(fault.status, "Error")
        parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
        return self._error_response(fault.status, description, parameters)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method, "*"):
            if key == "*" and method == "getupdates":
                continue
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        key = method.lower()
        try:
            params = await self._read_params(request)
        except (_ApiError, ValueError) as exc:
            return self._error_response(400, f"Bad Request: can't parse request: {exc}")
        self.calls.append((method, params))
        if request.match_info["token"] != self.token:
            return self._error_response(401, "Unauthorized")
        polling = key == "getupdates"
        if not polling:
            self._inflight += 1
            self._touch()
        try:
            delay = self._delays.get(key)
            if delay:
                await self._sleep(delay)
            fault = self._take_fault(key)
            if fault is not None:
                return self._fault_response(fault)
            if polling:
                result: Any = await self._get_updates(params)
            else:
                handler = self._handlers.get(key)
                if handler is None:
                    return self._error_response(404, "Not Found: method not found")
                limited = key in _RATE_LIMITED
                chat_id = self._rate_chat(params) if limited else None
                if limited:
                    self._rate_check(chat_id)
                result = handler(params)
                if limited:
                    self._rate_record(chat_id)
            return web.json_response({"ok": True, "result": result})
        except _ApiError as exc:
            return self._error_response(exc.status, exc.description, exc.parameters)
        except (TypeError, ValueError, KeyError) as exc:
            # Malformed parameter values (e.g. a non-numeric message_id).
            return self._error_response(400, f"Bad Request: invalid parameters: {exc}")
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error_response(404, "Not Found")
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._error_response(404, "Not Found: file not found")
        return web.Response(body=stored.content, content_type=stored.mime_type)

    # ------------------------------------------------------------------ internals: rate limit

    def _rate_chat(self, params: JSONDict) -> int | None:
        chat_id = params.get("chat_id")
        return chat_id if isinstance(chat_id, int) else None

    @staticmethod
    def _window_retry(window: deque[float], rate: float, now: float) -> int | None:
        span = max(1.0, 1.0 / rate)
        capacity = max(1, int(rate * span + 1e-9))
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) < capacity:
            return None
        return max(1, math.ceil(window[0] + span - now))

    def _rate_check(self, chat_id: int | None) -> None:
        now = time.monotonic()
        retry: int | None = None
        if self.rate_limit:
            retry = self._window_retry(self._global_window, self.rate_limit, now)
        if retry is None and self.per_chat_rate_limit and chat_id is not None:
            window = self._chat_windows.setdefault(chat_id, deque())
            retry = self._window_retry(window, self.per_chat_rate_limit, now)
        if retry is not None:
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    def _rate_record(self, chat_id: int | None) -> None:
        now = time.monotonic()
        if self.rate_limit:
            self._global_window.append(now)
        if self.per_chat_rate_limit and chat_id is not None:
            self._chat_windows.setdefault(chat_id, deque()).append(now)

    # ------------------------------------------------------------------ internals: messages

    def _resolve_chat(self, params: JSONDict) -> FakeChat:
        raw = params.get("chat_id")
        chat: FakeChat | None = None
        if isinstance(raw, int):
            chat = self._chats.get(raw)
        elif isinstance(raw, str) and raw.startswith("@"):
            chat = next((c for c in self._chats.values() if c.username == raw[1:]), None)
        elif raw is None:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        if chat.id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _alloc_message_id(self, chat_id: int) -> int:
        message_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = message_id
        return message_id

    def _current_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        return self._current.get((chat_id, message_id))

    def _new_user_message(
        self,
        user: FakeUser,
        chat: FakeChat,
        fields: JSONDict,
        reply_to: SentMessage | int | None,
    ) -> JSONDict:
        if chat.id not in self._chats:
            self._chats[chat.id] = chat
        message_id = self._alloc_message_id(chat.id)
        message: JSONDict = {
            "message_id": message_id,
            "from": user.to_dict(),
            "chat": chat.to_dict(),
            "date": int(time.time()),
            **fields,
        }
        if reply_to is not None:
            reply_id = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
            replied = self._lookup_message_json(chat.id, reply_id)
            if replied is not None:
                message["reply_to_message"] = replied
        self._user_messages[(chat.id, message_id)] = message
        return message

    def _lookup_message_json(self, chat_id: int, message_id: int) -> JSONDict | None:
        current = self._current.get((chat_id, message_id))
        if current is not None and not current.deleted:
            return self._message_json(current, nested=False)
        user_message = self._user_messages.get((chat_id, message_id))
        if user_message is None:
            return None
        return {k: v for k, v in user_message.items() if k != "reply_to_message"}

    def _callback_update(
        self,
        user: FakeUser,
        current: SentMessage | None,
        chat_id: int,
        message_id: int,
        data: str,
    ) -> JSONDict:
        self._callback_counter += 1
        query_id = f"{self.bot_id}{self._callback_counter:08d}"
        self._pending_callbacks[query_id] = (user.id, data)
        chat = self._chats.get(chat_id) or user.chat
        if current is not None:
            message = self._message_json(current)
        else:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat.to_dict(),
                "from": self.bot_user,
            }
        query: JSONDict = {
            "id": query_id,
            "from": user.to_dict(),
            "message": message,
            "chat_instance": str(abs(chat_id) * 31 + 7),
            "data": data,
        }
        return self._enqueue({"callback_query": query})

    def _my_chat_member(self, user: FakeUser, old: str, new: str) -> JSONDict:
        def member(status: str) -> JSONDict:
            data: JSONDict = {"user": self.bot_user, "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return {
            "my_chat_member": {
                "chat": user.chat.to_dict(),
                "from": user.to_dict(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            }
        }

    def _message_json(self, sm: SentMessage, *, nested: bool = True) -> JSONDict:
        chat = self._chats.get(sm.chat_id) or FakeChat(id=sm.chat_id, type="private")
        data: JSONDict = {
            "message_id": sm.message_id,
            "from": self.bot_user,
            "chat": chat.to_dict(),
            "date": sm.date,
        }
        text_key, entities_key = ("text", "entities") if sm.kind == "text" else ("caption", "caption_entities")
        if sm.plain_text is not None:
            data[text_key] = sm.plain_text
            if sm.entities:
                data[entities_key] = sm.entities
        stored = self._files.get(sm.file_id) if sm.file_id else None
        if stored is not None and sm.kind == "document":
            data["document"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": stored.file_name,
                "mime_type": stored.mime_type,
                "file_size": len(stored.content),
            }
        elif stored is not None and sm.kind == "photo":
            width, height = _png_size(stored.content) or (800, 600)
            data["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(stored.content),
                }
            ]
        inline = _inline_markup(sm.reply_markup)
        if inline is not None:
            data["reply_markup"] = inline
        if sm.edit_date is not None:
            data["edit_date"] = sm.edit_date
        if nested and sm.reply_to_message_id is not None:
            replied = self._lookup_message_json(sm.chat_id, sm.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = replied
        return data

    def _store_file(self, kind: str, content: bytes, mime_type: str, file_name: str | None) -> StoredFile:
        self._file_counter += 1
        n = self._file_counter
        prefix, folder, default_ext = _FILE_KINDS.get(kind, ("BQAC", "documents", "bin"))
        ext = file_name.rsplit(".", 1)[1] if file_name and "." in file_name else default_ext
        stored = StoredFile(
            file_id=f"{prefix}fake{n:08d}",
            file_unique_id=f"AgADfake{n:08d}",
            file_path=f"{folder}/file_{n}.{ext}",
            content=content,
            mime_type=mime_type,
            file_name=file_name,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _record(self, sm: SentMessage) -> None:
        self.sent.append(sm)
        self._by_chat.setdefault(sm.chat_id, []).append(sm)
        self._sent_signal.notify_all()

    def _render(self, text: Any, parse_mode: Any, entities: Any) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode like Telegram: return the visible text and its entities."""
        raw = "" if text is None else str(text)
        if not parse_mode:
            return raw, list(entities) if isinstance(entities, list) else []
        mode = str(parse_mode).lower()
        if mode == "html":
            try:
                return parse_html(raw)
            except EntityParseError as exc:
                raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        if mode in ("markdown", "markdownv2"):
            return raw, []  # not validated by the fake
        raise _ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")

    def _render_text(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        plain, entities = self._render(params.get("text"), params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        return plain, entities

    def _render_caption(self, params: JSONDict) -> tuple[str | None, list[JSONDict]]:
        if params.get("caption") is None:
            return None, []
        plain, entities = self._render(params.get("caption"), params.get("parse_mode"), params.get("caption_entities"))
        if len(plain) > MAX_CAPTION_LENGTH:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return plain, entities

    @staticmethod
    def _check_markup(value: Any) -> JSONDict | None:
        """Validate reply_markup the way Telegram does for the parts that matter to us."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if not isinstance(value, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = value.get("inline_keyboard")
        if rows is None:
            return value
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _ApiError(400, "Bad Request: can't parse inline keyboard button")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                    raise _ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
                actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                if not actions:
                    raise _ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"^(https?|tg)://[^\s]+$", str(button["url"])):
                    raise _ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return value

    def _reply_to(self, params: JSONDict, chat_id: int) -> int | None:
        reply = params.get("reply_parameters")
        message_id: Any = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = params.get("reply_to_message_id")
        if message_id is None:
            return None
        if self._lookup_message_json(chat_id, int(message_id)) is None:
            if allow_missing:
                return None
            raise _ApiError(400, "Bad Request: message to be replied not found")
        return int(message_id)

    def _new_sent(self, method: str, chat: FakeChat, params: JSONDict, **fields: Any) -> JSONDict:
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(params, chat.id)
        sm = SentMessage(
            method=method,
            chat_id=chat.id,
            message_id=self._alloc_message_id(chat.id),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            date=int(time.time()),
            reply_to_message_id=reply_to,
            params=params,
            **fields,
        )
        self._current[(chat.id, sm.message_id)] = dataclasses.replace(sm)
        self._record(sm)
        return self._message_json(sm)

    def _upload(self, params: JSONDict, field: str, kind: str) -> StoredFile:
        value = params.get(field)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            if not value.content:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            if kind == "photo" and not _is_image(value.content):
                raise _ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            return self._store_file(kind, value.content, value.mime_type, value.name)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and re.match(r"^https?://", value):
            name = value.rstrip("/").rsplit("/", 1)[-1] or "file"
            return self._store_file(kind, b"", "application/octet-stream", name)
        if value is None:
            raise _ApiError(400, f"Bad Request: there is no {field} in the request")
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _editable(self, params: JSONDict) -> SentMessage:
        if params.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params)
        try:
            message_id = int(params.get("message_id") or 0)
        except (TypeError, ValueError) as exc:
            raise _ApiError(400, "Bad Request: message_id is invalid") from exc
        current = self._current.get((chat.id, message_id))
        if current is None or current.deleted:
            if (chat.id, message_id) in self._user_messages:
                raise _ApiError(400, "Bad Request: message can't be edited")
            raise _ApiError(400, "Bad Request: message to edit not found")
        return current

    def _apply_edit(self, method: str, current: SentMessage, params: JSONDict) -> JSONDict:
        current.edit_date = int(time.time())
        snapshot = dataclasses.replace(current, method=method, params=params)
        self._record(snapshot)
        return self._message_json(current)

    # ------------------------------------------------------------------ Bot API methods

    def _m_true(self, params: JSONDict) -> bool:
        return True

    def _m_get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not re.match(r"^https?://", url):
            raise _ApiError(400, "Bad Request: bad webhook: Failed to resolve host")
        if params.get("drop_pending_updates"):
            self._pending.clear()
            self._redeliver.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None
        self._webhook_max_connections = int(params.get("max_connections") or 40)
        self._webhook_url = url or None
        self._webhook_secret = str(secret) if secret else None
        self._updates_signal.notify_all()
        if self._webhook_url is not None:
            self._ensure_webhook_task()
        return True

    def _m_delete_webhook(self, params: JSONDict) -> bool:
        self._webhook_url = None
        self._webhook_secret = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
            self._redeliver.clear()
        self._updates_signal.notify_all()
        return True

    def _m_get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_update_count,
        }
        if self._webhook_url is not None:
            info["max_connections"] = self._webhook_max_connections
            if self._allowed_updates:
                info["allowed_updates"] = self._allowed_updates
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat = self._resolve_chat(params)
        plain, entities = self._render_text(params)
        return self._new_sent(
            "sendMessage",
            chat,
            params,
            text=str(params.get("text")),
            plain_text=plain,
            entities=entities,
        )

    def _send_file(self, method: str, field: str, params: JSONDict) -> JSONDict:
        chat = self._resolve_chat(params)
        plain, entities = self._render_caption(params)
        stored = self._upload(params, field, field)
        caption = params.get("caption")
        return self._new_sent(
            method,
            chat,
            params,
            text=None if caption is None else str(caption),
            plain_text=plain,
            entities=entities,
            kind=field,
            file_name=stored.file_name,
            file_bytes=stored.content,
            mime_type=stored.mime_type,
            file_id=stored.file_id,
        )

    def _m_send_document(self, params: JSONDict) -> JSONDict:
        return self._send_file("sendDocument", "document", params)

    def _m_send_photo(self, params: JSONDict) -> JSONDict:
        return self._send_file("sendPhoto", "photo", params)

    def _m_edit_message_text(self, params: JSONDict) -> JSONDict:
        current = self._editable(params)
        if current.kind != "text":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        plain, entities = self._render_text(params)
        markup = self._check_markup(params.get("reply_markup"))
        if (
            plain == current.plain_text
            and entities == current.entities
            and _inline_markup(markup) == _inline_markup(current.reply_markup)
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        current.text = str(params.get("text"))
        current.parse_mode = params.get("parse_mode")
        current.plain_text, current.entities = plain, entities
        current.reply_markup = markup  # no reply_markup removes the inline keyboard
        return self._apply_edit("editMessageText", current, params)

    def _m_edit_message_caption(self, params: JSONDict) -> JSONDict:
        current = self._editable(params)
        if current.kind == "text":
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        plain, entities = self._render_caption(params)
        markup = self._check_markup(params.get("reply_markup"))
        if (
            plain == current.plain_text
            and entities == current.entities
            and _inline_markup(markup) == _inline_markup(current.reply_markup)
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        caption = params.get("caption")
        current.text = None if caption is None else str(caption)
        current.parse_mode = params.get("parse_mode")
        current.plain_text, current.entities = plain, entities
        current.reply_markup = markup
        return self._apply_edit("editMessageCaption", current, params)

    def _m_edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        current = self._editable(params)
        markup = self._check_markup(params.get("reply_markup"))
        if _inline_markup(markup) == _inline_markup(current.reply_markup):
            raise _ApiError(400, _NOT_MODIFIED)
        current.reply_markup = markup
        return self._apply_edit("editMessageReplyMarkup", current, params)

    def _m_delete_message(self, params: JSONDict) -> bool:
        chat = self._resolve_chat(params)
        key = (chat.id, int(params.get("message_id") or 0))
        current = self._current.get(key)
        if current is not None and not current.deleted:
            current.deleted = True
            return True
        if self._user_messages.pop(key, None) is not None:
            return True
        raise _ApiError(400, "Bad Request: message to delete not found")

    def _m_answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        pending = self._pending_callbacks.pop(query_id, None)
        if pending is None:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        cache_time = params.get("cache_time")
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                user_id=pending[0],
                data=pending[1],
                text=None if text is None else str(text),
                show_alert=bool(params.get("show_alert")),
                url=params.get("url"),
                cache_time=None if cache_time is None else int(cache_time),
            )
        )
        return True

    def _m_send_chat_action(self, params: JSONDict) -> bool:
        chat = self._resolve_chat(params)
        action = str(params.get("action") or "")
        if action not in _CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict) or not scope.get("type"):
            return "default"
        parts = [str(scope["type"])]
        parts.extend(str(scope[k]) for k in ("chat_id", "user_id") if k in scope)
        return ":".join(parts)

    def _commands_key(self, params: JSONDict) -> tuple[str, str]:
        return self._scope_key(params.get("scope")), str(params.get("language_code") or "")

    def _m_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        parsed: list[tuple[str, str]] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _ApiError(400, "Bad Request: can't parse BotCommand")
            name = str(item.get("command", ""))
            description = str(item.get("description", ""))
            if not _COMMAND_NAME_RE.match(name):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append((name, description))
        language = str(params.get("language_code") or "")
        if language and not re.match(r"^[a-z]{2}$", language):
            raise _ApiError(400, "Bad Request: LANG_CODE_INVALID")
        key = self._commands_key(params)
        if parsed:
            self.commands[key] = parsed
        else:
            self.commands.pop(key, None)
        return True

    def _m_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return [
            {"command": name, "description": description}
            for name, description in self.commands.get(self._commands_key(params), [])
        ]

    def _m_delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _m_get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_SIZE:
            raise _ApiError(400, "Bad Request: file is too big")
        return stored.to_file()
