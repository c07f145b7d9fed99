"""Ballot storage on SQLite and PostgreSQL: the database keeps one vote per unit and closes once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from storage.blocs import load_bloc
from storage.db import session_scope
from storage.models import BallotBox, BallotTally, BallotVoter, OpenVote
from storage.sealing import SealMismatch, use_ballot_secret
from storage.votes import (
    BallotKind,
    BallotStillOpen,
    BallotView,
    acclaim_outcome,
    ballot_counts,
    close_ballot,
    create_ballot,
    open_ballot_box,
    record_open_vote,
    record_secret_vote,
    store_result,
    unit_id_map,
)
from tests.factories import seed_bloc
from tests.votes.helpers import VOTING

MEMBERS = ("STTTT", "SXD", "SCT", "SGTVT", "STNMT", "SKHCN", "SNNPTNT")


def _open(engine: Engine, *, secret: bool = True, kind: BallotKind = BallotKind.acclaim,
          round: int = 1) -> BallotView | None:
    with session_scope(engine) as session:
        return create_ballot(
            session=session, bloc_id=1, year=2018, kind=kind, round=round, secret=secret,
            subject_unit_id=None, candidates=("STTTT",) if kind is BallotKind.acclaim else MEMBERS,
            members=MEMBERS, rules_json="{}", opened_at=VOTING, opened_by="test",
            closes_at=VOTING + dt.timedelta(hours=48), remind_at=VOTING + dt.timedelta(hours=36))


@pytest.fixture
def units(engine: Engine, seeded: None) -> dict[str, int]:
    """The seed bloc; unit ids by code."""
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        return unit_id_map(session=session, bloc_id=1)


def test_two_sessions_voting_for_one_unit_at_once_record_one_vote(engine: Engine, units: dict[str, int]) -> None:
    ballot = _open(engine)
    assert ballot is not None
    barrier = threading.Barrier(2)
    outcomes: list[bool] = []  # whether each got its vote in
    errors: list[BaseException] = []

    def vote(choice: str) -> None:
        try:
            with session_scope(engine) as session:
                barrier.wait(timeout=10)
                outcomes.append(record_secret_vote(session=session, ballot_id=ballot.id, unit_id=units["SXD"],
                                                   choice=choice) is not None)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=vote, args=(choice,)) for choice in ("yes", "no")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(outcomes) == [False, True], "the UNIQUE constraint lets exactly one in"
    with session_scope(engine) as session:
        assert len(list(session.exec(select(BallotVoter)))) == 1
        assert len(list(session.exec(select(BallotBox)))) == 1, "one sealed box with the one voter"


def test_a_ballot_round_is_opened_once_and_closed_once(engine: Engine, units: dict[str, int]) -> None:
    ballot = _open(engine)
    assert ballot is not None and _open(engine) is None, "the same round cannot be opened twice"
    with session_scope(engine) as session:
        assert record_secret_vote(session=session, ballot_id=ballot.id, unit_id=units["SCT"], choice="yes")
        with pytest.raises(BallotStillOpen):
            ballot_counts(session=session, ballot_id=ballot.id)
        assert close_ballot(session=session, ballot_id=ballot.id, now=VOTING, closed_by="test")
        assert not close_ballot(session=session, ballot_id=ballot.id, now=VOTING, closed_by="again")
        assert ballot_counts(session=session, ballot_id=ballot.id) == {"yes": 1, "no": 0}


def test_an_unknown_choice_is_refused(engine: Engine, units: dict[str, int]) -> None:
    ballot = _open(engine)
    assert ballot is not None
    with pytest.raises(ValueError, match="not an option"), session_scope(engine) as session:
        record_secret_vote(session=session, ballot_id=ballot.id, unit_id=units["SCT"], choice="maybe")
    with session_scope(engine) as session:
        assert list(session.exec(select(BallotVoter))) == []


def test_a_secret_vote_is_sealed_in_a_box_and_no_counter_moves(engine: Engine, units: dict[str, int]) -> None:
    ballot = _open(engine, kind=BallotKind.leader)
    assert ballot is not None and ballot.seal_key is not None
    receipts = []
    with session_scope(engine) as session:
        for unit, choice in (("STTTT", "SXD"), ("SGTVT", "SXD"), ("SXD", "SCT")):
            cast = record_secret_vote(session=session, ballot_id=ballot.id, unit_id=units[unit], choice=choice)
            assert cast is not None and cast.receipt is not None
            receipts.append(cast.receipt)
        boxes = list(session.exec(select(BallotBox).where(BallotBox.ballot_id == ballot.id)))
        assert len(boxes) == 3 and len({len(box.sealed) for box in boxes}) == 1
        assert all(b"SXD" not in box.sealed and b"SCT" not in box.sealed for box in boxes)
        assert list(session.exec(select(BallotTally))) == []
        assert set(BallotBox.model_fields) == {"slot", "ballot_id", "sealed"}, "no timestamp, no voter"
        assert close_ballot(session=session, ballot_id=ballot.id, now=VOTING, closed_by="test")
        box = open_ballot_box(session=session, ballot_id=ballot.id)
    assert {code: votes for code, votes in box.counts.items() if votes} == {"SXD": 2, "SCT": 1}
    assert box.receipts == tuple(sorted(receipts)) and box.invalid == 0


def test_a_box_cannot_be_counted_with_another_ballot_secret(engine: Engine, units: dict[str, int],
                                                             ballot_secret: str) -> None:
    ballot = _open(engine)
    assert ballot is not None
    with session_scope(engine) as session:
        record_secret_vote(session=session, ballot_id=ballot.id, unit_id=units["SCT"], choice="yes")
        close_ballot(session=session, ballot_id=ballot.id, now=VOTING, closed_by="test")
    use_ballot_secret("another secret, long enough to be accepted....")
    try:
        with pytest.raises(SealMismatch), session_scope(engine) as session:
            open_ballot_box(session=session, ballot_id=ballot.id)
    finally:
        use_ballot_secret(ballot_secret)


def test_an_open_vote_may_change_and_counts_once(engine: Engine, units: dict[str, int]) -> None:
    ballot = _open(engine, secret=False)
    assert ballot is not None
    with session_scope(engine) as session:
        officer = 3
        assert record_open_vote(session=session, ballot_id=ballot.id, unit_id=units["SXD"], officer_id=officer,
                                choice="yes", now=VOTING)
        assert not record_open_vote(session=session, ballot_id=ballot.id, unit_id=units["SXD"],
                                    officer_id=officer, choice="no", now=VOTING)
        assert [vote.choice for vote in session.exec(select(OpenVote))] == ["no"]
        assert close_ballot(session=session, ballot_id=ballot.id, now=VOTING, closed_by="test")
        assert ballot_counts(session=session, ballot_id=ballot.id) == {"yes": 0, "no": 1}


def test_the_acclaim_counts_once_its_latest_round_has_a_result(engine: Engine, units: dict[str, int]) -> None:
    seen = []
    for number, outcome in enumerate([None, "no_quorum", "rejected", "passed"]):
        if outcome is not None:
            ballot = _open(engine, round=number)
            assert ballot is not None
            with session_scope(engine) as session:
                close_ballot(session=session, ballot_id=ballot.id, now=VOTING, closed_by="test")
                store_result(session=session, ballot_id=ballot.id, outcome=outcome, result={}, winner_unit_id=None)
        with session_scope(engine) as session:
            seen.append(acclaim_outcome(session=session, bloc_id=1, year=2018))
    assert seen == [None, None, False, True]
