"""The paperwork the board expects as files: the score sheet (.xlsx) and the minutes (.docx).

Pure functions from plain data (`handlers.services.paperwork`) to bytes: no
database, no chat. The documents are always in Vietnamese, the board's language,
so their fixed wording lives here as the form it is (the minutes follow Decree
30/2020/NĐ-CP on administrative documents) rather than in the chat's message
catalogs. openpyxl and python-docx are imported inside the functions that use
them, so that starting the bot does not load them.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handlers.chat import OutFile
from handlers.renderers.extras import extras_short
from handlers.renderers.votes import minutes_count, minutes_outcome, minutes_question, minutes_tallies
from handlers.services.paperwork import MinutesData, ScoreSheetData
from handlers.services.ranking import RankedRow
from rules.numbers import format_number, format_standard_percent

FONT = "Times New Roman"
BODY_SIZE = 13  # points, the Normal style's
AWARDS = {
    "flag": "Cờ thi đua của UBND tỉnh",
    "flag-pending-acclaim": "Cờ thi đua của UBND tỉnh (chờ suy tôn)",
    "merit": "Bằng khen của Chủ tịch UBND tỉnh",
}
PERIODS = {"year-end": "tổng kết năm", "mid-year": "sơ kết 6 tháng đầu năm"}
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
NOT_SUBMITTED = "Chưa nộp báo cáo"
# Numbers are stored as numbers and shown with this format: Excel applies the reader's
# locale, so a Vietnamese Windows shows 1.234,56 and an English one 1,234.56.
POINTS_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"


@dataclass(frozen=True)
class MinutesVote:
    """The result of one closed ballot, as the minutes word it."""

    question: str
    tallies: Sequence[tuple[str, int]]
    outcome: str
    # The counting committee's lines (ballots issued, returned, valid, invalid; each option's
    # votes and percentage; the roll check; the receipts); empty: the tallies alone are shown.
    count: Sequence[str] = ()
    # When it was held, in the bloc's time zone: opened, closed (empty: not said).
    opened_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


def minutes_votes(data: MinutesData) -> list[MinutesVote]:
    """The closed ballots of the minutes' year, worded for the minutes."""
    return [MinutesVote(question=minutes_question(vote), tallies=minutes_tallies(vote), outcome=minutes_outcome(vote),
                        count=minutes_count(vote), opened_at=_local(vote.opened_at, vote.timezone),
                        closed_at=_local(vote.closed_at, vote.timezone))
            for vote in data.votes]


def _local(moment: dt.datetime | None, zone: str) -> dt.datetime | None:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone)) if moment is not None else None


def period_title(data: ScoreSheetData) -> str:
    """`tổng kết năm 2018`."""
    return f"{PERIODS.get(data.period_kind, data.period_kind)} {data.year}"


def award_label(award: str | None) -> str:
    """What the bloc proposes, in words."""
    return AWARDS.get(award or "", "")


def _points(value: Decimal) -> str:
    return format_number(value, decimals=2)


# -- the score sheet ------------------------------------------------------------


def extras_text(unit: RankedRow) -> str:
    """Where a unit's bonus and deductions come from, as on the group's table: `+0,35 vượt kế hoạch I.1 (…)`."""
    return "; ".join(html.unescape(line) for line in extras_short("vi", unit.extras))



