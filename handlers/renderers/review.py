"""What the review shows: the units and their reports, the prompts, the ranking table and chart, the publication.

Renderers never change state: they turn plain data from `handlers.services`
into replies (catalog texts, buttons made with `Context.button`, files).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from handlers.chat import KeptFile, Option, OutFile, Reply
from handlers.flow import Context
from handlers.i18n import Safe, format_moment, points, t
from handlers.markup import to_plain
from handlers.renderers.chart import ChartBar, ChartData, render_chart
from handlers.renderers.documents import paperwork_files
from handlers.renderers.extras import extras_in_total, extras_lines, extras_short
from handlers.renderers.reporting import implausible, too_many_digits
from handlers.services.review import (
    Published,
    RankingView,
    Recipient,
    Refusal,
    ReviewItem,
    ValueProblem,
)
from rules.config import BlocConfig, CriterionKind
from rules.extras import explain_extras
from rules.numbers import format_number, format_percent, format_quantity, format_standard_percent
from rules.scoring import UnitScore, achievement
from storage.evidence import EvidenceView
from storage.review import PeriodInfo, SubmissionView, UnitStatus

PREFIX = "rv"  # the review flow's buttons: rv:<nonce>:<action>[:<argument>]
STATUS_ICONS = {"not_started": "⚪", "in_progress": "🟡", "submitted": "🔵", "returned": "↩️", "accepted": "✅"}
PART_LIMIT = 3500  # characters of HTML per message; Telegram's limit is 4.096
BUTTON_LABEL = 48


plain = to_plain  # a catalog message as plain text (pictures, documents and toasts are not marked up)


def short(text: str, limit: int = BUTTON_LABEL) -> str:
    """A button label cut to fit."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind_text(language: str, period: PeriodInfo) -> str:
    """`tổng kết năm` / `year-end`."""
    return t(language, f"kind_{period.kind}")


def names_text(config: BlocConfig, codes: Sequence[str]) -> str:
    """Units' full names by code, comma separated, in the order given."""
    names = {unit.code: unit.name for unit in config.units}
    return ", ".join(names.get(code, code) for code in codes)


def told(recipients: Sequence[Recipient], key: str, **params: object) -> list[Reply]:
    """One message per linked officer, each in their language; a callable parameter is given the language."""
    replies = []
    for chat_id, language in recipients:
        localized = {name: value(language) if callable(value) else value for name, value in params.items()}
        replies.append(Reply(t(language, key, **localized), chat_id=chat_id))
    return replies


def with_nobody_told(ctx: Context, done: Safe, recipients: Sequence[Recipient]) -> Safe:
    """A confirmation, saying so when no officer of the unit could be told."""
    return done if recipients else Safe(done + "\n" + ctx.text("review_nobody_told"))


def refusal(ctx: Context, why: Refusal, config: BlocConfig, period: PeriodInfo | None = None,
            unit: UnitStatus | None = None) -> Reply:
    """Why the officer may not do this now."""
    unit_name = ctx.officer.unit_name
    if why is Refusal.no_period:
        return Reply(ctx.text("review_no_period"))
    if why is Refusal.leader_only:
        return Reply(ctx.text("publish_reopen_leader_only", unit=unit_name))
    if why is Refusal.not_allowed and period is not None:
        return Reply(ctx.text("review_not_allowed", unit=unit_name, year=period.year))
    if why is Refusal.locked and period is not None and period.published_at is not None:
        return Reply(ctx.text("publish_locked", kind=kind_text(ctx.language, period), year=period.year,
                              moment=format_moment(period.published_at, config.bloc.timezone, ctx.language)))
    if why is Refusal.own_unit and unit is not None:
        return Reply(ctx.text("review_own_unit", unit=unit.unit_name))
    return Reply(ctx.text("review_stale"))


# -- the review ------------------------------------------------------------------------


