"""The guided report: each indicator's actual, each self-scored criterion, evidence, submit.

The steps and what each answers are declared in :data:`FLOW`. Every step's
state is saved in the same transaction as the value it collects (the
dispatcher commits both together), so a crash or a restart resumes at the step
the officer was on with every confirmed value kept.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from handlers.chat import InKind, Reply
from handlers.flow import Context, Flow, FlowState, Step, Turn, WebOffer, small_number, stale_elsewhere
from handlers.renderers import reporting as render
from handlers.renderers import web as render_web
from handlers.services.reporting import (
    Item,
    Reading,
    UnitReport,
    checked_reading,
    closed_reason,
    editable_periods,
    read_typed,
)
from handlers.services.web import form_page
from storage.blocs import stored_bloc
from storage.models import SubmissionStatus

MAX_NOTE = 1000  # characters of a note given as evidence

StepName = Literal["period", "value", "confirm", "pick", "evidence", "summary", "choose", "submitted"]


class ReportState(FlowState):
    """Where the officer is in the report of one period."""

    step: StepName
    period_id: int | None = None
    item_code: str | None = None
    value: Decimal | None = None  # read from what was typed, waiting to be confirmed
    candidates: tuple[Decimal, ...] = ()  # the readings of an ambiguous number
    typed: str = ""  # the ambiguous number as typed, shown in the question
    back_to_summary: bool = False  # an item changed from the summary returns there


# -- what the officer sees at each step --------------------------------------------


def _prompt(ctx: Context, report: UnitReport, state: ReportState, prefix: str = "") -> list[Reply]:
    """The message of the current step (sent again on resume, stale buttons, bad input)."""
    item = report.by_code.get(state.item_code or "")
    if state.step == "value" and item is not None:
        return [render.item_prompt(ctx, report.items, item, prefix, saved=report.value(item.code))]
    if state.step == "confirm" and item is not None and state.value is not None:
        return [render.confirm_reply(ctx, item, state.value, prefix=prefix)]
    if state.step == "pick" and item is not None:
        return [render.ambiguous_reply(ctx, state.candidates, state.typed, prefix=prefix)]
    if state.step == "evidence" and item is not None:
        return [render.evidence_prompt(ctx, item, prefix)]
    if state.step == "submitted":
        return [_submitted(ctx, report, prefix=prefix)]
    return [render.summary_reply(ctx, report.config, report.summary(), prefix=prefix)]


def _submitted(ctx: Context, report: UnitReport, *, just_now: bool = False, prefix: str = "") -> Reply:
    status = report.status()
    if status == SubmissionStatus.not_started.value:
        status = SubmissionStatus.submitted.value
    return render.submitted_reply(ctx, status=status, deadline=report.period.reporting_deadline,
                                  zone=report.config.bloc.timezone, just_now=just_now, prefix=prefix)


def _at(ctx: Context, report: UnitReport, state: ReportState, prefix: str = "", notice: str | None = None) -> Turn:
    """Move to `state` and show its prompt."""
    return Turn(_prompt(ctx, report, state, prefix), notice=notice, state=state)


def _summary_state(state: ReportState) -> ReportState:
    return ReportState(step="summary", period_id=state.period_id)


def _closed_reply(ctx: Context) -> Reply:
    return render.closed_reply(ctx, closed_reason(session=ctx.session, bloc_id=ctx.officer.bloc_id, now=ctx.now))


def _closed(ctx: Context) -> Turn:
    """The period closed under the officer's feet: say why; the person leaves the flow."""
    return Turn([_closed_reply(ctx)], state=None)


# -- entry ---------------------------------------------------------------------------


