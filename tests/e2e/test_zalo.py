"""Zalo on the channel port: an officer onboards, reports with numbered options, gets files as links.

The real Zalo adapter (bot/zalo_channel.py and its aiohttp client) against the
fake Zalo Bot API server, beside the Telegram bot of tests/e2e/conftest.py, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from sqlmodel import select

from bot.app import add_zalo, start, stop
from bot.file_links import FileLinks
from bot.http_server import HttpServer
from bot.zalo_channel import ZaloChannel
from fakes.zalo import FakeZalo
from handlers.chat import OutFile, Reply
from handlers.dispatch import owe, system_clock
from handlers.renderers.chart import ChartBar, ChartData
from storage.db import session_scope
from storage.models import Entry, OfficerAccount
from tests.e2e.conftest import BotWorld


@pytest.fixture
async def zalo(world: BotWorld) -> AsyncIterator[tuple[FakeZalo, ZaloChannel, HttpServer]]:
    """The world's bot restarted with a Zalo bot beside its Telegram bot, and the HTTP server for links."""
    await world.stop_bot()
    parts = await world.start_bot(run=False)
    async with FakeZalo(idle_wait=0.2) as fake:
        server = HttpServer(parts.runtime)
        port = await server.start("127.0.0.1", 0)
        server.links = FileLinks(b"k" * 32, f"http://127.0.0.1:{port}")
        channel = add_zalo(parts, token=fake.token, base_url=fake.base_url, links=server.links, poll_timeout=1)
        await start(parts)
        world.parts = parts
        try:
            yield fake, channel, server
        finally:
            await server.stop()
            await stop(parts)
            world.parts = None


async def _reply(fake: FakeZalo, user: object, contains: str) -> str:
    for _ in range(10):
        message = await fake.next_reply(user, timeout=10)  # type: ignore[arg-type]
        if contains in message.text:
            return message.text
    raise AssertionError(f"no reply containing {contains!r}")


async def test_an_officer_reports_on_zalo_with_numbered_options(
    world: BotWorld, zalo: tuple[FakeZalo, ZaloChannel, HttpServer],
) -> None:
    fake, channel, _server = zalo
    lan = fake.user("Trần Thị Mai")
    lan.send_command("start", world.codes["tttt-tdkt"])
    welcome = await _reply(fake, lan, "Trần Thị Mai")
    assert "<b>" not in welcome and "&amp;" not in welcome, "markup is rendered as plain text"
    with session_scope(world.engine) as session:
        account = session.exec(select(OfficerAccount).where(OfficerAccount.channel == "zalo")).one()
    assert account.external_id == lan.id
    lan.send_command("report")
    await _reply(fake, lan, "1/")
    lan.send_text("30.544")
    question = await _reply(fake, lan, "30.544")
    lines = question.splitlines()
    number = next(line.split(".")[0] for line in lines if "Đúng, lưu" in line)
    lan.send_text(number)  # the option offered with that number, as a button press
    await _reply(fake, lan, "2/")
    with session_scope(world.engine) as session:
        saved = session.exec(select(Entry.value).where(Entry.item_code == "TT-1")).one()
    assert str(saved) == "30544"
    lan.send_text("42")  # a number with no option 42 is an answer to the question, not a choice
    await _reply(fake, lan, "42")


async def test_on_zalo_a_typed_number_answers_an_item_with_a_back_option(
    world: BotWorld, zalo: tuple[FakeZalo, ZaloChannel, HttpServer],
) -> None:
    fake, _channel, _server = zalo
    lan = fake.user("Trần Thị Mai")
    lan.send_command("start", world.codes["tttt-tdkt"])
    await _reply(fake, lan, "Trần Thị Mai")
    lan.send_command("report")
    await _reply(fake, lan, "1/")
    lan.send_text("30.544")
    question = await _reply(fake, lan, "30.544")
    lan.send_text(next(line.split(".")[0] for line in question.splitlines() if "Đúng, lưu" in line))
    prompt = await _reply(fake, lan, "2/")
    assert "◀️ Mục trước: /back" in prompt and "1. ◀️" not in prompt
    lan.send_text("1")  # the value of item 2, not the back option
    await _reply(fake, lan, "Số liệu vừa nhập")
    lan.send_command("back")
    back = await _reply(fake, lan, "1/")
    assert "30.544" in back


async def test_a_file_goes_to_zalo_as_a_signed_link_that_downloads_it(
    world: BotWorld, zalo: tuple[FakeZalo, ZaloChannel, HttpServer],
) -> None:
    fake, channel, server = zalo
    lan = fake.user("Lan")
    chart = OutFile(name="xep-hang.png", maker="chart", is_photo=False, data=ChartData(
        title="Khối 3", section_labels=["ND 1"], bonus_label="Thưởng",
        bars=[ChartBar(label="1. Sở A", sections=[Decimal(9)], bonus=Decimal(0), deductions=Decimal(0),
                       total=Decimal(9))]))
    with session_scope(world.engine) as session:
        chats = owe(session, channel="zalo", bot=channel.bot, replies=[Reply("Bảng điểm", files=(chart,))],
                    now=system_clock(), default_chat=lan.id)
    assert world.parts is not None
    await world.parts.runtime.sender.flush(chats[0])
    text = (await fake.next_reply(lan)).text
    link = next(word for word in text.split() if word.startswith("http://"))
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as answer:
            assert answer.status == 200
            assert (await answer.read()).startswith(b"\x89PNG")
        forged = link[:-1] + ("0" if link[-1] != "0" else "1")
        async with http.get(forged) as answer:
            assert answer.status == 404
            assert "không đúng hoặc đã hết hạn" in await answer.text()
    later = system_clock() + dt.timedelta(days=8)
    assert server.links is not None and server.links.check(link.rsplit("/", 1)[1], later) is None
