"""The votes through the channel-neutral conversation (fast), on SQLite and PostgreSQL.

The end-to-end tests (tests/e2e/test_votes.py) play the seed year through the
real bot; these cover the bloc rules and inputs around it: open ballots,
rotation, no group bound, the closing time typed by the leader, English.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.terminal import plain
from handlers.chat import Incoming, InKind, Outcome
from handlers.dispatch import Conversation
from handlers.renderers.votes import minutes_outcome, minutes_tallies
from handlers.services.votes import vote_results
from storage.db import session_scope
from storage.models import AuditLog, Ballot, ChatState, Officer, Period, YearRoles
from storage.votes import BallotKind, ballot_counts
from tests.chat.driver import Clock, Person
from tests.factories import seed_bloc_data
from tests.votes.helpers import GROUP, HEADS, VOTING, link_officers, publish_seed_year

_console_keys = itertools.count(1)
USERS = {code: 900 + index for index, code in enumerate(HEADS.values())}


class Bloc:
    """The seed year published, its seven heads talking to the conversation directly."""

    def __init__(self, engine: Engine, *, group: int | None = GROUP, **changes: Any) -> None:
        publish_seed_year(engine, group=group, **changes)
        link_officers(engine, USERS)
        self.engine = engine
        self.clock = Clock(VOTING)
        conversation = Conversation(engine, clock=self.clock)
        self.people = {unit: Person(conversation, USERS[code]) for unit, code in HEADS.items()}
        self.lead = self.people["STTTT"]
        self.opened = Outcome()

    def open(self, button: str, *more: str) -> Outcome:
        """/vote, the ballot's button, anything typed, open."""
        self.lead.command("vote")
        self.lead.press(button)
        for text in more:
            self.lead.text(text)
        self.opened = self.lead.press("Mở phiếu")
        return self.opened

    def press(self, unit: str, label: str) -> Outcome:
        """A unit's voter presses a button of the ballot it was sent."""
        person = self.people[unit]
        for reply in self.opened.replies:
            if reply.chat_id == f"telegram:{person.user_id}":
                for row in reply.options:
                    for option in row:
                        if label in option.label:
                            return person.press_data(option.data)
        raise AssertionError(f"no button {label!r} for {unit}")


def _texts(outcome: Outcome, chat_id: int | None = None) -> str:
    return "\n".join(plain(reply.text) for reply in outcome.replies
                     if chat_id is None or reply.chat_id == f"telegram:{chat_id}")


def test_an_open_ballot_may_be_changed_and_publishes_each_choice(engine: Engine) -> None:
    votes = seed_bloc_data()["votes"]
    votes["acclaim"]["secret"] = False
    bloc = Bloc(engine, votes=votes)
    bloc.open("Mở phiếu suy tôn")
    first = bloc.press("SXD", "Không đồng ý")
    assert "Sở Xây dựng chọn Không đồng ý" in _texts(first) and "1/7 đơn vị" in _texts(first, GROUP)
    changed = bloc.press("SXD", "Đồng ý")
    assert "Sở Xây dựng chọn Đồng ý" in _texts(changed)
    assert not any(reply.chat_id == f"telegram:{GROUP}" for reply in changed.replies), "a change is not a new vote"
    for unit in ("STTTT", "SCT", "SGTVT", "STNMT", "SKHCN"):
        bloc.press(unit, "Đồng ý")
    last = bloc.press("SNNPTNT", "Không đồng ý")
    result = _texts(last, GROUP)
    assert "Đồng ý: 6 · Không đồng ý: 1" in result and "phiếu công khai" in result
    assert "• Sở Nông nghiệp và Phát triển nông thôn: Không đồng ý" in result
    assert "• Sở Xây dựng: Đồng ý" in result
    with session_scope(engine) as session:
        ballot = session.exec(select(Ballot)).one()
        assert ballot_counts(session=session, ballot_id=ballot.id or 0) == {"yes": 6, "no": 1}
        minutes = vote_results(session=session, bloc_id=1, year=2018)
    assert minutes_tallies(minutes[0]) == [("Đồng ý", 6), ("Không đồng ý", 1)]
    assert minutes_outcome(minutes[0]) == "Thông qua (6/7 đơn vị đồng ý)."
    assert minutes[0].choices["SXD"] == "yes"


