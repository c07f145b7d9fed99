"""What the fault tests of both channels wait for and compare: the sender's records, first copies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import col, select

from storage.db import session_scope
from storage.models import OutboxMessage

Text = TypeVar("Text", str, str | None)


async def wait_db(engine: Engine, condition: Callable[[Engine], bool], what: str) -> None:
    """The sender records what the platform answered just after: wait for that record."""
    for _ in range(300):
        if condition(engine):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {what}")


def tried(chat_id: int | str) -> Callable[[Engine], bool]:
    """Whether a message to the chat was tried and failed (a retry is due)."""
    def found(engine: Engine) -> bool:
        with session_scope(engine) as session:
            return bool(session.exec(select(OutboxMessage.id).where(
                OutboxMessage.chat_id == str(chat_id), OutboxMessage.state == "pending",
                col(OutboxMessage.attempts) >= 1)).first())
    return found


def first_copies(texts: list[Text]) -> list[Text]:
    """Texts with every later copy of a message dropped (each text of the script is unique).

    A request answered after the client gave up may reach the platform after the
    retry and after later messages: the late copy is the one dropped.
    """
    return [text for index, text in enumerate(texts) if text not in texts[:index]]
