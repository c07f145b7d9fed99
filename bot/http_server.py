"""The one HTTP server of a process: webhooks in, health out.

- `POST /telegram/<bot id>`: a Telegram webhook. The secret header is checked
  in constant time; the update is kept in the inbox and only then answered
  200, so Telegram delivers again whatever a crash kept from being stored.
- `POST /zalo/<bot id>`: a Zalo webhook, the same way (its secret header is the
  secret itself).
- `GET /files/<token>`: a file the bot made, by a signed, expiring link
  (bot/file_links.py), made again from the outbox row that carried it.
- `/web/...`: the web pages (bot/web/), mounted by `add_web`.
- `GET /healthz`: the database reachable, how many messages are owed and how
  old the oldest is; 503 when the database does not answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import text
from sqlmodel import Session

from bot.file_links import FileLinks
from bot.runtime import Runtime
from bot.telegram_channel import TelegramChannel
from bot.web.routes import WebPages, WebSettings
from bot.zalo_channel import SECRET_HEADER as ZALO_SECRET_HEADER
from bot.zalo_channel import ZaloChannel, unwrap_webhook_body, webhook_secret_ok
from handlers.i18n import t
from handlers.markup import to_plain
from handlers.renderers.files import load_file, make
from storage.messages import backlog, outbox_payload

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


def _both(key: str) -> str:
    """A page's text, Vietnamese first, English second."""
    return f"{to_plain(t('vi', key))}\n\n{to_plain(t('en', key))}"


class HttpServer:
    """An aiohttp application with the routes of every channel of the process."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.runtime = runtime
        self.clock = clock or runtime.clock
        self.app = web.Application(client_max_size=4 * 1024 * 1024)
        self.app.router.add_get("/healthz", self._health)
        self._telegram: dict[str, tuple[TelegramChannel, str]] = {}
        self.app.router.add_post("/telegram/{bot}", self._telegram_webhook)
        self._zalo: dict[str, tuple[ZaloChannel, str]] = {}
        self.app.router.add_post("/zalo/{bot}", self._zalo_webhook)
        self.links: FileLinks | None = None
        self.app.router.add_get("/files/{token}", self._file)
        self.web: WebPages | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def add_web(self, settings: WebSettings) -> WebPages:
        """Serve the web pages (before `start`)."""
        self.web = WebPages(self.app, self.runtime.units, settings, self.clock,
                            bots=self.runtime.conversation.bots, deliver=self._deliver)
        return self.web

    async def _deliver(self, chats: list[str]) -> None:
        """Deliver what a page's decision owes (the notices to a unit's officers), now."""
        for chat in chats:
            await self.runtime.sender.flush(chat)

    def add_zalo(self, channel: ZaloChannel, secret: str) -> str:
        """Serve a Zalo bot's webhook; its path."""
        self._zalo[channel.bot] = (channel, secret)
        return f"/zalo/{channel.bot}"

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
        except ValueError:
            return web.Response(status=400)
        # Kept before the answer: a 200 tells Telegram it need not deliver this again.
        return web.Response(status=200 if await channel.receive_json(data) else 400)

    async def _zalo_webhook(self, request: web.Request) -> web.Response:
        found = self._zalo.get(request.match_info["bot"])
        if found is None:
            return web.Response(status=404)
        channel, secret = found
        if not webhook_secret_ok(request.headers.get(ZALO_SECRET_HEADER), secret):
            log.warning("Zalo webhook call with a wrong secret from %s", request.remote)
            return web.Response(status=403)
        try:
            event = unwrap_webhook_body(await request.json())
        except ValueError:
            event = None
        if event is None:
            return web.Response(status=400)
        await channel.receive([event])  # kept before the answer
        return web.json_response({"ok": True})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        named = self.links.check(request.match_info["token"], self.clock()) if self.links is not None else None
        if named is None:
            return web.Response(status=404, text=_both("file_link_invalid"))
        outbox_id, index = named
        payload = await self.runtime.units.run(lambda session: outbox_payload(session=session, outbox_id=outbox_id))
        files = (payload or {}).get("reply", {}).get("files") or []
        if index >= len(files):
            return web.Response(status=404, text=_both("file_gone"))
        out = load_file(files[index])
        content = await asyncio.to_thread(make, out)
        kind = "image/png" if out.is_photo else "application/octet-stream"
        return web.Response(body=content, content_type=kind,
                            headers={"Content-Disposition": f'attachment; filename="{out.name}"'})

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
