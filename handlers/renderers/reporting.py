"""The report's messages: prompts, the echo of a typed number, the summary, the keyboards.

Plain data in (items, values, the summary), replies out; nothing here changes
state. Buttons are made with the turn's context, which stamps its nonce.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from handlers.chat import Option, Reply
from handlers.flow import Context
from handlers.i18n import Safe, format_moment, points, t
from handlers.renderers.extras import extras_in_total, extras_lines
from handlers.services.reporting import Closed, ClosedReason, Item, PeriodProgress, Summary
from rules.config import BlocConfig, Direction
from rules.numbers import MAX_FRACTION_DIGITS, MAX_WHOLE_DIGITS, format_number, format_percent, format_quantity
from rules.scoring import achievement
from storage.models import Period, SubmissionStatus

PREFIX = "r"
# The button under welcomes and reminders that starts or resumes the report (no nonce).
START = f"{PREFIX}:start"
JUMPS = 8  # missing items offered as buttons under /status
ABSURD_PERCENT = Decimal(1000)  # an achievement this far above plan is probably a typing slip


def _head(prefix: str) -> str:
    return f"{prefix}\n\n" if prefix else ""


def _button(ctx: Context, label_key: str, action: str, *arguments: object) -> Option:
    return ctx.button(PREFIX, ctx.text(label_key), action, *arguments)


def short(text: str, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def start_option(language: str) -> Option:
    """The button that starts or resumes the report, under any message."""
    return Option(t(language, "btn_report"), START)


def item_prompt(ctx: Context, items: Sequence[Item], item: Item, prefix: str = "",
                saved: Decimal | None = None) -> Reply:
    """Ask for an item's value: an indicator's actual, or a criterion's self score.

    Past the first item a button goes back to the previous one (`/back` where a
    typed number would be read as an option); an item already saved shows its
    value and a button that keeps it.
    """
    position = items.index(item) + 1
    if item.is_indicator:
        key = "prompt_indicator_lower" if item.direction is Direction.lower else "prompt_indicator"
        text = ctx.text(key, n=position, total=len(items), text=item.text,
                        target=format_quantity(item.target, item.measure, locale=ctx.language))
    else:
        text = ctx.text("prompt_criterion", n=position, total=len(items), text=item.text,
                        max=format_number(item.maximum, locale=ctx.language))
    options: list[tuple[Option, ...]] = []
    if saved is not None:
        shown = format_quantity(saved, item.measure if item.is_indicator else "", locale=ctx.language)
        text = Safe(text + "\n" + ctx.text("prompt_saved", value=shown))
        options.append((_button(ctx, "btn_keep", "keep"),))
    if position > 1:
        back = _button(ctx, "btn_back", "back")
        options.append((Option(back.label, back.data, command="/back"),))
    return Reply(Safe(_head(prefix) + text), options=tuple(options), typed_numbers=True)


def example(ctx: Context, item: Item) -> str:
    """A plausible value to show in an error message."""
    return example_value(item, ctx.language)


def example_value(item: Item, language: str) -> str:
    """A plausible value of an item, in a language's marks."""
    if item.is_indicator:
        return format_number(item.target, locale=language)
    return format_number(item.maximum * Decimal("0.95"), decimals=1, locale=language)


def reading_error(ctx: Context, item: Item, key: str) -> str:
    """What was wrong with a typed number (a `Reading`'s error key), with an example or the maximum."""
    return reading_error_text(ctx.language, item, key, address=ctx.address)


def reading_error_text(language: str, item: Item, key: str, *, address: str) -> Safe:
    """The same, without a turn's context (the web pages)."""
    if key == "err_range":
        return t(language, key, address=address, max=format_number(item.maximum, locale=language))
    if key in ("err_not_number", "err_too_long"):
        return t(language, key, address=address, example=example_value(item, language))
    if key == "err_implausible":
        return t(language, key, address=address, measure=item.measure, max=format_number(item.limit, locale=language),
                 target=format_number(item.target, locale=language))
    if key == "err_too_many_digits":
        return t(language, key, address=address, whole=MAX_WHOLE_DIGITS, fraction=MAX_FRACTION_DIGITS)
    return t(language, key, address=address)


