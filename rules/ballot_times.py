"""When a ballot opens and closes: inside the bloc's votes window, closing in working time.

A ballot is opened by the leader at a moment of their choosing; the bloc's
configuration names a votes window (`periods[].votes`), and an opening outside
it needs the leader's confirmation. Its closing time is the opening plus the
hours chosen, moved, when it would fall outside the working day (at night, on a
day off), to the start of the next working period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rules.reminders import WorkCalendar


@dataclass(frozen=True)
class BallotTimes:
    """A ballot's times if opened now: the close asked for, the close kept, the window."""

    opens_at: dt.datetime
    asked_close: dt.datetime  # the opening plus the hours chosen
    closes_at: dt.datetime  # within working time
    window: tuple[dt.datetime, dt.datetime] | None  # the configured votes window, if any

    @property
    def moved(self) -> bool:
        """Whether the close was moved out of the night (or a day off) into working time."""
        return self.closes_at != self.asked_close

    @property
    def outside_window(self) -> bool:
        """Whether the opening lies outside the configured votes window."""
        return self.window is not None and not self.window[0] <= self.opens_at < self.window[1]


def ballot_times(*, now: dt.datetime, hours: int, calendar: WorkCalendar,
                 window: tuple[dt.datetime, dt.datetime] | None) -> BallotTimes:
    """The times of a ballot opened `now` for `hours`, its close moved into working time."""
    asked = now + dt.timedelta(hours=hours)
    return BallotTimes(opens_at=now, asked_close=asked, closes_at=calendar.next_working(asked), window=window)
