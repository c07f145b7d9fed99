"""Shared fixtures: a database of its own per test, on SQLite and on a real PostgreSQL.

Migrating a database costs far more than copying one, so each test process
(each pytest-xdist worker) migrates once per backend into a template and every
test gets a copy: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on
PostgreSQL. A fixture that would load the seed bloc into a fresh database asks
for `seeded` as well: its test then gets a copy of a second template with the
seed already loaded (as `load_bloc(config=seed_bloc(), actor="test")` leaves it),
so its own load finds the same configuration and changes nothing.

The PostgreSQL databases of a run are named `kt_run_<host>_<pid>_<nonce>_…`;
each test's database is dropped in the background after the test (every DROP
DATABASE waits for a checkpoint, and concurrent drops share one), the templates
at the end. Databases left by a crashed run (its process gone) are dropped when
the next run starts; no other database is touched.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import queue
import re
import secrets
import shutil
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storage.blocs import load_bloc
from storage.db import make_engine, migrate, session_scope
from storage.sealing import use_ballot_secret
from tests.factories import seed_bloc

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The server CI starts; any database on it works as the maintenance connection.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]

# Names of this process's PostgreSQL databases; the host and the process let a later run tell a crashed run's.
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_PREFIX = "kt_run_"
_RUN = f"{_PREFIX}{_HOST}_{os.getpid()}_{secrets.token_hex(2)}"
_RUN_NAME = re.compile(rf"^{_PREFIX}(?P<host>[0-9a-f]{{6}})_(?P<pid>\d+)_[0-9a-f]{{4}}_")


@pytest.fixture(scope="session", autouse=True)
def ballot_secret() -> str:
    """The server's ballot secret, as `python -m bot` sets it from the settings (random per run)."""
    secret = secrets.token_urlsafe(32)
    use_ballot_secret(secret)
    os.environ["BALLOT_SECRET"] = secret  # the command line in-process and in subprocesses: the same one
    return secret


def _load_seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")


# What a template holds beyond the migrated schema, by name.
SEEDS: dict[str, Callable[[Engine], None]] = {
    "migrated": lambda _engine: None,
    "seed": _load_seed,
}


def _admin_engine() -> Engine:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _postgres_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_stale(admin: Engine) -> None:
    """Drop the databases of earlier runs on this host whose process is gone (never a live run's)."""
    with admin.connect() as connection:
        names = connection.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"), {"prefix": f"{_PREFIX}%"}
        ).scalars().all()
        for name in names:
            match = _RUN_NAME.match(name)
            if match is None or match["host"] != _HOST or _process_alive(int(match["pid"])):
                continue
            try:  # without FORCE: a database somebody is still connected to stays
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            except Exception:  # noqa: S112 (another worker dropped it first, or it is in use)
                continue


class _Dropper:
    """Drops finished test databases in the background, several at once (their checkpoints are shared)."""

    def __init__(self, admin: Engine) -> None:
        self._admin = admin
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._failed: list[tuple[str, BaseException]] = []
        self._thread = threading.Thread(target=self._run, name="kt-drop-databases", daemon=True)
        self._thread.start()

    def drop(self, name: str) -> None:
        self._queue.put(name)

    def _drop_one(self, name: str) -> None:
        try:
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception as exc:  # kept for close(): an exception here would only be lost
            self._failed.append((name, exc))

    def _run(self) -> None:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="kt-drop") as pool:
            while True:
                batch = [self._queue.get()]
                while True:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                names = [name for name in batch if name is not None]
                list(pool.map(self._drop_one, names))
                if None in batch:
                    return

    def close(self) -> None:
        """Wait for every queued drop; try the failed ones once more, and fail loudly if they fail again."""
        self._queue.put(None)
        self._thread.join()
        failed, self._failed = self._failed, []
        for name, _exc in failed:
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class _Spares:
    """One ready copy of each template in use, made in the background while the tests run.

    A copy costs a few hundred milliseconds of PostgreSQL writing its WAL; made
    ahead, a test takes one at once. Each copy taken asks for the next.
    """

    def __init__(self, create: Callable[[str], str]) -> None:
        self._create = create
        self._wanted: queue.Queue[str | None] = queue.Queue()
        self._ready: dict[str, queue.Queue[str]] = {}
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kt-spare-databases", daemon=True)
        self._thread.start()

    def _shelf(self, seed: str) -> queue.Queue[str]:
        with self._guard:
            return self._ready.setdefault(seed, queue.Queue())

    def take(self, seed: str) -> str | None:
        """A ready copy of the template (or None), and a new one ordered."""
        self._wanted.put(seed)
        try:
            return self._shelf(seed).get_nowait()
        except queue.Empty:
            return None

    def _run(self) -> None:
        while (seed := self._wanted.get()) is not None:
            try:
                self._shelf(seed).put(self._create(seed))
            except Exception:  # noqa: S112 (the test then makes its copy itself, and sees any error)
                continue

    def close(self) -> list[str]:
        """Stop; the copies nobody took, to drop."""
        self._wanted.put(None)
        self._thread.join()
        left = []
        for shelf in self._ready.values():
            while not shelf.empty():
                left.append(shelf.get_nowait())
        return left