def test_rotation_announces_next_years_roles_instead_of_an_election(engine: Engine) -> None:
    votes = seed_bloc_data()["votes"]
    votes["election"] = {"method": "rotation", "next_leader": "SXD", "next_deputy": "SCT"}
    bloc = Bloc(engine, votes=votes)
    bloc.lead.command("vote")
    menu = bloc.lead.texts()
    assert "khối không bầu (luân phiên): Khối trưởng Sở Xây dựng, Khối phó Sở Công thương" in plain(menu)
    assert not any("bầu Khối" in option for option in bloc.lead.buttons())
    announced = bloc.lead.press("Công bố")
    assert "Theo quy chế của khối (luân phiên), năm 2019: Khối trưởng Sở Xây dựng" in _texts(announced, GROUP)
    with session_scope(engine) as session:
        roles = session.exec(select(YearRoles).where(YearRoles.year == 2019)).one()
    assert roles.source == "rotation"
    bloc.lead.command("vote")
    assert "(đã công bố)" in bloc.lead.texts() and not any(
        data.startswith("v:") and data.endswith(":announce") for data in bloc.lead.buttons())


def test_without_a_group_the_results_go_to_the_leader_unit(engine: Engine) -> None:
    bloc = Bloc(engine, group=None)
    opened = bloc.open("Mở phiếu suy tôn")
    assert "0/7 đơn vị đã bỏ phiếu" in _texts(opened, USERS["tttt-head"])
    for unit in HEADS:
        bloc.press(unit, "Đồng ý")
        outcome = bloc.people[unit].press("Xác nhận")
    assert "Thông qua" in _texts(outcome, USERS["tttt-head"])
    assert not any(reply.chat_id == f"telegram:{GROUP}" for reply in outcome.replies)


def test_the_leader_types_the_closing_time_within_the_bounds(engine: Engine) -> None:
    bloc = Bloc(engine)
    bloc.lead.command("vote")
    bloc.lead.press("Mở bầu Khối trưởng")
    for typed in ("abc", "0", "169", "2,5", "/12"):
        bloc.lead.text(typed)
        assert "Hãy gõ một số giờ nguyên từ 1 đến 168" in plain(bloc.lead.texts())
        assert "sau 48 giờ" in plain(bloc.lead.texts())
    for typed, hours in (("5 giờ", 5), ("6h", 6)):
        bloc.lead.text(typed)
        assert f"sau {hours} giờ" in plain(bloc.lead.texts())
        assert "ngoài giờ làm việc" not in plain(bloc.lead.texts())  # 15:00 and 16:00: working time
    bloc.lead.press("Mở phiếu")
    with session_scope(engine) as session:
        ballot = session.exec(select(Ballot)).one()
    assert ballot.kind == BallotKind.leader.value
    assert ballot.closes_at - ballot.opened_at == dt.timedelta(hours=6)


def test_a_close_at_night_moves_to_the_next_working_morning(engine: Engine) -> None:
    bloc = Bloc(engine)
    bloc.lead.command("vote")
    bloc.lead.press("Mở bầu Khối trưởng")  # 10:00, Thursday 24/01/2019
    bloc.lead.text("12")  # 22:00: at night
    text = plain(bloc.lead.texts())
    assert "sau 12 giờ, lúc 22:00 ngày 24/01/2019" in text
    assert "ngoài giờ làm việc của khối (07:30–17:30" in text and "07:30 ngày 25/01/2019" in text
    bloc.lead.text("60")  # 22:00 on Saturday: the next working morning is Monday's
    assert "07:30 ngày 28/01/2019" in plain(bloc.lead.texts())
    bloc.lead.text("12")
    opened = plain(bloc.lead.press("Mở phiếu").replies[0].text)
    assert "07:30 ngày 25/01/2019" in opened
    with session_scope(engine) as session:
        ballot = session.exec(select(Ballot)).one()
    assert ballot.closes_at == dt.datetime(2019, 1, 25, 0, 30, tzinfo=dt.UTC)


