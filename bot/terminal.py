"""What the terminal shows: marked-up replies as plain text, the ranking as a table.

Shared by the command line, the terminal channel and the offline demo.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from handlers.markup import to_plain
from handlers.services.ranking import RankingReport
from rules.numbers import format_number, format_percent

AWARD_LABELS = {
    "flag": "Cờ thi đua",
    "flag-pending-acclaim": "Cờ thi đua (chờ suy tôn)",
    "merit": "Bằng khen",
}

plain = to_plain  # what a person sees of a marked-up message (handlers/markup.py)


# Below this width the table uses the units' short names and a lighter frame (an 80-column terminal).
WIDE_TABLE = 120


def render_ranking_table(report: RankingReport, console: Console, short_names: dict[str, str] | None = None) -> None:
    """A readable terminal table of the ranking; narrow terminals get short names (`short_names`, by unit code)
    and a lighter frame, so that it fits."""
    period = "tổng kết năm" if report.period == "year-end" else "sơ kết 6 tháng đầu năm"
    narrow = console.width < WIDE_TABLE
    table = Table(title=f"{report.bloc_name} — {period} {report.year}")
    if narrow:
        table.box, table.pad_edge, table.padding = box.SIMPLE_HEAD, False, (0, 0)
    table.add_column("Hạng", justify="right")
    table.add_column("Đơn vị", no_wrap=narrow)
    section_codes = list(report.rows[0].sections) if report.rows else []
    for code in section_codes:
        table.add_column(f"ND {code}", justify="right")
    table.add_column("Thưởng", justify="right")
    table.add_column("Trừ", justify="right")
    table.add_column("Tổng", justify="right")
    table.add_column("%", justify="right")
    table.add_column("Xếp loại")
    table.add_column("Đề nghị")
    for row in report.rows:
        table.add_row(
            str(row.rank),
            (short_names or {}).get(row.unit_code, row.unit_name) if narrow else row.unit_name,
            *(format_number(row.sections[code], decimals=2) for code in section_codes),
            format_number(row.bonus, decimals=2),
            format_number(row.deductions, decimals=2),
            format_number(row.total, decimals=2),
            format_percent(row.percent_of_standard),
            row.band or "",
            AWARD_LABELS.get(row.award or "", ""),
        )
    console.print(table)
