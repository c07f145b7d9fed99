"""The bot's Bot API client (bot/transport.py) and the switch back to python-telegram-bot's own."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import Engine
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.app import build_application, start, stop
from bot.transport import AiohttpRequest
from fakes.people import ScriptedOfficer
from fakes.telegram import FakeTelegram
from tests.chat.driver import Clock
from tests.e2e.conftest import DURING


async def test_a_slow_answer_is_a_timeout_and_a_refused_connection_a_network_error() -> None:
    async with FakeTelegram() as fake:
        fake.set_delay("sendMessage", 2.0)
        bot = Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest(read_timeout=0.3))
        async with bot:
            with pytest.raises(TimedOut):
                await bot.send_message(1, "chậm")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Bot("1:x", base_url=f"http://127.0.0.1:{port}/bot",
                 request=AiohttpRequest(connect_timeout=1.0))
    with pytest.raises(NetworkError):
        await closed.initialize()  # getMe
    await closed.shutdown()


async def test_files_and_form_fields_arrive_as_sent(tmp_path: Path) -> None:
    content = "Báo cáo <khối 3> & “đủ”\n".encode() * 50
    async with FakeTelegram() as fake:
        fake.user(42, "Lan")
        bot = Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest())
        async with bot:
            sent = await bot.send_document(42, InputFile(content, filename="bao-cao.txt"),
                                           caption="Kỳ cuối năm 2018")
        assert sent.document is not None
        assert sent.document.file_name == "bao-cao.txt"
        assert sent.document.file_size == len(content)
        assert sent.caption == "Kỳ cuối năm 2018"


@pytest.mark.parametrize("client", ["aiohttp", "httpx"])
async def test_the_bot_answers_with_either_http_client(engine: Engine, client: str) -> None:
    async with FakeTelegram() as fake:
        parts = build_application(token=fake.token, engine=engine, base_url=fake.base_url,
                                  base_file_url=fake.base_file_url, clock=Clock(DURING),
                                  dispose_engine=False, http_client=client)
        await start(parts)
        try:
            person = ScriptedOfficer(fake, fake.user(701, "Hà"), "Hà")
            reply = await person.say("/start", "mã mời cá nhân")
            assert reply.chat_id == 701
        finally:
            await stop(parts)


def test_an_unknown_http_client_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="aiohttp or httpx"):
        build_application(token="1:x", engine=engine, base_url="http://127.0.0.1:9/bot",
                          base_file_url="http://127.0.0.1:9/file/bot", http_client="requests")
