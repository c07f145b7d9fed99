"""What the terminal shows: marked-up replies as plain text, the ranking as a table.

Shared by the command line, the terminal channel and the offline demo.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from handlers.i18n import t
from handlers.markup import to_plain
from handlers.services.ranking import RankingReport
from rules.numbers import format_number, format_standard_percent

plain = to_plain  # what a person sees of a marked-up message (handlers/markup.py)


def _text(language: str, key: str, **params: object) -> str:
    return to_plain(t(language, key, **params))


def render_ranking_table(report: RankingReport, console: Console, *, language: str = "vi") -> None:
    """A readable terminal table of the ranking (texts from the command line's catalog, `cli.yaml`)."""
    period = _text(language, f"cli_period_{report.period}")
    table = Table(title=escape(_text(language, "cli_ranking_title", bloc=report.bloc_name, period=period,
                                     year=report.year)))
    rank, unit, bonus, deductions, total, percent, band, award = _text(language, "cli_ranking_columns").split("|")
    table.add_column(rank, justify="right")
    table.add_column(unit)
    section_codes = list(report.rows[0].sections) if report.rows else []
    for code in section_codes:
        table.add_column(_text(language, "cli_ranking_section", code=code), justify="right")
    table.add_column(bonus, justify="right")
    table.add_column(deductions, justify="right")
    table.add_column(total, justify="right")
    table.add_column(percent, justify="right")
    table.add_column(band)
    table.add_column(award)
    for row in report.rows:
        table.add_row(
            str(row.rank),
            escape(row.unit_name),
            *(format_number(row.sections[code], decimals=2, locale=language) for code in section_codes),
            format_number(row.bonus, decimals=2, locale=language),
            format_number(row.deductions, decimals=2, locale=language),
            format_number(row.total, decimals=2, locale=language),
            format_standard_percent(row.percent_of_standard, locale=language),
            escape(row.band or ""),
            _text(language, f"cli_award_{row.award}") if row.award else "",
        )
    console.print(table)