def start(ctx: Context, state: ReportState | None) -> Turn:
    """`/report` (or the report button under a welcome or a reminder): choose the period, or resume."""
    if state is not None and state.period_id is not None:
        report = UnitReport.open(session=ctx.session, officer=ctx.officer, period_id=state.period_id)
        if report is not None and report.may_edit(ctx.now):
            if _changed_elsewhere(report, state):
                return _enter(ctx, report)
            # "Continuing where you stopped" only for a report under way, not one already handed in.
            resume = [] if state.step == "submitted" else [Reply(ctx.text("report_resume"))]
            return Turn([*resume, *_prompt(ctx, report, state)])
    periods = editable_periods(session=ctx.session, officer=ctx.officer, now=ctx.now)
    if not periods:
        return Turn([_closed_reply(ctx)])
    if len(periods) > 1:
        return Turn([render.pick_period_reply(ctx, periods)], state=ReportState(step="period"))
    bloc = stored_bloc(session=ctx.session, bloc_id=ctx.officer.bloc_id)
    return _enter(ctx, UnitReport(session=ctx.session, officer=ctx.officer, bloc=bloc, period=periods[0]))


def _changed_elsewhere(report: UnitReport, state: ReportState) -> bool:
    """Whether the web form moved the report on since this chat's last step.

    Submitted there while the chat was mid-report, or the item the chat was
    asking for saved there: the chat starts again from what is stored.
    """
    if state.step == "submitted":
        return False
    if not report.editable():
        return True
    return state.step in ("value", "pick") and not state.back_to_summary \
        and state.item_code is not None and report.value(state.item_code) is not None


def _start_button(ctx: Context, state: ReportState | None, _parts: list[str]) -> Turn:
    """`r:start` under a welcome or a reminder: the report from wherever the person is."""
    return start(ctx, state)


def _enter(ctx: Context, report: UnitReport) -> Turn:
    """Open a period's report: the intro, then the first missing item (or the summary)."""
    state = ReportState(step="value", period_id=report.period_id)
    if not report.editable():
        return _at(ctx, report, state.model_copy(update={"step": "submitted"}))
    period = report.period
    # A report returned after the reporting deadline may be corrected until the review deadline.
    late = ctx.now >= period.reporting_deadline and period.review_deadline is not None
    until = period.review_deadline if late and period.review_deadline else period.reporting_deadline
    returned = (report.return_reason() or "") if report.status() == SubmissionStatus.returned.value else None
    intro = render.intro(ctx, period=period, items=len(report.items), deadline=until,
                         zone=report.config.bloc.timezone, returned_reason=returned)
    missing = report.first_missing()
    if missing is None:
        state = _summary_state(state)
    else:
        state = state.model_copy(update={"item_code": missing.code})
    offer = [_form_offer(ctx, ctx.web, items=len(report.items), zone=report.config.bloc.timezone)] \
        if ctx.web is not None and len(report.items) > ctx.web.min_items else []
    return Turn([intro, *offer, *_prompt(ctx, report, state)], state=state)


def _form_offer(ctx: Context, web: WebOffer, *, items: int | None, zone: str) -> Reply:
    """The web form offered: the Mini App's button, or a personal link issued to this chat alone."""
    form = form_page(session=ctx.session, officer=ctx.officer,
                     mini_app=ctx.incoming.channel in web.mini_app_channels,
                     chat_address=ctx.incoming.chat_address, now=ctx.now, ttl=web.link_ttl)
    return render_web.form_offer(ctx, form, items=items, zone=zone)


def open_form(ctx: Context, _state: ReportState | None) -> Turn:
    """`/form`: the report form on the web (every item on one page), where it is served."""
    if ctx.web is None:
        return Turn([render_web.form_off(ctx)])
    zone = stored_bloc(session=ctx.session, bloc_id=ctx.officer.bloc_id).config.bloc.timezone
    return Turn([_form_offer(ctx, ctx.web, items=None, zone=zone)])


# -- steps ---------------------------------------------------------------------------

ReportStep = Callable[[Context, UnitReport, ReportState, str], Turn]


