"""`python -m bot run` as an operator runs it, against the fake Bot API servers.

Zalo alone (no Telegram token), what it says at start and at stop, and the
failures an operator can expect: one line, exit status 2, no traceback and no
"Unclosed client session".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import sys
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import select

from fakes.telegram import FakeTelegram
from fakes.zalo import FakeZalo
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import issue_invites
from storage.models import OfficerAccount, Period
from tests.factories import seed_bloc

NO_TOKENS = {"TELEGRAM_BOT_TOKEN": "", "TELEGRAM_BOT_TOKENS": "", "ZALO_BOT_TOKEN": "", "ZALO_BOT_TOKENS": "",
             "WEBHOOK_SECRET": "", "ZALO_WEBHOOK_SECRET": "", "HTTP_PORT": ""}


async def _start(env: dict[str, str], *arguments: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *arguments, env={**os.environ, **NO_TOKENS, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def _run(env: dict[str, str]) -> tuple[int, str]:
    process = await _start(env)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return int(process.returncode or 0), output.decode()


async def _lines_until(process: asyncio.subprocess.Process, last: str, seen: list[str]) -> None:
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        assert line, "the process ended early:\n" + "".join(seen)
        seen.append(line)
        if last in line:
            return


LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\dT\S+Z (DEBUG|INFO|WARNING) ")


def _one_line(output: str) -> None:
    """Besides log records below ERROR, the operator reads one line: the failure."""
    said = [line for line in output.strip().splitlines() if not LOG_RECORD.match(line)]
    assert len(said) == 1 and said[0].startswith("✗ "), output


def _clean(output: str) -> None:
    assert "Traceback" not in output, output
    assert "Unclosed" not in output, output


def _prepare(engine: Engine) -> str:
    """The seed bloc with its reporting window moved around now, and an invite; the code."""
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        for period in session.exec(select(Period)):
            period.reporting_opens = now - dt.timedelta(days=3)
            period.reporting_deadline = now + dt.timedelta(days=20)
            session.add(period)
        issued = issue_invites(session=session, bloc_id=1, now=now, ttl=dt.timedelta(days=30), actor="test")
    return issued[0].code


async def test_a_zalo_only_run_answers_on_zalo_says_what_it_serves_and_what_it_did(
        engine: Engine, database_url: str, seeded: None) -> None:
    code = _prepare(engine)
    async with FakeZalo(idle_wait=0.2) as fake:
        process = await _start({"ZALO_BOT_TOKEN": fake.token, "ZALO_API_BASE_URL": fake.base_url,
                                "DATABASE_URL": database_url})
        seen: list[str] = []
        try:
            await _lines_until(process, "Bot đang chạy", seen)
            person = fake.user("Trần Thị Mai")
            person.send_command("start", code)
            reply = await fake.next_reply(person, timeout=30)
            assert reply.text
        finally:
            process.send_signal(signal.SIGINT)
            rest, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    output = "".join(seen) + rest.decode()
    assert process.returncode == 0, output
    _clean(output)
    start = "".join(seen)
    assert "Bot Zalo: " in start and f"mã bot {fake.bot_id}" in start
    assert "Telegram" not in start
    assert f"Cơ sở dữ liệu: {database_url}" in start  # (the test databases have no password)
    assert "Khối đã nạp: K3" in start
    assert "Chế độ: hỏi tin mới liên tục (long polling)" in start
    assert "Lời nhắc kế tiếp của khối K3:" in start and "nhắc nộp báo cáo" in start
    assert "Đã dừng: xử lý 1 tin nhắn đến" in rest.decode()
    with session_scope(engine) as session:
        assert session.exec(select(OfficerAccount).where(OfficerAccount.channel == "zalo")).first() is not None


async def test_the_database_password_is_not_printed(tmp_path: Path) -> None:
    status, output = await _run({"TELEGRAM_BOT_TOKEN": "1:x",
                                 "DATABASE_URL": "postgresql+psycopg://kt:SECRET-PASS@127.0.0.1:1/nowhere"})
    assert status == 2
    assert "Không kết nối được cơ sở dữ liệu postgresql+psycopg://kt:***@127.0.0.1:1/nowhere" in output
    assert "SECRET-PASS" not in output
    _one_line(output)
    _clean(output)


async def test_no_token_at_all_says_which_to_set(tmp_path: Path) -> None:
    status, output = await _run({"DATABASE_URL": f"sqlite:///{tmp_path}/run.db"})
    assert status == 2 and "TELEGRAM_BOT_TOKEN" in output and "ZALO_BOT_TOKEN" in output
    _clean(output)


async def test_a_rejected_telegram_token_is_one_line(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        status, output = await _run({
            "TELEGRAM_BOT_TOKEN": "42:WRONG", "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_FILE_BASE_URL": fake.base_file_url, "DATABASE_URL": f"sqlite:///{tmp_path}/run.db"})
    assert status == 2
    assert "Telegram từ chối mã của bot 42" in output and "WRONG" not in output
    _one_line(output)
    _clean(output)


async def test_an_unreachable_telegram_api_is_one_line(tmp_path: Path) -> None:
    status, output = await _run({"TELEGRAM_BOT_TOKEN": "42:SECRET", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
                                 "DATABASE_URL": f"sqlite:///{tmp_path}/run.db"})
    assert status == 2
    assert "Không kết nối được Bot API của Telegram tại http://127.0.0.1:9/bot" in output
    assert "SECRET" not in output
    _one_line(output)
    _clean(output)


async def test_a_rejected_zalo_token_is_one_line(tmp_path: Path) -> None:
    async with FakeZalo() as fake:
        status, output = await _run({"ZALO_BOT_TOKEN": "77:WRONG", "ZALO_API_BASE_URL": fake.base_url,
                                     "DATABASE_URL": f"sqlite:///{tmp_path}/run.db"})
    assert status == 2
    assert "Zalo từ chối mã của bot 77" in output and "WRONG" not in output
    _one_line(output)
    _clean(output)


async def test_a_database_newer_than_the_code_is_one_line(engine: Engine, database_url: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d_from_the_future'"))
    status, output = await _run({"TELEGRAM_BOT_TOKEN": "1:x", "DATABASE_URL": database_url})
    assert status == 2
    assert "mới hơn phiên bản bot này biết" in output and "f00d_from_the_future" in output
    _one_line(output)
    _clean(output)


async def test_webhook_mode_says_each_bots_webhook_url(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    async with FakeTelegram() as fake:
        process = await _start({"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
                                "TELEGRAM_FILE_BASE_URL": fake.base_file_url, "WEBHOOK_SECRET": "s3cret-token",
                                "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port),
                                "DATABASE_URL": f"sqlite:///{tmp_path}/run.db"},
                               "--webhook", f"http://127.0.0.1:{port}")
        seen: list[str] = []
        try:
            await _lines_until(process, "Bot đang chạy", seen)
        finally:
            process.send_signal(signal.SIGINT)
            rest, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        assert fake.webhook_url == f"http://127.0.0.1:{port}/telegram/{fake.bot_id}"
    start = "".join(seen)
    assert f"Bot Telegram: @{fake.bot_username}" in start
    assert f"Chế độ: webhook, http://127.0.0.1:{port}/telegram/{fake.bot_id}" in start
    assert "Chưa nạp khối nào" in start
    assert process.returncode == 0
    _clean(start + rest.decode())
