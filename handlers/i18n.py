"""Message catalogs: Vietnamese first, English second.

Messages are HTML for Telegram. Every parameter is escaped here, so text typed
by a person or written in a configuration file can never break a message; a
parameter that is already safe HTML is passed wrapped in :class:`Safe`.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel.dates import format_datetime

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
DEFAULT_ADDRESS = "đồng chí"  # how officers are addressed when the bloc is not known (rules.config.Bloc.address)
_LOCALES = Path(__file__).resolve().parent / "locales"
# libyaml's safe loader where PyYAML was built with it: the catalogs read in 20 ms, not 150
# (every process reads them at its start: `python -m bot run`, each command, each test worker).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Safe(str):
    """Text that is already safe HTML (built from the catalog)."""

    __slots__ = ()


@cache
def catalog(language: str) -> dict[str, str]:
    """The messages of one language, read once: every `locales/<language>/*.yaml`, merged.

    Each feature keeps its own file (report.yaml, review.yaml, ...); a key defined
    twice is an error, so that one feature cannot silently change another's text.
    """
    merged: dict[str, str] = {}
    for path in sorted((_LOCALES / language).glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            loaded: dict[str, str] = yaml.load(handle, Loader=_SAFE_LOADER) or {}  # noqa: S506 (a safe loader)
        clash = set(loaded) & set(merged)
        if clash:
            raise ValueError(f"{path}: keys already defined in another catalog: {sorted(clash)}")
        merged.update(loaded)
    return merged


def language_of(code: str | None) -> str:
    """A supported language for a channel's language code (Vietnamese by default)."""
    if code and code.split("-")[0].lower() in LANGUAGES:
        return code.split("-")[0].lower()
    return DEFAULT_LANGUAGE


def t(language: str, key: str, **params: Any) -> Safe:
    """The message `key` in `language`, with escaped parameters.

    `{you}` and `{You}` in a message are the form of address of the officer
    (`đồng chí`, `anh/chị`: the bloc's choice, given as `address`), mid-sentence
    and at its start.
    """
    messages = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    template = messages.get(key) or catalog(DEFAULT_LANGUAGE)[key]
    address = str(params.pop("address", None) or DEFAULT_ADDRESS)
    params.setdefault("you", address)
    params.setdefault("You", address[:1].upper() + address[1:])
    escaped = {name: value if isinstance(value, Safe) else html.escape(str(value), quote=False)
               for name, value in params.items()}
    return Safe(template.format(**escaped))


def format_moment(moment: dt.datetime, zone: str, language: str) -> str:
    """A deadline as people read it: `17:00 ngày 10/01/2019` in the bloc's time zone."""
    pattern = "HH:mm 'ngày' dd/MM/yyyy" if language == "vi" else "HH:mm, dd/MM/yyyy"
    return format_datetime(moment, pattern, tzinfo=dt.UTC if zone == "UTC" else _zone(zone),
                           locale=language)


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def points(value: Decimal, language: str) -> str:
    """Points as shown: two decimals at most, Vietnamese marks."""
    from rules.numbers import format_number

    return format_number(value.quantize(Decimal("0.01")).normalize() if value else Decimal(0),
                         locale=language)


def warm_up() -> None:
    """Load the catalogs and Babel's locale data now, not on the first officer's message."""
    from rules.numbers import format_number

    for language in LANGUAGES:
        catalog(language)
        format_number(Decimal("1234.5"), locale=language)
        format_moment(dt.datetime(2019, 1, 10, 10, 0, tzinfo=dt.UTC), "Asia/Ho_Chi_Minh", language)
