"""A chat's oldest waiting update claimed in one statement, with whether another waits behind it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from storage.db import session_scope
from storage.messages import claim_next_incoming, next_incoming, store_incoming

T0 = dt.datetime(2026, 12, 2, 13, 0, tzinfo=dt.UTC)


def _keep(engine: Engine, update_id: str, chat_key: str) -> int:
    with session_scope(engine) as session:
        kept = store_incoming(session=session, channel="telegram", bot="1", update_id=update_id,
                              chat_key=chat_key, payload=f'"{update_id}"', now=T0)
    assert kept is not None
    return kept


def test_updates_are_claimed_oldest_first_each_once_saying_whether_another_waits(engine: Engine) -> None:
    first, other, second = _keep(engine, "1", "telegram:1:7"), _keep(engine, "2", "telegram:1:8"), \
        _keep(engine, "3", "telegram:1:7")
    claimed = []
    for _ in range(3):
        with session_scope(engine) as session:
            claimed.append(claim_next_incoming(session=session, chat_key="telegram:1:7", now=T0))
    assert claimed == [(first, '"1"', True), (second, '"3"', False), None]
    with session_scope(engine) as session:  # the other chat's update still waits, alone
        assert next_incoming(session=session, chat_key="telegram:1:7") is None
        assert claim_next_incoming(session=session, chat_key="telegram:1:8", now=T0) == (other, '"2"', False)


def test_a_claim_rolled_back_leaves_the_update_waiting(engine: Engine) -> None:
    kept = _keep(engine, "1", "telegram:1:7")
    with session_scope(engine) as session:
        assert claim_next_incoming(session=session, chat_key="telegram:1:7", now=T0) == (kept, '"1"', False)
        session.rollback()
    with session_scope(engine) as session:
        assert next_incoming(session=session, chat_key="telegram:1:7") == (kept, '"1"', False)
