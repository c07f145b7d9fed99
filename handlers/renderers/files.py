"""The files the bot sends, by name: what data each is made from and how.

A reply owed is kept in the outbox until it is delivered, files included; a
file is kept as its maker's name and that maker's plain data (JSON), and made
when it is sent. Each maker is imported when first used: matplotlib, openpyxl
and python-docx load only in the process that makes such a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from handlers.chat import OutFile


@dataclass(frozen=True)
class Maker:
    """A kind of file: the type of its data and the function making its bytes."""

    data_type: Any
    render: Callable[[Any], bytes]


@cache
def makers() -> dict[str, Maker]:
    """Every kind of file, by the name an `OutFile` gives as its maker."""
    from handlers.renderers.chart import ChartData, render_chart
    from handlers.renderers.documents import render_minutes, render_score_sheet
    from handlers.services.paperwork import MinutesData, ScoreSheetData

    return {
        "chart": Maker(ChartData, render_chart),
        "score_sheet": Maker(ScoreSheetData, render_score_sheet),
        "minutes": Maker(MinutesData, render_minutes),
    }


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(makers()[name].data_type)


def make(file: OutFile) -> bytes:
    """The bytes of a file."""
    return makers()[file.maker].render(file.data)


def dump_file(file: OutFile) -> dict[str, Any]:
    """A file as JSON-ready data (its maker's data included)."""
    return {"name": file.name, "maker": file.maker, "is_photo": file.is_photo, "caption": file.caption,
            "data": _adapter(file.maker).dump_python(file.data, mode="json")}


def load_file(data: dict[str, Any]) -> OutFile:
    """A file back from `dump_file`."""
    maker = str(data["maker"])
    return OutFile(name=str(data["name"]), maker=maker, data=_adapter(maker).validate_python(data["data"]),
                   is_photo=bool(data.get("is_photo")), caption=str(data.get("caption") or ""))
