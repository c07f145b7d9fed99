"""The one HTTP server of a process: webhooks in, health out.

- `POST /telegram/<bot id>`: a Telegram webhook. The secret header is checked
  in constant time; the update is kept in the inbox and only then answered
  200, so Telegram delivers again whatever a crash kept from being stored.
- `GET /healthz`: the database reachable, how many messages are owed and how
  old the oldest is; 503 when the database does not answer.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import text
from sqlmodel import Session
from telegram import Update

from bot.runtime import Runtime
from bot.telegram_channel import TelegramChannel
from storage.messages import backlog

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


class HttpServer:
    """An aiohttp application with the routes of every channel of the process."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.runtime = runtime
        self.clock = clock or runtime.clock
        self.app = web.Application(client_max_size=4 * 1024 * 1024)
        self.app.router.add_get("/healthz", self._health)
        self._telegram: dict[str, tuple[TelegramChannel, str]] = {}
        self.app.router.add_post("/telegram/{bot}", self._telegram_webhook)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def add_telegram(self, channel: TelegramChannel, secret: str) -> str:
        """Serve a Telegram bot's webhook; its path."""
        self._telegram[channel.bot] = (channel, secret)
        return f"/telegram/{channel.bot}"

    async def start(self, host: str, port: int) -> int:
        """Listen; the port (a free one when `port` is 0)."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _telegram_webhook(self, request: web.Request) -> web.Response:
        found = self._telegram.get(request.match_info["bot"])
        if found is None:
            return web.Response(status=404)
        channel, secret = found
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call with a wrong secret from %s", request.remote)
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, channel.application.bot)
        except (ValueError, KeyError, TypeError) as error:
            log.warning("webhook body not an update (%s)", error)
            return web.Response(status=400)
        # Kept before the answer: a 200 tells Telegram it need not deliver this again.
        await channel.receive([update])
        return web.Response(status=200)

    async def _health(self, _request: web.Request) -> web.Response:
        def check(session: Session) -> tuple[int, dt.datetime | None]:
            session.connection().execute(text("SELECT 1"))
            return backlog(session=session)

        try:
            owed, oldest = await self.runtime.units.run(check)
        except Exception as error:  # noqa: BLE001 (health answers, it does not raise)
            log.warning("health check: database unreachable (%s)", error)
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        age = (self.clock() - oldest).total_seconds() if oldest is not None else 0.0
        body = {"ok": True, "database": "ok", "outbox_backlog": owed, "oldest_undelivered_seconds": round(age, 1)}
        return web.Response(text=json.dumps(body), content_type="application/json")
