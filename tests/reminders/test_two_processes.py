"""Two real bot processes on one PostgreSQL database and one fake Bot API: each reminder once."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from fakes.telegram import FakeTelegram
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.models import ReminderLog
from tests.factories import seed_bloc
from tests.reminders.helpers import CHAT_IDS, link_officers, local

ROOT = Path(__file__).resolve().parents[2]
MOMENTS = [local(2019, 1, 3, 8), local(2019, 1, 3, 8, 30), local(2019, 1, 7, 8), local(2019, 1, 9, 8),
           local(2019, 1, 9, 9), local(2019, 1, 10, 8), local(2019, 1, 10, 17)]


class Worker:
    """One `python -m tests.reminders.worker` process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, object]] = []

    async def read(self) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not line:
            assert self.process.stderr is not None
            raise AssertionError(f"worker ended: {(await self.process.stderr.read()).decode()[-2000:]}")
        return line.decode().strip()

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("lock", [True, False], ids=["advisory-lock", "unique-key-alone"])
async def test_two_processes_send_each_reminder_exactly_once(engine: Engine, database_url: str, lock: bool) -> None:
    """Each tick goes to both processes at once; with or without the lock, each message goes out once."""
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    async with FakeTelegram() as fake:
        link_officers(engine, fake, list(CHAT_IDS))
        workers = []
        for _ in range(2):
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.reminders.worker", "--database-url", database_url,
                "--base-url", fake.base_url, "--token", fake.token, "--now", local(2019, 1, 2, 12).isoformat(),
                *([] if lock else ["--no-lock"]), cwd=ROOT, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            workers.append(Worker(process))
        try:
            assert [await worker.read() for worker in workers] == ["ready", "ready"]
            for moment in MOMENTS:
                # Both processes get the same tick at the same time and race for it.
                await asyncio.gather(*(worker.send(f"tick {moment.isoformat()}") for worker in workers))
                for worker in workers:
                    worker.lines.append(json.loads(await worker.read()))
            await asyncio.gather(*(worker.send("quit") for worker in workers))
            for worker in workers:
                assert await asyncio.wait_for(worker.process.wait(), 30) == 0
        finally:
            for worker in workers:
                if worker.process.returncode is None:
                    worker.process.kill()
                    await worker.process.wait()

        sent = Counter((message.chat_id, message.text) for message in fake.sent)
        assert sent and max(sent.values()) == 1, "a message went out twice"
        per_chat = Counter(message.chat_id for message in fake.sent)
        leader = [CHAT_IDS["tttt-head"], CHAT_IDS["tttt-tdkt"]]
        for code, chat_id in CHAT_IDS.items():
            # 7, 3, 1 and 0 days before; the leader's officers also get the digest and who missed it.
            assert per_chat[chat_id] == (6 if chat_id in leader else 4), code
    with session_scope(engine) as session:
        rows = list(session.exec(select(ReminderLog)))
    assert len(rows) == len(fake.sent) == 4 * len(CHAT_IDS) + 2 * 2
    assert {row.status for row in rows} == {"delivered"}
    claimed_by = Counter(row.claimed_by for row in rows)
    delivered = sum(int(str(line["delivered"])) for worker in workers for line in worker.lines)
    assert delivered == len(rows) and set(claimed_by) <= {str(worker.lines[0]["worker"]) for worker in workers}
