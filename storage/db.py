"""Engines, sessions and migrations."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, create_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite make the folder, enforce foreign keys and use WAL."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own transaction handling is switched off: we begin ourselves.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL syncs at checkpoints, not at every commit: a commit
            # survives the process being killed (what the outbox and the crash
            # guarantees need), not the machine losing power (docs/deployment.md).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # Every unit of work writes (at least the processed-update mark), so each
            # takes SQLite's write lock when it begins: concurrent writers then wait in
            # the busy handler instead of failing when a read transaction tries to write.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def units_of_work_at_once(engine: Engine) -> int:
    """How many units of work the database serves at once without making one wait for a connection.

    SQLite has one writer at a time, and every unit of work writes; PostgreSQL
    serves as many as the engine's pool holds connections (its size plus overflow).
    """
    if engine.dialect.name == "sqlite":
        return 1
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return pool.size() + pool._max_overflow
    return 1


# A pooled connection is pinged before use only when it sat unused this long: a ping
# for every unit of work was one round trip of four or five per message
# (bench/chat_process.py, docs/performance.md of 02/12/2026), and a connection that
# served a unit of work a moment ago is very likely still open. One that died anyway
# (the server restarted meanwhile) fails its unit of work, which is retried from the
# inbox or the outbox, and the pool is emptied of the connections opened before.
PING_IDLE_AFTER = 1.0  # seconds


def make_async_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An asyncio engine on PostgreSQL (psycopg's async driver), for units of work run on the event loop."""
    if not url.startswith("postgresql"):
        raise ValueError("the asyncio engine is for PostgreSQL only")
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine.sync_engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine.pool, "connect")
    @event.listens_for(engine.pool, "checkin")
    def _used(_dbapi_connection: Any, record: Any) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) < PING_IDLE_AFTER:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError() from error  # the pool connects afresh
            raise


@asynccontextmanager
async def async_session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One unit of work on the event loop: commit when the block ends, roll back on any error.

    `await session.run_sync(fn, ...)` runs ordinary (synchronous) storage code in
    it; each of its database waits is awaited on the event loop, no thread needed.
    """
    async with AsyncSession(engine, expire_on_commit=False) as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database schema to the newest migration."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "heads")
