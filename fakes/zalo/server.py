"""The fake Zalo Bot API server: its HTTP front (aiohttp), the methods, and what they recorded.

Every method is ``POST /bot<TOKEN>/<method>`` with a JSON object, answered by
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``
(the HTTP status is the error code unless a fault says otherwise). What tests call is
:class:`fakes.zalo.control.FakeZalo`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from fakes.chronicle import Kind
from fakes.telegram.state import Signal
from fakes.zalo.faults import ApiError, Faults
from fakes.zalo.models import SEND_METHODS, FakeZaloChat, JSONDict, SentZaloMessage
from fakes.zalo.updates import EventQueue
from fakes.zalo.users import IdMaker, now_ms

__all__ = ["ZaloBotApiServer"]

_LOG = logging.getLogger(__name__)

MAX_TEXT = 2000
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _units(text: str) -> int:
    """Length in UTF-16 code units, as a JavaScript server counts it."""
    return len(text.encode("utf-16-le")) // 2


def _required_str(params: JSONDict, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"Bad Request: {name} is required")
    return value


def _is_url(value: str, *, https_only: bool) -> bool:
    parts = urlsplit(value)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    # Tests run the bot's webhook on plain HTTP on this machine; the platform demands HTTPS.
    return parts.scheme == "http" and (not https_only or parts.hostname in _LOOPBACK)


def _connected(request: web.Request) -> bool:
    """Whether the client of a request is still there (a killed process's connection is closed)."""
    transport = request.transport
    return transport is not None and not transport.is_closing()


class ZaloBotApiServer:
    """A local fake of the Zalo Bot API for one bot token, listening over HTTP."""

    def __init__(
        self,
        *,
        token: str = "1459232241454765289:FAKE-ZALO-TOKEN",  # noqa: S107 - a fake bot token
        account_name: str = "bot.khoithidua",
        can_join_groups: bool = True,
        idle_wait: float = 1.0,
        monthly_quota: int | None = None,
        webhook_retries: int = 2,
        webhook_retry_delay: float = 0.05,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Configure the server; nothing listens before :meth:`start`.

        ``idle_wait``: the longest a getUpdates waits before answering 408 (the poll's own
        timeout if shorter); ``monthly_quota``: messages the bot may send before 429.
        """
        self.token = token
        self.bot_id = token.split(":", 1)[0]
        self.account_name = account_name
        self.can_join_groups = can_join_groups
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._closed = asyncio.Event()

        self.changed = Signal()
        self.ids = IdMaker(self.bot_id)
        self.calls: list[tuple[str, JSONDict]] = []
        self.chats: dict[str, FakeZaloChat] = {}
        self.blocked: set[str] = set()
        self.refusing_groups: set[str] = set()  # groups the bot was removed from (sends answer 403)
        self.sent: list[SentZaloMessage] = []
        self.by_chat: dict[str, list[SentZaloMessage]] = {}
        self.chat_actions: list[tuple[str, str]] = []
        self.reply_cursors: dict[str, int] = {}  # per chat: how many messages next_reply returned
        self.faults = Faults(monthly_quota=monthly_quota)
        self.updates = EventQueue(self.changed, idle_wait=idle_wait, webhook_retries=webhook_retries,
                                  webhook_retry_delay=webhook_retry_delay)
        self.methods: dict[str, Callable[[JSONDict], Any]] = {
            "getme": self._get_me,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "sendsticker": self._send_sticker,
            "sendchataction": self._send_chat_action,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening (on an ephemeral port by default)."""
        if self._runner is not None:
            raise RuntimeError("the fake Zalo server is already running")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._closed = asyncio.Event()
        self.updates.open()

    async def stop(self) -> None:
        """Stop: wake long polls and waiters, release held calls."""
        self._closed.set()
        self.faults.release_all()
        self.changed.notify_all()
        await self.updates.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def closing(self) -> bool:
        """Whether the server is stopping (or stopped)."""
        return self._closed.is_set()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("the fake Zalo server is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """The Bot API base URL for the client (it appends ``/bot<token>/<method>``)."""
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ HTTP

    @staticmethod
    def _error(error: ApiError) -> web.Response:
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
        body = {"ok": False, "error_code": error.status, "description": error.description}
        return web.json_response(body, status=error.http_status, headers=headers)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        key = method.lower()
        params: JSONDict = {}
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return self._error(ApiError(400, "Bad Request: the body is not JSON"))
            if not isinstance(body, dict):
                return self._error(ApiError(400, "Bad Request: a JSON object is expected"))
            params = body
        self.calls.append((method, params))
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized: invalid bot token")
            delay = self.faults.delay(key)
            if delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), delay)
            hold = self.faults.holding(key, params)
            if hold is not None:
                hold.held += 1
                hold.arrived.set()
                self.changed.notify_all()
                await hold.released.wait()
            fault = self.faults.take(key)
            if fault is not None:
                raise fault.error()
            if key == "getupdates":
                result: Any = await self.updates.get_updates(params, lambda: _connected(request))
            else:
                handler = self.methods.get(key)
                if handler is None:
                    raise ApiError(404, f"Not Found: method {method} not found")
                if key in SEND_METHODS:
                    self.faults.check_quota()
                result = handler(params)
                if key in SEND_METHODS:
                    self.faults.count_message()
            answer: JSONDict = {"ok": True} if result is None else {"ok": True, "result": result}
            response = web.json_response(answer)
            handed_out = self.updates.on_handed_out
            if key == "getupdates" and handed_out is not None:
                # The event is written to the bot before the hook runs: "right after the platform handed it out".
                await response.prepare(request)
                await response.write_eof()
                handed_out(result)
            return response
        except ApiError as error:
            return self._error(error)
        finally:
            self.changed.notify_all()

    # ------------------------------------------------------------------ methods

    def _get_me(self, _params: JSONDict) -> JSONDict:
        return {"id": self.bot_id, "account_name": self.account_name, "account_type": "BASIC",
                "can_join_groups": self.can_join_groups}

    def _webhook_info(self) -> JSONDict:
        return {"url": self.updates.webhook_url or "", "updated_at": self.updates.webhook_updated_at or now_ms()}

    def _set_webhook(self, params: JSONDict) -> JSONDict:
        url = _required_str(params, "url")
        secret = _required_str(params, "secret_token")
        if not _is_url(url, https_only=True):
            raise ApiError(400, "Bad Request: url must be an HTTPS URL")
        if not 8 <= len(secret) <= 256:
            raise ApiError(400, "Bad Request: secret_token must be 8 to 256 characters")
        self.updates.set_webhook(url, secret)
        return self._webhook_info()

    def _delete_webhook(self, _params: JSONDict) -> JSONDict:
        self.updates.delete_webhook()
        return self._webhook_info()

    def _get_webhook_info(self, _params: JSONDict) -> JSONDict:
        return self._webhook_info()

    def _chat(self, params: JSONDict) -> FakeZaloChat:
        chat_id = _required_str(params, "chat_id")
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: the user has blocked the bot")
        if chat.chat_type == "GROUP" and not self.can_join_groups:
            raise ApiError(403, "Forbidden: this bot cannot join groups")
        if chat_id in self.refusing_groups:
            raise ApiError(403, "Forbidden: the bot is not a member of this group")
        return chat

    def _record(self, method: str, chat: FakeZaloChat, **content: str) -> JSONDict:
        message = SentZaloMessage(method=method, chat_id=chat.id, message_id=self.ids.next("message"),
                                  date=now_ms(), **content)
        self.sent.append(message)
        self.by_chat.setdefault(chat.id, []).append(message)
        if self.updates.chronicle is not None:
            photo = method == "sendPhoto"
            self.updates.chronicle.note(Kind.photo if photo else Kind.text, channel="zalo", chat_id=chat.id,
                                        group=chat.chat_type == "GROUP", by_bot=True,
                                        text=message.caption if photo else message.text,
                                        link=message.photo or None)
        return {"message_id": message.message_id, "date": message.date}

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: text is required")
        if _units(text) > MAX_TEXT:
            raise ApiError(400, f"Bad Request: text must be 1 to {MAX_TEXT} characters")
        return self._record("sendMessage", chat, text=text)

    def _send_photo(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        photo = _required_str(params, "photo")
        if not _is_url(photo, https_only=False):
            raise ApiError(400, "Bad Request: photo must be a URL")
        caption = params.get("caption", "")
        if not isinstance(caption, str) or _units(caption) > MAX_TEXT:
            raise ApiError(400, f"Bad Request: caption must be at most {MAX_TEXT} characters")
        return self._record("sendPhoto", chat, photo=photo, caption=caption)

    def _send_sticker(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        return self._record("sendSticker", chat, sticker=_required_str(params, "sticker"))

    def _send_chat_action(self, params: JSONDict) -> None:
        chat = self._chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: action must be typing or upload_photo")
        self.chat_actions.append((chat.id, str(action)))