def render_score_sheet(data: ScoreSheetData) -> bytes:
    """The score sheet: one row per unit, own and reviewed points per criterion, totals, place."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Bảng điểm"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_font = Font(name=FONT, size=11, bold=True)
    body_font = Font(name=FONT, size=11)
    centered = Alignment(horizontal="center", vertical="center", wrap_text=True)

    columns: list[tuple[str, str | None]] = [("STT", None), ("Đơn vị", None)]
    for criterion in data.criteria:
        label = f"{criterion.code} (tối đa {format_number(criterion.max_points)})"
        columns += [(label, "Tự chấm"), (label, "Thẩm định")]
    columns += [(f"Cộng nội dung {section.code}", None) for section in data.sections]
    columns += [("Thưởng vượt kế hoạch", None), ("Điểm thưởng", None), ("Điểm trừ", None),
                ("Căn cứ điểm thưởng, điểm trừ", None), ("Tổng điểm", None), ("Tỷ lệ % điểm chuẩn", None),
                ("Xếp hạng", None), ("Xếp loại", None), ("Đề nghị khen thưởng", None), ("Ghi chú", None)]
    width = len(columns)
    last = get_column_letter(width)

    titles = [
        ("BẢNG TỔNG HỢP ĐIỂM THI ĐUA", Font(name=FONT, size=14, bold=True)),
        (f"{data.bloc_name} – {data.province} – {period_title(data)}", Font(name=FONT, size=12, bold=True)),
        (f"Điểm chuẩn: {format_number(data.standard_score)} điểm. Tự chấm: điểm đơn vị tự đánh giá; "
         "thẩm định: điểm sau rà soát của khối trưởng, khối phó (điểm được tính).", Font(name=FONT, size=11,
                                                                                         italic=True)),
    ]
    for row, (text, font) in enumerate(titles, start=1):
        sheet.merge_cells(f"A{row}:{last}{row}")
        cell = sheet.cell(row=row, column=1, value=text)
        cell.font, cell.alignment = font, Alignment(horizontal="center", wrap_text=True)
    head, sub = 4, 5
    index = 1
    while index <= width:
        label, second = columns[index - 1]
        if second is None:
            sheet.merge_cells(start_row=head, start_column=index, end_row=sub, end_column=index)
            sheet.cell(row=head, column=index, value=label)
            index += 1
        else:
            sheet.merge_cells(start_row=head, start_column=index, end_row=head, end_column=index + 1)
            sheet.cell(row=head, column=index, value=label)
            sheet.cell(row=sub, column=index, value="Tự chấm")
            sheet.cell(row=sub, column=index + 1, value="Thẩm định")
            index += 2
    for row in (head, sub):
        for column in range(1, width + 1):
            cell = sheet.cell(row=row, column=column)
            cell.font, cell.alignment, cell.border = header_font, centered, border

    for offset, unit in enumerate(data.rows):
        row = sub + 1 + offset
        values: list[tuple[object, str | None]] = [(offset + 1, None), (unit.unit_name, None)]
        for criterion in data.criteria:
            values += [(unit.self_criteria.get(criterion.code, Decimal(0)), POINTS_FORMAT),
                       (unit.criteria.get(criterion.code, Decimal(0)), POINTS_FORMAT)]
        values += [(unit.sections.get(section.code, Decimal(0)), POINTS_FORMAT) for section in data.sections]
        values += [
            (unit.extras.over_plan if unit.extras is not None else Decimal(0), POINTS_FORMAT),
            (unit.bonus, POINTS_FORMAT), (unit.deductions, POINTS_FORMAT), (extras_text(unit), None),
            (unit.total, POINTS_FORMAT),
            (unit.percent_of_standard / 100, PERCENT_FORMAT),
            (f"{unit.rank}" + (" (đồng hạng)" if unit.shared_rank else ""), None),
            (unit.band or "", None), (award_label(unit.award), None),
            ("" if unit.submitted else NOT_SUBMITTED, None),
        ]
        for column, (value, number_format) in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.font, cell.border = body_font, border
            if number_format is not None:
                cell.number_format = number_format
                cell.alignment = Alignment(horizontal="right", vertical="center")
            else:
                cell.alignment = Alignment(vertical="center", wrap_text=True)
        total_cell = sheet.cell(row=row, column=width - 5)
        total_cell.font = Font(name=FONT, size=11, bold=True)

    sheet.column_dimensions["A"].width = 5
    sheet.column_dimensions["B"].width = 34
    for column in range(3, width + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 10
    for column in range(width - 2, width + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 22
    sheet.column_dimensions[get_column_letter(width - 6)].width = 40  # where the bonus and deductions come from
    sheet.row_dimensions[head].height = 32
    sheet.freeze_panes = sheet.cell(row=sub + 1, column=3)
    sheet.print_title_rows = f"{head}:{sub}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    legend = book.create_sheet("Tiêu chí")
    legend.append(["Mã", "Tiêu chí", "Điểm tối đa"])
    for cell in legend[1]:
        cell.font = header_font
    for section in data.sections:
        legend.append([section.code, section.name, section.max_points])
    for criterion in data.criteria:
        legend.append([criterion.code, criterion.name, criterion.max_points])
    for row in legend.iter_rows(min_row=2):
        row[2].number_format = POINTS_FORMAT
    legend.column_dimensions["B"].width = 70
    legend.freeze_panes = "A2"

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# -- the minutes -----------------------------------------------------------------


def _style_document(document: Any) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_SIZE)
    # Word picks the East Asian font slot for some Vietnamese letters: name it too.
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(3)
    section = document.sections[0]
    # A4 with the margins of Decree 30/2020: top and bottom 20 mm, left 30 mm, right 15 mm.
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)


def _alignment(align: str) -> Any:
    """python-docx's paragraph alignment by name (`left`, `center`)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    return WD_ALIGN_PARAGRAPH.LEFT if align == "left" else WD_ALIGN_PARAGRAPH.CENTER


