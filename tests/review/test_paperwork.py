"""The paperwork and the chart from plain data, and `python -m bot export` on both backends."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import select

from bot.cli import main
from bot.settings import get_settings
from bot.terminal import plain
from handlers.renderers.chart import ChartBar, render_ranking_chart
from handlers.renderers.documents import MinutesVote, render_minutes, render_score_sheet
from handlers.renderers.review import ranking_parts
from handlers.services.paperwork import MinutesData, ScoreSheetData, SheetCriterion, SheetSection
from handlers.services.ranking import RankedRow, RankingReport
from handlers.services.review import RankingView
from storage.db import make_engine, session_scope
from storage.models import AuditLog
from tests.factories import SEED_BLOC, SEED_RESULTS
from tests.review.checks import check_minutes, check_score_sheet, png_size, ranking_in_db

D = Decimal


def _sheet(units: int = 3, *, tie: bool = False) -> ScoreSheetData:
    """A small sheet: two sections, a bonus and a deduction criterion, `units` rows in rank order."""
    rows = []
    for index in range(units):
        rank = 1 if tie and index < 2 else index + 1
        total = D(95) - index
        rows.append(RankedRow(
            rank=rank, shared_rank=tie and index < 2, unit_code=f"U{index}", unit_name=f"Sở Thử nghiệm số {index}",
            status="accepted" if index != units - 1 else "not_started",
            self_criteria={"A.1": D(60), "B.1": D("35.5"), "X.1": D(1)},
            criteria={"A.1": D(60), "B.1": D(35) - index, "X.1": D(1)},
            sections={"A": D(60), "B": D(35) - index}, bonus=D(1), deductions=D(0), total=total,
            percent_of_standard=total, band="Xuất sắc" if total >= 96 else "Tốt",
            award="flag-pending-acclaim" if index == 0 else ("merit" if index == 1 else None),
        ))
    return ScoreSheetData(
        bloc_code="T1", bloc_name="Khối thi đua thử nghiệm", province="Tỉnh Bình Phước", year=2018,
        period_kind="year-end", standard_score=D(100),
        sections=[SheetSection("A", "Nhiệm vụ chính trị", D(60)), SheetSection("B", "Xây dựng Đảng", D(40))],
        criteria=[SheetCriterion("A.1", "Chỉ tiêu", "indicator", D(60)),
                  SheetCriterion("B.1", "Tổ chức Đảng", "self", D(40)),
                  SheetCriterion("X.1", "Sáng kiến", "bonus", D(2))],
        rows=rows,
    )


def _minutes(sheet: ScoreSheetData) -> MinutesData:
    return MinutesData(sheet=sheet, held_at=dt.datetime(2019, 1, 24, 8, 0, tzinfo=dt.UTC), place="Hội trường Sở",
                       chair_name="Nguyễn Văn Thành", chair_unit="Sở Thông tin và Truyền thông",
                       secretary_name="Trần Thị Mai", secretary_unit="Sở Thông tin và Truyền thông",
                       attending=[row.unit_name for row in sheet.rows])


def test_minutes_carry_the_real_times_of_ballots_held_before_the_configured_meeting() -> None:
    sheet = _sheet(3)
    opened = dt.datetime(2019, 1, 2, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    votes = [MinutesVote(question="Suy tôn", tallies=[("Đồng ý", 7)], outcome="Được suy tôn",
                         opened_at=opened, closed_at=opened + dt.timedelta(hours=26, minutes=10))]
    document = Document(io.BytesIO(render_minutes(_minutes(sheet), votes=votes)))  # configured: 24/01/2019
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "Bình Phước, ngày 03 tháng 01 năm 2019" in document.tables[0].rows[0].cells[1].text
    assert "Thời gian: từ 09 giờ 05, ngày 02 tháng 01 năm 2019 đến 11 giờ 15, ngày 03 tháng 01 năm 2019" in text
    assert "Thời gian bỏ phiếu: từ 09 giờ 05, ngày 02 tháng 01 năm 2019 đến 11 giờ 15" in text
    assert "24 tháng 01" not in text


def test_score_sheet_has_numbers_a_frozen_header_and_marks() -> None:
    sheet = _sheet(3, tie=True)
    book = load_workbook(io.BytesIO(render_score_sheet(sheet)))
    table = book["Bảng điểm"]
    assert table["A1"].value == "BẢNG TỔNG HỢP ĐIỂM THI ĐUA" and table.freeze_panes == "C6"
    assert table.print_title_rows == "$4:$5"
    rows = list(table.iter_rows(min_row=6, values_only=True))
    assert [row[1] for row in rows] == [row.unit_name for row in sheet.rows]
    # self and reviewed points side by side: B.1 self 35,5, reviewed 35 - index
    assert rows[1][4:6] == (35.5, 34)
    assert rows[0][-4] == "1 (đồng hạng)" and rows[1][-4] == "1 (đồng hạng)"
    assert rows[2][-1] == "Chưa nộp báo cáo" and rows[0][-1] in ("", None)
    assert rows[0][-2] == "Cờ thi đua của UBND tỉnh (chờ suy tôn)"
    assert [cell.value for cell in book["Tiêu chí"]["A"]][1:] == ["A", "B", "A.1", "B.1", "X.1"]


def test_minutes_follow_the_administrative_layout_and_render_votes() -> None:
    sheet = _sheet(3)
    votes = [MinutesVote(question="Suy tôn Sở Thử nghiệm số 0 nhận Cờ thi đua", tallies=[("Đồng ý", 6), ("Không", 1)],
                        outcome="Được suy tôn (6/7 phiếu)")]
    document = Document(io.BytesIO(render_minutes(_minutes(sheet), votes=votes)))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    heading = document.tables[0].rows[0].cells
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in heading[1].text and "Độc lập - Tự do - Hạnh phúc" in heading[1].text
    assert "KHỐI THI ĐUA THỬ NGHIỆM" in heading[0].text and "Bình Phước, ngày 24 tháng 01 năm 2019" in heading[1].text
    assert "BIÊN BẢN" in text and "Thời gian: 08 giờ 00, ngày 24 tháng 01 năm 2019." in text
    assert "Địa điểm: Hội trường Sở." in text
    assert "Được suy tôn (6/7 phiếu)" in text and "- Đồng ý: 6 phiếu" in text
    assert "Hạng 3: Sở Thử nghiệm số 2 – 93,00 điểm" in text and "chưa nộp báo cáo" in text
    results = document.tables[1]
    assert [cell.text for cell in results.rows[0].cells][:3] == ["Hạng", "Đơn vị", "ND A"]
    assert len(results.rows) == 1 + len(sheet.rows)
    signatures = document.tables[2].rows[0].cells
    assert "THƯ KÝ" in signatures[0].text and "Trần Thị Mai" in signatures[0].text
    assert "CHỦ TRÌ" in signatures[1].text and "Nguyễn Văn Thành" in signatures[1].text
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.left_margin.cm, 1) == 3.0
    fonts = {run.font.name for paragraph in document.paragraphs for run in paragraph.runs}
    body = document.paragraphs[:[paragraph.text for paragraph in document.paragraphs].index("Nơi nhận:")]
    sizes = {run.font.size.pt for paragraph in body for run in paragraph.runs if run.text}
    assert fonts == {"Times New Roman"} and sizes == {13.0, 14.0}  # "Nơi nhận" is 12/11 pt by the decree


def test_minutes_leave_the_votes_section_empty_without_votes() -> None:
    document = Document(io.BytesIO(render_minutes(_minutes(_sheet(2)))))
    texts = [paragraph.text for paragraph in document.paragraphs]
    votes_at = texts.index("4. Kết quả biểu quyết")
    assert texts[votes_at + 1].startswith("……") and "phiếu" not in "\n".join(texts)


def test_chart_is_a_png_with_a_bar_per_unit_and_vietnamese_text() -> None:
    bars = [ChartBar(label=f"{n}. Sở Nông nghiệp và PTNT {n}", sections=[D(45), D(18), D(27)], bonus=D("0.5"),
                     deductions=D(1) if n == 3 else D(0), total=D(90) - n) for n in range(1, 13)]
    few = render_ranking_chart(title="Khối thi đua số 3 – kết quả thi đua tổng kết năm 2018",
                               section_labels=["Nội dung I", "Nội dung II", "Nội dung III"],
                               bonus_label="Điểm thưởng", bars=bars[:3])
    many = render_ranking_chart(title="Khối thi đua số 3", section_labels=["Nội dung I", "Nội dung II", "Nội dung III"],
                                bonus_label="Điểm thưởng", bars=bars)
    (width, height), (_, taller) = png_size(few), png_size(many)
    assert width == 1200 and 300 < height < taller < 2400


def _view(count: int) -> RankingView:
    rows = [RankedRow(rank=n + 1, shared_rank=False, unit_code=f"U{n}", unit_name=f"Sở <Thử> & nghiệm số {n} của tỉnh",
                      status="accepted", self_criteria={}, criteria={},
                      sections={"I": D("49.8"), "II": D("19.6"), "III": D("29.3")}, bonus=D("0.35"),
                      deductions=D(0), total=D("99.05"), percent_of_standard=D("99.05"), band="Xuất sắc",
                      award="merit" if n == 1 else None) for n in range(count)]
    report = RankingReport(bloc_code="T", bloc_name="Khối", year=2018, period="year-end", standard_score=D(100),
                           rows=rows)
    return RankingView(report=report, short_names={}, missing=["U3"], unreviewed=[])


def test_the_group_table_fits_telegram_messages_and_phone_screens() -> None:
    parts = ranking_parts("vi", _view(60))
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= 4096 and part.startswith("<pre>") and part.endswith("</pre>")
        assert "<Thử>" not in part and "&lt;Thử&gt; &amp; nghiệm" in part  # names are escaped
        figures = [line for line in plain(part).split("\n") if line.startswith("   ")]
        assert figures and max(len(line) for line in figures) <= 36  # unit names may wrap; figures do not
    joined = "".join(parts)
    assert joined.count("số 3 của tỉnh ⚠ chưa nộp") == 1 and "➜ Bằng khen" in joined


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., tuple[int, str]]]:
    """Run `python -m bot ARGS` in-process against the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(*args: str) -> tuple[int, str]:
        get_settings.cache_clear()
        capsys.readouterr()
        status = main(list(args))
        return status, capsys.readouterr().out

    yield run
    get_settings.cache_clear()


