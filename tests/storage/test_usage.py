"""Outbound usage per bot and month (storage/usage.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

from storage.db import session_scope
from storage.usage import count_outbound, tell_once, usage_rows

JAN = dt.datetime(2019, 1, 31, 23, 59, tzinfo=dt.UTC)
FEB = dt.datetime(2019, 2, 1, 0, 1, tzinfo=dt.UTC)


def test_the_migration_creates_the_table_the_model_describes(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [difference for difference in differences if "outbound_usage" in repr(difference)] == []


def test_counts_add_up_per_bot_and_month_and_each_notice_is_given_once(engine: Engine) -> None:
    for moment, messages in ((JAN, 2), (JAN, 3), (FEB, 1)):
        with session_scope(engine) as session:  # separate transactions, as separate processes would
            count_outbound(session=session, channel="zalo", bot="b1", now=moment, messages=messages)
    with session_scope(engine) as session:
        assert count_outbound(session=session, channel="zalo", bot="b2", now=JAN) == 1
        assert tell_once(session=session, channel="zalo", bot="b1", now=JAN, notice="near")
        assert not tell_once(session=session, channel="zalo", bot="b1", now=JAN, notice="near")
        assert tell_once(session=session, channel="zalo", bot="b1", now=JAN, notice="exceeded")
        assert tell_once(session=session, channel="zalo", bot="b1", now=FEB, notice="near"), "a new month"
        rows = [(row.bot, row.month, row.messages, row.near_told_at is not None) for row in usage_rows(session=session)]
    assert rows == [("b1", "2019-01", 5, True), ("b1", "2019-02", 1, True), ("b2", "2019-01", 1, False)]
