"""The dispatcher keeps each flow's typed state and checks a button's nonce once, for every flow."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from handlers.flows.reporting import FLOW as REPORT
from handlers.flows.reporting import ReportState
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import issue_invites
from storage.models import ChatState, Entry
from tests.chat.driver import Clock, Person, make_person
from tests.factories import seed_bloc

DURING = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def person(engine: Engine, seeded: None) -> Person:
    """The seed bloc's ICT officer, joined, at the start of the report."""
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=DURING - dt.timedelta(days=1),
                               ttl=dt.timedelta(days=30), actor="test")
    code = next(invite.code for invite in issued if invite.officer_code == "tttt-tdkt")
    joined = make_person(engine, 1001, Clock(DURING))
    joined.command("start", code)
    return joined


def _row(engine: Engine) -> ChatState:
    with session_scope(engine) as session:
        return session.exec(select(ChatState).where(ChatState.user_id == 1001)).one()


def test_the_state_is_stored_as_the_flows_own_typed_model(engine: Engine, person: Person) -> None:
    person.command("report")
    person.text("30.544")
    row = _row(engine)
    assert row.flow == "report"
    assert row.flow_state is not None
    state = REPORT.load(row.flow_state)
    assert isinstance(state, ReportState)
    assert state.step == "confirm"
    assert state.item_code == "TT-1"
    assert str(state.value) == "30544"
    # A confirm button carries the nonce the dispatcher kept, and nothing else of the state.
    assert all(data.split(":")[1] == row.nonce for data in person.buttons())


def test_a_button_of_an_older_prompt_is_stale_and_changes_nothing(engine: Engine, person: Person) -> None:
    person.command("report")
    person.text("30.544")
    old_ok = next(data for data in person.buttons() if data.endswith(":ok"))
    person.press("Nhập lại")
    before = _row(engine)
    person.press_data(old_ok)
    assert person.last.notice  # the toast of a stale button
    after = _row(engine)
    assert after.flow_state == before.flow_state  # the prompt is shown again, with fresh buttons
    with session_scope(engine) as session:
        assert session.exec(select(Entry)).first() is None


@pytest.mark.parametrize("forged", ["r:000000:ok", "r::ok", "r:ok", "r", "r:" + "9" * 40 + ":ok"])
def test_forged_nonces_are_refused_by_the_dispatcher(engine: Engine, person: Person, forged: str) -> None:
    person.command("report")
    person.text("30.544")
    before = _row(engine)
    person.press_data(forged)
    after = _row(engine)
    assert after.flow_state == before.flow_state
    with session_scope(engine) as session:
        assert session.exec(select(Entry)).first() is None


def test_a_button_valid_in_another_step_is_stale_in_this_one(engine: Engine, person: Person) -> None:
    person.command("report")
    person.text("30.544")
    nonce = _row(engine).nonce
    # "submit" belongs to the summary step: with the current nonce it is still refused here.
    person.press_data(f"r:{nonce}:submit")
    assert person.last.notice
    assert REPORT.load(_row(engine).flow_state or "").step == "confirm"


def test_a_state_that_no_longer_reads_leaves_the_flow_politely(engine: Engine, person: Person) -> None:
    person.command("report")
    with session_scope(engine) as session:
        row = session.exec(select(ChatState).where(ChatState.user_id == 1001)).one()
        row.flow_state = json.dumps({"step": "no-such-step"})
        session.add(row)
    person.text("30.544")
    assert person.last.replies  # answered, not an error
    row = _row(engine)
    assert row.flow is None and row.flow_state is None
    person.command("report")
    assert REPORT.load(_row(engine).flow_state or "").step == "value"


def test_cancel_forgets_the_flow_state(engine: Engine, person: Person) -> None:
    person.command("report")
    person.command("cancel")
    row = _row(engine)
    assert (row.flow, row.flow_state, row.nonce) == (None, None, "")