def _emphasis(run: Any, *, bold: bool, italic: bool) -> None:
    """Bold and italic where wanted; plain text is left without the elements that say it is not."""
    if bold:
        run.bold = True
    if italic:
        run.italic = True


def _line(container: Any, text: str, *, bold: bool = False, italic: bool = False, size: int = 13,
          align: str | None = None) -> Any:
    from docx.shared import Pt

    paragraph = container.add_paragraph()
    run = paragraph.add_run(text)
    _emphasis(run, bold=bold, italic=italic)
    run.font.size, run.font.name = Pt(size), FONT
    if align is not None:
        paragraph.alignment = _alignment(align)
    paragraph.paragraph_format.space_after = Pt(0)
    return paragraph


def _cell_text(cell: Any, text: str, *, bold: bool = False, italic: bool = False, size: int = 13,
               align: str = "center") -> None:
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    if paragraph.text or len(cell.paragraphs) > 1 or paragraph.runs:
        paragraph = cell.add_paragraph()
    run = paragraph.add_run(text)
    _emphasis(run, bold=bold, italic=italic)
    # The font and the 13 pt come from the Normal style: a table has hundreds of cells,
    # and every property set on a run is an XML element more to make (bench/publish.py).
    if size != BODY_SIZE:
        run.font.size = Pt(size)
    paragraph.alignment = _alignment(align)
    paragraph.paragraph_format.space_after = Pt(0)


def _place_name(province: str) -> str:
    for prefix in ("Tỉnh ", "tỉnh ", "Thành phố ", "thành phố "):
        if province.startswith(prefix):
            return province.removeprefix(prefix)
    return province


def _date_words(moment: dt.datetime) -> str:
    return f"ngày {moment.day:02d} tháng {moment.month:02d} năm {moment.year}"


def _moment_words(moment: dt.datetime) -> str:
    return f"{moment.hour:02d} giờ {moment.minute:02d}, {_date_words(moment)}"


def _held(votes: Sequence[MinutesVote]) -> tuple[dt.datetime, dt.datetime] | None:
    """From the first ballot's opening to the last one's close, when the ballots say."""
    opened = [vote.opened_at for vote in votes if vote.opened_at is not None]
    closed = [vote.closed_at for vote in votes if vote.closed_at is not None]
    return (min(opened), max(closed)) if opened and closed else None


