"""Reading and writing numbers the Vietnamese way.

Vietnamese groups thousands with a dot and marks decimals with a comma:
``30.544`` is thirty thousand five hundred forty-four and ``96,5`` is ninety-six
and a half. Officers also type English-style numbers, spaces as group
separators and percent signs, so :func:`parse_number` accepts all of those and
refuses, with a reason, what cannot be read with certainty (``30,544``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Literal

from babel.numbers import format_decimal

__all__ = [
    "MAX_FRACTION_DIGITS",
    "MAX_LENGTH",
    "MAX_WHOLE_DIGITS",
    "NumberError",
    "ParsedNumber",
    "check_digits",
    "format_number",
    "format_percent",
    "parse_number",
    "percent_of",
]

MAX_LENGTH = 40
"""The longest text :func:`parse_number` reads (after trimming surrounding spaces)."""

MAX_WHOLE_DIGITS = 15
"""Digits before the decimal mark of any figure (a thousand trillion: no bloc counts more)."""
MAX_FRACTION_DIGITS = 6
"""Digits after the decimal mark of any figure."""

Reason = Literal["empty", "invalid", "ambiguous", "too_long", "too_many_digits"]

# Characters that may group thousands besides the dot and the comma. NFKC turns
# the no-break and thin spaces into a plain space, the rest are listed for safety.
_SPACES = "\u00a0\u2007\u2009\u202f"
_MINUS_SIGNS = "-\u2212\u2013"
_DIGITS = re.compile(r"[0-9]+")
_BODY = re.compile(r"[0-9., ]+")
_DEFAULT_PLACES = 4


class NumberError(ValueError):
    """Text that is not a number, or not one number with certainty."""

    def __init__(self, reason: Reason, message: str, candidates: tuple[Decimal, ...] = ()) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.candidates: tuple[Decimal, ...] = candidates


@dataclass(frozen=True)
class ParsedNumber:
    """A number read from text; ``percent`` is True when the text ended with ``%``."""

    value: Decimal
    percent: bool


def parse_number(text: str, *, measure: str = "") -> ParsedNumber:
    """Read a number typed the Vietnamese way (``30.544``, ``96,5``, ``102%``).

    ``measure`` is the item's unit of measure: ``30.544 hộ`` is read as ``30.544``
    when the measure is ``hộ``; any other word after the number is refused.
    """
    stripped = text.strip()
    if len(stripped) > MAX_LENGTH:
        raise NumberError("too_long", f"the text is longer than {MAX_LENGTH} characters")
    if not stripped:
        raise NumberError("empty", "the text is empty")
    # NFKC folds full-width digits and percent signs and odd spaces to ASCII.
    normal = _without_measure(unicodedata.normalize("NFKC", stripped), measure)
    for space in _SPACES:
        normal = normal.replace(space, " ")
    percent = normal.endswith("%")
    if percent:
        normal = normal[:-1].rstrip(" ")
    negative = False
    if normal and normal[0] in _MINUS_SIGNS + "+":
        negative = normal[0] != "+"
        normal = normal[1:]
    if not normal:
        raise NumberError("invalid", f"no digits in {text!r}")
    if not _BODY.fullmatch(normal) or not normal[0].isdigit() or not normal[-1].isdigit():
        raise NumberError("invalid", f"{text!r} is not a number")
    magnitudes = tuple(check_digits(value) for value in _read_body(normal, text))
    if len(magnitudes) > 1:
        candidates = tuple(_signed(value, negative) for value in magnitudes)
        raise NumberError(
            "ambiguous",
            f"{text!r} may be read as {candidates[0]} (comma groups thousands) "
            f"or {candidates[1]} (comma marks decimals)",
            candidates,
        )
    return ParsedNumber(value=_signed(magnitudes[0], negative), percent=percent)


def _without_measure(normal: str, measure: str) -> str:
    """The text without the item's own measure word after the number (``30.544 hộ``)."""
    word = unicodedata.normalize("NFKC", measure).strip()
    if not word or word == "%":
        return normal  # a percent sign is read as such below
    if normal.casefold().endswith(word.casefold()):
        rest = normal[: len(normal) - len(word)].rstrip()
        if rest and rest[-1].isdigit():
            return rest
    return normal


def check_digits(value: Decimal) -> Decimal:
    """``value`` itself when its digits fit what a figure may have, else a ``too_many_digits`` error.

    The same cap holds for numbers typed in chat and numbers in files, so what is
    accepted fits the database's columns on every backend.
    """
    if not value.is_finite():
        raise NumberError("too_many_digits", f"{value} is not a finite number")
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # noqa: S101 (finite, checked above)
    fraction = max(0, -exponent)
    whole = 0 if value.is_zero() else len(digits) + exponent
    if whole > MAX_WHOLE_DIGITS or fraction > MAX_FRACTION_DIGITS:
        raise NumberError(
            "too_many_digits",
            f"a figure has at most {MAX_WHOLE_DIGITS} digits before the decimal mark "
            f"and {MAX_FRACTION_DIGITS} after it",
        )
    return value


