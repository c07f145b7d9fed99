"""The scheduler's side of the votes: ballots whose time has come are counted, reminders go out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from handlers.chat import Reply
from handlers.rehearsal import mark
from handlers.renderers.votes import closing_replies, reminder_replies
from handlers.services.votes import close_and_count, remind
from storage.blocs import stored_bloc
from storage.db import session_scope
from storage.votes import due_ballot_ids

Owe = Callable[[Session, Sequence[Reply]], list[str]]


def due_ballot_replies(engine: Engine, now: dt.datetime, owe: Owe) -> list[str]:
    """Close the ballots whose closing time has come and owe each open ballot's one reminder (bot/app.py).

    Each ballot in its own transaction whose first statement is the claiming
    UPDATE; the announcement is written to the outbox in that transaction, so a
    ballot is never counted without its result owed to the group. Returns the
    chats owed messages.
    """
    with session_scope(engine) as session:
        to_close, to_remind = due_ballot_ids(session=session, now=now)
    chats: list[str] = []
    for ballot_id in to_close:
        with session_scope(engine) as session:
            closed = close_and_count(session=session, ballot_id=ballot_id, now=now, closed_by="schedule")
            if closed is not None:
                chats += owe(session, _marked(session, closed.ballot.bloc_id, closing_replies(closed)))
    for ballot_id in to_remind:
        with session_scope(engine) as session:
            reminder = remind(session=session, ballot_id=ballot_id, now=now)
            if reminder is not None:
                chats += owe(session, _marked(session, reminder.ballot.bloc_id, reminder_replies(reminder)))
    return chats


def _marked(session: Session, bloc_id: int, replies: Sequence[Reply]) -> list[Reply]:
    """A rehearsed bloc's messages say it is a rehearsal."""
    return mark(stored_bloc(session=session, bloc_id=bloc_id).config, replies)