def unit_list(ctx: Context, period: PeriodInfo, units: Sequence[UnitStatus], done: Safe | None = None) -> Reply:
    """The period's units with their status, one button each (after `done`, a confirmation, if any)."""
    lines: list[str] = [ctx.text("review_list_title", kind=kind_text(ctx.language, period), year=period.year)]
    options = []
    for unit in units:
        icon = STATUS_ICONS.get(unit.status, "•")
        status = ctx.text(f"review_status_{unit.status}")
        own = unit.unit_id == ctx.officer.unit_id
        lines.append(ctx.text("review_list_line", icon=icon, unit=unit.unit_name, status=status)
                     + (ctx.text("review_list_own") if own else ""))
        options.append((ctx.button(PREFIX, short(f"{icon} {unit.short_name} – {status}"), "open", unit.unit_id),))
    accepted = sum(1 for unit in units if unit.status == "accepted")
    lines.append(ctx.text("review_list_footer", done=accepted, total=len(units)))
    text = "\n".join(lines)
    return Reply(Safe(done + "\n\n" + text if done is not None else text), options=tuple(options))


def unit_card(ctx: Context, config: BlocConfig, unit: UnitStatus, view: SubmissionView | None,
              score: UnitScore | None, items: Sequence[ReviewItem], prefix: str = "") -> Reply:
    """A submission: every item with its value, points and evidence, and what may be done with it.

    `score` is None when the report is not handed in: then only the way back to the list is offered.
    """
    language = ctx.language
    status = view.status if view is not None else "not_started"
    lines = [prefix + "\n" if prefix else "",
             ctx.text("review_unit_title", unit=unit.unit_name, status=ctx.text(f"review_status_{status}"))]
    if view is None or score is None:
        if view is not None and view.return_reason and status == "returned":
            lines.append(ctx.text("review_unit_returned", reason=view.return_reason))
        lines.append(ctx.text("review_unit_not_handed_in"))
        back = ((ctx.button(PREFIX, ctx.text("review_btn_list"), "list"),),)
        return Reply(Safe("\n".join(line for line in lines if line)), options=back)
    lines.extend(pact_lines(ctx, config, items, view, score))
    lines.append(ctx.text("review_unit_total", total=points(score.total, language),
                          standard=format_number(config.pact.standard_score, locale=language))
                 + extras_in_total(language, score.bonus, score.deductions))
    lines.extend(extras_lines(language, explain_extras(config.pact, config.indicators_of(unit.unit_code), score)))
    rows: list[tuple[Option, ...]] = []
    if status == "submitted":
        rows.append((ctx.button(PREFIX, ctx.text("review_btn_accept"), "accept"),))
    rows.append((ctx.button(PREFIX, ctx.text("review_btn_change"), "change"),
                 ctx.button(PREFIX, ctx.text("review_btn_return"), "return")))
    rows.extend(evidence_buttons(ctx, items, view))
    rows.append((ctx.button(PREFIX, ctx.text("review_btn_list"), "list"),))
    return Reply(Safe("\n".join(line for line in lines if line)), options=tuple(rows))


def pact_lines(ctx: Context, config: BlocConfig, items: Sequence[ReviewItem], view: SubmissionView,
               score: UnitScore) -> list[str]:
    """A submission's items in the pact's order, section by section, then bonus; deductions only where given."""
    language = ctx.language
    by_code = {item.code: item for item in items}
    indicators = [item for item in items if item.is_indicator]
    lines: list[str] = []
    for section in config.pact.sections:
        lines.append(ctx.text("review_unit_section", code=section.code, name=section.name,
                              points=points(score.sections.get(section.code, Decimal(0)), language),
                              max=format_number(section.max, locale=language)))
        for criterion in section.criteria:
            if criterion.kind is CriterionKind.indicator:
                lines.append(ctx.text("review_item_indicator_points", code=criterion.code,
                                      points=points(score.criteria.get(criterion.code, Decimal(0)), language),
                                      max=format_number(criterion.max, locale=language)))
                lines.extend("  " + item_line(ctx, item, view) for item in indicators
                             if item.criterion == criterion.code)
            elif criterion.code in by_code:
                lines.append(item_line(ctx, by_code[criterion.code], view))
    for criterion in config.pact.bonus.criteria:
        if criterion.code in by_code:
            lines.append(item_line(ctx, by_code[criterion.code], view))
    for criterion in config.pact.deductions.criteria:
        entry = view.entries.get(criterion.code)
        given = entry is not None and bool(entry.value or entry.reviewed_value or entry.evidence)
        if criterion.code in by_code and given:
            lines.append(item_line(ctx, by_code[criterion.code], view))
    return lines


