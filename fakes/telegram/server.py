"""The fake Telegram Bot API server: its HTTP front (aiohttp) over its parts.

The parts: :mod:`~fakes.telegram.state` (chats, messages, files),
:mod:`~fakes.telegram.updates` (getUpdates and the webhook), :mod:`~fakes.telegram.methods`
(the Bot API methods), :mod:`~fakes.telegram.faults` (scripted errors, delays, holds,
rate limits). What tests call is :class:`fakes.telegram.control.FakeTelegram`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from fakes.telegram.errors import ApiError
from fakes.telegram.faults import Faults
from fakes.telegram.methods import BotApiMethods
from fakes.telegram.models import JSONDict, UploadedFile
from fakes.telegram.state import ServerState
from fakes.telegram.updates import UpdateQueue

__all__ = ["BotApiServer"]

_LOG = logging.getLogger(__name__)

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


class BotApiServer:
    """A local fake of the Telegram Bot API for one bot token, listening over HTTP."""

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
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None

        self.calls: list[tuple[str, JSONDict]] = []
        self.too_many_requests = 0
        self.state = ServerState(
            {"id": self.bot_id, "is_bot": True, "first_name": bot_first_name, "username": bot_username}
        )
        self.updates = UpdateQueue(self.state, webhook_retries=webhook_retries)
        self.methods = BotApiMethods(self.state, self.updates)
        self.faults = Faults(rate_limit=rate_limit, per_chat_rate_limit=per_chat_rate_limit)

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
        self.state.open()
        self.updates.open()
        _LOG.debug("FakeTelegram listening on %s:%s", self.host, self._port)

    async def stop(self) -> None:
        """Stop the server, waking long polls and waiters, releasing held calls."""
        self.state.close()
        self.faults.release_all()
        await self.updates.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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

    # ------------------------------------------------------------------ HTTP

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {}
        for key, query_value in request.query.items():
            params[key] = self._decode_field(key, query_value)
        if request.method != "POST" or not request.body_exists:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
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

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        key = method.lower()
        try:
            params = await self._read_params(request)
        except (ApiError, ValueError) as exc:
            return self._error_response(400, f"Bad Request: can't parse request: {exc}")
        self.calls.append((method, params))
        if request.match_info["token"] != self.token:
            return self._error_response(401, "Unauthorized")
        faults = self.faults
        try:
            delay = faults.delay(key)
            if delay:
                await self.state.sleep(delay)
            hold = faults.holding(key, params)
            if hold is not None:
                hold.held += 1
                hold.arrived.set()
                await hold.released.wait()
            fault = faults.take(key)
            if fault is not None:
                raise fault.error()
            if key == "getupdates":
                result: Any = await self.updates.get_updates(params)
            else:
                handler = self.methods.handlers.get(key)
                if handler is None:
                    return self._error_response(404, "Not Found: method not found")
                faults.check_rate(key, params)
                result = handler(params)
                faults.count_rate(key, params)
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            return self._error_response(exc.status, exc.description, exc.parameters)
        except (TypeError, ValueError, KeyError) as exc:
            # Malformed parameter values (e.g. a non-numeric message_id).
            return self._error_response(400, f"Bad Request: invalid parameters: {exc}")
        finally:
            self.state.changed.notify_all()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error_response(404, "Not Found")
        stored = self.state.files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._error_response(404, "Not Found: file not found")
        return web.Response(body=stored.content, content_type=stored.mime_type)
