"""Where a bloc's group post goes (storage.groups.group_plan): the group, and in private every officer
reached on another channel than a usable group's; the leader's notice only for the officers on Zalo."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import select

from storage.blocs import load_bloc
from storage.db import session_scope
from storage.groups import GroupPlan, group_plan, mark_group_refused
from storage.invites import link_account
from storage.models import BlocGroup, Officer, stored_id
from storage.roles import set_preferred_channel
from tests.factories import seed_bloc

T0 = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)
# Officers by code: the channel and id of their account (Nga on both, used on neither: the one linked last).
ACCOUNTS = {"tttt-tdkt": [("zalo", "z1")], "xd-tdkt": [("telegram", "7002")], "ct-tdkt": [("telegram", "7003")],
            "khcn-tdkt": [("telegram", "7011"), ("zalo", "z11")]}


def _world(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        for code, accounts in ACCOUNTS.items():
            officer = stored_id(session.exec(select(Officer).where(Officer.code == code)).one())
            for minutes, (channel, external_id) in enumerate(accounts):
                link_account(session=session, officer_id=officer, channel=channel, external_id=external_id,
                             now=T0 + dt.timedelta(minutes=minutes))


def _plan(engine: Engine, address: str) -> GroupPlan:
    with session_scope(engine) as session:
        plan = group_plan(session=session, address=address, now=T0)
    assert plan is not None
    return plan


def test_officers_on_another_channel_than_the_group_get_the_post_in_private(engine: Engine) -> None:
    _world(engine)
    # No group: everyone in private, Telegram too; the leader told why for the officers on Zalo.
    plan = _plan(engine, "bloc:1")
    assert plan.group is None and plan.reason == "no_group"
    assert sorted(plan.private) == ["telegram:7002", "telegram:7003", "zalo:z1", "zalo:z11"]
    with session_scope(engine) as session:
        session.add(BlocGroup(bloc_id=1, channel="zalo", chat_id="g1", bound_at=T0))
    # A usable Zalo group: the officers on Telegram in private, one copy each, and no notice.
    plan = _plan(engine, "zalo:g1")
    assert plan.group == "zalo:g1" and plan.reason is None
    assert sorted(plan.private) == ["telegram:7002", "telegram:7003"]
    # Refused: nobody reads the group; everyone in private, the refusal told.
    with session_scope(engine) as session:
        mark_group_refused(session=session, channel="zalo", chat_id="g1", now=T0)
    plan = _plan(engine, "zalo:g1")
    assert plan.group is None and plan.reason == "refused"
    assert sorted(plan.private) == ["telegram:7002", "telegram:7003", "zalo:z1", "zalo:z11"]


def test_beside_a_telegram_group_only_the_officers_on_zalo_get_it_in_private(engine: Engine) -> None:
    _world(engine)
    with session_scope(engine) as session:
        session.add(BlocGroup(bloc_id=1, channel="telegram", chat_id="-100", bound_at=T0))
        nga = stored_id(session.exec(select(Officer).where(Officer.code == "khcn-tdkt")).one())
    plan = _plan(engine, "telegram:-100")
    assert plan.group == "telegram:-100" and plan.reason == "no_group"
    assert sorted(plan.private) == ["zalo:z1", "zalo:z11"]
    with session_scope(engine) as session:  # Nga chooses Telegram: she reads the group, no private copy
        set_preferred_channel(session=session, officer_id=nga, channel="telegram")
    assert _plan(engine, "telegram:-100").private == ("zalo:z1",)
