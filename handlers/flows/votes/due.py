"""The scheduler's side of the votes: ballots whose time has come are counted, reminders go out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from handlers.chat import Reply
from handlers.renderers.votes import closing_replies, reminder_replies
from handlers.services.votes import Closed, due_ballots


def due_ballot_replies(engine: Engine, now: dt.datetime) -> list[Reply]:
    """Close the ballots whose closing time has come and send each open ballot's one reminder (bot/app.py)."""
    replies: list[Reply] = []
    for done in due_ballots(engine, now):
        replies.extend(closing_replies(done) if isinstance(done, Closed) else reminder_replies(done))
    return replies
