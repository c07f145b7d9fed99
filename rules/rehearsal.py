"""A rehearsal of a bloc's year: every date moved by the same number of days so the year starts now.

`init FILE --rehearse` loads a bloc this way to try its calendar with the real
bot (the seed's year is 2018); the bloc then carries `rehearsal_days`, and every
message the bot sends for it says it is a rehearsal. The year's number stays.
`dates_outside_year` finds period dates that do not belong to the period's year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rules.config import BlocConfig, Period, PeriodKind, Window


def _local(moment: dt.datetime, config: BlocConfig) -> dt.datetime:
    return moment.replace(tzinfo=config.zone()) if moment.tzinfo is None else moment.astimezone(config.zone())


def _moved(window: Window | None, days: dt.timedelta) -> Window | None:
    if window is None:
        return None
    return window.model_copy(update={"opens": window.opens + days, "deadline": window.deadline + days})


def rehearsal_days(config: BlocConfig, now: dt.datetime) -> int:
    """Days to add to every date so that the first period opened today (already open now)."""
    first = min(_local(period.reporting.opens, config) for period in config.periods)
    today = now.astimezone(config.zone()).date()
    days = (today - first.date()).days
    if first + dt.timedelta(days=days) > now:
        days -= 1
    return days


def rehearse(config: BlocConfig, now: dt.datetime) -> BlocConfig:
    """The bloc with every period's dates and every holiday moved by the same days, marked a rehearsal."""
    days = rehearsal_days(config, now)
    shift = dt.timedelta(days=days)
    periods = [period.model_copy(update={"reporting": _moved(period.reporting, shift),
                                         "review": _moved(period.review, shift),
                                         "votes": _moved(period.votes, shift)})
               for period in config.periods]
    hours = config.reminders.working_hours
    reminders = config.reminders.model_copy(update={"working_hours": hours.model_copy(
        update={"holidays": [day + shift for day in hours.holidays]})})
    votes = config.votes
    if votes.working_hours is not None:
        votes = votes.model_copy(update={"working_hours": votes.working_hours.model_copy(
            update={"holidays": [day + shift for day in votes.working_hours.holidays]})})
    bloc = config.bloc.model_copy(update={"rehearsal_days": days})
    return BlocConfig.model_validate({**config.model_dump(), "bloc": bloc.model_dump(),
                                      "periods": [period.model_dump() for period in periods],
                                      "reminders": reminders.model_dump(), "votes": votes.model_dump()})


@dataclass(frozen=True)
class OutOfYear:
    """A period's date that lies outside its year (a year-end review may run into the next year)."""

    year: int
    kind: PeriodKind
    field: str  # reporting.opens, votes.deadline...
    moment: dt.datetime  # local time of the bloc


def dates_outside_year(config: BlocConfig) -> list[OutOfYear]:
    """Dates of each period before 1 January of its year, or after the end of the year that follows it.

    A mid-year period's dates belong to its year; a year-end period's may run into
    the next one (the review and the votes come after the year closes).
    """
    found: list[OutOfYear] = []
    for period in config.periods:
        last = period.year + (1 if period.kind is PeriodKind.year_end else 0)
        for name, window in _windows(period):
            for end, moment in (("opens", window.opens), ("deadline", window.deadline)):
                local = _local(moment, config)
                if not period.year <= local.year <= last:
                    found.append(OutOfYear(period.year, period.kind, f"{name}.{end}", local))
    return found


def _windows(period: Period) -> list[tuple[str, Window]]:
    named = [("reporting", period.reporting), ("review", period.review), ("votes", period.votes)]
    return [(name, window) for name, window in named if window is not None]
