"""Units of work from the event loop, no more at once than the database serves.

On SQLite, which serves one writer at a time, a unit of work runs on the event
loop itself: in a worker thread every statement hands the GIL back and forth
with the busy loop, and 200 officers got 0,46–0,48 of the echo bot's rate
against 0,91 on the loop (bench/chat.py, docs/performance.md). On PostgreSQL
it runs on the loop through psycopg's asyncio driver, every database wait
awaited. Units beyond what the database serves wait here for a slot, not for a
pool connection, whose timeout would be an error shown to a person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar, cast

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import async_session_scope, session_scope, units_of_work_at_once

ResultT = TypeVar("ResultT")


class UnitsOfWork:
    """Runs `work(session)` in a transaction of its own, committed when it returns."""

    def __init__(self, engine: Engine, async_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.async_engine = async_engine
        served = async_engine.sync_engine if async_engine is not None else engine
        self.at_once = units_of_work_at_once(served)
        self._slots = asyncio.Semaphore(self.at_once)
        # The same pool's connections, in the driver's autocommit mode (set at checkout, reset at return).
        self._alone = async_engine.execution_options(isolation_level="AUTOCOMMIT") \
            if async_engine is not None else None

    async def run(self, work: Callable[[Session], ResultT]) -> ResultT:
        """Run one unit of work once the database has room for it."""
        async with self._slots:
            if self.async_engine is not None:
                async with async_session_scope(self.async_engine) as session:
                    # The session given is sqlmodel's (AsyncSession.sync_session_class).
                    return await session.run_sync(lambda sync: work(cast(Session, sync)))
            with session_scope(self.engine) as session:
                return work(session)

    async def run_alone(self, work: Callable[[Session], ResultT]) -> ResultT:
        """Run work whose every statement stands alone, each its own transaction.

        For work of one statement (a delivery recorded), or of statements that
        are each complete without the others (updates kept in the inbox: one
        kept and the next not, by a crash, is one acknowledged and the next
        delivered again). On PostgreSQL it runs in the driver's autocommit mode:
        no BEGIN and no COMMIT, two round trips fewer (about 0,15 ms of the
        process's CPU each time; bench/chat_process.py, docs/performance.md of
        03/12/2026). On SQLite, as `run`.
        """
        if self._alone is None:
            return await self.run(work)
        async with self._slots, AsyncSession(self._alone, expire_on_commit=False) as session:
            result = await session.run_sync(lambda sync: work(cast(Session, sync)))
            await session.commit()  # nothing to commit: the session's own bookkeeping
            return result

    async def close(self) -> None:
        """Close the asyncio engine's connections."""
        if self.async_engine is not None:
            await self.async_engine.dispose()
