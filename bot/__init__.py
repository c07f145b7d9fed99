"""Runtime: settings, command line, channel adapters, wiring."""

import os

# Opt in to python-telegram-bot's future timedelta durations (retry_after etc.) now,
# so that its deprecation warning never fires (tests treat warnings as errors).
os.environ.setdefault("PTB_TIMEDELTA", "1")