def _guarded(step: ReportStep) -> Callable[[Context, ReportState, str], Turn]:
    """A step that needs the period still open for the unit; else the officer is told why and leaves."""

    def run(ctx: Context, state: ReportState, argument: str) -> Turn:
        report = UnitReport.open(session=ctx.session, officer=ctx.officer, period_id=state.period_id or 0)
        if report is None or not report.may_edit(ctx.now):
            return _closed(ctx)
        return step(ctx, report, state, argument)

    return run


def _message(step: ReportStep) -> Callable[[Context, ReportState], Turn]:
    guarded = _guarded(step)
    return lambda ctx, state: guarded(ctx, state, "")


def _picked_period(ctx: Context, state: ReportState, argument: str) -> Turn:
    period_id = small_number(argument)
    if period_id is None:
        return on_stale(ctx, state)
    report = UnitReport.open(session=ctx.session, officer=ctx.officer, period_id=period_id)
    if report is None or not report.may_edit(ctx.now):
        return _closed(ctx)
    return _enter(ctx, report)


def _period_again(ctx: Context, state: ReportState) -> Turn:
    return Turn([Reply(ctx.text("report_pick_period_again"))])


def _read_value(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    item = report.by_code.get(state.item_code or "")
    if item is None:
        return _at(ctx, report, _summary_state(state))
    incoming = ctx.incoming
    if incoming.kind is InKind.file:
        # Evidence belongs to a saved figure: say how to attach it instead of only refusing.
        return _at(ctx, report, state, ctx.text("err_file_before_number"))
    if incoming.kind is not InKind.text:
        return _at(ctx, report, state, ctx.text("err_need_number"))
    return _reading(ctx, report, state, item, read_typed(item, incoming.text), typed=incoming.text)


def _reading(ctx: Context, report: UnitReport, state: ReportState, item: Item, reading: Reading, *,
             typed: str = "") -> Turn:
    """A number read from what was typed (or picked), by the service's rules: echoed for confirmation."""
    if reading.candidates:
        return _at(ctx, report, state.model_copy(update={
            "step": "pick", "candidates": reading.candidates, "typed": typed.strip()[:40]}))
    if reading.error is not None or reading.value is None:
        return _at(ctx, report, state.model_copy(update={"step": "value"}),
                   render.reading_error(ctx, item, reading.error or "err_need_number"))
    return _at(ctx, report, state.model_copy(update={"step": "confirm", "value": reading.value, "candidates": ()}))


def _picked_reading(ctx: Context, report: UnitReport, state: ReportState, argument: str) -> Turn:
    index = small_number(argument)
    item = report.by_code.get(state.item_code or "")
    if index is None or index >= len(state.candidates) or item is None:
        return _stale(ctx, report, state)
    return _reading(ctx, report, state, item, checked_reading(item, state.candidates[index], percent=False))


def _retype(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    return _at(ctx, report, state.model_copy(update={"step": "value", "value": None, "candidates": ()}),
               ctx.text("retype"))


def _confirm(ctx: Context, report: UnitReport, state: ReportState, *, with_evidence: bool) -> Turn:
    item = report.by_code.get(state.item_code or "")
    if state.value is None or item is None:
        return _stale(ctx, report, state)
    if not report.save(item, state.value):
        return _at(ctx, report, ReportState(step="submitted", period_id=state.period_id))
    saved = ctx.text("saved", item=item.code)
    confirmed = state.model_copy(update={"value": None})
    if with_evidence:
        return _at(ctx, report, confirmed.model_copy(update={"step": "evidence"}), saved, notice=saved)
    turn = _advance(ctx, report, confirmed, "")
    turn.notice = saved
    return turn


def _read_evidence(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    incoming = ctx.incoming
    item = report.by_code.get(state.item_code or "")
    if item is None or report.value(item.code) is None:
        return _at(ctx, report, state.model_copy(update={"step": "value"}))
    if incoming.kind is InKind.file and incoming.file is not None:
        report.attach(item, channel=incoming.channel, file_id=incoming.file.file_id,
                      file_name=incoming.file.file_name, file_size=incoming.file.file_size,
                      is_photo=incoming.file.is_photo)
        received = render.evidence_received(ctx, file_name=incoming.file.file_name,
                                            file_size=incoming.file.file_size)
    elif incoming.kind is InKind.text and incoming.text.strip():
        note = incoming.text.strip()
        if len(note) > MAX_NOTE:
            return _at(ctx, report, state, ctx.text("err_note_long", max=MAX_NOTE))
        report.attach(item, note=note)
        received = render.evidence_received(ctx, file_name=None, file_size=None)
    else:
        return _at(ctx, report, state, ctx.text("err_evidence_kind"))
    return _at(ctx, report, state, received)


def _advance(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    """After an item: back to the summary when editing from it, else the next missing item."""
    if state.back_to_summary:
        return _at(ctx, report, _summary_state(state))
    following = report.first_missing(after=state.item_code)
    if following is None:
        return _at(ctx, report, _summary_state(state))
    return _at(ctx, report, ReportState(step="value", period_id=state.period_id, item_code=following.code))


def _continue_missing(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    missing = report.first_missing()
    if missing is None:
        return _at(ctx, report, _summary_state(state))
    return _at(ctx, report, ReportState(step="value", period_id=state.period_id, item_code=missing.code))


def _back(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    """The previous item (in reporting order), its saved value shown; at the first item, said so."""
    item = report.by_code.get(state.item_code or "")
    if item is None:
        return _stale(ctx, report, state)
    position = report.items.index(item)
    if position == 0:
        return Turn(_prompt(ctx, report, state, ctx.text("back_first")))
    previous = report.items[position - 1]
    return _at(ctx, report, ReportState(step="value", period_id=state.period_id, item_code=previous.code))


BACK_STEPS = frozenset({"value", "confirm", "pick", "evidence"})


def back(ctx: Context, state: ReportState | None) -> Turn:
    """`/back`: while an item is being entered, the item before it; otherwise say what it is for."""
    if state is None or state.period_id is None or state.step not in BACK_STEPS:
        return Turn([Reply(ctx.text("back_none"))])
    return _guarded(_back)(ctx, state, "")


def _open_report(ctx: Context, parts: list[str]) -> UnitReport | None:
    period_id = small_number(parts[0]) if parts else None
    if period_id is None:
        return None
    return UnitReport.open(session=ctx.session, officer=ctx.officer, period_id=period_id)


def _goto_button(ctx: Context, state: ReportState | None, parts: list[str]) -> Turn:
    """`r:goto:<period>:<code>` under /status: that item of the officer's own report, at once."""
    report = _open_report(ctx, parts)
    code = parts[1] if len(parts) > 1 else ""
    if report is None or code not in report.by_code:
        return stale_elsewhere(ctx)
    if not report.may_edit(ctx.now) or not report.editable():
        return start(ctx, state) if report.may_edit(ctx.now) else _closed(ctx)
    return _at(ctx, report, ReportState(step="value", period_id=report.period_id, item_code=code))


def _items_button(ctx: Context, state: ReportState | None, parts: list[str]) -> Turn:
    """`r:items:<period>` under /status: every item of the officer's report, to change one."""
    report = _open_report(ctx, parts)
    if report is None:
        return stale_elsewhere(ctx)
    if not report.may_edit(ctx.now) or not report.editable():
        return start(ctx, state) if report.may_edit(ctx.now) else _closed(ctx)
    return _pick_item(ctx, report, ReportState(step="summary", period_id=report.period_id), "")


def _show_summary(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    return _at(ctx, report, _summary_state(state))


def _pick_item(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    return Turn([render.pick_item_reply(ctx, report.items)], state=state.model_copy(update={"step": "choose"}))


def _edit_item(ctx: Context, report: UnitReport, state: ReportState, code: str) -> Turn:
    if code not in report.by_code:
        return _stale(ctx, report, state)
    return _at(ctx, report, ReportState(step="value", period_id=state.period_id, item_code=code,
                                        back_to_summary=True))


def _submit(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    if report.first_missing() is not None:
        return _stale(ctx, report, state)
    report.submit()
    return Turn([_submitted(ctx, report, just_now=True)],
                state=ReportState(step="submitted", period_id=state.period_id))


def _reopen(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    if not report.reopen():
        return _stale(ctx, report, state)
    summary = _summary_state(state)
    return Turn([Reply(ctx.text("reopened")), *_prompt(ctx, report, summary)], state=summary)


def _press_a_button(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    return Turn(_prompt(ctx, report, state, ctx.text("press_a_button")))


def _again(ctx: Context, report: UnitReport, state: ReportState, _argument: str) -> Turn:
    return Turn(_prompt(ctx, report, state))


def _stale(ctx: Context, report: UnitReport, state: ReportState) -> Turn:
    return Turn(_prompt(ctx, report, state, ctx.text("stale_button")), notice=ctx.text("stale_notice"))


def again(ctx: Context, state: ReportState, header: str) -> Turn:
    """The current step once more, under `header` (a message whose turn failed saved nothing)."""
    report = UnitReport.open(session=ctx.session, officer=ctx.officer, period_id=state.period_id) \
        if state.period_id is not None else None
    if report is None:
        return Turn([Reply(header)])
    return Turn(_prompt(ctx, report, state, header))


def on_stale(ctx: Context, state: ReportState) -> Turn:
    """A button of an older prompt (or typed text where a button is expected): the current step again."""
    if state.period_id is None:
        if state.step == "period":
            return Turn([Reply(ctx.text("report_pick_period_again"))], notice=ctx.text("stale_notice"))
        return stale_elsewhere(ctx)
    report = UnitReport.open(session=ctx.session, officer=ctx.officer, period_id=state.period_id)
    if report is None or not report.may_edit(ctx.now):
        return _closed(ctx)
    return _stale(ctx, report, state)


FLOW: Flow[ReportState] = Flow(
    name="report",
    prefix=render.PREFIX,
    state_type=ReportState,
    steps={
        "period": Step(buttons={"period": _picked_period}, on_message=_period_again),
        "value": Step(buttons={"back": _guarded(_back), "keep": _guarded(_advance)},
                      on_message=_message(_read_value)),
        "confirm": Step(buttons={"ok": _guarded(lambda c, r, s, _: _confirm(c, r, s, with_evidence=False)),
                                 "okev": _guarded(lambda c, r, s, _: _confirm(c, r, s, with_evidence=True)),
                                 "retype": _guarded(_retype)},
                        on_message=_message(_press_a_button)),
        "pick": Step(buttons={"pick": _guarded(_picked_reading), "retype": _guarded(_retype)},
                     on_message=_message(_press_a_button)),
        "evidence": Step(buttons={"next": _guarded(_advance)}, on_message=_message(_read_evidence)),
        "summary": Step(buttons={"submit": _guarded(_submit), "edits": _guarded(_pick_item),
                                 "continue": _guarded(_continue_missing)},
                        on_message=_message(_again)),
        "choose": Step(buttons={"edit": _guarded(_edit_item), "summary": _guarded(_show_summary)},
                       on_message=_message(_again)),
        "submitted": Step(buttons={"reopen": _guarded(_reopen), "summary": _guarded(_show_summary)},
                          on_message=_message(_again)),
    },
    on_stale=on_stale,
    again=again,
    commands={"report": start, "form": open_form, "back": back},
    open_buttons={"start": _start_button, "goto": _goto_button, "items": _items_button},
    menu={"report": "cmd_report", "back": "cmd_back"},
)
