"""The pure decision of what is due: calendar, slots, supersession, sent-log, parsing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.config import Reminders
from rules.reminders import (
    NOT_TIED,
    MomentError,
    PeriodProgress,
    ReminderKind,
    UnitProgress,
    WorkCalendar,
    digest_slot,
    due_reminders,
    missed_slot,
    parse_local_moment,
    reminder_slots,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULTS = Reminders()
CALENDAR = WorkCalendar.of(DEFAULTS, "Asia/Ho_Chi_Minh")
OPENS = dt.datetime(2018, 12, 1, 8, tzinfo=VN).astimezone(dt.UTC)
DEADLINE = dt.datetime(2019, 1, 10, 17, tzinfo=VN).astimezone(dt.UTC)  # a Thursday


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Vietnam wall-clock moment as aware UTC."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=VN).astimezone(dt.UTC)


def period(*units: UnitProgress, deadline: dt.datetime = DEADLINE, leader: int | None = 1) -> PeriodProgress:
    return PeriodProgress(period_id=9, opens=OPENS, deadline=deadline, review_deadline=None,
                          leader_unit_id=leader, units=units)


LEADER = UnitProgress(unit_id=1, submitted=True, officer_ids=(11,))
LATE = UnitProgress(unit_id=2, submitted=False, officer_ids=(21, 22))
DONE = UnitProgress(unit_id=3, submitted=True, officer_ids=(31,))


def test_working_moments_follow_hours_days_and_holidays() -> None:
    calendar = WorkCalendar.of(Reminders.model_validate({"working_hours": {"holidays": ["2019-01-03"]}}),
                               "Asia/Ho_Chi_Minh")
    assert calendar.is_working(local(2019, 1, 2, 7, 30))
    assert not calendar.is_working(local(2019, 1, 2, 7, 29))
    assert not calendar.is_working(local(2019, 1, 2, 17, 30))
    assert not calendar.is_working(local(2019, 1, 5, 10))  # Saturday
    assert not calendar.is_working(local(2019, 1, 3, 10))  # a holiday
    assert calendar.next_working(local(2019, 1, 2, 6)) == local(2019, 1, 2, 7, 30)
    assert calendar.next_working(local(2019, 1, 2, 18)) == local(2019, 1, 4, 7, 30)  # over the holiday
    assert calendar.next_working(local(2019, 1, 4, 18)) == local(2019, 1, 7, 7, 30)  # over the weekend
    assert calendar.next_working(local(2019, 1, 7, 9)) == local(2019, 1, 7, 9)


def test_default_slots_at_eight_local_seven_three_one_and_zero_days_before() -> None:
    slots = reminder_slots(opens=OPENS, deadline=DEADLINE, reminders=DEFAULTS, calendar=CALENDAR)
    assert [(slot.days_before, slot.at) for slot in slots] == [
        (7, local(2019, 1, 3, 8)), (3, local(2019, 1, 7, 8)), (1, local(2019, 1, 9, 8)), (0, local(2019, 1, 10, 8)),
    ]
    digest = digest_slot(opens=OPENS, deadline=DEADLINE, reminders=DEFAULTS, calendar=CALENDAR)
    assert digest is not None and digest.at == local(2019, 1, 9, 8)
    missed = missed_slot(deadline=DEADLINE, reminders=DEFAULTS, calendar=CALENDAR)
    assert missed is not None and missed.at == DEADLINE  # 17:00 is still working time


def test_a_slot_on_a_weekend_moves_to_monday_and_a_crowded_day_keeps_the_closest() -> None:
    deadline = local(2019, 1, 8, 17)  # Tuesday: 3 days before is Saturday, 7 days before Tuesday
    slots = reminder_slots(opens=OPENS, deadline=deadline, reminders=DEFAULTS, calendar=CALENDAR)
    # Saturday's 3-day reminder would move to Monday 07:30, where the 1-day one already is.
    assert [(slot.days_before, slot.at) for slot in slots] == [
        (7, local(2019, 1, 1, 8)), (1, local(2019, 1, 7, 8)), (0, local(2019, 1, 8, 8)),
    ]
    monday = local(2019, 1, 14, 17)
    slots = reminder_slots(opens=OPENS, deadline=monday, reminders=Reminders(days_before=[2]), calendar=CALENDAR)
    assert [(slot.days_before, slot.at) for slot in slots] == [(2, local(2019, 1, 14, 7, 30))]


def test_slots_never_reach_the_deadline_or_precede_the_opening() -> None:
    early = local(2019, 1, 10, 7, 45)  # before 08:00: no reminder on the morning of the day
    slots = reminder_slots(opens=OPENS, deadline=early, reminders=DEFAULTS, calendar=CALENDAR)
    assert [slot.days_before for slot in slots] == [7, 3, 1]
    late_opening = local(2019, 1, 8, 12)
    slots = reminder_slots(opens=late_opening, deadline=DEADLINE, reminders=DEFAULTS, calendar=CALENDAR)
    assert [slot.days_before for slot in slots] == [1, 0]
    saturday_night = local(2019, 1, 12, 20)  # its morning slot would move past the deadline
    slots = reminder_slots(opens=OPENS, deadline=saturday_night, reminders=Reminders(days_before=[0]),
                           calendar=CALENDAR)
    assert slots == []


def test_only_late_units_are_reminded_and_only_the_latest_slot() -> None:
    progress = period(LEADER, LATE, DONE)
    assert due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=local(2019, 1, 3, 7, 59),
                         sent=set()) == []
    due = due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=local(2019, 1, 3, 8),
                        sent=set())
    assert [(d.unit_id, d.officer_id, d.kind, d.days_before) for d in due] == [
        (2, 21, ReminderKind.remind, 7), (2, 22, ReminderKind.remind, 7)]
    # The bot was down from Thursday to Tuesday: one reminder (3 days), not two.
    due = due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=local(2019, 1, 8, 10),
                        sent={d.key for d in due})
    assert {(d.officer_id, d.days_before) for d in due} == {(21, 3), (22, 3)}


def test_nothing_is_sent_twice_nor_at_night_nor_at_the_weekend() -> None:
    progress = period(LEADER, LATE)
    now = local(2019, 1, 7, 9)
    due = due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=now, sent=set())
    assert due and due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=now,
                                 sent={d.key for d in due}) == []
    for moment in (local(2019, 1, 7, 18), local(2019, 1, 5, 10), local(2019, 1, 6, 8)):
        assert due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=moment, sent=set()) == []
    off = Reminders(enabled=False)
    assert due_reminders(period=progress, reminders=off, calendar=CALENDAR, now=now, sent=set()) == []


def test_digest_and_missed_notice_go_to_the_leader_once() -> None:
    progress = period(LEADER, LATE, DONE)
    due = due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=local(2019, 1, 9, 8),
                        sent=set())
    assert {(d.kind, d.officer_id) for d in due} == {
        (ReminderKind.remind, 21), (ReminderKind.remind, 22), (ReminderKind.digest, 11)}
    after = due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=local(2019, 1, 10, 17),
                          sent=set())
    assert [(d.kind, d.officer_id) for d in after] == [(ReminderKind.missed, 11)]
    week_later = local(2019, 1, 18, 9)
    assert due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=week_later, sent=set()) == []
    no_digest = Reminders(digest_days_before=None, report_missed=False)
    assert [d.kind for d in due_reminders(period=progress, reminders=no_digest, calendar=CALENDAR,
                                          now=local(2019, 1, 9, 8), sent=set())] == [ReminderKind.remind] * 2


def test_a_blocked_officer_is_reported_to_the_leader_once_per_unit() -> None:
    blocked = UnitProgress(unit_id=2, submitted=False, officer_ids=(21, 22), blocked_officer_ids=frozenset({21}))
    progress = period(LEADER, blocked)
    now = local(2019, 1, 7, 8, 1)
    due = due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=now, sent=set())
    notices = [d for d in due if d.kind is ReminderKind.unreachable]
    assert [(d.unit_id, d.officer_id, d.deadline) for d in notices] == [(2, 11, NOT_TIED)]
    again = due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=local(2019, 1, 9, 9),
                          sent={d.key for d in notices})
    assert not [d for d in again if d.kind is ReminderKind.unreachable]


def test_a_moved_deadline_gives_new_reminders() -> None:
    progress = period(LEADER, LATE)
    now = local(2019, 1, 9, 8)
    first = due_reminders(period=progress, reminders=DEFAULTS, calendar=CALENDAR, now=now, sent=set())
    later = period(LEADER, LATE, deadline=local(2019, 1, 11, 17))
    due = due_reminders(period=later, reminders=DEFAULTS, calendar=CALENDAR, now=local(2019, 1, 10, 8),
                        sent={d.key for d in first})
    assert {(d.kind, d.days_before) for d in due} == {(ReminderKind.remind, 1), (ReminderKind.digest, 1)}


@pytest.mark.parametrize(("text", "expected"), [
    ("17:00 20/01/2019", (dt.date(2019, 1, 20), dt.time(17, 0))),
    ("20/01/2019", (dt.date(2019, 1, 20), dt.time(16, 30))),
    ("17h 20/1/2019", (dt.date(2019, 1, 20), dt.time(17, 0))),
    ("17h30 ngày 20/01/2019", (dt.date(2019, 1, 20), dt.time(17, 30))),
    ("  9:05   20-01-2019 ", (dt.date(2019, 1, 20), dt.time(9, 5))),
    ("20/01/2019 17:00", (dt.date(2019, 1, 20), dt.time(17, 0))),
    ("17 giờ 20.01.2019", (dt.date(2019, 1, 20), dt.time(17, 0))),
])
def test_deadlines_are_read_the_vietnamese_way(text: str, expected: tuple[dt.date, dt.time]) -> None:
    assert parse_local_moment(text, default_time=dt.time(16, 30)) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("ngày mai", "format"), ("2019-01-20", "format"), ("20/01/19", "format"), ("31/02/2019", "no_such_date"),
    ("25:00 20/01/2019", "no_such_time"), ("1" * 60, "too_long"), ("", "format"),
])
def test_what_is_not_a_date_is_refused(text: str, reason: str) -> None:
    with pytest.raises(MomentError, match=reason):
        parse_local_moment(text, default_time=dt.time(17))


@given(
    day=st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2030, 12, 31)),
    time=st.times(),
    days=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=6, unique=True),
    holidays=st.lists(st.dates(min_value=dt.date(2018, 12, 1), max_value=dt.date(2031, 1, 31)), max_size=20),
)
@settings(max_examples=200, deadline=None)
def test_slots_are_working_moments_in_order_before_the_deadline(
    day: dt.date, time: dt.time, days: list[int], holidays: list[dt.date]
) -> None:
    reminders = Reminders.model_validate({"days_before": days, "working_hours": {"holidays": holidays}})
    calendar = WorkCalendar.of(reminders, "Asia/Ho_Chi_Minh")
    end = dt.datetime.combine(day, time, tzinfo=VN).astimezone(dt.UTC)
    slots = reminder_slots(opens=end - dt.timedelta(days=30), deadline=end, reminders=reminders, calendar=calendar)
    moments = [slot.at for slot in slots]
    assert moments == sorted(set(moments))
    assert len({calendar.local(moment).date() for moment in moments}) == len(moments)
    assert all(calendar.is_working(moment) and moment < end for moment in moments)
    assert [slot.days_before for slot in slots] == sorted((slot.days_before for slot in slots), reverse=True)
