"""Engines and units of work: SQLite transactions take the write lock when they begin, one after the other."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import storage.db
from storage.db import (
    async_session_scope,
    make_async_engine,
    make_engine,
    migrate,
    session_scope,
    units_of_work_at_once,
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
        # Another engine on the same file waits for the same lock.
        with session_scope(second_engine) as session:
            session.execute(text("SELECT 1"))  # the transaction begins here
            second_entered.set()
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert inside_first.wait(10)
    # The second transaction waits for the first to end.
    assert not second_entered.wait(0.3)
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first in", "first out", "second in"]
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


def test_units_of_work_at_once_is_one_writer_on_sqlite_and_the_pool_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        assert units_of_work_at_once(engine) == 1
    else:
        assert units_of_work_at_once(engine) == engine.pool.size() + 10  # QueuePool's default overflow


async def test_a_pooled_connection_is_pinged_only_after_sitting_idle(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        with pytest.raises(ValueError, match="PostgreSQL only"):
            make_async_engine(url)
        return
    async_engine = make_async_engine(url, pool_size=1, max_overflow=0)
    dialect = async_engine.sync_engine.dialect
    pings: list[object] = []
    real_ping = dialect.do_ping

    def counted_ping(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted_ping)

    async def backend() -> int:
        async with async_session_scope(async_engine) as session:
            return int((await session.exec(text("SELECT pg_backend_pid()"))).scalar_one())  # type: ignore[call-overload]

    try:
        first = await backend()
        assert await backend() == first and not pings  # used a moment ago: not pinged
        with engine.connect() as connection:  # the server ends it while it sits in the pool
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            connection.commit()
        monkeypatch.setattr(storage.db, "PING_IDLE_AFTER", 0.0)
        again = await backend()  # pinged, found closed, connected afresh: no error
        assert pings and again != first
    finally:
        await async_engine.dispose()
