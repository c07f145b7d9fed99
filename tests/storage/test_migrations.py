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
        found = {int(user_id): (flow, json.loads(state) if state else None, nonce) for user_id, flow, state, nonce in
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


def test_telegram_links_and_the_group_become_accounts(blank_url: str) -> None:
    """0011: `officer.telegram_user_id` becomes an `officer_account`, `bloc.group_chat_id` a `bloc_group`."""
    config = alembic_config(blank_url)
    command.upgrade(config, "0010")
    engine = make_engine(blank_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO bloc (id, code, name, province, timezone, language, config_hash, group_chat_id,"
            " created_at, updated_at) VALUES (1, 'K3', 'Khối 3', 'Tỉnh', 'Asia/Ho_Chi_Minh', 'vi', 'x', -1001234,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO unit (id, bloc_id, code, name, short_name, valid_from)"
                                " VALUES (1, 1, 'U', 'Sở U', 'U', '2018-01-01')"))
        for officer_id, user_id in ((1, 501), (2, None)):
            connection.execute(text(
                "INSERT INTO officer (id, bloc_id, unit_id, code, name, role, voter, telegram_user_id, language,"
                " active) VALUES (:id, 1, 1, :code, 'A', 'head', true, :user_id, 'vi', true)"),
                {"id": officer_id, "code": f"o{officer_id}", "user_id": user_id})
        connection.execute(text(
            "INSERT INTO sentref (key, chat_id, message_id, updated_at) VALUES ('k', -1001234, 77, CURRENT_TIMESTAMP)"))
    command.upgrade(config, "heads")
    with engine.connect() as connection:
        accounts = list(connection.execute(text("SELECT channel, external_id, officer_id FROM officer_account")))
        groups = list(connection.execute(text("SELECT bloc_id, channel, chat_id FROM bloc_group")))
        kept = list(connection.execute(text("SELECT chat_id, message_id FROM sentref")))
        officer_columns = set(connection.execute(text("SELECT * FROM officer")).keys())
    engine.dispose()
    assert accounts == [("telegram", "501", 1)]
    assert groups == [(1, "telegram", "-1001234")]
    assert kept == [("-1001234", "77")]
    assert "telegram_user_id" not in officer_columns


@pytest.mark.parametrize("blank_url", ["postgresql"], indirect=True)
def test_replicas_started_together_migrate_one_after_the_other(blank_url: str) -> None:
    """Each replica migrates at start-up; three at once on an empty database all come up.

    PostgreSQL only: several processes on one database are its case; SQLite serves one process.
    """
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


def test_start_attempts_migrate_up_and_down(blank_url: str) -> None:
    """0016 adds the wrong-code counter and an invite's revocation, and goes back down."""
    config = alembic_config(blank_url)
    command.upgrade(config, "0015")
    engine = make_engine(blank_url)
    try:
        command.upgrade(config, "0016")
        with engine.begin() as connection:
            columns = {row[1] if blank_url.startswith("sqlite") else row[0] for row in connection.execute(text(
                "PRAGMA table_info(invite)" if blank_url.startswith("sqlite") else
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'invite'"))}
            assert "revoked_at" in columns
            connection.execute(text("INSERT INTO start_attempt (channel, external_id, failures, last_failed_at)"
                                    " VALUES ('telegram', '5', 1, CURRENT_TIMESTAMP)"))
        command.downgrade(config, "0015")
        command.upgrade(config, "heads")
    finally:
        engine.dispose()


def test_accounts_and_groups_learn_their_bot_and_keep_their_links(blank_url: str) -> None:
    """0017: `officer_account.bot` and `bloc_group.bot`, empty for the links made before (the bloc's bot)."""
    config = alembic_config(blank_url)
    command.upgrade(config, "0016")
    engine = make_engine(blank_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO bloc (id, code, name, province, timezone, language, config_hash, created_at, updated_at)"
            " VALUES (1, 'K3', 'Khối 3', 'Tỉnh', 'Asia/Ho_Chi_Minh', 'vi', 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO unit (id, bloc_id, code, name, short_name, valid_from)"
                                " VALUES (1, 1, 'U', 'Sở U', 'U', '2018-01-01')"))
        connection.execute(text(
            "INSERT INTO officer (id, bloc_id, unit_id, code, name, role, voter, language, active)"
            " VALUES (1, 1, 1, 'o1', 'A', 'head', true, 'vi', true)"))
        connection.execute(text("INSERT INTO officer_account (channel, external_id, officer_id, linked_at)"
                                " VALUES ('telegram', '501', 1, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO bloc_group (bloc_id, channel, chat_id, bound_at)"
                                " VALUES (1, 'telegram', '-100', CURRENT_TIMESTAMP)"))
    command.upgrade(config, "heads")
    with engine.begin() as connection:
        assert list(connection.execute(text("SELECT external_id, bot FROM officer_account"))) == [("501", None)]
        assert list(connection.execute(text("SELECT chat_id, bot FROM bloc_group"))) == [("-100", None)]
        connection.execute(text("UPDATE officer_account SET bot = '111111'"))
    command.downgrade(config, "0016")
    with engine.connect() as connection:
        assert list(connection.execute(text("SELECT external_id FROM officer_account"))) == [("501",)]
        assert "bot" not in set(connection.execute(text("SELECT * FROM bloc_group")).keys())
    engine.dispose()