class DatabaseTemplates:
    """This process's templates, built when a test first needs them; copies of them per test."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._files: dict[str, Path] = {}
        self._databases: dict[str, str] = {}
        self._admin: Engine | None = None
        self._dropper: _Dropper | None = None
        self._spares: _Spares | None = None
        self._numbers = itertools.count(1)
        self._guard = threading.RLock()

    # SQLite: template files.

    def _sqlite_template(self, seed: str) -> Path:
        with self._guard:
            path = self._files.get(seed)
            if path is not None:
                return path
            path = self._folder / f"{seed}.db"
            if seed == "migrated":
                migrate(f"sqlite:///{path}")
            else:
                shutil.copyfile(self._sqlite_template("migrated"), path)
                engine = make_engine(f"sqlite:///{path}")
                try:
                    SEEDS[seed](engine)
                finally:
                    engine.dispose()
            _settle_sqlite(path)
            self._files[seed] = path
            return path

    def sqlite_copy(self, seed: str, path: Path) -> str:
        """A copy of the template at `path`; its URL."""
        shutil.copyfile(self._sqlite_template(seed), path)
        return f"sqlite:///{path}"

    # PostgreSQL: template databases.

    def _admin_connection_engine(self) -> Engine:
        if self._admin is None:
            self._admin = _admin_engine()
            _drop_stale(self._admin)
            self._dropper = _Dropper(self._admin)
            self._spares = _Spares(self._new_copy)
        return self._admin

    def _postgres_template(self, seed: str) -> str:
        with self._guard:
            name = self._databases.get(seed)
            if name is not None:
                return name
            return self._build_postgres_template(seed)

    def _build_postgres_template(self, seed: str) -> str:
        admin = self._admin_connection_engine()
        name = f"{_RUN}_{seed}"
        with admin.connect() as connection:
            if seed == "migrated":
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                base = self._postgres_template("migrated")
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{base}"'))
        self._databases[seed] = name  # dropped at the end even if what follows fails
        if seed == "migrated":
            migrate(_postgres_url(name))
        else:
            engine = make_engine(_postgres_url(name))
            try:
                SEEDS[seed](engine)
            finally:
                engine.dispose()  # no session may stay on a template
        return name

    def _new_copy(self, seed: str) -> str:
        template = self._postgres_template(seed)
        name = f"{_RUN}_t{next(self._numbers)}"
        with self._admin_connection_engine().connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    def postgres_copy(self, seed: str) -> str:
        """A new database copied from the template (made ahead when one is ready); its name."""
        self._postgres_template(seed)
        assert self._spares is not None
        return self._spares.take(seed) or self._new_copy(seed)

    def drop_later(self, name: str) -> None:
        assert self._dropper is not None
        self._dropper.drop(name)

    def close(self) -> None:
        if self._admin is None:
            return
        assert self._dropper is not None and self._spares is not None
        for name in self._spares.close():
            self._dropper.drop(name)
        self._dropper.close()
        with self._admin.connect() as connection:
            for name in reversed(list(self._databases.values())):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


def _settle_sqlite(path: Path) -> None:
    """Fold the write-ahead log into the file, so that copying the file alone copies everything."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise RuntimeError(f"{wal} still holds pages after the checkpoint; the template would be incomplete")


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseTemplates]:
    """This process's template databases (built lazily), dropped at the end of the session."""
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture
def seeded() -> None:
    """Ask for it in a fixture that loads `seed_bloc()` (actor `test`) into the fresh database first.

    The test's database is then a copy of a template with the seed already
    loaded the same way; the fixture's own load finds it and changes nothing.
    """


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 database_templates: DatabaseTemplates) -> Iterator[str]:
    """A fresh, migrated database URL: a SQLite file, or a new PostgreSQL database."""
    seed = "seed" if "seeded" in request.fixturenames else "migrated"
    if request.param == "sqlite":
        yield database_templates.sqlite_copy(seed, tmp_path / "test.db")
        return
    name = database_templates.postgres_copy(seed)
    try:
        yield _postgres_url(name)
    finally:
        database_templates.drop_later(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh database."""
    created = make_engine(database_url)
    yield created
    created.dispose()


@pytest.fixture
def second_engine(request: pytest.FixtureRequest, database_url: str, tmp_path: Path,
                  database_templates: DatabaseTemplates) -> Iterator[Engine]:
    """An engine on a second fresh database of the same backend as `engine` (seeded alike), for a test
    that does the same thing two ways and compares."""
    seed = "seed" if "seeded" in request.fixturenames else "migrated"
    name = None
    if database_url.startswith("sqlite"):
        url = database_templates.sqlite_copy(seed, tmp_path / "second.db")
    else:
        name = database_templates.postgres_copy(seed)
        url = _postgres_url(name)
    created = make_engine(url)
    try:
        yield created
    finally:
        created.dispose()
        if name is not None:
            database_templates.drop_later(name)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Callable[[], Any]]:
    """The tests' event loop is the one `python -m bot run` runs on (bot/running.py): uvloop's where
    it is installed, else asyncio's own."""
    from bot.running import event_loop_factory

    factory = event_loop_factory()
    return {"uvloop" if factory is not None else "asyncio": factory or asyncio.new_event_loop}