def test_the_working_day_of_the_votes_is_configurable(engine: Engine) -> None:
    bloc = Bloc(engine, votes={**seed_bloc_data()["votes"],
                               "working_hours": {"start": "08:00", "end": "20:00",
                                                 "days": ["mon", "tue", "wed", "thu", "fri", "sat"]}})
    bloc.lead.command("vote")
    bloc.lead.press("Mở bầu Khối trưởng")
    bloc.lead.text("8")  # 18:00: inside this bloc's working day
    assert "ngoài giờ làm việc" not in plain(bloc.lead.texts())
    bloc.lead.text("12")  # 22:00
    assert "(08:00–20:00" in plain(bloc.lead.texts()) and "08:00 ngày 25/01/2019" in plain(bloc.lead.texts())


def test_an_opening_outside_the_votes_window_needs_the_leaders_confirmation(engine: Engine) -> None:
    bloc = Bloc(engine)
    bloc.clock.now = VOTING + dt.timedelta(days=1)  # the window was 08:00–17:00 on 24/01/2019
    bloc.lead.command("vote")
    bloc.lead.press("Mở bầu Khối trưởng")
    text = plain(bloc.lead.texts())
    assert "thời gian bỏ phiếu là từ 08:00 ngày 24/01/2019 đến 17:00 ngày 24/01/2019" in text
    labels = [option.label for reply in bloc.lead.last.replies for row in reply.options for option in row]
    assert "⚠️ Mở phiếu ngoài thời gian đã định" in labels
    # a forged plain "go" does not open it: the warning again
    go = next(data for data in bloc.lead.buttons() if ":go" in data)
    bloc.lead.press_data(go.removesuffix(":out"))
    assert "phiếu chưa được mở" in plain(bloc.lead.texts())
    with session_scope(engine) as session:
        assert session.exec(select(Ballot)).first() is None
    bloc.lead.press("Mở phiếu ngoài thời gian đã định")
    assert "Đã mở phiếu" in plain(bloc.lead.texts())
    with session_scope(engine) as session:
        assert session.exec(select(Ballot)).one().opened_at == VOTING + dt.timedelta(days=1)
        audit = session.exec(select(AuditLog).where(AuditLog.action == "ballot.open")).one()
    assert '"outside_window": true' in (audit.after or "")


def test_an_opening_inside_the_window_asks_nothing_more(engine: Engine) -> None:
    bloc = Bloc(engine)
    bloc.lead.command("vote")
    bloc.lead.press("Mở bầu Khối trưởng")
    assert "ngoài khoảng này" not in plain(bloc.lead.texts())
    bloc.lead.press("Mở phiếu")
    assert "Đã mở phiếu" in plain(bloc.lead.texts())


def test_nothing_to_vote_on_before_the_ranking_is_published(engine: Engine) -> None:
    bloc = Bloc(engine)
    with session_scope(engine) as session:
        period = session.exec(select(Period).where(Period.year == 2018)).one()
        period.published_at = None
        session.add(period)
    bloc.lead.command("vote")
    assert "chưa được công bố" in bloc.lead.texts()


def test_the_ballot_speaks_english_to_an_english_voter(engine: Engine) -> None:
    bloc = Bloc(engine)
    english = bloc.people["SCT"]
    english.command("lang")
    english.press("English")
    bloc.open("Mở phiếu suy tôn")
    ballot = _texts(bloc.opened, english.user_id)
    assert "Do you acclaim Sở Thông tin và Truyền thông" in ballot and "Secret ballot" in ballot
    chose = bloc.press("SCT", "Yes")
    assert "You chose: Yes" in plain(chose.replies[0].text)
    assert "vote is recorded" in plain(english.press("Confirm").replies[0].text)


def test_a_ballot_press_leaves_the_voters_flow_as_it_was(engine: Engine) -> None:
    """The leader unit's head votes between two menu presses: its desk, step and nonce stay."""
    bloc = Bloc(engine)
    opened = bloc.open("Mở phiếu suy tôn")
    menu_buttons = [option.data for reply in opened.replies if reply.chat_id is None
                    for row in reply.options for option in row]
    close_early = next(data for data in menu_buttons if ":close:" in data)

    def lead_state() -> tuple[str | None, str | None, str]:
        with session_scope(engine) as session:
            state = session.exec(select(ChatState).where(ChatState.user_id == str(bloc.lead.user_id))).one()
            return state.flow, state.flow_state, state.nonce

    before = lead_state()
    assert before[0] == "vote" and before[2] in close_early
    bloc.press("STTTT", "Đồng ý")
    assert "Xác nhận" in "".join(option.label for reply in bloc.lead.last.replies for row in reply.options
                                 for option in row)
    bloc.lead.press("Xác nhận")
    assert lead_state() == before
    assert "Đóng sớm phiếu" in plain(bloc.lead.press_data(close_early).replies[0].text)


