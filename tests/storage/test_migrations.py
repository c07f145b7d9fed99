"""Migration 0007 carries a report under way into its typed state and ends the other flows."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import alembic_config, make_engine
from tests.conftest import POSTGRES_URL

BEFORE_0007 = ("0004", "0005", "0006")


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    name = f"kt_migration_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_report_under_way_survives_the_typed_state_migration(blank_url: str) -> None:
    config = alembic_config(blank_url)
    for head in BEFORE_0007:
        command.upgrade(config, head)
    engine = make_engine(blank_url)
    rows = [
        # (user, flow, step, period, item, pending, return_to)
        (1, "report", "confirm", None, "TT-1", json.dumps({"value": "30544"}), "summary"),
        (2, "report", "pick", None, "TT-1", json.dumps({"candidates": ["25.25", "25250"]}), None),
        (3, "report", "confirm", None, "TT-1", None, None),  # nothing left to confirm
        (4, "review", "unit", None, None, None, None),
        (5, None, None, None, None, None, None),
    ]
    with engine.begin() as connection:
        for user_id, flow, step, period_id, item_code, pending, return_to in rows:
            connection.execute(text(
                "INSERT INTO chatstate (channel, user_id, language, flow, step, period_id, item_code, pending,"
                " return_to, nonce, updated_at) VALUES ('telegram', :user_id, 'vi', :flow, :step, :period_id,"
                " :item_code, :pending, :return_to, 'abc123', CURRENT_TIMESTAMP)"
            ), {"user_id": user_id, "flow": flow, "step": step, "period_id": period_id, "item_code": item_code,
                "pending": pending, "return_to": return_to})
    command.upgrade(config, "heads")
    with engine.connect() as connection:
        found = {user_id: (flow, json.loads(state) if state else None, nonce) for user_id, flow, state, nonce in
                 connection.execute(text("SELECT user_id, flow, flow_state, nonce FROM chatstate"))}
        columns = set(connection.execute(text("SELECT * FROM chatstate")).keys())
    engine.dispose()

    from handlers.flows.reporting import FLOW as REPORT

    assert {"step", "period_id", "item_code", "pending", "return_to"}.isdisjoint(columns)
    confirm = REPORT.load(json.dumps(found[1][1]))
    assert (confirm.step, confirm.item_code, str(confirm.value), confirm.back_to_summary) == \
        ("confirm", "TT-1", "30544", True)
    assert found[1][2] == "abc123"  # the buttons on the officer's screen still work
    pick = REPORT.load(json.dumps(found[2][1]))
    assert (pick.step, [str(c) for c in pick.candidates]) == ("pick", ["25.25", "25250"])
    assert REPORT.load(json.dumps(found[3][1])).step == "value"
    assert found[4] == (None, None, "")
    assert found[5] == (None, None, "abc123")


def test_replicas_started_together_migrate_one_after_the_other(blank_url: str) -> None:
    """Each replica migrates at start-up; three at once on an empty database all come up."""
    if not blank_url.startswith("postgresql"):
        pytest.skip("several processes on one database are PostgreSQL's case; SQLite serves one process")
    script = "import sys; from storage.db import migrate; migrate(sys.argv[1])"
    processes = [subprocess.Popen([sys.executable, "-c", script, blank_url], stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    failures = [error for process in processes for _, error in [process.communicate(timeout=120)]
                if process.returncode != 0]
    assert failures == []
    engine = make_engine(blank_url)
    try:
        with engine.connect() as connection:
            heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        engine.dispose()
    assert len(heads) == 1
