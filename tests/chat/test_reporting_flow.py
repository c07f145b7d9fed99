"""The guided report through the channel-neutral core, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from handlers.chat import Incoming, InKind, Outcome
from handlers.dispatch import Conversation
from handlers.services import reporting as reporting_service
from rules.config import BlocConfig
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import FAILURES_BEFORE_PAUSE, START_PAUSE, issue_invites, link_account
from storage.models import (
    AuditLog,
    Entry,
    Evidence,
    InboxMessage,
    Officer,
    OutboxMessage,
    StartAttempt,
    Submission,
    stored_id,
)
from tests.chat.driver import Clock, Person, make_person
from tests.factories import seed_bloc, seed_bloc_data

DURING = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(DURING)


@pytest.fixture
def invites(engine: Engine, seeded: None) -> dict[str, str]:
    """Load the seed bloc and issue invites; officer code -> invite code."""
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=DURING - dt.timedelta(days=1),
                               ttl=dt.timedelta(days=30), actor="test")
    return {invite.officer_code: invite.code for invite in issued}


def _count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _joined(engine: Engine, clock: Clock, invites: dict[str, str], officer: str = "tttt-tdkt",
            user_id: int = 1001) -> Person:
    person = make_person(engine, user_id, clock)
    person.command("start", invites[officer])
    assert "Trần Thị Mai" in person.texts() or officer != "tttt-tdkt"
    return person


def test_onboarding_explains_codes(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    stranger = make_person(engine, 5, clock)
    assert "mã mời cá nhân" in stranger.command("start").replies[0].text
    assert "không đúng" in stranger.command("start", "nope").replies[0].text
    assert "chưa được liên kết" in stranger.command("report").replies[0].text
    person = _joined(engine, clock, invites)
    assert "Sở Thông tin và Truyền thông" in person.texts()
    other = make_person(engine, 6, clock)
    assert "đã được sử dụng" in other.command("start", invites["tttt-tdkt"]).replies[0].text


def test_expired_code(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    clock.now = DURING + dt.timedelta(days=40)
    person = make_person(engine, 7, clock)
    assert "hết hạn" in person.command("start", invites["xd-head"]).replies[0].text


def test_full_report_and_submit(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    assert "Mục 1/9" in person.texts() and "29.945 hộ" in person.texts()
    person.text("30.544")
    assert "30.544 hộ = 102,0% kế hoạch" in person.texts()
    person.press("Đúng, lưu")
    assert "Mục 2/9" in person.texts()
    person.text("31,5")
    person.press("Lưu và gửi minh chứng")
    person.file("bien-ban.pdf", 20480)
    assert "bien-ban.pdf" in person.texts()
    person.press("Tiếp tục")
    for position, value in enumerate(["9,8", "9,8", "9,8", "10", "9,8", "9,5", "0"], start=3):
        assert f"Mục {position}/9" in person.texts() and "điểm tự chấm" in person.texts()
        person.text(value)
        person.press("Đúng, lưu")
    assert "Tổng hợp" in person.texts() and "B.1: 0/3 điểm" in person.texts()
    assert "Nội dung III: <b>29,3</b>/30 điểm" in person.texts()
    # Where the bonus comes from, beside "B.1: 0/3 điểm": the two indicators over plan, averaged.
    assert "/100 điểm (thưởng +0,35)" in person.texts()
    assert ("Thưởng vượt kế hoạch (I.1): +0,35 điểm – TT-1 đạt 102,0% kế hoạch, TT-2 đạt 105,0% kế hoạch; "
            "0,1 điểm cho mỗi 1% vượt, tối đa 1 điểm") in person.texts()
    assert "trừ" not in person.texts().split("Tổng hợp")[-1]  # no deduction: none mentioned
    person.press("Nộp báo cáo")
    assert "Đã nộp báo cáo" in person.texts()
    with session_scope(engine) as session:
        submission = session.exec(select(Submission)).one()
        assert submission.status == "submitted"
        value = session.exec(select(Entry.value).where(Entry.item_code == "TT-1")).one()
    assert value == Decimal(30544)
    assert _count(engine, Evidence) == 1


def test_bad_input_changes_nothing(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    entries, audits = _count(engine, Entry), _count(engine, AuditLog)
    for bad in ["abc", "-5", "", "x" * 5000, "🎉", "<b>1</b>"]:
        out = person.text(bad)
        assert out.replies and "⚠️" in out.replies[0].text, (bad, out)
    person.sticker()
    assert "cần một con số" in person.texts()
    assert (_count(engine, Entry), _count(engine, AuditLog)) == (entries, audits)
    person.text("30,544")
    assert "hai cách" in person.texts()
    person.press("30.544")
    assert "30.544 hộ = 102,0% kế hoạch" in person.texts()


def test_stale_and_forged_buttons(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("30.544")
    old = person.buttons()
    person.press("Nhập lại")
    person.text("30.000")
    entries = _count(engine, Entry)
    out = person.press_data(old[0])
    assert out.notice and "cũ" in out.notice
    assert _count(engine, Entry) == entries
    out = person.press_data("r:zzzzzz:submit")
    assert out.notice
    out = person.press_data("garbage")
    assert out.notice


def test_deadline_closes_entry(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("30.544")
    clock.now = dt.datetime(2019, 1, 11, tzinfo=dt.UTC)
    person.press("Đúng, lưu")
    assert "hết hạn" in person.texts()
    assert _count(engine, Entry) == 0


def test_resume_after_restart(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("30.544")
    person.press("Đúng, lưu")
    person.text("31,5")
    # A new conversation object: as after a restart.
    again = make_person(engine, person.user_id, clock)
    again.command("report")
    assert "Tiếp tục" in again.texts() and "31,5" in again.texts()
    again.press("Đúng, lưu")
    assert "Mục 3/9" in again.texts()


def test_same_update_twice_is_processed_once(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    from handlers.chat import Incoming, InKind

    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("30.544")
    data = person.buttons()[0]
    incoming = Incoming(channel="telegram", update_id="dup-1", user_id=str(person.user_id),
                        chat_id=str(person.user_id), is_private=True, kind=InKind.option, data=data)
    first = person.conversation.handle(incoming)
    second = person.conversation.handle(incoming)
    assert not first.duplicate and second.duplicate and not second.replies
    assert _count(engine, Entry) == 1


def test_status_cancel_and_resume(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("status")
    assert "chưa bắt đầu" in person.texts() and "0/9" in person.texts()
    person.command("report")
    person.text("30.544")
    person.press("Đúng, lưu")
    person.command("cancel")
    assert "vẫn được lưu" in person.texts()
    person.command("status")
    assert "đang nhập" in person.texts() and "1/9" in person.texts() and "TT-2" in person.texts()
    person.command("report")
    assert "Mục 2/9" in person.texts()


def test_language_switch(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("lang")
    person.press("English")
    assert "Switched to English" in person.texts()
    person.command("report")
    assert "Item 1/9" in person.texts() and "Plan: <b>29,945 hộ</b>" in person.texts()
    person.text("30544")
    assert "30,544 hộ = 102.0% of plan" in person.texts()


def test_reopen_after_submit_until_the_deadline(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    for value in ["30.544", "31,5", "9,8", "9,8", "9,8", "10", "9,8", "9,5", "0"]:
        person.text(value)
        person.press("Đúng, lưu")
    person.press("Nộp báo cáo")
    person.command("report")
    assert "đã nộp" in person.texts()
    person.press("Mở lại")
    assert "Đã mở lại" in person.texts()
    person.press("Sửa một mục")
    person.press("I.2")
    person.text("9")
    person.press("Đúng, lưu")
    assert "Tổng hợp" in person.texts() and "I.2: 9/10 điểm" in person.texts()
    person.press("Nộp báo cáo")
    with session_scope(engine) as session:
        submission = session.exec(select(Submission)).one()
        assert submission.status == "submitted" and submission.version == 2
        value = session.exec(select(Entry.value).where(Entry.item_code == "I.2")).one()
    assert value == Decimal(9)
    with session_scope(engine) as session:
        changes = list(session.exec(
            select(AuditLog).where(AuditLog.target == "I.2", AuditLog.action == "criterion.set")))
    assert [(c.before, c.after) for c in changes] == [(None, '"9.8"'), ('"9.8"', '"9"')]


def test_choosing_among_open_periods(engine: Engine, clock: Clock) -> None:
    from tests.factories import seed_bloc_data

    data = seed_bloc_data()
    data["periods"] = [*data["periods"], {
        "year": 2019, "kind": "mid-year",
        "reporting": {"opens": "2018-12-15T08:00:00", "deadline": "2019-07-10T17:00:00"}}]
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(**data), actor="test")
        codes = {i.officer_code: i.code for i in issue_invites(
            session=session, bloc_id=1, now=DURING, ttl=dt.timedelta(days=3), actor="test")}
    person = make_person(engine, 77, clock)
    person.command("start", codes["ct-tdkt"])
    person.command("report")
    assert "nhiều kỳ báo cáo" in person.texts()
    person.press("2019 – sơ kết")
    assert "Báo cáo sơ kết 6 tháng đầu năm 2019" in person.texts() and "Mục 1/9" in person.texts()


def test_a_forged_item_of_another_unit_is_refused(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites, officer="xd-head", user_id=88)
    person.command("report")
    person.text("1")
    person.press("Đúng, lưu")
    person.command("cancel")
    person.command("report")
    nonce = person.buttons()[0].split(":")[1] if person.buttons() else ""
    # Jump to the summary and ask to edit STTTT's indicator with a well-formed, current nonce.
    for value in ["39,2", "9,6", "9,7", "9,6", "9,7", "9,6", "9,6", "0"]:
        person.text(value)
        person.press("Đúng, lưu")
    person.press("Sửa một mục")
    nonce = person.buttons()[0].split(":")[1]
    entries = _count(engine, Entry)
    out = person.press_data(f"r:{nonce}:edit:TT-1")
    assert out.notice and "cũ" in out.notice
    assert _count(engine, Entry) == entries
    with session_scope(engine) as session:
        codes = set(session.exec(select(Entry.item_code)))
    assert "TT-1" not in codes and "XD-1" in codes


def test_odd_digits_in_button_data_are_stale_not_errors(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("30,544")
    nonce = person.buttons()[0].split(":")[1]
    for argument in ("²", "9" * 30, "-1", "1.0"):
        out = person.press_data(f"r:{nonce}:pick:{argument}")
        assert out.notice and "cũ" in out.notice


def test_a_report_returned_after_the_deadline_can_be_corrected(
    engine: Engine, clock: Clock, invites: dict[str, str]
) -> None:
    from storage.models import Unit
    from storage.results import import_results
    from tests.factories import seed_results

    with session_scope(engine) as session:
        import_results(session=session, results=seed_results(), actor="test")
        unit_id = session.exec(select(Unit.id).where(Unit.code == "SXD")).one()
        submission = session.exec(select(Submission).where(Submission.unit_id == unit_id)).one()
        submission.status, submission.return_reason = "returned", "Thiếu minh chứng mục XD-2"
        session.add(submission)
    clock.now = dt.datetime(2019, 1, 12, 3, tzinfo=dt.UTC)  # after the reporting deadline
    person = _joined(engine, clock, invites, officer="xd-tdkt", user_id=91)
    other = _joined(engine, clock, invites, officer="ct-tdkt", user_id=92)
    other.command("report")
    assert "hết hạn" in other.texts()  # not returned: closed
    person.command("report")
    assert "Thiếu minh chứng mục XD-2" in person.texts() and "B.1" in person.texts()
    assert "Hạn chót: <b>17:00 ngày 20/01/2019</b>" in person.texts()  # the review deadline
    person.text("0")  # the results file left the bonus criterion empty
    person.press("Đúng, lưu")
    assert "Tổng hợp" in person.texts()
    person.press("Sửa một mục")
    person.press("XD-2")
    person.text("40")
    person.press("Đúng, lưu")
    person.press("Nộp báo cáo")
    with session_scope(engine) as session:
        assert session.get(Submission, submission.id).status == "submitted"  # type: ignore[union-attr]
    clock.now = dt.datetime(2019, 1, 21, 3, tzinfo=dt.UTC)  # after the review deadline
    person.command("report")
    assert "hết hạn" in person.texts()


def test_officers_are_addressed_as_the_bloc_chose(engine: Engine, clock: Clock, seeded: None) -> None:
    data = seed_bloc_data()
    data["bloc"] = {**data["bloc"], "address": "Anh/chị"}
    with session_scope(engine) as session:
        load_bloc(session=session, config=BlocConfig.model_validate(data), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=DURING - dt.timedelta(days=1),
                               ttl=dt.timedelta(days=30), actor="test")
    codes = {invite.officer_code: invite.code for invite in issued}
    person = _joined(engine, clock, codes)
    person.command("report")
    person.text("30.544")
    assert "Đề nghị anh/chị kiểm tra lại trước khi lưu" in person.texts()
    person.press("Nhập lại")
    assert "Đề nghị anh/chị gõ lại" in person.texts() and "đồng chí" not in person.texts()


def test_the_default_address_is_dong_chi_and_a_file_before_the_number_says_what_to_do(
        engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("-5")
    assert "Đề nghị đồng chí gõ lại" in person.texts() and "Bạn" not in person.texts()
    person.file("bien-ban.pdf", 20480)
    assert "gõ số liệu của mục này trước, bấm <b>📎 Lưu và gửi minh chứng</b>, rồi gửi lại tệp" in person.texts()
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Evidence)).one() == 0
    assert "Mục 1/9" in person.texts()  # still at the same item


def test_a_report_handed_in_is_not_resumed_as_if_under_way(engine: Engine, clock: Clock,
                                                           invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    for value in ["30.544", "31,5", "9,8", "9,8", "9,8", "10", "9,8", "9,5", "0"]:
        person.text(value)
        person.press("Đúng, lưu")
    person.press("Nộp báo cáo")
    person.command("report")
    assert "đang ở trạng thái <b>đã nộp</b>" in person.texts()
    assert "Tiếp tục báo cáo" not in person.texts()


def test_implausible_figures_are_refused_with_a_reason(engine: Engine, clock: Clock,
                                                        invites: dict[str, str]) -> None:
    """Issue 16: a 29-digit actual, a huge percent of plan and a thousandfold slip are refused, saying why."""
    person = _joined(engine, clock, invites)
    person.command("report")  # TT-1: 29.945 hộ planned
    entries, audits = _count(engine, Entry), _count(engine, AuditLog)
    refusals = [
        ("9" * 29, "quá nhiều chữ số"),
        ("9" * 30 + "%", "quá nhiều chữ số"),  # raised decimal.InvalidOperation before
        ("999.999.999.999.999%", "vượt quá mức hợp lý"),
        ("2.994.501", "tối đa 2.994.500 hộ"),  # more than 100 times the plan
        ("10.001%", "vượt quá mức hợp lý"),
        ("1e26%", "không đọc được"),
    ]
    for typed, reason in refusals:
        out = person.text(typed)
        text = "\n".join(reply.text for reply in out.replies)
        assert reason in text and "Mục 1/9" in text, (typed, text)
    assert (_count(engine, Entry), _count(engine, AuditLog)) == (entries, audits)
    person.text("2.994.500")
    assert "2.994.500 hộ =" in person.texts() and "rất cao" in person.texts()


def test_the_items_own_measure_after_the_number_is_read(engine: Engine, clock: Clock,
                                                          invites: dict[str, str]) -> None:
    """Issue 16: `30.544 hộ` is read when `hộ` is the item's measure; another word is still refused."""
    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("30.544 km")
    assert "không đọc được" in person.texts()
    person.text("30.544 Hộ")
    assert "30.544 hộ = 102,0% kế hoạch" in person.texts()
    person.press("Đúng, lưu")
    with session_scope(engine) as session:
        assert session.exec(select(Entry.value).where(Entry.item_code == "TT-1")).one() == Decimal(30544)
    person.text("9,5 điểm")  # a self-scored criterion has no measure: still refused
    assert "không đọc được" in person.texts() or "⚠️" in person.texts()


