"""The head of a chat's outbox queue leased in one statement, saying whether another message waits behind it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from storage.db import session_scope
from storage.messages import DELIVERED, add_outgoing, finish_outgoing, lease_head

T0 = dt.datetime(2026, 12, 2, 13, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)


def _owe(engine: Engine, chat_id: str, text: str) -> None:
    with session_scope(engine) as session:
        add_outgoing(session=session, channel="telegram", bot="1", chat_id=chat_id, chat_key=f"telegram:1:{chat_id}",
                     payload={"reply": {"text": text}}, now=T0)


def test_the_head_is_leased_once_and_says_whether_another_message_waits_behind_it(engine: Engine) -> None:
    _owe(engine, "7", "one")
    _owe(engine, "8", "other chat")
    _owe(engine, "7", "two")
    with session_scope(engine) as session:
        first = lease_head(session=session, chat_key="telegram:1:7", now=T0, lease=LEASE)
        assert first is not None and first.payload["reply"]["text"] == "one" and first.more
        assert lease_head(session=session, chat_key="telegram:1:7", now=T0, lease=LEASE) is None  # leased
        finish_outgoing(session=session, outbox_id=first.id, state=DELIVERED, now=T0)
        second = lease_head(session=session, chat_key="telegram:1:7", now=T0, lease=LEASE)
        assert second is not None and second.payload["reply"]["text"] == "two" and not second.more
        other = lease_head(session=session, chat_key="telegram:1:8", now=T0, lease=LEASE)
        assert other is not None and not other.more, "another chat's messages are not behind it"
