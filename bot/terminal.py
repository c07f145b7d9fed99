"""What the terminal shows: marked-up replies as plain text, the ranking as a table.

Shared by the command line, the terminal channel and the offline demo.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from handlers.i18n import t
from handlers.markup import to_plain
from handlers.services.ranking import RankingReport
from rules.numbers import format_number, format_standard_percent

plain = to_plain  # what a person sees of a marked-up message (handlers/markup.py)


# Below this width the table uses the units' short names and a lighter frame (an 80-column terminal).
WIDE_TABLE = 120


def _text(language: str, key: str, **params: object) -> str:
    return to_plain(t(language, key, **params))


def render_ranking_table(report: RankingReport, console: Console, short_names: dict[str, str] | None = None, *,
                         language: str = "vi") -> None:
    """A readable terminal table of the ranking (texts from the command line's catalog, `cli.yaml`); narrow
    terminals get short names (`short_names`, by unit code) and a lighter frame, so that it fits."""
    period = _text(language, f"cli_period_{report.period}")
    narrow = console.width < WIDE_TABLE
    table = Table(title=escape(_text(language, "cli_ranking_title", bloc=report.bloc_name, period=period,
                                     year=report.year)))
    if narrow:
        table.box, table.pad_edge, table.padding = box.SIMPLE_HEAD, False, (0, 0)
    rank, unit, bonus, deductions, total, percent, band, award = _text(language, "cli_ranking_columns").split("|")
    table.add_column(rank, justify="right")
    table.add_column(unit, no_wrap=narrow)
    section_codes = list(report.rows[0].sections) if report.rows else []
    for code in section_codes:
        table.add_column(_text(language, "cli_ranking_section", code=code), justify="right")
    table.add_column(bonus, justify="right")
    # Deductions are shown only where there are some (a column of zeros says nothing).
    deducted = any(row.deductions for row in report.rows)
    if deducted:
        table.add_column(deductions, justify="right")
    table.add_column(total, justify="right")
    table.add_column(percent, justify="right")
    table.add_column(band, no_wrap=narrow)
    table.add_column(award, no_wrap=narrow)
    for row in report.rows:
        table.add_row(
            str(row.rank),
            escape((short_names or {}).get(row.unit_code, row.unit_name) if narrow else row.unit_name),
            *(format_number(row.sections[code], decimals=2, locale=language) for code in section_codes),
            format_number(row.bonus, decimals=2, locale=language),
            *([format_number(row.deductions, decimals=2, locale=language)] if deducted else []),
            format_number(row.total, decimals=2, locale=language),
            format_standard_percent(row.percent_of_standard, locale=language),
            escape(row.band or ""),
            _text(language, f"cli_award_{row.award}") if row.award else "",
        )
    console.print(table)