def item_line(ctx: Context, item: ReviewItem, view: SubmissionView) -> str:
    """One item of a submission: the unit's value (and achievement), the reviewed value, the evidence."""
    language = ctx.language
    entry = view.entries.get(item.code)
    own = entry.value if entry is not None else None
    clip = f" 📎 {entry.evidence}" if entry is not None and entry.evidence else ""
    if item.is_indicator:
        text = ctx.text("review_item_indicator", code=item.code, value=value_text(language, item, own),
                        percent=format_percent(achievement(own, item.target, item.direction), locale=language)
                        if own is not None else "—")
    elif item.kind == CriterionKind.deduction.value:
        text = ctx.text("review_item_deduction", code=item.code, text=item.text,
                        value=value_text(language, item, own), max=format_number(item.maximum, locale=language))
    elif own is None:
        text = ctx.text("review_item_criterion_missing", code=item.code, max=format_number(item.maximum,
                                                                                        locale=language))
    else:
        text = ctx.text("review_item_criterion", code=item.code, value=points(own, language),
                        max=format_number(item.maximum, locale=language))
    if entry is not None and entry.reviewed_value is not None:
        text = Safe(text + ctx.text("review_item_reviewed", value=value_text(language, item, entry.reviewed_value),
                                    reason=entry.review_reason or "—"))
    return text + clip


def evidence_buttons(ctx: Context, items: Sequence[ReviewItem], view: SubmissionView) -> list[tuple[Option, ...]]:
    """A button per item that has evidence, three to a row, to open it."""
    buttons = [ctx.button(PREFIX, ctx.text("review_btn_evidence", code=item.code,
                                           count=view.entries[item.code].evidence), "ev", item.code)
               for item in items if item.code in view.entries and view.entries[item.code].evidence]
    return [tuple(buttons[start:start + 3]) for start in range(0, len(buttons), 3)]


def evidence_reply(ctx: Context, unit: UnitStatus, item: ReviewItem, evidence: Sequence[EvidenceView]) -> Reply:
    """An item's evidence: each note in full, each file named and sent again on the channel it came from."""
    language = ctx.language
    lines = [ctx.text("review_evidence_title", unit=unit.unit_name, item=f"{item.code}. {item.text}")]
    resend: list[KeptFile] = []
    for number, piece in enumerate(evidence, start=1):
        if piece.file_id is None:
            lines.append(ctx.text("review_evidence_note", n=number, note=piece.note or ""))
            continue
        name = piece.file_name or ctx.text("review_evidence_unnamed")
        size = format_number(Decimal(piece.file_size or 0) / 1024, decimals=0, locale=language)
        key = "review_evidence_photo" if piece.is_photo else "review_evidence_file"
        lines.append(ctx.text(key, n=number, name=name, kb=size))
        if piece.channel == ctx.incoming.channel:
            resend.append(KeptFile(channel=piece.channel, file_id=piece.file_id, name=name, is_photo=piece.is_photo))
        else:
            lines.append(ctx.text("review_evidence_elsewhere", channel=piece.channel or "—"))
    if not evidence:
        lines.append(ctx.text("review_evidence_none"))
    elif resend:
        lines.append(ctx.text("review_evidence_sent", count=len(resend)))
    back = ((ctx.button(PREFIX, ctx.text("review_btn_back_unit"), "open", unit.unit_id),),)
    return Reply(Safe("\n".join(lines)), options=back, resend=tuple(resend))


