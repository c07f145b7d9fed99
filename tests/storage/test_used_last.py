"""Where an officer with a Telegram and a Zalo account is written to first: the channel used last."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import select

from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import link_account
from storage.models import ChatState, Officer, stored_id
from storage.roles import officer_addresses, officer_channels, set_preferred_channel
from tests.factories import seed_bloc

T0 = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)


def _state(engine: Engine, channel: str, user_id: str, at: dt.datetime) -> None:
    with session_scope(engine) as session:
        state = session.exec(select(ChatState).where(ChatState.channel == channel,
                                                     ChatState.user_id == user_id)).first()
        state = state or ChatState(channel=channel, user_id=user_id, language="vi")
        state.updated_at = at
        session.add(state)


def test_reminders_go_to_the_account_used_last_else_the_one_linked_last(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        officer = stored_id(session.exec(select(Officer).where(Officer.code == "xd-tdkt")).one())
        link_account(session=session, officer_id=officer, channel="telegram", external_id="7001", now=T0)
        link_account(session=session, officer_id=officer, channel="zalo", external_id="z1",
                     now=T0 + dt.timedelta(hours=1))

    def where() -> str:
        with session_scope(engine) as session:
            return officer_addresses(session=session, officer_ids=[officer])[officer]

    assert where() == "zalo:z1", "nothing used yet: the account linked last"
    _state(engine, "telegram", "7001", T0 + dt.timedelta(hours=2))
    assert where() == "telegram:7001", "a Telegram message since: Telegram"
    _state(engine, "zalo", "z1", T0 + dt.timedelta(hours=3))
    assert where() == "zalo:z1"
    _state(engine, "telegram", "7001", T0 + dt.timedelta(hours=4))
    assert where() == "telegram:7001"


def test_the_channel_an_officer_chose_beats_the_one_used_last(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        officers = {code: stored_id(session.exec(select(Officer).where(Officer.code == code)).one())
                    for code in ("xd-tdkt", "ct-tdkt")}
        for code, number in (("xd-tdkt", "7001"), ("ct-tdkt", "7002")):
            link_account(session=session, officer_id=officers[code], channel="telegram", external_id=number, now=T0)
        link_account(session=session, officer_id=officers["xd-tdkt"], channel="zalo", external_id="z1",
                     now=T0 + dt.timedelta(hours=1))
    both, telegram_only = officers["xd-tdkt"], officers["ct-tdkt"]
    _state(engine, "telegram", "7001", T0 + dt.timedelta(hours=2))
    _state(engine, "telegram", "7002", T0 + dt.timedelta(hours=2))

    def where() -> dict[int, str]:
        with session_scope(engine) as session:
            return officer_addresses(session=session, officer_ids=[both, telegram_only])

    assert where() == {both: "telegram:7001", telegram_only: "telegram:7002"}, "no choice: used last"
    with session_scope(engine) as session:
        set_preferred_channel(session=session, officer_id=both, channel="zalo")
        set_preferred_channel(session=session, officer_id=telegram_only, channel="zalo")  # no Zalo account
        assert officer_channels(session=session, officer_id=both) == (["telegram", "zalo"], "zalo")
    assert where() == {both: "zalo:z1", telegram_only: "telegram:7002"}, \
        "the chosen channel; the used-last rule where the officer has no account there"
    _state(engine, "telegram", "7001", T0 + dt.timedelta(hours=3))
    assert where()[both] == "zalo:z1", "using Telegram again does not undo the choice"
    with session_scope(engine) as session:
        set_preferred_channel(session=session, officer_id=both, channel=None)
    assert where()[both] == "telegram:7001", "back to the channel used last"
