"""The ranking as a picture for the group chat: one bar per unit, stacked by section.

Matplotlib's object API on the Agg canvas, named explicitly: no pyplot, so no
global figure registry to leak figures into and no GUI backend chosen by the
environment, and it is safe to call from the conversation's worker threads.
The font is DejaVu Sans, bundled with matplotlib, which has every Vietnamese
diacritic. Matplotlib is imported inside :func:`render_ranking_chart`, so that
starting the bot does not load it (about half a second).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rules.numbers import format_number

FONT_FAMILY = "DejaVu Sans"
# Colour-blind-safe colours (Okabe–Ito) for the sections, then gold for the bonus.
SECTION_COLOURS = ("#0072B2", "#009E73", "#56B4E9", "#CC79A7", "#E69F00", "#999999")
BONUS_COLOUR = "#F0E442"
DPI = 150


@dataclass(frozen=True)
class ChartBar:
    """One unit's bar: its label, its points per section (in legend order), bonus and deductions."""

    label: str
    sections: Sequence[Decimal]
    bonus: Decimal
    deductions: Decimal
    total: Decimal


def render_ranking_chart(
    *, title: str, section_labels: Sequence[str], bonus_label: str, bars: Sequence[ChartBar],
    deduction_label: str = "−",
) -> bytes:
    """A PNG of horizontal bars, best unit on top, each labelled with its total the Vietnamese way."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(family=FONT_FAMILY, size=9)
    title_font = FontProperties(family=FONT_FAMILY, size=11, weight="bold")
    height = 1.4 + 0.45 * max(len(bars), 1)
    figure = Figure(figsize=(8, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(bars)))[::-1]  # the first bar (rank 1) at the top
    lefts = [0.0] * len(bars)
    for index, label in enumerate(section_labels):
        widths = [float(bar.sections[index]) if index < len(bar.sections) else 0.0 for bar in bars]
        axes.barh(positions, widths, left=lefts, height=0.65, label=label,
                  color=SECTION_COLOURS[index % len(SECTION_COLOURS)])
        lefts = [left + width for left, width in zip(lefts, widths, strict=True)]
    bonuses = [float(bar.bonus) for bar in bars]
    if any(bonuses):
        axes.barh(positions, bonuses, left=lefts, height=0.65, label=bonus_label, color=BONUS_COLOUR)
        lefts = [left + width for left, width in zip(lefts, bonuses, strict=True)]
    longest = max(lefts, default=1.0) or 1.0
    for position, left, bar in zip(positions, lefts, bars, strict=True):
        text = format_number(bar.total, decimals=2)
        if bar.deductions:
            text += f" ({deduction_label}{format_number(bar.deductions, decimals=2)})"
        axes.text(left + longest * 0.01, position, text, va="center", fontproperties=font)
    axes.set_yticks(positions, [bar.label for bar in bars])
    for tick in axes.get_yticklabels() + axes.get_xticklabels():
        tick.set_fontproperties(font)
    axes.set_xlim(0, longest * 1.18)
    axes.set_title(title, fontproperties=title_font)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(prop=font, loc="upper center", bbox_to_anchor=(0.5, -0.06 - 0.3 / height),
                ncols=len(section_labels) + 1, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