def value_text(language: str, item: ReviewItem, value: Decimal | None) -> str:
    """An item's value with its measure (an actual), as points, or as points taken off (a deduction)."""
    if item.kind == CriterionKind.deduction.value:
        return t(language, "review_deducted", value=points(value, language)) if value else \
            t(language, "review_not_deducted")
    if value is None:
        return t(language, "review_not_given")
    if item.is_indicator:
        return format_quantity(value, item.measure, locale=language)
    return t(language, "review_points", value=points(value, language))


def item_picker(ctx: Context, unit: UnitStatus, items: Sequence[ReviewItem]) -> Reply:
    """Which item to change, and the way back to the unit."""
    options = tuple((ctx.button(PREFIX, short(f"{item.code} · {item.text}"), "item", item.code),) for item in items)
    back = ((ctx.button(PREFIX, ctx.text("review_btn_back_unit"), "open", unit.unit_id),),)
    return Reply(ctx.text("review_pick_item", unit=unit.unit_name), options=options + back)


def value_prompt(ctx: Context, unit: UnitStatus, item: ReviewItem, own: Decimal | None) -> Safe:
    """The question for a reviewed value, with the unit's own."""
    language = ctx.language
    own_text = value_text(language, item, own)
    if item.is_indicator:
        return ctx.text("review_value_indicator", item=f"{item.code}. {item.text}", unit=unit.unit_name,
                        own=own_text, target=format_quantity(item.target, item.measure, locale=language))
    return ctx.text("review_value_criterion", item=f"{item.code}. {item.text}", unit=unit.unit_name, own=own_text,
                    max=format_number(item.maximum, locale=language))


def value_problem(ctx: Context, problem: ValueProblem, item: ReviewItem, prompt: Safe) -> Reply:
    """Why a typed value was not taken (the prompt again when it was no number)."""
    if problem.reason == "ambiguous":
        readings = " / ".join(format_number(value, locale=ctx.language) for value in problem.readings)
        return Reply(ctx.text("review_err_ambiguous", readings=readings))
    if problem.reason == "negative":
        return Reply(ctx.text("review_err_negative"))
    if problem.reason == "range":
        return Reply(ctx.text("review_err_range", max=format_number(item.maximum, locale=ctx.language)))
    if problem.reason == "digits":
        return Reply(too_many_digits(ctx))
    if problem.reason == "implausible":
        return Reply(implausible(ctx, measure=item.measure, target=item.target, limit=item.limit))
    return Reply(Safe(ctx.text("review_err_number") + "\n\n" + prompt))


def reason_prompt(ctx: Context, item: ReviewItem, value: Decimal) -> Reply:
    """The value echoed back the Vietnamese way, and the question for the reason."""
    language = ctx.language
    if item.is_indicator:
        echo = ctx.text("review_echo_indicator", value=format_quantity(value, item.measure, locale=language),
                        percent=format_percent(achievement(value, item.target, item.direction), locale=language))
    else:
        echo = ctx.text("review_echo_criterion", value=format_number(value, locale=language),
                        max=format_number(item.maximum, locale=language))
    return Reply(ctx.text("review_reason_ask", item=item.code, echo=echo))


# -- the ranking -------------------------------------------------------------------------


def award_text(language: str, award: str | None) -> str:
    """An award proposal in words."""
    return t(language, f"review_award_{award}") if award else ""