def test_wrong_codes_pause_the_account_for_a_while(engine: Engine, clock: Clock, invites: dict[str, str],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Issue 16: wrong /start codes are counted (in the database) and logged; five in a row pause the account."""
    stranger = make_person(engine, 5, clock)
    for attempt in range(FAILURES_BEFORE_PAUSE - 1):
        assert "không đúng" in stranger.command("start", f"wrong-code-{attempt:04d}").replies[0].text
    assert "tạm ngừng nhận mã" in stranger.command("start", "wrong-code-last").replies[0].text
    restarted = make_person(engine, 5, clock)  # another process: the count is in the database
    assert "tạm ngừng nhận mã" in restarted.command("start", invites["tttt-tdkt"]).replies[0].text
    assert "Trần Thị Mai" not in restarted.texts()
    other = make_person(engine, 6, clock)
    assert "không đúng" in other.command("start", "wrong-code-0000").replies[0].text
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("wrong invite code (unknown) from telegram:5, 4 in a row" in line for line in warnings)
    assert any("invite codes from telegram:5 paused until" in line for line in warnings)
    assert not any("wrong-code" in line for line in warnings), "codes tried are never logged"
    clock.now += START_PAUSE
    assert "Trần Thị Mai" in restarted.command("start", invites["tttt-tdkt"]).replies[0].text
    with session_scope(engine) as session:
        assert session.exec(select(StartAttempt).where(StartAttempt.external_id == "5")).first() is None


def test_a_code_shown_in_a_group_is_revoked_and_its_officer_and_the_leader_told(
    engine: Engine, clock: Clock, invites: dict[str, str],
) -> None:
    """Issue 16: an invite code pasted into a group stayed valid; now it is revoked at once."""
    leader = _joined(engine, clock, invites)  # Trần Thị Mai of STTTT, the leader unit
    with session_scope(engine) as session:
        officer = session.exec(select(Officer).where(Officer.code == "xd-head")).one()
        link_account(session=session, officer_id=stored_id(officer), channel="telegram", external_id="3003",
                     now=DURING)
        fresh = issue_invites(session=session, bloc_id=1, now=DURING, ttl=dt.timedelta(days=30), actor="test",
                              officer_code="xd-head")[0].code
    conversation = Conversation(engine, clock=clock)

    def in_group(text: str, key: str) -> Outcome:
        return conversation.handle(Incoming(channel="telegram", update_id=key, user_id="4004", chat_id="-100777",
                                            is_private=False, kind=InKind.text, text=text))

    assert in_group("chào cả nhóm", "g1").replies == []
    shown = in_group(f"Mã của anh Dũng: {fresh} nhé", "g2")
    by_chat = {reply.chat_id: reply.text for reply in shown.replies}
    assert "đã được vô hiệu hoá ngay" in by_chat[None]
    assert "Mã mời cá nhân của" in by_chat["telegram:3003"]
    assert "python -m bot invites --officer xd-head" in by_chat[f"telegram:{leader.user_id}"]
    assert fresh not in "".join(by_chat.values())
    newcomer = make_person(engine, 5005, clock)
    assert "nhóm trò chuyện" in newcomer.command("start", fresh).replies[0].text
    with session_scope(engine) as session:
        assert session.exec(select(AuditLog).where(AuditLog.action == "invite.revoke")).one().target == "xd-head"
    assert in_group(f"/start {invites['tttt-head']}", "g3").replies[0].text.startswith("⚠️")


def test_going_back_to_the_previous_item_keeps_or_replaces_its_value(
        engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    assert "Mục trước" not in " ".join(o.label for r in person.last.replies for row in r.options for o in row)
    person.command("back")
    assert "mục đầu tiên" in person.texts() and "Mục 1/9" in person.texts()
    person.text("30.544")
    person.press("Đúng, lưu")
    person.text("31,5")
    person.press("Đúng, lưu")
    assert "Mục 3/9" in person.texts()
    person.press("Mục trước")
    assert "Mục 2/9" in person.texts() and "Số liệu đã lưu: <b>31,5%</b>" in person.texts()
    person.command("back")
    assert "Mục 1/9" in person.texts() and "30.544 hộ" in person.texts()
    person.press("Giữ nguyên")
    assert "Mục 3/9" in person.texts()  # the next missing item; TT-2 kept
    person.press_data("r:0:back")  # a forged back is stale, nothing changes
    assert "Mục 3/9" in person.texts()
    person.command("back")
    person.text("32")
    person.press("Đúng, lưu")
    assert "Mục 3/9" in person.texts()
    with session_scope(engine) as session:
        values = dict(session.exec(select(Entry.item_code, Entry.value)).all())
    assert values == {"TT-1": Decimal(30544), "TT-2": Decimal(32)}


def test_back_outside_a_report_says_what_it_is_for(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("back")
    assert "quay lại mục trước" in person.texts() and "/report" in person.texts()


def test_status_names_missing_items_and_jumps_to_any(engine: Engine, clock: Clock, invites: dict[str, str]) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("30.544")
    person.press("Đúng, lưu")
    person.command("status")
    text = person.texts()
    assert "Còn thiếu 8 mục:" in text and "• III.3. " in text and "• TT-2 – " in text
    person.press("III.3")
    assert "Mục 8/9" in person.texts()
    person.text("9,5")
    person.press("Đúng, lưu")
    assert "Mục 9/9" in person.texts()  # then on to the next missing item
    person.command("status")
    person.press("Sửa một mục")
    assert "Chọn mục muốn sửa" in person.texts()
    person.press("TT-1")
    assert "Mục 1/9" in person.texts() and "Số liệu đã lưu: <b>30.544 hộ</b>" in person.texts()
    # another unit's item or period is refused
    person.press_data("r:goto:999:TT-1")
    assert "không còn hiệu lực" in person.texts()
    person.press_data("r:goto:1:XD-1")
    assert "không còn hiệu lực" in person.texts()


def test_a_step_that_fails_keeps_nothing_of_it_and_shows_the_step_again(
        engine: Engine, clock: Clock, invites: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    person = _joined(engine, clock, invites)
    person.command("report")
    person.text("30.544")
    confirm = next(option.data for reply in person.last.replies for row in reply.options for option in row
                   if "Đúng, lưu" in option.label)
    audits = _count(engine, AuditLog)
    real_set_entry = reporting_service.set_entry

    def written_then_broken(**values: Any) -> bool:
        real_set_entry(**values)
        values["session"].flush()  # the entry and its audit row reach the database, then the step breaks
        raise RuntimeError("the step breaks")

    monkeypatch.setattr(reporting_service, "set_entry", written_then_broken)
    press = Incoming(channel="telegram", bot="1", update_id="breaks-1", user_id=str(person.user_id),
                     chat_id=str(person.user_id), is_private=True, kind=InKind.option, data=confirm,
                     option_id="q-1")
    with session_scope(engine) as session:
        assert person.conversation.keep_in(session, [press]) == [True]
    with session_scope(engine) as session:
        done, outcome = person.conversation.turn_in(session, press.chat_key)
    assert done and outcome is not None and not outcome.waiting
    texts = [reply.text for reply in outcome.replies]
    assert "chưa được lưu" in texts[0] and "30.544 hộ = 102,0% kế hoạch" in texts[0]  # the truth; the step
    assert outcome.chats == [press.chat_key]
    with session_scope(engine) as session:
        assert session.exec(select(InboxMessage.outcome).where(InboxMessage.update_id == "breaks-1")).one() \
            == "failed"
        owed = [json.loads(payload) for payload in session.exec(
            select(OutboxMessage.payload).where(OutboxMessage.chat_key == press.chat_key))]
    # The press is answered in the row of the message that tells the truth (one row, one record).
    assert len(owed) == 1 and owed[0]["answer"] == "q-1" and "chưa được lưu" in owed[0]["reply"]["text"]
    assert _count(engine, Entry) == 0 and _count(engine, AuditLog) == audits
    with session_scope(engine) as session:  # the update is handled: nothing more waits
        assert person.conversation.turn_in(session, press.chat_key) == (True, None)
    monkeypatch.undo()
    person.last = outcome  # the step shown again: its buttons are live, not stale
    person.press("Đúng, lưu")  # still at the confirmation: the value is saved now
    assert "Mục 2/9" in person.texts() and _count(engine, Entry) == 1
