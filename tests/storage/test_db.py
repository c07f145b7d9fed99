"""Engines and units of work: the SQLite transactions of one process queue on our own lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.chat import claim_update
from storage.db import (
    async_session_scope,
    make_async_engine,
    make_engine,
    migrate,
    session_scope,
    sqlite_writer_free,
)


def test_sqlite_units_of_work_in_one_process_run_one_after_the_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'order.db'}"
    migrate(url)
    first_engine, second_engine = make_engine(url), make_engine(url)
    inside_first = threading.Event()
    release_first = threading.Event()
    second_entered = threading.Event()
    order: list[str] = []

    def first() -> None:
        with session_scope(first_engine) as session:
            session.execute(text("SELECT 1"))
            order.append("first in")
            inside_first.set()
            release_first.wait(10)
            order.append("first out")

    def second() -> None:
        inside_first.wait(10)
        # Another engine on the same file shares the lock.
        with session_scope(second_engine) as session:
            session.execute(text("SELECT 1"))  # the transaction begins here
            second_entered.set()
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert inside_first.wait(10)
    assert not sqlite_writer_free(second_engine), "the first transaction holds this process's writer lock"
    # The second transaction waits for the first to end.
    assert not second_entered.wait(0.3)
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first in", "first out", "second in"]
    assert sqlite_writer_free(first_engine), "given back when the connections returned to the pool"
    first_engine.dispose()
    second_engine.dispose()


def test_a_failed_unit_of_work_lets_the_next_one_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fail.db'}"
    migrate(url)
    engine = make_engine(url)
    with pytest.raises(OperationalError), session_scope(engine) as session:
        session.execute(text("SELECT no_such_column FROM bloc"))
    done = threading.Event()

    def other() -> None:
        with session_scope(engine) as session:
            session.execute(text("SELECT 1"))
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert done.wait(10), "the lock was not given back after the error"
    thread.join()
    engine.dispose()


async def test_a_postgresql_unit_of_work_on_the_event_loop_commits_or_rolls_back_whole(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        with pytest.raises(ValueError, match="PostgreSQL only"):
            make_async_engine(database_url)
        return
    engine = make_async_engine(database_url)
    try:
        async with async_session_scope(engine) as session:
            await session.run_sync(lambda sync: claim_update(session=sync, update_key="kept"))
        with pytest.raises(RuntimeError):
            async with async_session_scope(engine) as session:
                await session.run_sync(lambda sync: claim_update(session=sync, update_key="lost"))
                raise RuntimeError("the unit of work fails after its statement")
        async with async_session_scope(engine) as session:
            assert not await session.run_sync(lambda sync: claim_update(session=sync, update_key="kept"))
            assert await session.run_sync(lambda sync: claim_update(session=sync, update_key="lost"))
    finally:
        await engine.dispose()
