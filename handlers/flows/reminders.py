"""The scheduler's side of the reminders: what is due for a bloc (a service), rendered (bot/scheduler.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from handlers.chat import Reply
from handlers.renderers.reminders import ReminderRenderer
from handlers.services.reminders import reminders_due
from rules.reminders import DueMessage


@dataclass(frozen=True)
class Outgoing:
    """A due message, rendered, with where it goes."""

    bloc_id: int
    message: DueMessage
    chat_id: str  # an address
    reply: Reply


def due_messages(*, session: Session, bloc_id: int, now: dt.datetime) -> list[Outgoing]:
    """What the scheduler should send for a bloc at `now`, rendered (nothing outside working hours)."""
    batch = reminders_due(session=session, bloc_id=bloc_id, now=now)
    if batch is None:
        return []
    renderer = ReminderRenderer(batch.config, batch.calendar, batch.now)
    return [Outgoing(bloc_id=batch.bloc_id, message=item.message, chat_id=item.contact.chat_id,
                     reply=renderer.render(item.period, item.message, item.contact.language))
            for item in batch.due]