def test_the_shell_does_not_cast_a_units_vote_unless_allowed(engine: Engine) -> None:
    """Issue 16: `bot shell --officer X` cast X's secret vote as X; now it is refused, and allowed only
    with `--allow-ballots`, the vote then recorded as the console's."""
    bloc = Bloc(engine)
    opened = bloc.open("Mở phiếu suy tôn")
    agree = next(option.data for reply in opened.replies if reply.chat_id == f"telegram:{USERS['xd-head']}"
                 for row in reply.options for option in row if "Đồng ý" in option.label)
    with session_scope(engine) as session:
        officer_id = session.exec(select(Officer.id).where(Officer.code == "xd-head")).one()

    def console(conversation: Conversation, data: str) -> Outcome:
        return conversation.handle(Incoming(channel="console", update_id=f"c{next(_console_keys)}",
                                            user_id=str(officer_id), chat_id=str(officer_id), is_private=True,
                                            kind=InKind.option, data=data))

    refused = console(Conversation(engine, clock=bloc.clock), agree)
    assert "không bỏ phiếu thay Sở Xây dựng" in _texts(refused) and "--allow-ballots" in _texts(refused)
    assert not refused.replies[0].options
    allowed = Conversation(engine, clock=bloc.clock, console_ballots=True)
    confirm = next(option.data for reply in console(allowed, agree).replies for row in reply.options
                   for option in row if "Xác nhận" in option.label)
    assert "Mã xác nhận phiếu" in _texts(console(allowed, confirm))
    with session_scope(engine) as session:
        votes = session.exec(select(AuditLog.actor).where(AuditLog.action == "ballot.vote")).all()
    assert votes == ["console:xd-head"]


def test_the_votes_command_shows_the_ballots_times_in_the_blocs_zone(
        engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from bot.settings import get_settings

    bloc = Bloc(engine)
    bloc.open("Mở bầu Khối trưởng")  # 10:00 on Thursday 24/01/2019, 48 hours: Saturday, so Monday 07:30
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        capsys.readouterr()
        assert main(["votes", "--bloc", "K3"]) == 0
        out = capsys.readouterr().out
        assert main(["votes", "--bloc", "K3", "--lang", "en"]) == 0
        english = capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert "10:00 ngày 24/01/2019 — 07:30" in out and "Mở — đóng (Asia/Ho_Chi_Minh)" in out
    assert "ngày 28/01/2019" in out and "2019-01-24" not in out and "UTC" not in out
    assert "10:00, 24/01/2019 — 07:30" in english and "Asia/Ho_Chi_Minh" in english and "Turnout" in english


def test_a_rehearsed_blocs_ballots_and_their_close_say_rehearsal(engine: Engine) -> None:
    from handlers.flows.votes.due import due_ballot_replies

    bloc = Bloc(engine, bloc={**seed_bloc_data()["bloc"], "rehearsal_days": 2923})
    opened = bloc.open("Mở phiếu suy tôn", "4")
    assert opened.replies and all(reply.text.startswith("<b>[DIỄN TẬP]</b>") for reply in opened.replies)
    owed: list[str] = []

    def owe(_session: object, replies: Any) -> list[str]:
        owed.extend(reply.text for reply in replies)
        return []

    due_ballot_replies(engine, VOTING + dt.timedelta(hours=3, minutes=1), owe)  # the reminder
    due_ballot_replies(engine, VOTING + dt.timedelta(hours=5), owe)  # the close and its result
    assert len(owed) >= 2 and all(text.startswith("<b>[DIỄN TẬP]</b>") for text in owed)
    assert any("Kết quả phiếu suy tôn" in plain(text) for text in owed)
