"""Checks of the generated paperwork against the database, shared by the chat and CLI tests."""

from __future__ import annotations

import io
from decimal import Decimal

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine

from handlers.services.ranking import RankingReport, compute_ranking
from rules.numbers import format_number
from storage.db import session_scope

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature."""
    assert content[:8] == PNG_SIGNATURE, "not a PNG"
    assert content[12:16] == b"IHDR"
    return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")


def ranking_in_db(engine: Engine, year: int = 2018) -> RankingReport:
    """The ranking as the database gives it now."""
    with session_scope(engine) as session:
        return compute_ranking(session=session, bloc_code="K3", year=year)


def check_score_sheet(content: bytes, report: RankingReport) -> None:
    """Every unit on its own row with its total, %, rank, band and proposal; header frozen; A4 landscape."""
    book = load_workbook(io.BytesIO(content))
    sheet = book["Bảng điểm"]
    assert sheet.freeze_panes == "C6"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == "9"  # A4
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    headers = [cell.value for cell in sheet[4]]
    for wanted in ("Đơn vị", "Tổng điểm", "Xếp hạng", "Xếp loại", "Đề nghị khen thưởng", "Điểm thưởng", "Điểm trừ"):
        assert wanted in headers, wanted
    assert "Tự chấm" in [cell.value for cell in sheet[5]] and "Thẩm định" in [cell.value for cell in sheet[5]]
    column = {name: index for index, name in enumerate(headers) if name}
    rows = list(sheet.iter_rows(min_row=6, values_only=True))
    assert len(rows) == len(report.rows)
    for values, expected in zip(rows, report.rows, strict=True):
        assert values[column["Đơn vị"]] == expected.unit_name
        total = values[column["Tổng điểm"]]
        assert isinstance(total, int | float), "numbers are stored as numbers"
        assert Decimal(str(total)).quantize(Decimal("0.01")) == expected.total.quantize(Decimal("0.01"))
        percent = values[column["Tỷ lệ % điểm chuẩn"]]
        assert abs(Decimal(str(percent)) * 100 - expected.percent_of_standard) < Decimal("0.001")
        assert str(values[column["Xếp hạng"]]).startswith(str(expected.rank))
        assert (values[column["Xếp loại"]] or None) == expected.band
        award = values[column["Đề nghị khen thưởng"]] or ""
        assert bool(award) == bool(expected.award)
    total_cell = sheet.cell(row=6, column=column["Tổng điểm"] + 1)
    assert total_cell.number_format == "#,##0.00"


def check_minutes(content: bytes, report: RankingReport) -> str:
    """The national title, BIÊN BẢN, every unit with its total, the ranking and the proposals; returns the text."""
    document = Document(io.BytesIO(content))
    texts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    text = "\n".join(texts)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "BIÊN BẢN" in text and report.bloc_name.upper() in text
    assert "THƯ KÝ" in text and "CHỦ TRÌ" in text
    for row in report.rows:
        assert f"Hạng {row.rank}" in text and row.unit_name in text
        assert format_number(row.total, decimals=2) in text
    assert document.styles["Normal"].font.name == "Times New Roman"
    assert 13 <= document.styles["Normal"].font.size.pt <= 14
    return text
