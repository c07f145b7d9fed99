"""The seed year continued to its votes: a published ranking, a group chat, linked voters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import link_account
from storage.models import Bloc, Officer, Period, stored_id
from storage.results import import_results
from storage.review import bind_group
from tests.factories import seed_bloc, seed_results

GROUP = -1001234567890
# 10:00 on 24 January 2019 in Vietnam: the seed's votes window (after the ranking is published).
VOTING = dt.datetime(2019, 1, 24, 3, 0, tzinfo=dt.UTC)
HEADS = {"STTTT": "tttt-head", "SXD": "xd-head", "SCT": "ct-head", "SGTVT": "gtvt-head",
         "STNMT": "tnmt-head", "SKHCN": "khcn-head", "SNNPTNT": "nn-head"}


def seed_config_data(**changes: Any) -> dict[str, Any]:
    """Changes to the seed for vote tests: no report reminders (they are another feature's noise)."""
    return {"reminders": {"enabled": False}, **changes}


def publish_seed_year(engine: Engine, *, group: int | None = GROUP, load: bool = True, channel: str = "telegram",
                      **changes: Any) -> None:
    """Load (or update) the seed bloc, import its results, publish the 2018 ranking, bind the group
    (on `channel`: a Zalo group's id is the number as a string)."""
    with session_scope(engine) as session:
        if load:
            load_bloc(session=session, config=seed_bloc(**seed_config_data(**changes)), actor="test")
        import_results(session=session, results=seed_results(), actor="test")
        period = session.exec(select(Period).where(Period.year == 2018, Period.kind == "year-end")).one()
        period.published_at = VOTING - dt.timedelta(days=1)
        session.add(period)
        bloc = session.exec(select(Bloc)).one()
        if group is not None:
            bind_group(session=session, bloc_id=stored_id(bloc), chat_id=f"{channel}:{group}", actor="test")


def link_officers(engine: Engine, users: dict[str, int], *, channel: str = "telegram") -> None:
    """Link officers (by code) to chat user ids on `channel`, as redeeming their invites would."""
    with session_scope(engine) as session:
        for code, user_id in users.items():
            officer = session.exec(select(Officer).where(Officer.code == code)).one()
            link_account(session=session, officer_id=stored_id(officer), channel=channel,
                         external_id=str(user_id), now=dt.datetime.now(dt.UTC))