def confirm_reply(ctx: Context, item: Item, value: Decimal, prefix: str = "") -> Reply:
    """Echo the number as read (`30.544 hộ = 102,0% kế hoạch`) and ask to confirm it."""
    if item.is_indicator:
        achieved = achievement(value, item.target, item.direction)
        echo = ctx.text("echo_indicator", value=format_quantity(value, item.measure, locale=ctx.language),
                        percent=format_percent(achieved, locale=ctx.language))
        if achieved > ABSURD_PERCENT:
            echo = Safe(echo + "\n" + ctx.text("warn_absurd"))
    else:
        echo = ctx.text("echo_criterion", value=format_number(value, locale=ctx.language),
                        max=format_number(item.maximum, locale=ctx.language))
    options = (
        (_button(ctx, "btn_ok", "ok"), _button(ctx, "btn_retype", "retype")),
        (_button(ctx, "btn_ok_evidence", "okev"),),
    )
    return Reply(Safe(_head(prefix) + ctx.text("confirm_question", item=item.text, echo=echo)), options=options)


def implausible(ctx: Context, *, measure: str, target: Decimal, limit: Decimal) -> Safe:
    """Why an actual above the indicator's plausible limit is refused, and what to check."""
    language = ctx.language
    return ctx.text("err_implausible", measure=measure, max=format_number(limit, locale=language),
                    target=format_number(target, locale=language))


def too_many_digits(ctx: Context) -> Safe:
    """Why a number with too many digits is refused."""
    return ctx.text("err_too_many_digits", whole=MAX_WHOLE_DIGITS, fraction=MAX_FRACTION_DIGITS)


def ambiguous_reply(ctx: Context, candidates: Sequence[Decimal], typed: str, prefix: str = "") -> Reply:
    """A number that reads two ways (`25,250`): one button per reading."""
    options = tuple(
        (ctx.button(PREFIX, format_number(candidate, locale=ctx.language), "pick", index),)
        for index, candidate in enumerate(candidates)
    )
    return Reply(Safe(_head(prefix) + ctx.text("ambiguous", text=typed[:40])),
                 options=options + ((_button(ctx, "btn_retype", "retype"),),))


def evidence_prompt(ctx: Context, item: Item, prefix: str = "") -> Reply:
    """Ask for a file, a photo or a note backing the item, with a button to go on."""
    return Reply(Safe(_head(prefix) + ctx.text("evidence_prompt", item=item.text)),
                 options=((_button(ctx, "btn_next", "next"),),))


def evidence_received(ctx: Context, *, file_name: str | None, file_size: int | None) -> str:
    """What the officer is told when a file (or, without a file name, a note) was attached."""
    if file_name is None:
        return ctx.text("evidence_note")
    size = format_number(Decimal(file_size or 0) / 1024, decimals=0, locale=ctx.language)
    return ctx.text("evidence_file", name=file_name, kb=size)


def summary_reply(ctx: Context, config: BlocConfig, summary: Summary, prefix: str = "") -> Reply:
    """Every item with its value and points, the sections, the total, and what is missing."""
    language = ctx.language
    lines: list[str] = [ctx.text("summary_title", unit=ctx.officer.unit_name)]
    for line in summary.lines:
        item = line.item
        if line.value is None:
            lines.append(ctx.text("summary_missing", code=item.code))
            continue
        clip = f" 📎{line.evidence}" if line.evidence else ""
        if item.is_indicator:
            lines.append(ctx.text("summary_indicator", code=item.code,
                                  value=format_quantity(line.value, item.measure, locale=language),
                                  percent=format_percent(line.achievement or Decimal(0), locale=language))
                         + clip)
        else:
            lines.append(ctx.text("summary_criterion", code=item.code, value=points(line.value, language),
                                  max=format_number(item.maximum, locale=language)) + clip)
    score = summary.score
    for section in config.pact.sections:
        lines.append(ctx.text("summary_section", code=section.code,
                              points=points(score.sections.get(section.code, Decimal(0)), language),
                              max=format_number(section.max, locale=language)))
    lines.append(ctx.text("summary_total", total=points(score.total, language),
                          standard=format_number(config.pact.standard_score, locale=language))
                 + extras_in_total(language, score.bonus, score.deductions))
    lines.extend(extras_lines(language, summary.extras))
    missing = summary.missing
    if missing:
        lines.append(ctx.text("summary_missing_count", count=len(missing)))
        options = ((_button(ctx, "btn_continue", "continue"),), (_button(ctx, "btn_edit", "edits"),))
    else:
        lines.append(ctx.text("summary_ready"))
        options = ((_button(ctx, "btn_submit", "submit"),), (_button(ctx, "btn_edit", "edits"),))
    return Reply(Safe(_head(prefix) + "\n".join(lines)), options=options)


