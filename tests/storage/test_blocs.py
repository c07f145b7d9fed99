"""Loading a bloc and its results on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, func
from sqlmodel import select

from rules.config import PeriodKind
from storage.audit import list_audit
from storage.blocs import LoadError, bloc_by_id, find_bloc, load_bloc
from storage.db import session_scope
from storage.models import AuditLog, Entry, Indicator, Officer, Submission, Unit
from storage.results import ResultsError, import_results
from storage.review import bind_group
from tests.factories import seed_bloc, seed_bloc_data, seed_results, seed_results_data


def _count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_load_creates_rows_and_audit(engine: Engine) -> None:
    with session_scope(engine) as session:
        summary = load_bloc(session=session, config=seed_bloc(), actor="test")
    assert summary.created
    assert _count(engine, Unit) == 7
    assert _count(engine, Officer) == 14
    assert _count(engine, Indicator) == 14
    assert _count(engine, AuditLog) > 0
    with session_scope(engine) as session:
        bloc = find_bloc(session=session, bloc_code="K3")
        assert bloc is not None
        assert bloc.config.indicators[0].target == Decimal(29945)
        assert bloc.config.pact.sections[0].criteria[0].rule is not None
        over_plan = bloc.config.pact.sections[0].criteria[0].rule.over_plan
        assert over_plan is not None and over_plan.points_per_percent == Decimal("0.1")


def test_loading_the_same_file_twice_changes_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    audit_rows = _count(engine, AuditLog)
    with session_scope(engine) as session:
        summary = load_bloc(session=session, config=seed_bloc(), actor="test")
    assert not summary.created and summary.changes == []
    assert _count(engine, AuditLog) == audit_rows


def test_a_changed_file_updates_what_changed_and_audits_it(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    data = seed_bloc_data()
    data["indicators"][0]["target"] = "30.000"
    data["units"][1]["name"] = "Sở Xây dựng tỉnh"
    with session_scope(engine) as session:
        summary = load_bloc(session=session, config=seed_bloc(**data), actor="operator")
    assert "indicator TT-1: target changed" in summary.changes
    assert "unit SXD: name changed" in summary.changes
    with session_scope(engine) as session:
        target = session.exec(select(Indicator.target).where(Indicator.code == "TT-1")).one()
        entries = list_audit(session=session)
    assert target == Decimal(30000)
    change = [entry for entry in entries if entry.action == "indicator.update"]
    assert len(change) == 1 and change[0].actor == "operator"
    assert change[0].before == '{"target": "29945"}' and change[0].after == '{"target": "30000"}'


def test_removing_a_unit_is_refused_and_changes_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    data = seed_bloc_data()
    data["units"] = [unit for unit in data["units"] if unit["code"] != "SKHCN"]
    data["officers"] = [officer for officer in data["officers"] if officer["unit"] != "SKHCN"]
    data["indicators"] = [ind for ind in data["indicators"] if ind["unit"] != "SKHCN"]
    before = _count(engine, AuditLog)
    with pytest.raises(LoadError, match="SKHCN"), session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(**data), actor="test")
    assert _count(engine, AuditLog) == before
    assert _count(engine, Indicator) == 14


def test_two_blocs_live_in_one_database(engine: Engine) -> None:
    other = seed_bloc_data()
    other["bloc"] = {**other["bloc"], "code": "K5", "name": "Khối thi đua số 5"}
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        load_bloc(session=session, config=seed_bloc(**other), actor="test")
    assert _count(engine, Unit) == 14
    with session_scope(engine) as session:
        assert find_bloc(session=session, bloc_code=None) is None  # ambiguous without a code
        found = find_bloc(session=session, bloc_code="K5")
        assert found is not None and found.config.bloc.name == "Khối thi đua số 5"


def test_import_results_stores_entries_and_is_idempotent(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        summary = import_results(session=session, results=seed_results(), actor="leader")
    assert summary.units == 7 and summary.changed_entries == 7 * 8 + 1
    assert _count(engine, Submission) == 7
    entries = _count(engine, Entry)
    audits = _count(engine, AuditLog)
    with session_scope(engine) as session:
        again = import_results(session=session, results=seed_results(), actor="leader")
    assert again.changed_entries == 0
    assert (_count(engine, Entry), _count(engine, AuditLog)) == (entries, audits)
    with session_scope(engine) as session:
        actual = session.exec(select(Entry.value).where(Entry.item_code == "TT-1")).one()
    assert actual == Decimal(30544)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"unit": "NOPE"}, "results[0].unit: 'NOPE' is not a member unit"),
        ({"indicators": {"XX-9": "1"}}, "results[0].indicators.XX-9: no such indicator"),
        ({"criteria": {"I.2": "11"}}, "results[0].criteria.I.2: 11 is above the maximum 10"),
        ({"criteria": {"Z.9": "1"}}, "results[0].criteria.Z.9: no such criterion"),
        ({"criteria": {"I.1": "1"}}, "results[0].criteria.I.1: is scored from indicators"),
    ],
)
def test_bad_results_change_nothing(engine: Engine, change: dict[str, object], expected: str) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    data = seed_results_data()
    data["results"][0] = {**data["results"][0], **change}
    from rules.config import ResultsFile

    results = ResultsFile.model_validate(data)
    audits = _count(engine, AuditLog)
    with pytest.raises(ResultsError) as raised, session_scope(engine) as session:
        import_results(session=session, results=results, actor="test")
    assert any(problem.startswith(expected) for problem in raised.value.problems), raised.value.problems
    assert _count(engine, Entry) == 0
    assert _count(engine, AuditLog) == audits


def test_results_for_a_missing_period_are_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    results = seed_results(period=PeriodKind.mid_year.value)
    with pytest.raises(ResultsError, match="no mid-year period in 2018"), session_scope(engine) as session:
        import_results(session=session, results=results, actor="test")


def test_a_turn_reads_the_configuration_text_only_once_it_changed(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(2):
            statements.clear()
            with session_scope(engine) as session:
                bloc = bloc_by_id(session=session, bloc_id=1)
            assert bloc is not None and bloc.config.awards.certificates == 1
        # Read and parsed at most once in this process (an earlier test may have): not again.
        assert not [statement for statement in statements if "config_json" in statement]
        data = seed_bloc_data()
        data["awards"] = {**data["awards"], "certificates": 3}
        with session_scope(engine) as session:
            load_bloc(session=session, config=seed_bloc(**data), actor="board")
        statements.clear()
        with session_scope(engine) as session:
            changed = bloc_by_id(session=session, bloc_id=1)
        assert changed is not None and changed.config.awards.certificates == 3
        # The new text is read unless this process parsed the same text before (keyed by its hash).
        assert len([statement for statement in statements if "config_json" in statement]) <= 1
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_bloc_is_read_once_per_transaction_and_afresh_after_a_change(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with session_scope(engine) as session:
            first = bloc_by_id(session=session, bloc_id=1)
            assert first is not None and first.group_chat_id is None
            read = len(statements)
            assert bloc_by_id(session=session, bloc_id=1) is first
            assert len(statements) == read  # the second ask costs no statement
            with pytest.raises(RuntimeError), session.begin_nested():
                bind_group(session=session, bloc_id=1, chat_id="telegram:-99", actor="test")
                assert bloc_by_id(session=session, bloc_id=1).group_chat_id == "telegram:-99"  # type: ignore[union-attr]
                raise RuntimeError("the savepoint is rolled back")
            rolled_back = bloc_by_id(session=session, bloc_id=1)
            assert rolled_back is not None and rolled_back.group_chat_id is None
            bind_group(session=session, bloc_id=1, chat_id="telegram:-100", actor="test")
            bound = bloc_by_id(session=session, bloc_id=1)
            assert bound is not None and bound.group_chat_id == "telegram:-100"
            data = seed_bloc_data()
            data["awards"] = {**data["awards"], "certificates": 3}
            load_bloc(session=session, config=seed_bloc(**data), actor="board")
            changed = bloc_by_id(session=session, bloc_id=1)
            assert changed is not None and changed.config.awards.certificates == 3
        with session_scope(engine) as session:
            statements.clear()
            again = bloc_by_id(session=session, bloc_id=1)
            assert again is not None and again.group_chat_id == "telegram:-100"
            assert statements  # a new transaction reads the bloc again
            assert bloc_by_id(session=session, bloc_id=99) is None
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_rule_change_is_audited(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    data = seed_bloc_data()
    data["awards"] = {**data["awards"], "certificates": 3}
    with session_scope(engine) as session:
        summary = load_bloc(session=session, config=seed_bloc(**data), actor="board")
        entries = [entry for entry in list_audit(session=session) if entry.action == "config.update"]
    assert summary.changes == ["configuration awards: changed"]
    assert len(entries) == 1 and entries[0].actor == "board"
    assert '"certificates": 1' in (entries[0].before or "") and '"certificates": 3' in (entries[0].after or "")


def test_removing_an_indicator_after_results_still_ranks(engine: Engine) -> None:
    from handlers.services.ranking import compute_ranking

    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        import_results(session=session, results=seed_results(), actor="leader")
    data = seed_bloc_data()
    data["indicators"] = [ind for ind in data["indicators"] if ind["code"] != "TT-2"]
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(**data), actor="board")
        report = compute_ranking(session=session, bloc_code="K3", year=2018)
    assert len(report.rows) == 7
    with session_scope(engine) as session:
        kept = session.exec(select(Entry.value).where(Entry.item_code == "TT-2")).one()
    assert kept == Decimal("31.5")


def test_results_of_a_published_period_are_refused(engine: Engine) -> None:
    import datetime as dt

    from storage.models import Period

    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        period = session.exec(select(Period)).one()
        period.published_at = dt.datetime(2019, 1, 20, tzinfo=dt.UTC)
        session.add(period)
    with pytest.raises(ResultsError, match="published and locked"), session_scope(engine) as session:
        import_results(session=session, results=seed_results(), actor="test")
    assert _count(engine, Entry) == 0


def test_a_deadline_moved_in_chat_survives_loading_a_changed_file(engine: Engine) -> None:
    import datetime as dt

    from storage.models import Period

    moved = dt.datetime(2019, 1, 15, 10, tzinfo=dt.UTC)
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        period = session.exec(select(Period)).one()
        period.reporting_deadline = moved  # what /deadline does
        session.add(period)
    data = seed_bloc_data()
    data["units"][1]["name"] = "Sở Xây dựng tỉnh"
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(**data), actor="operator")
        assert session.exec(select(Period.reporting_deadline)).one() == moved
    data["periods"][0]["reporting"] = {**data["periods"][0]["reporting"], "deadline": "2019-01-12T17:00:00"}
    with session_scope(engine) as session:
        summary = load_bloc(session=session, config=seed_bloc(**data), actor="operator")
        assert session.exec(select(Period.reporting_deadline)).one() == dt.datetime(2019, 1, 12, 10, tzinfo=dt.UTC)
    assert "period 2018 year-end: reporting_deadline changed" in summary.changes
