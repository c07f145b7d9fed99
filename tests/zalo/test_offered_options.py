"""The options a Zalo chat was last offered: picked by a number typed alone, or by "/number" where a
typed number is the step's answer. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from storage.db import session_scope
from storage.messages import offer_options, offered_option

NOW = dt.datetime(2019, 1, 24, 3, tzinfo=dt.UTC)
CHAT = "zalo:bot:person"


def _pick(engine: Engine, number: int, *, by_command: bool = False) -> str | None:
    with session_scope(engine) as session:
        return offered_option(session=session, chat_key=CHAT, number=number, by_command=by_command)


def test_numbered_options_are_picked_by_the_number_alone(engine: Engine) -> None:
    with session_scope(engine) as session:
        offer_options(session=session, chat_key=CHAT, options=["v:go", "v:menu"], now=NOW)
    assert _pick(engine, 2) == "v:menu" and _pick(engine, 3) is None and _pick(engine, 0) is None
    assert _pick(engine, 1, by_command=True) is None, "no slash commands were offered"


def test_where_a_number_is_the_answer_the_options_are_picked_by_slash_numbers_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        offer_options(session=session, chat_key=CHAT, options=["v:1"], now=NOW)
        offer_options(session=session, chat_key=CHAT, options=["v:go", "v:menu"], now=NOW, by_command=True)
    assert _pick(engine, 1) is None and _pick(engine, 2) is None, "a number alone is the step's answer"
    assert _pick(engine, 1, by_command=True) == "v:go" and _pick(engine, 2, by_command=True) == "v:menu"
    with session_scope(engine) as session:  # a later step with numbered options replaces it
        offer_options(session=session, chat_key=CHAT, options=["r:ok"], now=NOW)
    assert _pick(engine, 1) == "r:ok" and _pick(engine, 1, by_command=True) is None
