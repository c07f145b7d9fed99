"""Deadlines and reminders as plain data: what is due for a bloc now, and moving a deadline.

The scheduler's side: the bloc's deadlines, statuses and sent-log come from
storage; the pure rules (`rules.reminders`) decide what is due; nothing is sent
outside working hours (rendered by `handlers.renderers.reminders`).
The leader's side (`/deadline`, `handlers.flows.deadlines`): the deadlines an
officer's unit may move, and the move itself, audited, with whom to tell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from rules.config import BlocConfig
from rules.reminders import (
    DueMessage,
    PeriodProgress,
    UnitProgress,
    WorkCalendar,
    digest_slot,
    due_reminders,
    missed_slot,
    reminder_slots,
)
from storage.chat import OfficerView, periods_for_reporting
from storage.models import Bloc, Period
from storage.reminders import (
    DeadlineChange,
    DeadlineField,
    OfficerContact,
    PeriodWorld,
    bloc_config,
    deadline_of,
    linked_officers,
    load_bloc_world,
    set_deadline,
)
from storage.roles import BlocRole, unit_role

LEADING = (BlocRole.leader, BlocRole.deputy)  # the units that may move a deadline of their year


@dataclass(frozen=True)
class DueReminder:
    """One message due now: about which period, what, to whom."""

    period: PeriodWorld
    message: DueMessage
    contact: OfficerContact


@dataclass(frozen=True)
class DueBatch:
    """A bloc's messages due at `now`, with what their texts need (the configuration, the calendar)."""

    bloc_id: int
    config: BlocConfig
    calendar: WorkCalendar
    now: dt.datetime
    due: tuple[DueReminder, ...]


def _progress(period: PeriodWorld) -> PeriodProgress:
    return PeriodProgress(
        period_id=period.period_id, opens=period.opens, deadline=period.deadline,
        review_deadline=period.review_deadline, leader_unit_id=period.leader_unit_id,
        units=tuple(
            UnitProgress(unit_id=unit.unit_id, submitted=unit.submitted,
                         officer_ids=tuple(officer.officer_id for officer in unit.officers),
                         blocked_officer_ids=period.blocked.get(unit.unit_id, frozenset()))
            for unit in period.units
        ),
    )


def reminders_due(*, session: Session, bloc_id: int, now: dt.datetime) -> DueBatch | None:
    """The messages due for a bloc at `now` (None: no such bloc; an empty batch outside working hours)."""
    config = bloc_config(session=session, bloc_id=bloc_id)
    if config is None:
        return None
    calendar = WorkCalendar.of(config.reminders, config.bloc.timezone)
    batch = DueBatch(bloc_id=bloc_id, config=config, calendar=calendar, now=now, due=())
    if not config.reminders.enabled or not calendar.is_working(now):
        return batch
    world = load_bloc_world(session=session, bloc_id=bloc_id, now=now)
    if world is None:
        return batch
    due: list[DueReminder] = []
    for period in world.periods:
        contacts = {officer.officer_id: officer for unit in period.units for officer in unit.officers}
        due.extend(DueReminder(period=period, message=message, contact=contacts[message.officer_id])
                   for message in due_reminders(period=_progress(period), reminders=config.reminders,
                                                calendar=calendar, now=now, sent=period.sent))
    return DueBatch(bloc_id=bloc_id, config=config, calendar=calendar, now=now, due=tuple(due))


# -- /deadline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """One deadline of a period that the officer's unit may move, as it stands."""

    period_id: int
    year: int
    kind: str
    field: DeadlineField
    opens: dt.datetime | None  # when its window opens: the new deadline must come after
    current: dt.datetime
    timezone: str  # the bloc's


@dataclass(frozen=True)
class Moved:
    """A deadline moved: the audited change, and every other linked officer to tell."""

    deadline: Deadline
    change: DeadlineChange
    told: tuple[OfficerContact, ...]


def _may_change(session: Session, officer: OfficerView, period: Period) -> bool:
    role = unit_role(session=session, bloc_id=officer.bloc_id, unit_id=officer.unit_id, year=period.year)
    return role in LEADING


