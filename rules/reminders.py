"""Which reminders are due: a pure decision over deadlines, statuses and what was already sent.

Nothing here reads a clock: `now` is a parameter, so a test can walk through a
week in microseconds. The scheduler asks :func:`due_reminders` what to send; the
database (deadlines, submission statuses, the sent-log) is the whole truth, so a
restart, a second process or a missed tick only ever changes *when* a pass asks,
never what it decides.

The rules:

- a reminder slot lies `days_before` days before the reporting deadline's local
  date, at `at` local time; the leader's digest likewise at `digest_days_before`;
  the missed-deadline notice at the deadline itself;
- a slot outside working hours (night, weekend, holiday) moves to the next working
  moment; a slot that would then fall at or after the deadline, or before
  reporting opens, is dropped; of two reminder slots on the same local day (or out
  of order after a move) only the one closer to the deadline is kept;
- at `now`, only the latest reminder slot that has come is due (earlier ones are
  superseded: a bot that was down sends one reminder, not three), and only while
  the deadline has not passed; nothing is sent outside working hours;
- a unit whose submission is submitted or accepted gets no reminder;
- every message has a key; a key already in the sent-log is never due again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from rules.config import WEEKDAYS, Reminders, WorkingHours

# Notices that are not tied to one deadline (a unit that cannot be reached) carry this
# in the deadline column of their key, so that they are sent once per period and unit.
NOT_TIED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# How long after the deadline telling the leader who missed it is still useful,
# when the period has no review deadline.
MISSED_NOTICE_WINDOW = dt.timedelta(days=7)
# Upper bound of days searched for the next working moment (a year of holidays).
_SEARCH_DAYS = 400


class ReminderKind(StrEnum):
    """What a message of the scheduler is."""

    remind = "remind"  # to a unit that has not submitted
    digest = "digest"  # to the leader: who has submitted, who has not
    missed = "missed"  # to the leader, after the deadline: who missed it
    unreachable = "unreachable"  # to the leader: a unit's officer blocked the bot


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours of a bloc, in its time zone."""

    zone: ZoneInfo
    start: dt.time
    end: dt.time
    weekdays: frozenset[int]  # 0 = Monday
    holidays: frozenset[dt.date]

    @classmethod
    def of(cls, reminders: Reminders, zone: str) -> WorkCalendar:
        """The calendar of a bloc's reminder settings."""
        return cls.of_hours(reminders.working_hours, zone)

    @classmethod
    def of_hours(cls, hours: WorkingHours, zone: str) -> WorkCalendar:
        """The calendar of a working day (days, hours, holidays) in a time zone."""
        return cls(zone=ZoneInfo(zone), start=hours.start, end=hours.end,
                   weekdays=frozenset(WEEKDAYS.index(day) for day in hours.days),
                   holidays=frozenset(hours.holidays))

    def local(self, moment: dt.datetime) -> dt.datetime:
        """A moment in the bloc's time zone."""
        return moment.astimezone(self.zone)

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        """A local date and time as an aware UTC moment."""
        return dt.datetime.combine(day, time, tzinfo=self.zone).astimezone(dt.UTC)

    def is_working_day(self, day: dt.date) -> bool:
        """A working weekday that is not a holiday."""
        return day.weekday() in self.weekdays and day not in self.holidays

    def is_working(self, moment: dt.datetime) -> bool:
        """Whether the bot may write to people at this moment."""
        local = self.local(moment)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_working(self, moment: dt.datetime) -> dt.datetime:
        """The moment itself when it is working time, else the start of the next working period."""
        if self.is_working(moment):
            return moment
        local = self.local(moment)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.start:
            return self.at(day, self.start)
        for _ in range(_SEARCH_DAYS):
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                return self.at(day, self.start)
        raise ValueError("no working day within a year; check working_hours.days and holidays")


@dataclass(frozen=True)
class Slot:
    """When one kind of message may go out (already moved into working hours), UTC."""

    kind: ReminderKind
    days_before: int
    at: dt.datetime