def ranking_parts(language: str, view: RankingView) -> list[str]:
    """The ranking as <pre> blocks of short lines, each block small enough for one message."""
    blocks: list[str] = []
    for row in view.report.rows:
        marks = ""
        if row.shared_rank:
            marks += t(language, "publish_mark_shared")
        if row.unit_code in view.missing:
            marks += t(language, "publish_mark_missing")
        sections = [f"{code} {format_number(value, decimals=2, locale=language)}"
                    for code, value in row.sections.items()]
        lines = [t(language, "publish_row_unit", rank=row.rank, unit=row.unit_name) + marks]
        for start in range(0, len(sections), 3):
            lines.append(t(language, "publish_row_sections", sections=" · ".join(sections[start:start + 3])))
        # Bonus and deductions only where a unit has some, each source on a line of its own.
        lines.extend(t(language, "publish_row_extra", extra=extra) for extra in extras_short(language, row.extras))
        lines.append(t(language, "publish_row_total", total=format_number(row.total, decimals=2, locale=language),
                       percent=format_standard_percent(row.percent_of_standard, locale=language), band=row.band or "—"))
        if row.award:
            lines.append(t(language, "publish_row_award", award=award_text(language, row.award)))
        blocks.append("\n".join(lines))
    parts: list[str] = []
    current: list[str] = []
    for block in blocks:
        if current and len("\n\n".join([*current, block])) + 11 > PART_LIMIT:
            parts.append("<pre>" + "\n\n".join(current) + "</pre>")
            current = []
        current.append(block)
    if current:
        parts.append("<pre>" + "\n\n".join(current) + "</pre>")
    return parts


def ranking_chart(language: str, view: RankingView, config: BlocConfig) -> bytes:
    """The ranking's chart as a PNG."""
    return render_chart(chart_data(language, view, config))


def chart_data(language: str, view: RankingView, config: BlocConfig) -> ChartData:
    """The ranking's chart: a bar per unit stacked by section, labelled with rank and short name."""
    report = view.report
    bars = [
        ChartBar(label=f"{row.rank}. {view.short_names.get(row.unit_code, row.unit_code)}",
                 sections=[row.sections.get(section.code, Decimal(0)) for section in config.pact.sections],
                 bonus=row.bonus, deductions=row.deductions, total=row.total)
        for row in report.rows
    ]
    return ChartData(
        title=plain(t(language, "publish_chart_title", bloc=report.bloc_name, year=report.year,
                      kind=t(language, f"kind_{report.period}"))),
        section_labels=[plain(t(language, "publish_chart_section", code=section.code))
                        for section in config.pact.sections],
        bonus_label=plain(t(language, "publish_chart_bonus")),
        bars=bars,
    )


