"""One process where only one may run: a bot's long poll, an SQLite database.

On PostgreSQL a session-level advisory lock held on a connection of its own for
the process's life: the database releases it when that connection closes,
also when the process is killed. On SQLite an exclusive `flock` on a file
beside the database, which the kernel releases when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, text


class AlreadyRunning(RuntimeError):
    """Another process holds what this one wanted to hold alone."""


def _key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def hold_alone(engine: Engine, name: str) -> Iterator[None]:
    """Hold `name` for this process alone while the block runs, or raise `AlreadyRunning`."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = _key(name)
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
                raise AlreadyRunning(name)
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
        return
    database = engine.url.database or ""
    if not database or database == ":memory:":
        yield
        return
    path = Path(database).with_name(Path(database).name + ".lock")
    handle: IO[str] = path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise AlreadyRunning(f"{name} ({path})") from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()