def reminder_slots(*, opens: dt.datetime, deadline: dt.datetime, reminders: Reminders,
                   calendar: WorkCalendar) -> list[Slot]:
    """The reminder slots of a reporting window, earliest first."""
    deadline_day = calendar.local(deadline).date()
    kept: list[Slot] = []
    for days in sorted(set(reminders.days_before)):  # closest to the deadline first
        nominal = calendar.at(deadline_day - dt.timedelta(days=days), reminders.at)
        moment = calendar.next_working(nominal)
        if moment >= deadline or moment < opens:
            continue
        if kept:
            closer = kept[-1]
            same_day = calendar.local(closer.at).date() == calendar.local(moment).date()
            if same_day or moment >= closer.at:
                continue  # the reminder closer to the deadline says it all
        kept.append(Slot(ReminderKind.remind, days, moment))
    return sorted(kept, key=lambda slot: slot.at)


def digest_slot(*, opens: dt.datetime, deadline: dt.datetime, reminders: Reminders,
                calendar: WorkCalendar) -> Slot | None:
    """When the leader gets the who-has-submitted digest, if at all."""
    if reminders.digest_days_before is None:
        return None
    days = reminders.digest_days_before
    nominal = calendar.at(calendar.local(deadline).date() - dt.timedelta(days=days), reminders.at)
    moment = calendar.next_working(nominal)
    if moment >= deadline or moment < opens:
        return None
    return Slot(ReminderKind.digest, days, moment)


def missed_slot(*, deadline: dt.datetime, reminders: Reminders, calendar: WorkCalendar) -> Slot | None:
    """When the leader is told who missed the deadline, if at all."""
    if not reminders.report_missed:
        return None
    return Slot(ReminderKind.missed, 0, calendar.next_working(deadline))


@dataclass(frozen=True)
class UnitProgress:
    """A member unit in a period: submitted or not, its linked officers, who blocked the bot."""

    unit_id: int
    submitted: bool
    officer_ids: tuple[int, ...]
    blocked_officer_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PeriodProgress:
    """A reporting period as the scheduler sees it."""

    period_id: int
    opens: dt.datetime
    deadline: dt.datetime
    review_deadline: dt.datetime | None
    leader_unit_id: int | None
    units: tuple[UnitProgress, ...]

    def useful_until(self) -> dt.datetime:
        """After this moment nothing about the period's reporting is worth sending."""
        return useful_until(self.deadline, self.review_deadline)


# (period id, subject unit id, kind, days before, deadline, recipient officer id)
SentKey = tuple[int, int, str, int, dt.datetime, int]


@dataclass(frozen=True)
class DueMessage:
    """One message the scheduler should send now, with the key it is logged under."""

    period_id: int
    unit_id: int  # the unit the message is about
    kind: ReminderKind
    days_before: int
    deadline: dt.datetime  # the deadline it was computed for (NOT_TIED for unreachable)
    officer_id: int  # the recipient
    slot_at: dt.datetime

    @property
    def key(self) -> SentKey:
        """The sent-log key: unique, so the message goes out at most once."""
        return (self.period_id, self.unit_id, self.kind.value, self.days_before, self.deadline,
                self.officer_id)


def useful_until(deadline: dt.datetime, review_deadline: dt.datetime | None) -> dt.datetime:
    """After this moment nothing about a period's reporting is worth sending."""
    window_end = deadline + MISSED_NOTICE_WINDOW
    if review_deadline is not None:
        return max(review_deadline, window_end)
    return window_end


def is_relevant(*, opens: dt.datetime, deadline: dt.datetime, review_deadline: dt.datetime | None,
                reminders: Reminders, now: dt.datetime) -> bool:
    """Whether a period may have anything due at `now` (a cheap filter before loading details)."""
    return reminders.enabled and opens <= now < useful_until(deadline, review_deadline)


