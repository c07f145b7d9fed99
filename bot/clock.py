"""A clock for trying a past moment: the shell's `--now` and the offline demo."""

from __future__ import annotations

import datetime as dt
import time


class RunningClock:
    """A clock that starts at a chosen moment and runs at normal speed."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self.began)
