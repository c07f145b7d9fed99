"""The sent-log, the lock and the planning query, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel, select

from bot.terminal import plain
from fakes.telegram import FakeTelegram
from handlers.flows.reminders import due_messages
from rules.reminders import ReminderKind
from storage.blocs import load_bloc
from storage.db import make_engine, session_scope
from storage.models import ReminderLog, Submission, SubmissionStatus, Unit
from storage.reminders import BlocLock, LogStatus, claim_message, finish_message
from tests.factories import seed_bloc
from tests.reminders.helpers import ADDRESSES, link_officers, local

MONDAY = local(2019, 1, 7, 8)


def _seed(engine: Engine, linked: list[str]) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    link_officers(engine, FakeTelegram(), linked)


def test_the_migration_creates_the_table_the_model_describes(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    mine = [difference for difference in differences if "reminderlog" in repr(difference)]
    assert mine == []


def test_a_key_is_claimed_once_and_a_crash_after_claiming_is_not_sent_again(engine: Engine) -> None:
    _seed(engine, ["xd-tdkt", "ct-tdkt"])
    with session_scope(engine) as session:
        due = due_messages(session=session, bloc_id=1, now=MONDAY)
    assert sorted(item.chat_id for item in due) == sorted([ADDRESSES["xd-tdkt"], ADDRESSES["ct-tdkt"]])
    first, second = due
    with session_scope(engine) as session:
        log_id = claim_message(session=session, bloc_id=1, key=first.message.key, chat_id=first.chat_id,
                               slot_at=first.message.slot_at, now=MONDAY, claimed_by="a")
    assert log_id is not None
    with session_scope(engine) as session:
        assert claim_message(session=session, bloc_id=1, key=first.message.key, chat_id=first.chat_id,
                             slot_at=first.message.slot_at, now=MONDAY, claimed_by="b") is None
        # The same transaction goes on after a refused claim.
        other = claim_message(session=session, bloc_id=1, key=second.message.key, chat_id=second.chat_id,
                              slot_at=second.message.slot_at, now=MONDAY, claimed_by="b")
        assert other is not None
        finish_message(session=session, log_id=other, status=LogStatus.delivered, now=MONDAY)
    # "a" crashed before sending: its row stays `sending` and nothing is due any more.
    with session_scope(engine) as session:
        assert due_messages(session=session, bloc_id=1, now=local(2019, 1, 7, 15)) == []
        rows = {row.claimed_by: row.status for row in session.exec(select(ReminderLog))}
    assert rows == {"a": "sending", "b": "delivered"}


def test_only_one_process_holds_a_bloc(engine: Engine, database_url: str) -> None:
    other_engine = make_engine(database_url)
    try:
        first, second = BlocLock(engine, 1), BlocLock(other_engine, 1)
        assert first.acquire()
        if engine.dialect.name == "postgresql":
            assert not second.acquire()
            assert BlocLock(other_engine, 2).acquire()  # another bloc is free
        first.release()
        assert second.acquire()
        second.release()
    finally:
        other_engine.dispose()


def test_what_is_due_follows_the_submissions(engine: Engine) -> None:
    _seed(engine, ["tttt-tdkt", "xd-tdkt", "ct-tdkt"])
    with session_scope(engine) as session:
        units = {unit.code: unit.id for unit in session.exec(select(Unit)) if unit.id is not None}
        session.add(Submission(period_id=1, unit_id=units["SXD"], status=SubmissionStatus.submitted.value))
        session.add(Submission(period_id=1, unit_id=units["SCT"], status=SubmissionStatus.returned.value,
                               return_reason="thiếu minh chứng <TT-1>"))
    wednesday = local(2019, 1, 9, 8)
    with session_scope(engine) as session:
        due = due_messages(session=session, bloc_id=1, now=wednesday)
    by_kind = {(item.message.kind, item.chat_id): item for item in due}
    assert set(by_kind) == {(ReminderKind.remind, ADDRESSES["tttt-tdkt"]), (ReminderKind.remind, ADDRESSES["ct-tdkt"]),
                            (ReminderKind.digest, ADDRESSES["tttt-tdkt"])}
    returned = by_kind[(ReminderKind.remind, ADDRESSES["ct-tdkt"])].reply.text
    assert "bị trả lại để sửa: <i>thiếu minh chứng &lt;TT-1&gt;</i>" in returned
    digest = plain(by_kind[(ReminderKind.digest, ADDRESSES["tttt-tdkt"])].reply.text)
    assert "Đã nộp (1/7): Sở Xây dựng" in digest
    assert "Sở Công thương: bị trả lại để sửa, 0/9 mục" in digest
    assert "Sở Giao thông – Vận tải: chưa bắt đầu, 0/9 mục (chưa có cán bộ nào kết nối với bot)" in digest
    with session_scope(engine) as session:
        assert due_messages(session=session, bloc_id=1, now=local(2019, 1, 9, 18)) == []  # evening
