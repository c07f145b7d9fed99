"""Webhook mode, and the `run` command's token checks, against the fake Bot API server."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

from sqlalchemy import Engine

from bot.app import build_application, start, stop
from bot.http_server import HttpServer
from bot.terminal import plain
from fakes.people import ScriptedOfficer
from fakes.telegram import FakeTelegram
from tests.chat.driver import Clock
from tests.e2e.conftest import DURING


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_checks_the_secret(engine: Engine) -> None:
    async with FakeTelegram() as fake:
        parts = build_application(token=fake.token, engine=engine, base_url=fake.base_url,
                                  base_file_url=fake.base_file_url, clock=Clock(DURING),
                                  dispose_engine=False)
        server = HttpServer(parts.runtime)
        path = server.add_telegram(parts.channel, "s3cret-token")
        await start(parts, polling=False)
        port = await server.start("127.0.0.1", 0)
        try:
            await parts.application.bot.set_webhook(f"http://127.0.0.1:{port}{path}", secret_token="s3cret-token")
            assert fake.webhook_url == f"http://127.0.0.1:{port}/telegram/{parts.channel.bot}"
            person = ScriptedOfficer(fake, fake.user(700, "Lan"), "Lan")
            reply = await person.say("/start", "mã mời cá nhân")
            assert reply.chat_id == 700
            forged = {"update_id": 999_999, "message": {
                "message_id": 1, "date": 0, "chat": {"id": 700, "type": "private"},
                "from": {"id": 700, "is_bot": False, "first_name": "X"}, "text": "/help"}}
            assert await fake.post_to_webhook(forged, secret_token="wrong") == 403
            assert await fake.post_to_webhook(forged, secret_token=None) == 403
            await fake.wait_handled(parts.application)
            assert not [m for m in fake.messages_to(700) if "khối thi đua" in plain(m.text)]
        finally:
            await server.stop()
            await stop(parts)


async def _run_command(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return int(process.returncode or 0), output.decode()


async def test_run_without_a_token_says_what_to_do(tmp_path: object) -> None:
    status, output = await _run_command({"TELEGRAM_BOT_TOKEN": "",
                                         "DATABASE_URL": f"sqlite:///{tmp_path}/run.db"})
    assert status == 2 and "Chưa có mã bot nào: đặt TELEGRAM_BOT_TOKEN" in output


async def test_run_with_a_rejected_token_says_so(tmp_path: object) -> None:
    async with FakeTelegram() as fake:
        status, output = await _run_command({
            "TELEGRAM_BOT_TOKEN": "42:WRONG", "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_FILE_BASE_URL": fake.base_file_url, "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
        })
    assert status == 2 and "Telegram từ chối mã của bot 42 (TELEGRAM_BOT_TOKEN)" in output


async def test_run_polls_answers_and_stops_cleanly(tmp_path: object) -> None:
    """`python -m bot run` as an operator starts it: real polling, menu set, a reply, Ctrl-C."""
    import signal

    async with FakeTelegram() as fake:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
               "TELEGRAM_FILE_BASE_URL": fake.base_file_url, "DATABASE_URL": f"sqlite:///{tmp_path}/run.db"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            person = ScriptedOfficer(fake, fake.user(710, "Lan"), "Lan", timeout=30)
            reply = await person.say("/start", "mã mời cá nhân")
            assert reply.chat_id == 710
            assert dict(fake.commands_for(""))["report"]  # post_init set the menu
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()[-2000:]
