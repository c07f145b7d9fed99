"""Crashes: the real `python -m bot run` killed with SIGKILL at the dangerous moments, and restarted.

A few runs of bench/crash.py as tests (both backends; Telegram polling, Zalo webhook and
polling): the fake Bot API server in the test's process, the bot in a process of its own
on the test's database. Every value
an officer confirmed is stored once, every message got its answer, nothing is left
owed. Plus, in process: what a restart does with the messages a killed process was
sending.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import select

from bench.crash import Officer, RunResult, load_world, one_run, open_bloc
from bot.outbox import SenderSettings
from bot.terminal import plain
from handlers.chat import Reply
from handlers.dispatch import owe, system_clock
from storage.db import session_scope
from storage.models import OutboxMessage
from tests.e2e.conftest import BotWorld

LONG_LEASE = SenderSettings(lease=dt.timedelta(hours=1))


async def _killed(database_url: str, engine: Engine, tmp_path: Path, kinds: list[str], seed: int, *,
                  channel: str = "telegram", mode: str = "polling", officers: int = 3,
                  extra_env: dict[str, str] | None = None) -> None:
    now = dt.datetime.now(dt.UTC)
    reporters = load_world(engine, open_bloc(now), now)[:officers]
    result = await one_run(database_url, reporters, kinds, rng=random.Random(seed), think=0.15,
                           reply_timeout=60, log_path=tmp_path / "bot.log", channel=channel, mode=mode,
                           extra_env=extra_env)
    _met(result, reporters, kinds)


def _met(result: RunResult, officers: list[Officer], kinds: list[str]) -> None:
    assert sum(result.kills.values()) == len(kinds), f"kills made: {dict(result.kills)}"
    assert result.confirmed == sum(len(officer.values) for officer in officers)
    assert result.problems == []
    assert (result.lost_values, result.lost_replies) == (0, 0)
    assert (result.duplicated_entries, result.duplicated_audit_rows, result.duplicated_submissions) == (0, 0, 0)
    assert (result.unprocessed_updates, result.failed_turns, result.undelivered) == (0, 0, 0)
    assert result.lost_in_handout == 0


async def test_killed_after_an_acknowledgement_and_during_a_lost_send(
    database_url: str, engine: Engine, tmp_path: Path,
) -> None:
    await _killed(database_url, engine, tmp_path, ["acknowledged", "send_held_lost"], seed=1)


async def test_killed_during_a_delivered_send_and_at_random(
    database_url: str, engine: Engine, tmp_path: Path,
) -> None:
    await _killed(database_url, engine, tmp_path, ["send_held_delivered", "random", "acknowledged"], seed=2)


async def test_zalo_webhook_killed_after_an_acknowledgement_during_a_lost_send_and_at_random(
    database_url: str, engine: Engine, tmp_path: Path,
) -> None:
    """On Zalo's webhook, `acknowledged` is the bot's 200 to a POST: the event was kept before it.

    In webhook mode on PostgreSQL (replicas may share the database) a restarted process does not
    take over the sends the killed one had leased: they wait for the lease to run out, here 5 s
    (OUTBOX_LEASE_SECONDS, 60 by default; docs/deployment.md), within the officers' minute. (The
    fake answers a send in milliseconds, so 5 s still outlasts any send; 20 s was 15 s more waiting.)
    """
    await _killed(database_url, engine, tmp_path, ["acknowledged", "send_held_lost", "random"], seed=3,
                  channel="zalo", mode="webhook", extra_env={"OUTBOX_LEASE_SECONDS": "5"})


async def test_zalo_polling_killed_during_a_delivered_and_a_lost_send(
    database_url: str, engine: Engine, tmp_path: Path,
) -> None:
    """On Zalo's long poll (no offset), killed while a send is held; one officer, so no event is in
    flight at the kill (one handed out and not yet kept is lost with the process: bench/crash.py counts those)."""
    await _killed(database_url, engine, tmp_path, ["send_held_delivered", "send_held_lost"], seed=4,
                  channel="zalo", officers=1)


async def test_a_restart_sends_at_once_what_a_killed_process_was_sending(world: BotWorld) -> None:
    """A process killed in the middle of a send leaves the message leased; the next one takes it over."""
    await world.stop_bot()
    mai = world.fake.user(520, "Mai")
    parts = world.parts
    with session_scope(world.engine) as session:
        chats = owe(session, channel="telegram", bot=world.fake.token.split(":")[0],
                    replies=[Reply("Câu hỏi tiếp theo", chat_id=f"telegram:{mai.id}")], now=system_clock())
        session.flush()
        # As the killed process left it: leased a moment ago, for an hour (its lease).
        session.connection().execute(update(OutboxMessage).values(
            leased_until=system_clock() + dt.timedelta(hours=1) - dt.timedelta(seconds=1)))
    assert parts is None and len(chats) == 1
    await world.start_bot(sender=LONG_LEASE)
    message = await world.fake.wait_for(lambda m: m.chat_id == mai.id, timeout=10)
    assert plain(message.text) == "Câu hỏi tiếp theo"
    await _wait_delivered(world.engine)


async def _wait_delivered(engine: Engine) -> None:
    """The sender records a delivery just after the platform answered: wait for that record."""
    for _ in range(100):
        with session_scope(engine) as session:
            if session.exec(select(OutboxMessage.state)).all() == ["delivered"]:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the message was not recorded as delivered")


async def test_a_lease_taken_after_the_start_is_left_alone(world: BotWorld) -> None:
    """Only leases older than the take-over are freed: one taken since (its lease runs longer) is not."""
    parts = world.parts
    assert parts is not None
    mai = world.fake.user(521, "Mai")
    with session_scope(world.engine) as session:
        owe(session, channel="telegram", bot=parts.channel.bot,
            replies=[Reply("Đang gửi", chat_id=f"telegram:{mai.id}")], now=system_clock())
        session.flush()
        session.connection().execute(update(OutboxMessage).values(
            leased_until=system_clock() + SenderSettings().lease + dt.timedelta(seconds=30)))
    assert await parts.runtime.sender.take_over() == 0
    with session_scope(world.engine) as session:
        assert session.exec(select(OutboxMessage.leased_until)).one() is not None
