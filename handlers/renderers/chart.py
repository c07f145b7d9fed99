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
WIDTH = 8  # inches: 1.200 pixels at DPI
BAR_HALF = 0.325  # half a bar's height, in units of the rank axis
LABEL_CHAR_INCHES = 0.075  # about one character of a 9 pt DejaVu Sans label


@dataclass(frozen=True)
class ChartBar:
    """One unit's bar: its label, its points per section (in legend order), bonus and deductions."""

    label: str
    sections: Sequence[Decimal]
    bonus: Decimal
    deductions: Decimal
    total: Decimal


@dataclass(frozen=True)
class ChartData:
    """Everything the chart shows, worked out in the turn; drawn when it is sent."""

    title: str
    section_labels: Sequence[str]
    bonus_label: str
    bars: Sequence[ChartBar]


def render_chart(data: ChartData) -> bytes:
    """The chart of `data` as a PNG."""
    return render_ranking_chart(title=data.title, section_labels=data.section_labels,
                                bonus_label=data.bonus_label, bars=data.bars)


def render_ranking_chart(
    *, title: str, section_labels: Sequence[str], bonus_label: str, bars: Sequence[ChartBar],
    deduction_label: str = "−",
) -> bytes:
    """A PNG of horizontal bars, best unit on top, each labelled with its total the Vietnamese way."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(family=FONT_FAMILY, size=9)
    title_font = FontProperties(family=FONT_FAMILY, size=11, weight="bold")
    height = 1.4 + 0.45 * max(len(bars), 1)
    # Drawn for speed (bench/publish.py: the chart was most of a publication): margins from
    # the labels' length instead of the constrained layout, which measures every text again
    # and again; a collection per section instead of a patch per bar; unit names as texts
    # instead of tick labels; the title placed, not fitted.
    left_margin = 0.15 + LABEL_CHAR_INCHES * max((len(bar.label) for bar in bars), default=4)
    figure = Figure(figsize=(WIDTH, height), dpi=DPI)
    figure.subplots_adjust(left=min(left_margin, WIDTH / 2) / WIDTH, right=1 - 0.15 / WIDTH,
                           top=1 - 0.45 / height, bottom=0.95 / height)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(bars)))[::-1]  # the first bar (rank 1) at the top
    lefts = [0.0] * len(bars)
    layers = [([float(bar.sections[index]) if index < len(bar.sections) else 0.0 for bar in bars], label,
               SECTION_COLOURS[index % len(SECTION_COLOURS)]) for index, label in enumerate(section_labels)]
    bonuses = [float(bar.bonus) for bar in bars]
    if any(bonuses):
        layers.append((bonuses, bonus_label, BONUS_COLOUR))
    for widths, label, colour in layers:
        boxes = [[(left, position - BAR_HALF), (left + width, position - BAR_HALF),
                  (left + width, position + BAR_HALF), (left, position + BAR_HALF)]
                 for position, left, width in zip(positions, lefts, widths, strict=True)]
        axes.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="none", label=label),
                            autolim=False)
        lefts = [left + width for left, width in zip(lefts, widths, strict=True)]
    longest = max(lefts, default=1.0) or 1.0
    for position, left, bar in zip(positions, lefts, bars, strict=True):
        text = format_number(bar.total, decimals=2)
        if bar.deductions:
            text += f" ({deduction_label}{format_number(bar.deductions, decimals=2)})"
        axes.text(left + longest * 0.01, position, text, va="center", fontproperties=font)
        axes.text(-0.01, position, bar.label, va="center", ha="right", fontproperties=font,
                  transform=axes.get_yaxis_transform())
    axes.set_yticks([])
    for tick in axes.get_xticklabels():
        tick.set_fontproperties(font)
    axes.set_xlim(0, longest * 1.18)
    axes.set_ylim(-0.6, len(bars) - 0.4)
    axes.set_title(title, fontproperties=title_font, y=1.0, pad=8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    figure.legend(*axes.get_legend_handles_labels(), prop=font, loc="lower center",
                  bbox_to_anchor=(0.5, 0.1 / height), ncols=len(layers), frameon=False)
    buffer = io.BytesIO()
    # zlib's fastest level: the file is about a sixth bigger, and encoded several times quicker.
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()