def percent_of(base: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``base``, to four places (``102%`` of a plan of 29.945 is 30.543,9)."""
    # Room for every digit of capped inputs: the default context (28 digits) made
    # quantize raise InvalidOperation for a large plan times a large percent.
    with localcontext() as context:
        context.prec = 2 * (MAX_WHOLE_DIGITS + MAX_FRACTION_DIGITS) + 8
        return (base * percent / 100).quantize(Decimal("0.0001")).normalize()


def _signed(value: Decimal, negative: bool) -> Decimal:
    # copy_negate is exact (no context rounding); a zero never gets a minus sign.
    return value.copy_negate() if negative and not value.is_zero() else value


def _read_body(body: str, text: str) -> tuple[Decimal, ...]:
    """The possible readings of unsigned digits, dots, commas and spaces (one unless ambiguous)."""
    invalid = NumberError("invalid", f"{text!r} is not a number: inconsistent digit grouping")
    dots, commas = body.count("."), body.count(",")
    if " " in body:
        # Spaces group thousands, so a single dot or comma can only mark decimals.
        if dots + commas > 1:
            raise invalid
        whole, _, fraction = body.replace(",", ".").partition(".")
        if not _is_grouping(whole.split(" ")) or (fraction and not _DIGITS.fullmatch(fraction)):
            raise invalid
        return (_decimal(whole.replace(" ", ""), fraction),)
    if dots and commas:
        mark = "." if body.rfind(".") > body.rfind(",") else ","
        group = "," if mark == "." else "."
        if body.count(mark) != 1:
            raise invalid
        whole, _, fraction = body.partition(mark)
        if not _is_grouping(whole.split(group)):
            raise invalid
        return (_decimal(whole.replace(group, ""), fraction),)
    if not dots and not commas:
        return (Decimal(body),)
    mark = "." if dots else ","
    parts = body.split(mark)
    if len(parts) > 2:
        # Several marks: they can only group thousands.
        if not _is_grouping(parts):
            raise invalid
        return (Decimal("".join(parts)),)
    whole, fraction = parts
    if len(fraction) == 3 and _is_first_group(whole):
        grouped = Decimal(whole + fraction)
        if mark == ".":
            # The Vietnamese way: a dot before three digits groups thousands.
            return (grouped,)
        # `30,544`: a Vietnamese decimal, or English thousands.
        return (grouped, _decimal(whole, fraction))
    return (_decimal(whole, fraction),)


def _is_first_group(digits: str) -> bool:
    return 1 <= len(digits) <= 3 and digits.isdigit() and not digits.startswith("0")


def _is_grouping(groups: list[str]) -> bool:
    """Whether groups read as 1-3 leading digits, then groups of exactly three."""
    if len(groups) == 1:
        return _DIGITS.fullmatch(groups[0]) is not None
    return _is_first_group(groups[0]) and all(
        len(group) == 3 and group.isdigit() for group in groups[1:]
    )


def _decimal(whole: str, fraction: str) -> Decimal:
    if not _DIGITS.fullmatch(whole) or (fraction and not _DIGITS.fullmatch(fraction)):
        raise NumberError("invalid", f"{whole}.{fraction} is not a number")
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


def format_number(value: Decimal, *, decimals: int | None = None, locale: str = "vi") -> str:
    """Write a number for people: ``30.544``, ``96,5`` in Vietnamese; ``decimals`` fixes places."""
    if not value.is_finite():
        raise ValueError(f"cannot format {value}")
    if decimals is not None and decimals < 0:
        raise ValueError("decimals must be >= 0")
    places = _DEFAULT_PLACES if decimals is None else decimals
    if decimals is None:
        pattern = "#,##0." + "#" * places
    else:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    # Room for every digit: Babel quantizes in the current context too.
    with localcontext() as context:
        context.prec = max(context.prec, value.adjusted() + places + 2)
        shown = value
        exponent = value.as_tuple().exponent
        if decimals is not None or (isinstance(exponent, int) and exponent < -places):
            # Round here, half up; Babel would round half even.
            shown = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if shown.is_zero():
            shown = shown.copy_abs()  # never "-0"
        return str(format_decimal(shown, format=pattern, locale=locale))


# One rounding rule per figure, wherever it is shown (chat, command line, documents).
ACHIEVEMENT_DECIMALS = 1  # an indicator's percent of plan: 102,0%
STANDARD_DECIMALS = 2  # a total's percent of the standard score, as precise as its points: 99,05%


def format_percent(value: Decimal, *, decimals: int = ACHIEVEMENT_DECIMALS, locale: str = "vi") -> str:
    """Write a value already in percent units: ``Decimal(102)`` gives ``102,0%``."""
    return format_number(value, decimals=decimals, locale=locale) + "%"


def format_standard_percent(value: Decimal, *, locale: str = "vi") -> str:
    """A total's percent of the standard score: ``99,05%`` (the same everywhere it is shown)."""
    return format_percent(value, decimals=STANDARD_DECIMALS, locale=locale)


def format_quantity(value: Decimal, measure: str, *, locale: str = "vi") -> str:
    """A value with its measure: ``30.544 hộ``; a percent as a percent is written, ``31,5%``."""
    number = format_number(value, locale=locale)
    unit = measure.strip()
    if unit == "%":
        return number + "%"
    return f"{number} {unit}" if unit else number