def render_minutes(data: MinutesData, votes: Sequence[MinutesVote] | None = None) -> bytes:
    """The minutes of the meeting as a Vietnamese administrative document (Decree 30/2020).

    `votes` (by default `data.votes`, worded) are the closed ballots' results; without
    any the section is left for the secretary to fill in by hand.
    """
    votes = minutes_votes(data) if votes is None else votes
    # Ballots held in the chat date the minutes: from the first opening to the last close.
    held = _held(votes)
    dated = held[1] if held is not None else data.held_at
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm

    sheet = data.sheet
    document = Document()
    _style_document(document)
    center = "center"

    # Heading: the issuing body on the left, the national title on the right.
    heading = document.add_table(rows=1, cols=2)
    heading.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = heading.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(10)
    _cell_text(left, f"UBND {sheet.province}".upper(), size=12)
    _cell_text(left, sheet.bloc_name.upper(), bold=True, size=13)
    _cell_text(left, "———", size=12)
    _cell_text(left, "Số: …/BB-KTĐ", size=13)
    _cell_text(right, NATIONAL_TITLE, bold=True, size=12)
    _cell_text(right, MOTTO, bold=True, size=13)
    _cell_text(right, "———————————", size=12)
    _cell_text(right, f"{_place_name(sheet.province)}, {_date_words(dated)}", italic=True, size=13)

    _line(document, "", size=13)
    _line(document, "BIÊN BẢN", bold=True, size=14, align=center)
    _line(document, f"Họp {period_title(sheet)} công tác thi đua, khen thưởng của {sheet.bloc_name}",
          bold=True, size=14, align=center)
    _line(document, "", size=13)

    if held is not None:
        _line(document, f"Thời gian: từ {_moment_words(held[0])} đến {_moment_words(held[1])} "
                        "(biểu quyết bằng phiếu qua hệ thống).")
    else:
        _line(document, f"Thời gian: {_moment_words(data.held_at)}.")
    _line(document, f"Địa điểm: {data.place or '…………………………………………'}.")
    _line(document, "I. THÀNH PHẦN THAM DỰ", bold=True)
    _line(document, f"Chủ trì: {data.chair_name} – {data.chair_unit} (đơn vị khối trưởng).")
    _line(document, f"Thư ký: {data.secretary_name} – {data.secretary_unit}.")
    _line(document, f"Đại diện {len(data.attending)} đơn vị thành viên:")
    for number, unit in enumerate(data.attending, start=1):
        _line(document, f"{number}. {unit}")

    _line(document, "II. NỘI DUNG", bold=True)
    _line(document, "1. Kết quả chấm điểm thi đua (sau rà soát, thẩm định)", bold=True)
    _results_table(document, sheet)
    _line(document, f"Điểm chuẩn: {format_number(sheet.standard_score)} điểm.", italic=True)

    _line(document, "2. Xếp hạng", bold=True)
    for row in sheet.rows:
        shared = " (đồng hạng)" if row.shared_rank else ""
        missing = f" – {NOT_SUBMITTED.lower()}" if not row.submitted else ""
        band = f", xếp loại {row.band}" if row.band else ""
        _line(document, f"Hạng {row.rank}{shared}: {row.unit_name} – {_points(row.total)} điểm "
                        f"({format_standard_percent(row.percent_of_standard)} điểm chuẩn){band}{missing}.")

    _line(document, "3. Đề nghị khen thưởng", bold=True)
    proposals = [row for row in sheet.rows if row.award]
    if not proposals:
        _line(document, "Không có đơn vị đủ điều kiện đề nghị khen thưởng.")
    for row in proposals:
        _line(document, f"- Đề nghị tặng {award_label(row.award)}: {row.unit_name} "
                        f"({_points(row.total)} điểm).")

    _line(document, "4. Kết quả biểu quyết", bold=True)
    if votes:
        for vote in votes:
            _line(document, vote.question, italic=True)
            if vote.opened_at is not None and vote.closed_at is not None:
                _line(document, f"Thời gian bỏ phiếu: từ {_moment_words(vote.opened_at)} "
                                f"đến {_moment_words(vote.closed_at)}.")
            if vote.count:
                for line in vote.count:
                    _line(document, f"- {line}")
            else:
                for option, count in vote.tallies:
                    _line(document, f"- {option}: {count} phiếu")
            _line(document, f"Kết quả: {vote.outcome}")
    else:
        for _ in range(3):
            _line(document, "……………………………………………………………………………………")

    _line(document, "")
    _line(document, "Biên bản kết thúc vào hồi … giờ … cùng ngày, đã được thông qua trước các đơn vị dự họp "
                    "và thống nhất nội dung.")
    _line(document, "")

    signatures = document.add_table(rows=1, cols=2)
    signatures.alignment = WD_TABLE_ALIGNMENT.CENTER
    secretary, chair = signatures.rows[0].cells
    for cell, title, name, unit in ((secretary, "THƯ KÝ", data.secretary_name, data.secretary_unit),
                                    (chair, "CHỦ TRÌ", data.chair_name, data.chair_unit)):
        _cell_text(cell, title, bold=True)
        _cell_text(cell, "(Ký, ghi rõ họ tên)", italic=True)
        for _ in range(4):
            _cell_text(cell, "")
        _cell_text(cell, name, bold=True)
        _cell_text(cell, unit, italic=True)

    _line(document, "")
    _line(document, "Nơi nhận:", bold=True, italic=True, size=12)
    for line in ("- Ban Thi đua – Khen thưởng (Sở Nội vụ);", "- Các đơn vị thành viên khối;", "- Lưu: VT."):
        _line(document, line, size=11)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _results_table(document: Any, sheet: ScoreSheetData) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm

    headers = ["Hạng", "Đơn vị", *(f"ND {section.code}" for section in sheet.sections), "Thưởng", "Trừ",
               "Tổng", "Tỷ lệ %"]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _cell_text(cell, text, bold=True)
    for row in sheet.rows:
        values = [str(row.rank), row.unit_name,
                  *(_points(row.sections.get(section.code, Decimal(0))) for section in sheet.sections),
                  _points(row.bonus), _points(row.deductions), _points(row.total),
                  format_standard_percent(row.percent_of_standard)]
        cells = table.add_row().cells
        for position, (cell, text) in enumerate(zip(cells, values, strict=True)):
            _cell_text(cell, text, bold=position == len(values) - 2,
                       align="left" if position == 1 else "center")
    widths = [Cm(1.1), Cm(4.4)] + [Cm(1.55)] * (len(headers) - 2)
    for row_cells in table.rows:
        for cell, width in zip(row_cells.cells, widths, strict=True):
            cell.width = width


def paperwork_files(score_sheet: ScoreSheetData, minutes: MinutesData) -> list[OutFile]:
    """The score sheet and the minutes as files, named after the bloc and the period."""
    sheet_name, minutes_name = score_sheet.file_names
    return [
        OutFile(name=sheet_name, maker="score_sheet", data=score_sheet),
        OutFile(name=minutes_name, maker="minutes", data=minutes),
    ]
