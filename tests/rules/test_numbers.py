"""Reading and writing numbers the Vietnamese way."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.numbers import (
    MAX_LENGTH,
    MAX_WHOLE_DIGITS,
    NumberError,
    ParsedNumber,
    check_digits,
    format_number,
    format_percent,
    parse_number,
    percent_of,
)

# How officers type numbers; the chat and the web form read each the same way (tests/web/test_corpus.py).
CORPUS: list[tuple[str, Decimal, bool]] = [
    ("30.544", Decimal(30544), False),
    ("30 544", Decimal(30544), False),
    ("30544", Decimal(30544), False),
    ("1.234.567", Decimal(1234567), False),
    ("96,5", Decimal("96.5"), False),
    ("1.234,5", Decimal("1234.5"), False),
    ("102%", Decimal(102), True),
    ("102 %", Decimal(102), True),
    ("96,5%", Decimal("96.5"), True),
    ("-5", Decimal(-5), False),
    ("\u22125", Decimal(-5), False),
    ("+5", Decimal(5), False),
    ("  30.544  ", Decimal(30544), False),
    ("30\u00a0544", Decimal(30544), False),
    ("30\u2009544", Decimal(30544), False),
    ("30\u202f544", Decimal(30544), False),
    ("1 234 567", Decimal(1234567), False),
    ("1 234,5", Decimal("1234.5"), False),
    ("1,234.5", Decimal("1234.5"), False),
    ("1,234,567", Decimal(1234567), False),
    ("1,234,567.25", Decimal("1234567.25"), False),
    ("96.5", Decimal("96.5"), False),
    ("96.55", Decimal("96.55"), False),
    ("1234.567", Decimal("1234.567"), False),
    ("1234,567", Decimal("1234.567"), False),
    ("0,544", Decimal("0.544"), False),
    ("0.544", Decimal("0.544"), False),
    ("007", Decimal(7), False),
    ("-0", Decimal(0), False),
    ("\uff11\uff12\uff05", Decimal(12), True),  # full-width digits and percent sign
]


@pytest.mark.parametrize(("text", "value", "percent"), CORPUS)
def test_reads_vietnamese_numbers(text: str, value: Decimal, percent: bool) -> None:
    parsed = parse_number(text)
    assert parsed == ParsedNumber(value=value, percent=percent)


def test_negative_zero_has_no_sign() -> None:
    assert not parse_number("-0").value.is_signed()


def test_comma_before_three_digits_is_ambiguous() -> None:
    with pytest.raises(NumberError) as caught:
        parse_number("30,544")
    assert caught.value.reason == "ambiguous"
    assert caught.value.candidates == (Decimal(30544), Decimal("30.544"))
    assert "30544" in str(caught.value)


def test_negative_ambiguous_candidates_keep_the_sign() -> None:
    with pytest.raises(NumberError) as caught:
        parse_number("-1,500%")
    assert caught.value.candidates == (Decimal(-1500), Decimal("-1.5"))


def test_number_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number("abc")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\u00a0", "empty"),
        ("12abc", "invalid"),
        ("abc", "invalid"),
        ("--5", "invalid"),
        ("-", "invalid"),
        ("%", "invalid"),
        ("5%%", "invalid"),
        ("\U0001f600", "invalid"),
        ("1.23.456", "invalid"),
        ("1,23,456", "invalid"),
        ("0.123.456", "invalid"),
        ("1.234.5678", "invalid"),
        ("1.234,5,6", "invalid"),
        ("1,234.5.6", "invalid"),
        ("1.234 567", "invalid"),
        ("1 23", "invalid"),
        ("1  234", "invalid"),
        ("1 234,5 6", "invalid"),
        ("1 234.5,6", "invalid"),
        (".5", "invalid"),
        ("5.", "invalid"),
        ("5,", "invalid"),
        ("1,,2", "invalid"),
        ("5-", "invalid"),
        ("- 5", "invalid"),
        ("1e5", "invalid"),
        ("NaN", "invalid"),
        ("Infinity", "invalid"),
        ("\u0663", "invalid"),  # Arabic-Indic digit three
        ("1\t234", "invalid"),
        ("1" * (MAX_LENGTH + 1), "too_long"),
    ],
)
def test_refuses_what_is_not_a_number(text: str, reason: str) -> None:
    with pytest.raises(NumberError) as caught:
        parse_number(text)
    assert caught.value.reason == reason
    assert caught.value.candidates == ()


def test_length_limit_counts_the_trimmed_text() -> None:
    longest = "0" * (MAX_LENGTH - MAX_WHOLE_DIGITS) + "1" * MAX_WHOLE_DIGITS
    assert parse_number(" " + longest + " ").value == Decimal(longest)


def test_long_numbers_keep_every_digit() -> None:
    digits = "9" * MAX_WHOLE_DIGITS
    assert parse_number("-" + digits).value == Decimal("-" + digits)
    # More digits than the default decimal context precision (28) are still written in full.
    value = Decimal("-" + "9" * 35)
    assert format_number(value, decimals=2) == "-" + format_number(Decimal("9" * 35)) + ",00"


@pytest.mark.parametrize(
    ("value", "decimals", "locale", "text"),
    [
        (Decimal(30544), None, "vi", "30.544"),
        (Decimal("96.5"), None, "vi", "96,5"),
        (Decimal("96.50"), None, "vi", "96,5"),
        (Decimal(30544), None, "en", "30,544"),
        (Decimal("1234567.25"), None, "vi", "1.234.567,25"),
        (Decimal("1234567.25"), None, "en", "1,234,567.25"),
        (Decimal("-1234.5"), None, "vi", "-1.234,5"),
        (Decimal("1.23456"), None, "vi", "1,2346"),
        (Decimal("0.00005"), None, "vi", "0,0001"),
        (Decimal("2.345"), 2, "vi", "2,35"),
        (Decimal("2.344"), 2, "vi", "2,34"),
        (Decimal("0.125"), 2, "vi", "0,13"),
        (Decimal("-0.125"), 2, "vi", "-0,13"),
        (Decimal("-0.001"), 2, "vi", "0,00"),
        (Decimal("2.5"), 0, "vi", "3"),
        (Decimal(102), 1, "vi", "102,0"),
        (Decimal(1000), 0, "en", "1,000"),
        (Decimal("1E+3"), None, "vi", "1.000"),
    ],
)
def test_formats_numbers(value: Decimal, decimals: int | None, locale: str, text: str) -> None:
    assert format_number(value, decimals=decimals, locale=locale) == text


def test_format_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        format_number(Decimal("NaN"))
    with pytest.raises(ValueError):
        format_number(Decimal(1), decimals=-1)


@pytest.mark.parametrize(
    ("value", "decimals", "locale", "text"),
    [
        (Decimal(102), 1, "vi", "102,0%"),
        (Decimal("101.99"), 1, "vi", "102,0%"),
        (Decimal("96.44"), 1, "vi", "96,4%"),
        (Decimal("96.45"), 1, "vi", "96,5%"),
        (Decimal("1234.5"), 0, "vi", "1.235%"),
        (Decimal("96.45"), 2, "en", "96.45%"),
    ],
)
def test_formats_percent(value: Decimal, decimals: int, locale: str, text: str) -> None:
    assert format_percent(value, decimals=decimals, locale=locale) == text


decimals_up_to_three_places = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(min_value=-(10**MAX_WHOLE_DIGITS - 1), max_value=10**MAX_WHOLE_DIGITS - 1),
    st.integers(min_value=0, max_value=3),
)


@given(decimals_up_to_three_places)
def test_formatted_numbers_read_back(value: Decimal) -> None:
    text = format_number(value)
    try:
        parsed = parse_number(text)
    except NumberError as error:
        assert error.reason == "ambiguous"
        assert value in error.candidates
        return
    assert parsed.value == value
    assert not parsed.percent


@given(
    st.integers(min_value=1000, max_value=10**MAX_WHOLE_DIGITS - 1)
    | st.integers(max_value=-1000, min_value=-(10**MAX_WHOLE_DIGITS - 1))
)
def test_formatted_integers_always_read_back(value: int) -> None:
    assert parse_number(format_number(Decimal(value))).value == value


@given(decimals_up_to_three_places, st.integers(min_value=0, max_value=3))
def test_formatted_percent_reads_back_as_percent(value: Decimal, decimals: int) -> None:
    text = format_percent(value, decimals=decimals)
    try:
        parsed = parse_number(text)
    except NumberError as error:
        assert error.reason == "ambiguous"
        return
    assert parsed.percent
    assert parsed.value == value.quantize(Decimal(1).scaleb(-decimals), rounding="ROUND_HALF_UP")


@given(st.text(max_size=MAX_LENGTH + 5))
def test_any_text_reads_or_fails_with_a_reason(text: str) -> None:
    try:
        parsed = parse_number(text)
    except NumberError as error:
        assert error.reason in {"empty", "invalid", "ambiguous", "too_long", "too_many_digits"}
        assert (error.reason == "ambiguous") == bool(error.candidates)
        return
    assert parsed.value.is_finite()


def test_the_items_measure_after_the_number() -> None:
    """Issue 16: `30.544 hộ` reads as 30.544 when the measure is `hộ`; other words do not."""
    assert parse_number("30.544 hộ", measure="hộ").value == Decimal(30544)
    assert parse_number("30.544hộ", measure="hộ").value == Decimal(30544)
    assert parse_number("18.500 Tỷ đồng", measure="tỷ đồng").value == Decimal(18500)
    for text, measure in [("30.544 km", "hộ"), ("30.544 hộ", ""), ("hộ", "hộ"), ("30.544 hộ hộ", "hộ")]:
        with pytest.raises(NumberError) as caught:
            parse_number(text, measure=measure)
        assert caught.value.reason == "invalid", text


def test_a_digit_cap_for_every_figure() -> None:
    """Issue 16: more than 15 whole digits or 6 decimals is refused, in chat and in files alike."""
    assert parse_number("9" * 15).value == Decimal("9" * 15)
    assert parse_number("0,000001").value == Decimal("0.000001")
    for text in ["9" * 16, "9" * 29, "9" * 30 + "%", "1,1234567"]:
        with pytest.raises(NumberError) as caught:
            parse_number(text)
        assert caught.value.reason == "too_many_digits", text
    assert check_digits(Decimal("1E+14")) == Decimal("1E+14")
    for value in [Decimal("1E+15"), Decimal("Infinity"), Decimal("NaN"), Decimal(10) ** 59]:
        with pytest.raises(NumberError):
            check_digits(value)


def test_percent_of_never_raises_for_capped_figures() -> None:
    """Issue 16: 102% of a plan; the largest plan times the largest percent no longer raises InvalidOperation."""
    assert percent_of(Decimal(29945), Decimal(102)) == Decimal("30543.9")
    largest = Decimal("9" * 15 + ".999999")
    assert percent_of(largest, largest) > Decimal(10) ** 27
