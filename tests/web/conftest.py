"""The web pages in a real Chromium, against the real HTTP server, the real bot and a real database.

One browser per test module (launching Chromium costs about a second); each
test gets a fresh browser context (its own cookies), a fresh database (SQLite
and PostgreSQL, tests/conftest.py) and the real bot polling the fake Bot API
server (tests/e2e/conftest.py), with the HTTP server serving the pages.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright
from sqlalchemy import Engine

from bot.http_server import HttpServer
from bot.web.auth import Signer, sign_init_data
from bot.web.routes import WebPages, WebSettings
from bot.web.setup import page_addresses
from fakes.people import ScriptedOfficer
from fakes.telegram import FakeTelegram
from handlers.flow import WebOffer
from storage.blocs import load_bloc
from storage.chat import officer_by_code
from storage.db import session_scope
from storage.invites import issue_invites
from storage.models import stored_id
from storage.web import issue_link
from tests.chat.driver import Clock
from tests.e2e.conftest import DURING, BotWorld
from tests.factories import seed_bloc

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECRET = b"w" * 32
THEMES = {
    "light": {"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#707579", "link_color": "#3390ec",
              "button_color": "#3390ec", "button_text_color": "#ffffff", "secondary_bg_color": "#f4f4f5"},
    "dark": {"bg_color": "#212121", "text_color": "#ffffff", "hint_color": "#aaaaaa", "link_color": "#8774e1",
             "button_color": "#8774e1", "button_text_color": "#ffffff", "secondary_bg_color": "#181818"},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, driven by Playwright, once per module."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class Site:
    """The running bot, its HTTP server with the pages, and helpers to come in as an officer."""

    world: BotWorld
    server: HttpServer
    pages: WebPages
    base: str
    console: list[str] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.world.engine

    def init_data(self, user_id: int, *, age: dt.timedelta = dt.timedelta(minutes=1),
                  token: str | None = None) -> str:
        """initData as Telegram signs it for the bot (`token`: another bot's, to forge it)."""
        auth_date = int((self.world.clock.now - age).timestamp())
        user = json.dumps({"id": user_id, "first_name": "Mai", "language_code": "vi"}, separators=(",", ":"))
        return sign_init_data({"auth_date": str(auth_date), "query_id": "AAH", "user": user},
                              token or self.world.fake.token)

    def mini_app_url(self, init_data: str, theme: str = "light") -> str:
        """The form's address as Telegram opens a Mini App: initData and the theme in the fragment."""
        from urllib.parse import quote

        return (f"{self.base}/web/report#tgWebAppData={quote(init_data)}&tgWebAppVersion=8.0"
                f"&tgWebAppPlatform=android&tgWebAppThemeParams={quote(json.dumps(THEMES[theme]))}")

    def link(self, officer_code: str, *, ttl: dt.timedelta = dt.timedelta(days=3)) -> tuple[int, str]:
        """A personal link for an officer: its id and its address."""
        with session_scope(self.engine) as session:
            officer = officer_by_code(session=session, bloc_code="K3", officer_code=officer_code)
            assert officer is not None
            issued = issue_link(session=session, officer_id=stored_id(officer), now=self.world.clock.now,
                                ttl=ttl, sent_to=None, actor="test")
        token = self.pages.settings.signer.token("link", issued.id, issued.expires_at)
        return issued.id, self.pages.link_url(token)

    async def page(self, browser: Browser, *, width: int = 360, height: int = 740) -> tuple[BrowserContext, Page]:
        """A fresh browser context and page; console errors and page errors are collected."""
        context = await browser.new_context(viewport={"width": width, "height": height})
        page = await context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                self.console.append(f"{message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        return context, page

    async def joined(self, officer_code: str, user_id: int, name: str) -> ScriptedOfficer:
        """An officer who redeemed their invite in the chat (their Telegram account linked)."""
        person = self.world.officer(user_id, name)
        await person.say(f"/start {self.world.codes[officer_code]}", name)
        return person


@pytest_asyncio.fixture(loop_scope="module")
async def world(engine: Engine, seeded: None) -> AsyncIterator[BotWorld]:
    """tests/e2e/conftest.py's world (the seed loaded, invites issued, the bot polling the fake
    server) on the module's event loop, the browser's."""
    clock = Clock(DURING)
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=DURING - dt.timedelta(days=1),
                               ttl=dt.timedelta(days=30), actor="test")
    async with FakeTelegram() as fake:
        created = BotWorld(fake=fake, engine=engine, clock=clock,
                           codes={invite.officer_code: invite.code for invite in issued})
        # The chat offers the form (`/form`; `/report` only above 12 items, more than the seed's 9),
        # as a personal link (the pages' address here is http, where Telegram opens no Mini App).
        await created.start_bot(web=WebOffer(min_items=12, link_ttl=dt.timedelta(days=3),
                                             mini_app_channels=frozenset()))
        try:
            yield created
        finally:
            await created.stop_bot()


@pytest_asyncio.fixture(loop_scope="module")
async def site(world: BotWorld, tmp_path: Path) -> AsyncIterator[Site]:
    """The bot with the HTTP server and its pages on a free port."""
    assert world.parts is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = HttpServer(world.parts.runtime, clock=world.clock)
    pages = server.add_web(WebSettings(signer=Signer(SECRET), base_url=base, telegram_tokens=(world.fake.token,),
                                       upload_dir=tmp_path / "uploads", upload_max_bytes=256 * 1024))
    await server.start("127.0.0.1", port)
    world.parts.channel.pages = page_addresses(pages.settings)
    try:
        yield Site(world=world, server=server, pages=pages, base=base)
    finally:
        await server.stop()


__all__ = ["DURING", "Site"]