def test_export_writes_both_files_for_the_seed_bloc(cli: Callable[..., tuple[int, str]], database_url: str,
                                                   tmp_path: Path) -> None:
    assert cli("init", str(SEED_BLOC))[0] == 0
    assert cli("results", "import", str(SEED_RESULTS))[0] == 0
    status, out = cli("export", "--bloc", "K3", "--year", "2018", "--out", str(tmp_path / "giay-to"),
                      "--place", "Hội trường UBND tỉnh")
    assert status == 0, out
    written = sorted(path.name for path in (tmp_path / "giay-to").iterdir())
    assert written == ["K3-2018-year-end-bang-tong-hop-diem.xlsx", "K3-2018-year-end-bien-ban-hop-khoi.docx"]
    engine: Engine = make_engine(database_url)
    try:
        report = ranking_in_db(engine)
        check_score_sheet((tmp_path / "giay-to" / written[0]).read_bytes(), report)
        text = check_minutes((tmp_path / "giay-to" / written[1]).read_bytes(), report)
        assert "Địa điểm: Hội trường UBND tỉnh." in text and "ngày 24 tháng 01 năm 2019" in text
        with session_scope(engine) as session:
            exported = session.exec(select(AuditLog).where(AuditLog.action == "paperwork.export")).one()
        assert exported.actor == "cli:export"
    finally:
        engine.dispose()
    assert cli("export", "--bloc", "NOPE", "--out", str(tmp_path))[0] == 2
    assert cli("export", "--bloc", "K3", "--year", "2030", "--out", str(tmp_path))[0] == 2
