"""The chat offers the web form: a `web_app` button on Telegram, a personal link on Zalo.

The real Telegram application and the real Zalo adapter against the fake
servers, the HTTP server serving the pages, on SQLite and PostgreSQL: the
button or link reaches the officer, the link opens that officer's own form
(aiohttp's client: the browser tests are tests/web/), and a link is issued to
the chat it was sent to, audited.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from sqlmodel import select

from bot.app import add_zalo, start, stop
from bot.http_server import HttpServer
from bot.web.auth import Signer
from bot.web.settings import WebSettings
from bot.web.setup import page_addresses, web_offer
from fakes.telegram import SentMessage
from fakes.zalo import FakeZalo
from handlers.chat import Option, Reply, WebPage
from handlers.wire import dump_reply, load_reply
from storage.db import session_scope
from storage.models import AuditLog, WebLink
from tests.e2e.conftest import BotWorld

MAI = 1001


@dataclass
class Served:
    """The bot restarted with the web form offered, its HTTP server serving the pages."""

    base: str
    server: HttpServer
    zalo: FakeZalo | None = None


async def _serve(world: BotWorld, *, https: bool, min_items: int, zalo: FakeZalo | None = None) -> Served:
    await world.stop_bot()
    # The offer is decided by the address's scheme: an https one gets the Mini App on Telegram.
    base_for_offer = "https://forms.example" if https else "http://127.0.0.1"
    probe = WebSettings(signer=Signer(b"s" * 32), base_url=base_for_offer, telegram_tokens=(world.fake.token,))
    parts = await world.start_bot(run=False, web=web_offer(probe, min_items=min_items))
    with socket.socket() as probe_port:  # the pages are mounted before the server starts, on a port known
        probe_port.bind(("127.0.0.1", 0))
        server_port = int(probe_port.getsockname()[1])
    server = HttpServer(parts.runtime, clock=world.clock)
    base = f"http://127.0.0.1:{server_port}"
    settings = WebSettings(signer=Signer(b"s" * 32), base_url=base, telegram_tokens=(world.fake.token,))
    server.add_web(settings)
    await server.start("127.0.0.1", server_port)
    parts.channel.pages = page_addresses(settings)
    if zalo is not None:
        channel = add_zalo(parts, token=zalo.token, base_url=zalo.base_url, poll_timeout=1)
        channel.pages = parts.channel.pages
    await start(parts)
    world.parts = parts
    return Served(base=base, server=server, zalo=zalo)


@pytest.fixture
async def served(world: BotWorld, request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    https, min_items = request.param
    done = await _serve(world, https=https, min_items=min_items)
    try:
        yield done
    finally:
        await done.server.stop()
        assert world.parts is not None
        await stop(world.parts)
        world.parts = None


def _buttons(message: SentMessage) -> list[dict[str, object]]:
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    return [button for row in rows for button in row]


async def _form_of(url: str) -> tuple[int, str]:
    """Open an address as a browser would (cookies kept); the status and the page."""
    jar = aiohttp.CookieJar(unsafe=True)  # keeps a cookie of 127.0.0.1, as a browser does
    async with aiohttp.ClientSession(cookie_jar=jar) as client, client.get(url) as response:
        return response.status, await response.text()


@pytest.mark.parametrize("served", [(True, 5)], indirect=True)
async def test_report_offers_the_mini_app_on_a_long_sheet(world: BotWorld, served: Served) -> None:
    mai = world.officer(MAI, "Trần Thị Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Trần Thị Mai")
    offer = await mai.say("/report", "có 9 mục")
    buttons = _buttons(offer)
    assert buttons == [{"text": "🖥 Mở biểu mẫu báo cáo", "web_app": {"url": f"{served.base}/web/report"}}]
    await mai.say("30.544", "Số liệu vừa nhập")  # the chat goes on as before: item 1 is asked
    with session_scope(world.engine) as session:
        assert session.exec(select(WebLink)).all() == []  # the Mini App needs no link

    opened = await mai.say("/form", "bấm nút dưới đây")
    assert [button.get("web_app") for button in _buttons(opened)] == [{"url": f"{served.base}/web/report"}]


@pytest.mark.parametrize("served", [(True, 9)], indirect=True)
async def test_no_offer_when_the_sheet_is_short(world: BotWorld, served: Served) -> None:
    mai = world.officer(MAI, "Trần Thị Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Trần Thị Mai")
    await mai.say("/report", "Mục 1/9")
    assert not any("có 9 mục" in message.text for message in world.fake.sent if message.chat_id == MAI)


@pytest.mark.parametrize("served", [(False, 5)], indirect=True)
async def test_at_an_http_address_telegram_gets_a_personal_link_that_opens_the_officers_form(
    world: BotWorld, served: Served,
) -> None:
    mai = world.officer(MAI, "Trần Thị Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Trần Thị Mai")
    opened = await mai.say("/form", "chỉ dành riêng cho đồng chí")
    (button,) = _buttons(opened)
    url = str(button["url"])
    assert url.startswith(f"{served.base}/web/l/") and "web_app" not in button
    with session_scope(world.engine) as session:
        link = session.exec(select(WebLink)).one()
        assert link.sent_to == f"telegram:{MAI}"
        assert link.expires_at.replace(tzinfo=dt.UTC) == world.clock.now + dt.timedelta(hours=72)
        audited = session.exec(select(AuditLog.actor).where(AuditLog.action == "web_link_issued")).all()
    assert audited == ["officer:tttt-tdkt"]
    status, page = await _form_of(url)
    assert status == 200 and "Sở Thông tin và Truyền thông" in page and 'data-item="TT-1"' in page
    # Asked again within half the link's time: the same link, no second one.
    again = await mai.say("/form", "chỉ dành riêng cho đồng chí")
    assert [button["url"] for button in _buttons(again)] == [url]
    world.clock.now += dt.timedelta(hours=37)
    later = await mai.say("/form", "chỉ dành riêng cho đồng chí")
    assert [button["url"] for button in _buttons(later)] != [url]
    with session_scope(world.engine) as session:
        assert len(session.exec(select(WebLink)).all()) == 2


async def test_zalo_gets_the_link_as_text_beside_numbered_options(world: BotWorld) -> None:
    async with FakeZalo(idle_wait=0.2) as fake:
        done = await _serve(world, https=True, min_items=5, zalo=fake)
        try:
            lan = fake.user("Trần Thị Mai")
            lan.send_command("start", world.codes["tttt-tdkt"])
            await _reply(fake, lan, "Trần Thị Mai")
            lan.send_command("report")
            offer = await _reply(fake, lan, "có 9 mục")
            line = next(line for line in offer.splitlines() if line.startswith("🖥 Mở biểu mẫu báo cáo: "))
            url = line.split(": ", 1)[1]
            assert url.startswith(f"{done.base}/web/l/")
            assert "1. " not in offer, "the link is no numbered choice"
            with session_scope(world.engine) as session:
                link = session.exec(select(WebLink)).one()
            assert link.sent_to == f"zalo:{lan.id}"
            status, page = await _form_of(url)
            assert status == 200 and 'data-item="TT-1"' in page
            # A forged link opens nothing.
            status, page = await _form_of(url[:-4] + "0000")
            assert status == 403 and 'data-item="TT-1"' not in page
        finally:
            await done.server.stop()
            assert world.parts is not None
            await stop(world.parts)
            world.parts = None


async def test_form_where_no_pages_are_served(world: BotWorld) -> None:
    mai = world.officer(MAI, "Trần Thị Mai")
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Trần Thị Mai")
    await mai.say("/form", "chưa được bật")
    await mai.say("/report", "Mục 1/9")  # and no offer
    assert not any("có 9 mục" in message.text for message in world.fake.sent if message.chat_id == MAI)


def test_a_web_page_option_survives_the_outbox() -> None:
    reply = Reply("x", options=((Option("a", "r:1:ok"), Option("form", "", page=WebPage("/web/report", 7, 99))),))
    assert load_reply(dump_reply(reply)) == reply


async def _reply(fake: FakeZalo, user: object, contains: str) -> str:
    for _ in range(10):
        message = await fake.next_reply(user, timeout=10)  # type: ignore[arg-type]
        if contains in message.text:
            return message.text
    raise AssertionError(f"no reply containing {contains!r}")


def test_a_channel_without_the_pages_drops_the_button_and_keeps_the_others() -> None:
    from bot.telegram_channel import keyboard

    web = Option("🖥 form", "", page=WebPage("/web/report"))
    only_web = keyboard(Reply("x", options=((web,),)))
    assert only_web is None
    mixed = keyboard(Reply("x", options=((web, Option("ok", "r:1:ok")), (web,))))
    assert mixed is not None
    assert [[button.callback_data for button in row] for row in mixed.inline_keyboard] == [["r:1:ok"]]


def test_the_terminal_shows_the_page_unnumbered() -> None:
    import io

    from bot.console_channel import ConsoleChannel
    from handlers.chat import Outcome

    out = io.StringIO()
    channel = ConsoleChannel(None, 1, out, "t")  # type: ignore[arg-type]  # (only shows)
    channel.show(Outcome([Reply("x", options=((Option("🖥 form", "", page=WebPage("/web/report")),
                                                Option("ok", "r:1:ok")),))]))
    assert "[web] 🖥 form: /web/report" in out.getvalue() and "#1 ok" in out.getvalue()
    assert [option.data for option in channel.options] == ["r:1:ok"]
