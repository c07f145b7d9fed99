"""Engines, sessions and migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, create_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# One writer lock per SQLite database file in this process (see `_queue_writers`).
_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()
_HOLDS_WRITER_LOCK = "holds_writer_lock"
# As long as SQLite's busy_timeout: waiting longer means something is stuck.
WRITER_WAIT_SECONDS = 30.0


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
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        _queue_writers(engine, str(engine.url))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _queue_writers(engine: Engine, url: str) -> None:
    """Every transaction takes SQLite's write lock at BEGIN; this process's writers queue for it.

    Every unit of work here writes (at least the processed-update mark), so each
    transaction begins with `BEGIN IMMEDIATE`: concurrent writers wait instead of
    failing when a read transaction tries to upgrade. Left to SQLite, a waiter
    sleeps in its busy handler (1, 2, 5 ... up to 100 ms between tries) and may
    sleep on long after the lock was freed. So the transactions of this process
    first queue on a lock of ours, taken at BEGIN and given back when the
    connection returns to the pool (after its commit or rollback): the next one
    starts the moment the last ends. The busy handler still orders this process
    against others (the command line while the bot runs).
    """
    with _SQLITE_WRITERS_GUARD:
        lock = _SQLITE_WRITERS.setdefault(url, threading.Lock())

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        info = connection.connection.info
        if not info.get(_HOLDS_WRITER_LOCK):
            if not lock.acquire(timeout=WRITER_WAIT_SECONDS):
                raise sqlite3.OperationalError(
                    f"database is locked: another transaction of this process held it "
                    f"for over {WRITER_WAIT_SECONDS:.0f} s"
                )
            info[_HOLDS_WRITER_LOCK] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _give_back(info)
            raise

    def _give_back(info: dict[str, Any]) -> None:
        if info.pop(_HOLDS_WRITER_LOCK, False):
            lock.release()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        _give_back(record.info)

    @event.listens_for(engine, "invalidate")
    def _invalidated(_dbapi_connection: Any, record: Any, _error: Any) -> None:
        _give_back(record.info)


def sqlite_writer_free(engine: Engine) -> bool:
    """True for SQLite when no transaction of this process holds the write lock right now."""
    if engine.dialect.name != "sqlite":
        return False
    lock = _SQLITE_WRITERS.get(str(engine.url))
    return lock is not None and not lock.locked()


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


def make_async_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An asyncio engine on PostgreSQL (psycopg's async driver), for work done on the event loop."""
    if not url.startswith("postgresql"):
        raise ValueError("the asyncio engine is for PostgreSQL only")
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


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