def ranking_changes(language: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two published rankings, one line per unit that moved or changed."""
    old = {row["unit_code"]: row for row in before.get("ranking", [])}
    lines: list[str] = []
    for row in after.get("ranking", []):
        previous = old.get(row["unit_code"])
        if previous is None:
            lines.append(t(language, "publish_change_new", unit=row["unit_name"]))
            continue
        parts = []
        if Decimal(previous["total"]) != Decimal(row["total"]):
            parts.append(t(language, "publish_change_total",
                           before=format_number(Decimal(previous["total"]), decimals=2, locale=language),
                           after=format_number(Decimal(row["total"]), decimals=2, locale=language)))
        if previous["rank"] != row["rank"]:
            parts.append(t(language, "publish_change_rank", before=previous["rank"], after=row["rank"]))
        if previous.get("award") != row.get("award"):
            parts.append(t(language, "publish_change_award",
                           before=award_text(language, previous.get("award")) or "—",
                           after=award_text(language, row.get("award")) or "—"))
        if parts:
            lines.append(t(language, "publish_change_line", unit=row["unit_name"], changes=Safe("; ".join(parts))))
    return lines


def preview(ctx: Context, config: BlocConfig, period: PeriodInfo, view: RankingView) -> list[Reply]:
    """`/ranking`: the reviewed ranking, privately, with who has not handed in or is not reviewed."""
    key = "publish_preview_title" if period.published_at is None else "publish_preview_published"
    head = [ctx.text(key, kind=kind_text(ctx.language, period), year=period.year, bloc=config.bloc.name)]
    if view.missing:
        head.append(ctx.text("publish_missing_line", units=names_text(config, view.missing)))
    if view.unreviewed:
        head.append(ctx.text("publish_unreviewed_line", units=names_text(config, view.unreviewed)))
    return [Reply(Safe("\n".join(head)))] + [Reply(Safe(part)) for part in ranking_parts(ctx.language, view)]


def publish_question(ctx: Context, config: BlocConfig, period: PeriodInfo, view: RankingView) -> Reply:
    """`/publish`: confirm (a unit missing is named, and asked about again)."""
    cancel = (ctx.button(PREFIX, ctx.text("publish_btn_cancel"), "cancel"),)
    if view.missing:
        text = ctx.text("publish_missing", count=len(view.missing), units=names_text(config, view.missing))
        options = ((ctx.button(PREFIX, ctx.text("publish_btn_anyway"), "force"),), cancel)
    else:
        text = ctx.text("publish_confirm", kind=kind_text(ctx.language, period), year=period.year,
                        count=len(view.report.rows))
        options = ((ctx.button(PREFIX, ctx.text("publish_btn_publish"), "go"),), cancel)
    if view.unreviewed:
        text = Safe(text + "\n" + ctx.text("publish_unreviewed_line", units=names_text(config, view.unreviewed)))
    return Reply(text, options=options)


def publish_second_question(ctx: Context, config: BlocConfig, view: RankingView) -> Reply:
    """The last confirmation when units have not handed in their report."""
    count = len(view.missing)
    options = ((ctx.button(PREFIX, ctx.text("publish_btn_confirm_missing", count=count), "go"),),
               (ctx.button(PREFIX, ctx.text("publish_btn_cancel"), "cancel"),))
    return Reply(ctx.text("publish_confirm_missing", count=count, units=names_text(config, view.missing)),
                 options=options)


def publication(ctx: Context, config: BlocConfig, period: PeriodInfo, view: RankingView, published: Published,
                group: str) -> list[Reply]:
    """The group's table and chart, what changed since the last publication, and the leader's paperwork."""
    language = ctx.language
    head: list[str] = [
        ctx.text("publish_group_title", kind=kind_text(language, period), year=period.year, bloc=config.bloc.name),
        ctx.text("publish_group_when", moment=format_moment(ctx.now, config.bloc.timezone, language),
                 unit=ctx.officer.unit_name),
    ]
    if published.previous is not None:
        changes = ranking_changes(language, published.previous.ranking, published.snapshot)
        head.append(ctx.text("publish_group_again", version=published.version,
                             reason=published.previous.reopen_reason or "—"))
        head.extend(changes or [ctx.text("publish_change_none")])
    if view.missing:
        head.append(ctx.text("publish_missing_line", units=names_text(config, view.missing)))
    head.append(ctx.text("publish_legend"))
    replies = [Reply(Safe("\n".join(head)), chat_id=group, group_post=True)]
    replies += [Reply(Safe(part), chat_id=group, group_post=True) for part in ranking_parts(language, view)]
    chart = OutFile(name=f"xep-hang-{period.year}.png", maker="chart", data=chart_data(language, view, config),
                    is_photo=True,
                    caption=plain(ctx.text("publish_chart_caption", year=period.year)))
    replies.append(Reply("", files=(chart,), chat_id=group, group_post=True))
    files = paperwork_files(published.score_sheet, published.minutes)
    replies.append(Reply(ctx.text("publish_done", version=published.version), files=tuple(files), protect=True))
    return replies


def reopened(ctx: Context, period: PeriodInfo, reason: str, group: str | None) -> list[Reply]:
    """The period is open again: said to the leader and, with the reason, to the group."""
    kind = kind_text(ctx.language, period)
    replies = [Reply(ctx.text("publish_reopened", kind=kind, year=period.year))]
    if group is not None:
        replies.append(Reply(ctx.text("publish_reopened_group", kind=kind, year=period.year, reason=reason),
                             chat_id=group, group_post=True))
    return replies


def bind_question(ctx: Context, config: BlocConfig, chat_id: str) -> list[Reply]:
    """A move of the bloc's group to this one, confirmed in the private chat."""
    options = ((ctx.button(PREFIX, ctx.text("bind_btn_move"), "move", chat_id),),
               (ctx.button(PREFIX, ctx.text("bind_btn_keep"), "keep"),))
    return [Reply(ctx.text("bind_check_private")),
            Reply(ctx.text("bind_confirm_move", bloc=config.bloc.name), options=options,
                  chat_id=ctx.incoming.user_address)]