def submitted_reply(ctx: Context, *, status: str, deadline: dt.datetime, zone: str, just_now: bool,
                    prefix: str = "") -> Reply:
    """The report is in: its status, until when it may be reopened, and the buttons for that."""
    key = "submitted_now" if just_now else "submitted_already"
    text = ctx.text(key, unit=ctx.officer.unit_name, deadline=format_moment(deadline, zone, ctx.language),
                    status=ctx.text(f"status_{status}"))
    options: tuple[tuple[Option, ...], ...] = ((_button(ctx, "btn_summary", "summary"),),)
    if status == SubmissionStatus.submitted.value:
        options = ((_button(ctx, "btn_reopen", "reopen"),), *options)
    return Reply(Safe(_head(prefix) + text), options=options)


def intro(ctx: Context, *, period: Period, items: int, deadline: dt.datetime, zone: str,
          returned_reason: str | None) -> Reply:
    """The first message of a period's report: the unit, how many items, the deadline."""
    text = ctx.text("report_intro", unit=ctx.officer.unit_name, count=items, year=period.year,
                    kind=ctx.text(f"kind_{period.kind}"), deadline=format_moment(deadline, zone, ctx.language))
    if returned_reason is not None:
        text = Safe(text + "\n\n" + ctx.text("report_returned", reason=returned_reason or "—"))
    return Reply(text)


def pick_period_reply(ctx: Context, periods: Sequence[Period]) -> Reply:
    """Several periods are open: one button each."""
    options = tuple(
        (ctx.button(PREFIX, ctx.text("period_label", year=period.year, kind=ctx.text(f"kind_{period.kind}")),
                    "period", period.id),)
        for period in periods
    )
    return Reply(ctx.text("report_pick_period"), options=options)


def pick_item_reply(ctx: Context, items: Sequence[Item]) -> Reply:
    """Which item to change: one button each, and back to the summary."""
    options = tuple(
        (ctx.button(PREFIX, short(f"{item.code} · {item.text}" if item.is_indicator else item.text, 40),
                    "edit", item.code),)
        for item in items
    )
    return Reply(ctx.text("pick_item"), options=options + ((_button(ctx, "btn_summary", "summary"),),))


def closed_reply(ctx: Context, closed: ClosedReason) -> Reply:
    """Why the report cannot be changed now."""
    moment = format_moment(closed.moment, closed.zone, ctx.language) if closed.moment is not None else ""
    if closed.reason is Closed.locked:
        return Reply(ctx.text("publish_report_locked"))
    if closed.reason is Closed.not_yet:
        return Reply(ctx.text("report_not_yet", opens=moment))
    if closed.reason is Closed.over:
        return Reply(ctx.text("report_closed", deadline=moment))
    return Reply(ctx.text("report_no_period"))


def _named(code: str, text: str, between: str = " – ") -> str:
    """An item by its code and text (a criterion's text already starts with its code)."""
    return text if text.startswith(code) else f"{code}{between}{text}"


def progress_reply(language: str, unit_name: str, zone: str, periods: Sequence[PeriodProgress]) -> Reply:
    """/status: what is done and missing for the officer's unit, period by period.

    Missing items are named by their text; while the report may be changed, each
    missing item is a button that opens it (`r:goto:<period>:<code>`), and one more
    lists every item to change.
    """
    if not periods:
        return Reply(t(language, "report_no_period"))
    lines = [t(language, "status_title", unit=unit_name)]
    options: list[tuple[Option, ...]] = []
    for period in periods:
        lines.append(t(language, "status_line", year=period.year, kind=t(language, f"kind_{period.kind}"),
                       status=t(language, f"status_{period.status}"), done=period.done, total=period.total,
                       deadline=format_moment(period.deadline, zone, language)))
        if period.missing:
            lines.append(t(language, "status_missing", count=len(period.missing)))
            lines.extend(t(language, "status_missing_item", item=_named(code, text)) for code, text in period.missing)
        if not period.editable:
            continue
        for code, text in period.missing[:JUMPS]:
            label = short(_named(code, text, " · "), 40)
            options.append((Option(f"✏️ {label}", f"{PREFIX}:goto:{period.period_id}:{code}"),))
        if period.done:
            options.append((Option(t(language, "btn_edit"), f"{PREFIX}:items:{period.period_id}"),))
    if options:
        lines.append(t(language, "status_jump"))
    return Reply(Safe("\n".join(lines)), options=(*options, (start_option(language),)))