def due_reminders(*, period: PeriodProgress, reminders: Reminders, calendar: WorkCalendar,
                  now: dt.datetime, sent: Collection[SentKey]) -> list[DueMessage]:
    """Everything that should go out at `now` for a period and has not gone out before."""
    if not reminders.enabled or not calendar.is_working(now) or now < period.opens:
        return []
    due: list[DueMessage] = []
    leader = next((unit for unit in period.units if unit.unit_id == period.leader_unit_id), None)

    def add(unit_id: int, kind: ReminderKind, days: int, deadline: dt.datetime, slot_at: dt.datetime,
            recipients: Iterable[int]) -> None:
        for officer_id in recipients:
            message = DueMessage(period.period_id, unit_id, kind, days, deadline, officer_id, slot_at)
            if message.key not in sent:
                due.append(message)

    if now < period.deadline:
        slots = [slot for slot in reminder_slots(opens=period.opens, deadline=period.deadline,
                                                 reminders=reminders, calendar=calendar)
                 if slot.at <= now]
        if slots:
            latest = slots[-1]
            for unit in period.units:
                if not unit.submitted:
                    add(unit.unit_id, ReminderKind.remind, latest.days_before, period.deadline, latest.at,
                        unit.officer_ids)
        digest = digest_slot(opens=period.opens, deadline=period.deadline, reminders=reminders,
                             calendar=calendar)
        if digest is not None and digest.at <= now and leader is not None:
            add(leader.unit_id, ReminderKind.digest, digest.days_before, period.deadline, digest.at,
                leader.officer_ids)
    elif now < period.useful_until() and leader is not None:
        missed = missed_slot(deadline=period.deadline, reminders=reminders, calendar=calendar)
        if missed is not None and missed.at <= now:
            add(leader.unit_id, ReminderKind.missed, 0, period.deadline, missed.at, leader.officer_ids)
    if leader is not None and now < period.useful_until():
        for unit in period.units:
            if unit.blocked_officer_ids:
                add(unit.unit_id, ReminderKind.unreachable, 0, NOT_TIED, now,
                    (officer for officer in leader.officer_ids if officer not in unit.blocked_officer_ids))
    return due


def days_left(*, now: dt.datetime, deadline: dt.datetime, calendar: WorkCalendar) -> int:
    """Calendar days from today to the deadline's day, local time (0 on the day itself)."""
    return (calendar.local(deadline).date() - calendar.local(now).date()).days


# -- reading a deadline typed in the chat ---------------------------------------------------

_TIME = r"(?P<hour>\d{1,2})\s*(?:[:h]\s*(?P<minute>\d{2})?|giờ(?:\s*(?P<minute2>\d{1,2})\s*phút)?)"
_DATE = r"(?P<day>\d{1,2})\s*[/.\-]\s*(?P<month>\d{1,2})\s*[/.\-]\s*(?P<year>\d{4})"
_FILLER = r"(?:\s*(?:,|ngày|ngay|lúc|luc)\s*)*"
_TIME_FIRST = re.compile(rf"^(?:{_TIME}{_FILLER}\s*)?{_DATE}$", re.IGNORECASE)
_DATE_FIRST = re.compile(rf"^{_DATE}{_FILLER}\s*{_TIME}$", re.IGNORECASE)


class MomentError(ValueError):
    """Text that is not a date (and time) the Vietnamese way."""


def parse_local_moment(text: str, *, default_time: dt.time) -> tuple[dt.date, dt.time]:
    """Read `17:00 20/01/2019`, `20/01/2019`, `17h 20/1/2019` or `20/01/2019 17:00`.

    The day comes before the month, as Vietnamese writes it; the year has four
    digits. A date without a time takes `default_time`.
    """
    cleaned = " ".join(text.strip().split())
    if len(cleaned) > 40:
        raise MomentError("too_long")
    match = _TIME_FIRST.match(cleaned) or _DATE_FIRST.match(cleaned)
    if match is None:
        raise MomentError("format")
    parts = match.groupdict()
    try:
        day = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError as exc:
        raise MomentError("no_such_date") from exc
    if parts["hour"] is None:
        return day, default_time
    minute = parts["minute"] or parts["minute2"] or "0"
    hour = int(parts["hour"])
    if hour > 23 or int(minute) > 59:
        raise MomentError("no_such_time")
    return day, dt.time(hour, int(minute))