def _deadline(period: Period, period_id: int, field: DeadlineField, timezone: str) -> Deadline | None:
    opens, current = deadline_of(period, field)
    if current is None:
        return None
    return Deadline(period_id=period_id, year=period.year, kind=period.kind, field=field, opens=opens,
                    current=current, timezone=timezone)


def movable_deadlines(*, session: Session, officer: OfficerView, now: dt.datetime) -> list[Deadline] | None:
    """The deadlines still ahead that the officer's unit may move (None: it leads no period's year)."""
    config = bloc_config(session=session, bloc_id=officer.bloc_id)
    periods = [period for period in periods_for_reporting(session=session, bloc_id=officer.bloc_id)
               if _may_change(session, officer, period)]
    if config is None or not periods:
        return None
    found = (_deadline(period, period.id, field, config.bloc.timezone)
             for period in periods if period.id is not None for field in DeadlineField)
    return [deadline for deadline in found if deadline is not None and deadline.current > now]


def movable_deadline(*, session: Session, officer: OfficerView, period_id: int,
                     field: DeadlineField) -> Deadline | None:
    """One deadline, if it exists and the officer's unit may still move it."""
    period = session.get(Period, period_id)
    config = bloc_config(session=session, bloc_id=officer.bloc_id)
    if period is None or config is None or period.bloc_id != officer.bloc_id \
            or not _may_change(session, officer, period):
        return None
    return _deadline(period, period_id, field, config.bloc.timezone)


def move_deadline(*, session: Session, officer: OfficerView, deadline: Deadline, after: dt.datetime) -> Moved:
    """Move the deadline (audited); reminders follow from the new value."""
    change = set_deadline(session=session, period_id=deadline.period_id, field=deadline.field, deadline=after,
                          actor=officer.actor, unit_code=officer.unit_code)
    told = tuple(contact for contact in linked_officers(session=session, bloc_id=officer.bloc_id)
                 if contact.officer_id != officer.id)
    return Moved(deadline=deadline, change=change, told=told)


# -- what `python -m bot run` says at start -------------------------------------------------


@dataclass(frozen=True)
class NextReminder:
    """A bloc's next reminder slot after `now` (None: nothing scheduled), in its time zone."""

    bloc_code: str
    bloc_name: str
    timezone: str
    at: dt.datetime | None
    kind: str | None  # rules.reminders.ReminderKind's value
    period_year: int | None = None


def next_reminders(*, session: Session, now: dt.datetime) -> list[NextReminder]:
    """Every bloc's next reminder slot (remind, digest, missed) after `now`, by the bloc's rules."""
    found: list[NextReminder] = []
    for bloc in session.exec(select(Bloc).order_by(col(Bloc.code))):
        config = bloc_config(session=session, bloc_id=bloc.id) if bloc.id is not None else None
        if config is None:
            continue
        calendar = WorkCalendar.of(config.reminders, config.bloc.timezone)
        best: tuple[dt.datetime, str, int] | None = None
        if config.reminders.enabled:
            periods = session.exec(select(Period).where(Period.bloc_id == bloc.id,
                                                        col(Period.reporting_deadline) > now))
            for period in periods:
                opens, deadline = period.reporting_opens, period.reporting_deadline
                slots = [*reminder_slots(opens=opens, deadline=deadline, reminders=config.reminders,
                                         calendar=calendar),
                         digest_slot(opens=opens, deadline=deadline, reminders=config.reminders, calendar=calendar),
                         missed_slot(deadline=deadline, reminders=config.reminders, calendar=calendar)]
                for slot in slots:
                    if slot is not None and slot.at > now and (best is None or slot.at < best[0]):
                        best = (slot.at, slot.kind.value, period.year)
        found.append(NextReminder(bloc_code=bloc.code, bloc_name=config.bloc.name, timezone=config.bloc.timezone,
                                  at=best[0] if best else None, kind=best[1] if best else None,
                                  period_year=best[2] if best else None))
    return found
