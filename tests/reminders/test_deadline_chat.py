"""`/deadline` through the channel-neutral conversation, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.terminal import plain
from handlers.flows.reminders import due_messages
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import issue_invites
from storage.models import AuditLog, Period
from tests.chat.driver import Clock, Person, make_person
from tests.factories import seed_bloc
from tests.reminders.helpers import local

NOW = local(2019, 1, 7, 9)  # Monday, before the reporting deadline of Thursday 10/01 17:00


@pytest.fixture
def people(engine: Engine, seeded: None) -> dict[str, Person]:
    """The seed bloc; the leader's, the deputy's and a member's officers joined by their invites."""
    clock = Clock(NOW)
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=NOW - dt.timedelta(days=1),
                               ttl=dt.timedelta(days=30), actor="test")
    codes = {invite.officer_code: invite.code for invite in issued}
    joined = {}
    for user_id, (name, officer) in enumerate(
            {"leader": "tttt-tdkt", "deputy": "gtvt-head", "member": "xd-tdkt", "english": "ct-tdkt"}.items(),
            start=2001):
        person = make_person(engine, user_id, clock)
        if name == "english":
            person.command("lang")
            person.press("English")
        person.command("start", codes[officer])
        joined[name] = person
    return joined


def _reporting_deadline(engine: Engine) -> dt.datetime:
    with session_scope(engine) as session:
        return session.exec(select(Period.reporting_deadline)).one()


def test_the_leader_moves_the_reporting_deadline_and_every_unit_is_told(
    engine: Engine, people: dict[str, Person]
) -> None:
    leader = people["leader"]
    leader.command("deadline")
    assert "Chọn hạn chót" in plain(leader.texts())
    labels = [option.label for reply in leader.last.replies for row in reply.options for option in row]
    assert labels == ["nộp báo cáo · tổng kết năm 2018: 17:00 ngày 10/01/2019",
                      "thẩm định · tổng kết năm 2018: 17:00 ngày 20/01/2019",
                      "bỏ phiếu · tổng kết năm 2018: 17:00 ngày 24/01/2019"]
    leader.press("nộp báo cáo")
    assert "hiện là 17:00 ngày 10/01/2019" in plain(leader.texts())
    assert "không đọc được" in plain(leader.text("ngày mai").replies[0].text)
    assert "Không có ngày giờ này" in plain(leader.text("31/02/2019").replies[0].text)
    assert "phải ở sau thời điểm hiện tại" in plain(leader.text("17:00 01/01/2019").replies[0].text)
    assert "phải sau lúc bắt đầu" not in plain(leader.texts())
    leader.text("20/01/2019")  # the date alone keeps the time of day, 17:00
    assert "17:00 ngày 10/01/2019 → 17:00 ngày 20/01/2019" in plain(leader.texts())
    assert _reporting_deadline(engine) == local(2019, 1, 10, 17)  # nothing saved before confirming
    old_confirm = next(data for data in leader.buttons() if data.endswith(":ok"))
    outcome = leader.press("Xác nhận")
    assert "Đã đổi hạn nộp báo cáo – tổng kết năm 2018 thành 17:00 ngày 20/01/2019" in plain(outcome.replies[0].text)
    assert _reporting_deadline(engine) == local(2019, 1, 20, 17)
    told = {reply.chat_id: reply.text for reply in outcome.replies[1:]}
    assert set(told) == {"telegram:2002", "telegram:2003", "telegram:2004"}  # every other linked officer
    assert "17:00 ngày 10/01/2019 → 17:00 ngày 20/01/2019" in plain(told["telegram:2003"])
    assert "has been changed" in told["telegram:2004"] and "17:00, 20/01/2019" in told["telegram:2004"]
    with session_scope(engine) as session:
        audit = session.exec(select(AuditLog).where(AuditLog.action == "period.deadline")).one()
    assert audit.actor == "officer:tttt-tdkt" and audit.target == "2018 year-end reporting"
    assert audit.before is not None and "2019-01-10T10:00:00+00:00" in audit.before
    assert audit.after is not None and "2019-01-20T10:00:00+00:00" in audit.after
    # The old confirm button is stale now and changes nothing.
    stale = leader.press_data(old_confirm)
    assert "tin nhắn cũ" in plain(stale.replies[0].text)
    assert _reporting_deadline(engine) == local(2019, 1, 20, 17)


def test_reminders_follow_the_moved_deadline(engine: Engine, people: dict[str, Person]) -> None:
    with session_scope(engine) as session:
        before = due_messages(session=session, bloc_id=1, now=local(2019, 1, 9, 9))
    assert {item.message.days_before for item in before} == {1}
    leader = people["leader"]
    leader.command("deadline")
    leader.press("nộp báo cáo")
    leader.text("16:00 21/01/2019")
    leader.press("Xác nhận")
    with session_scope(engine) as session:
        assert due_messages(session=session, bloc_id=1, now=local(2019, 1, 9, 9)) == []
        later = due_messages(session=session, bloc_id=1, now=local(2019, 1, 18, 9))
    assert {item.message.days_before for item in later} == {3}
    assert all(item.message.deadline == local(2019, 1, 21, 16) for item in later)


def test_only_leader_and_deputy_units_may_change_a_deadline(engine: Engine, people: dict[str, Person]) -> None:
    member = people["member"]
    assert "Chỉ cán bộ của đơn vị khối trưởng hoặc khối phó" in plain(member.command("deadline").replies[0].text)
    forged = member.press_data("dl:abcdef:ok")
    assert "cũ" in (forged.notice or "")
    deputy = people["deputy"]
    deputy.command("deadline")
    deputy.press("bỏ phiếu")
    deputy.text("25/01/2019 09:30")
    deputy.press("Xác nhận")
    with session_scope(engine) as session:
        assert session.exec(select(Period.votes_deadline)).one() == local(2019, 1, 25, 9, 30)
    assert _reporting_deadline(engine) == local(2019, 1, 10, 17)


def test_a_deadline_moved_by_someone_else_meanwhile_is_not_overwritten(
    engine: Engine, people: dict[str, Person]
) -> None:
    leader, deputy = people["leader"], people["deputy"]
    leader.command("deadline")
    leader.press("nộp báo cáo")
    leader.text("20/01/2019")
    deputy.command("deadline")
    deputy.press("nộp báo cáo")
    deputy.text("15/01/2019")
    deputy.press("Xác nhận")
    outcome = leader.press("Xác nhận")
    assert "vừa được người khác đổi thành 17:00 ngày 15/01/2019" in plain(outcome.replies[0].text)
    assert _reporting_deadline(engine) == local(2019, 1, 15, 17)
    leader.text("18/01/2019")
    leader.press("Xác nhận")
    assert _reporting_deadline(engine) == local(2019, 1, 18, 17)


def test_cancel_keeps_the_deadline(engine: Engine, people: dict[str, Person]) -> None:
    leader = people["leader"]
    leader.command("deadline")
    leader.press("nộp báo cáo")
    leader.text("20/01/2019")
    assert "Gõ hạn mới" in plain(leader.press("Nhập lại").replies[0].text)
    assert "Đã huỷ" in plain(leader.press("Huỷ").replies[0].text)
    leader.command("deadline")
    leader.press("nộp báo cáo")
    assert "Đã tạm dừng" in plain(leader.command("cancel").replies[0].text)
    assert _reporting_deadline(engine) == local(2019, 1, 10, 17)
