"""The review's services on both backends, and what starting the bot does not import."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from handlers.services import paperwork, ranking
from handlers.services import review as service
from rules.config import PeriodKind
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.models import AuditLog, Unit
from storage.results import import_results
from storage.review import review_entry
from tests.factories import ROOT, seed_bloc, seed_results

NOW = dt.datetime(2019, 1, 21, 3, tzinfo=dt.UTC)


def _seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
    with session_scope(engine) as session:
        import_results(session=session, results=seed_results(), actor="test")


def test_a_publication_ranks_once_and_its_paperwork_shows_that_ranking(
    engine: Engine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _seed(engine)
    with session_scope(engine) as session:
        bloc, period = ranking.find_bloc_period(session=session, bloc_code="K3", year=2018,
                                                kind=PeriodKind.year_end)
        view = service.ranking_view(session=session, bloc=bloc, period=period)

        def again(**_: object) -> None:
            raise AssertionError("ranked a second time")

        monkeypatch.setattr(paperwork, "rank_period", again)
        monkeypatch.setattr(service, "rank_period", again)
        published = service.publish(session=session, bloc=bloc, period=period, view=view, actor="test", now=NOW)
        actions = list(session.exec(select(AuditLog.action).order_by(AuditLog.id)))
    assert published.version == 1 and published.previous is None
    assert published.score_sheet.rows == view.report.rows
    assert [row["unit_code"] for row in published.snapshot["ranking"]] == [row.unit_code for row in view.report.rows]
    assert published.score_sheet.file_names == ("K3-2018-year-end-bang-tong-hop-diem.xlsx",
                                                "K3-2018-year-end-bien-ban-hop-khoi.docx")
    assert actions[-2:] == ["ranking.publish", "paperwork.export"]


def test_a_ranked_row_keeps_the_units_own_points_beside_the_reviewed(engine: Engine) -> None:
    _seed(engine)
    with session_scope(engine) as session:
        bloc, period = ranking.find_bloc_period(session=session, bloc_code="K3", year=2018)
        unit_id = session.exec(select(Unit.id).where(Unit.code == "SXD")).one()
        assert unit_id is not None
        review_entry(session=session, period_id=period.id, unit_id=unit_id, item_type="criterion", item_code="I.2",
                     value=Decimal(9), reason="test", actor="test", bloc_id=bloc.id, unit_code="SXD")
    with session_scope(engine) as session:
        report = ranking.compute_ranking(session=session, bloc_code="K3", year=2018)
    rows = {row.unit_code: row for row in report.rows}
    assert rows["SXD"].self_criteria["I.2"] == Decimal("9.6") and rows["SXD"].criteria["I.2"] == Decimal(9)
    assert rows["SCT"].self_criteria == rows["SCT"].criteria
    assert [row.shared_rank for row in report.rows] == [False] * len(report.rows)
    assert all(row.submitted for row in report.rows)


def test_starting_the_bot_does_not_import_the_chart_or_document_libraries() -> None:
    code = ("import sys, bot.app, handlers.dispatch; "
            "print(sorted(name for name in ('matplotlib', 'openpyxl', 'docx') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                            check=True, timeout=120)
    assert result.stdout.strip() == "[]"


def test_the_paperwork_is_made_when_it_is_sent_not_in_the_turn(
    engine: Engine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The turn that publishes returns files whose bytes the channel makes later, off the event loop.

    A file is kept in the outbox as its maker's name and plain data: read back
    from JSON, it is the same file.
    """
    from handlers.renderers import documents
    from handlers.renderers import files as file_makers

    _seed(engine)
    with session_scope(engine) as session:
        bloc, period = ranking.find_bloc_period(session=session, bloc_code="K3", year=2018,
                                                kind=PeriodKind.year_end)
        view = service.ranking_view(session=session, bloc=bloc, period=period)
        published = service.publish(session=session, bloc=bloc, period=period, view=view, actor="test", now=NOW)
    made: list[str] = []
    kinds = file_makers.makers()
    monkeypatch.setitem(kinds, "score_sheet", file_makers.Maker(
        kinds["score_sheet"].data_type, lambda data: made.append("xlsx") or b"x"))
    monkeypatch.setitem(kinds, "minutes", file_makers.Maker(
        kinds["minutes"].data_type, lambda data: made.append("docx") or b"d"))
    files = documents.paperwork_files(published.score_sheet, published.minutes)
    assert made == []
    kept = [file_makers.load_file(json.loads(json.dumps(file_makers.dump_file(file)))) for file in files]
    assert kept == files
    assert [file_makers.make(file) for file in kept] == [b"x", b"d"]
    assert made == ["xlsx", "docx"]


def test_a_reviewed_value_is_capped_like_a_reported_one() -> None:
    """Issue 16: a huge percent of plan raised decimal.InvalidOperation; now each gets its reason."""
    items = {item.code: item for item in service.review_items(seed_bloc(), "STTTT")}
    count = items["TT-1"]  # 29.945 hộ planned
    assert service.read_value(count, "30.544 hộ") == Decimal(30544)
    assert service.read_value(count, "102%") == Decimal("30543.9")
    assert service.read_value(count, "9" * 30 + "%") == service.ValueProblem("digits")
    assert service.read_value(count, "999.999.999.999.999%") == service.ValueProblem("implausible")
    assert service.read_value(count, "3.000.000") == service.ValueProblem("implausible")
    assert service.read_value(count, "30.544 km") == service.ValueProblem("number")
