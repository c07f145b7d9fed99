"""The review itself: the list of units, one unit's report, accept, change a score with a reason, return it."""

from __future__ import annotations

from decimal import Decimal

from handlers.chat import InKind, Reply
from handlers.flow import Context, Turn, small_number
from handlers.flows.review.desk import Desk, reason_text, refusable, stale
from handlers.flows.review.state import ReviewState
from handlers.i18n import Safe
from handlers.renderers import review as render
from handlers.services import review as service
from handlers.services.review import ReviewItem
from storage.review import MAX_REASON, PeriodInfo, UnitStatus


def _listing(desk: Desk, period: PeriodInfo, done: Safe | None = None) -> Turn:
    """The list of units (after a confirmation, if any), the flow back at the list."""
    reply = render.unit_list(desk.ctx, period, desk.units(period), done=done)
    return Turn([reply], state=ReviewState(step="list", period_id=period.id))


def _showing(period: PeriodInfo, unit: UnitStatus) -> ReviewState:
    return ReviewState(step="unit", period_id=period.id, unit_id=unit.unit_id)


def _current(desk: Desk, state: ReviewState) -> tuple[PeriodInfo, UnitStatus]:
    """The period (checked) and the unit under review (checked)."""
    period = desk.guard(desk.period_of(state))
    return period, desk.unit(period, state.unit_id)


def _item(desk: Desk, unit: UnitStatus, state: ReviewState) -> ReviewItem:
    item = service.review_item(desk.config, unit.unit_code, state.item_code)
    if item is None:
        raise desk.refuse(service.Refusal.stale)
    return item


def _value_prompt(desk: Desk, period: PeriodInfo, unit: UnitStatus, item: ReviewItem) -> Safe:
    view = service.submission(session=desk.ctx.session, period=period, unit=unit)
    entry = view.entries.get(item.code) if view is not None else None
    return render.value_prompt(desk.ctx, unit, item, entry.value if entry is not None else None)


@refusable
def review(ctx: Context, state: ReviewState | None) -> Turn:
    """`/review`: the units of the current period with their status, as buttons."""
    desk = Desk.of(ctx)
    return _listing(desk, desk.guard(desk.period_now()))


@refusable
def open_unit(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """A unit of the list: its report, item by item, and what may be done."""
    desk = Desk.of(ctx)
    period = desk.guard(desk.period_of(state))
    unit_id = small_number(argument)
    if unit_id is None:
        return stale(ctx, state)
    unit = desk.unit(period, unit_id)
    return Turn([desk.card(period, unit)], state=_showing(period, unit))


@refusable
def open_evidence(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """An item's evidence: the files sent again to the reviewer, the notes shown; the way back to the report."""
    desk = Desk.of(ctx)
    period, unit = _current(desk, state)
    item = service.review_item(desk.config, unit.unit_code, argument)
    if item is None:
        return stale(ctx, state)
    kept = service.evidence(session=ctx.session, period=period, unit=unit, item=item)
    return Turn([render.evidence_reply(ctx, unit, item, kept)], state=_showing(period, unit))


@refusable
def back_to_list(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Back to the list of units."""
    desk = Desk.of(ctx)
    return _listing(desk, desk.guard(desk.period_of(state)))


@refusable
def accept(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Accept the unit's report as it stands; its officers are told."""
    desk = Desk.of(ctx)
    period, unit = _current(desk, state)
    recipients = service.accept(session=ctx.session, bloc=desk.bloc, period=period, unit=unit, actor=desk.actor)
    if recipients is None:
        return Turn([desk.card(period, unit, prefix=ctx.text("review_cannot_accept"))], state=_showing(period, unit))
    notices = render.told(recipients, "review_told_accepted", unit=unit.unit_name, year=period.year,
                          reviewer=ctx.officer.unit_name, kind=lambda language: render.kind_text(language, period))
    done = ctx.text("review_accepted", unit=unit.unit_name)
    turn = _listing(desk, period, done)
    return Turn([*turn.replies, *notices], notice=render.plain(done), state=turn.state)


@refusable
def choose_item(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Change a score: which item."""
    desk = Desk.of(ctx)
    period, unit = _current(desk, state)
    desk.require_handed_in(period, unit)
    return Turn([render.item_picker(ctx, unit, service.review_items(desk.config, unit.unit_code))],
                state=ReviewState(step="unit_item", period_id=period.id, unit_id=unit.unit_id))


@refusable
def chose_item(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """The item chosen: ask for its reviewed value."""
    desk = Desk.of(ctx)
    period, unit = _current(desk, state)
    desk.require_handed_in(period, unit)
    item = service.review_item(desk.config, unit.unit_code, argument)
    if item is None:
        return stale(ctx, state)
    # A number typed here is the value (on Zalo, not the pick of an option numbered in the item list).
    return Turn([Reply(_value_prompt(desk, period, unit, item), typed_numbers=True)],
                state=ReviewState(step="value", period_id=period.id, unit_id=unit.unit_id, item_code=item.code))


@refusable
def ask_return(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Return the report for correction: ask for the reason."""
    desk = Desk.of(ctx)
    period, unit = _current(desk, state)
    desk.require_handed_in(period, unit)
    return Turn([Reply(ctx.text("review_return_ask", unit=unit.unit_name), typed_numbers=True)],
                state=ReviewState(step="return", period_id=period.id, unit_id=unit.unit_id))


@refusable
def read_value(ctx: Context, state: ReviewState) -> Turn:
    """The reviewed value, read the Vietnamese way and echoed back; then the reason is asked."""
    desk = Desk.of(ctx)
    period, unit = _current(desk, state)
    desk.require_handed_in(period, unit)
    item = _item(desk, unit, state)
    prompt = _value_prompt(desk, period, unit, item)
    text = ctx.incoming.text if ctx.incoming.kind is InKind.text else ""
    value = service.read_value(item, text)
    if isinstance(value, service.ValueProblem):
        return Turn([render.value_problem(ctx, value, item, prompt)])
    return Turn([render.reason_prompt(ctx, item, value)], state=state.model_copy(update={"step": "reason",
                                                                                          "value": value}))


@refusable
def read_reason(ctx: Context, state: ReviewState) -> Turn:
    """The reason of the change: saved, the unit's officers told from what to what and why."""
    desk = Desk.of(ctx)
    period, unit = _current(desk, state)
    desk.require_handed_in(period, unit)
    item = _item(desk, unit, state)
    reason = reason_text(ctx)
    if reason is None:
        return Turn([Reply(ctx.text("review_err_reason"))])
    if len(reason) > MAX_REASON:
        return Turn([Reply(ctx.text("review_err_reason_long", max=MAX_REASON))])
    if state.value is None:
        raise desk.refuse(service.Refusal.stale)
    value: Decimal = state.value
    changed = service.change_score(session=ctx.session, bloc=desk.bloc, period=period, unit=unit, item=item,
                                   value=value, reason=reason, actor=desk.actor)
    notices = render.told(
        changed.told, "review_told_changed", reviewer=ctx.officer.unit_name, unit=unit.unit_name,
        item=f"{item.code}. {item.text}", reason=reason,
        before=lambda language: render.value_text(language, item, changed.before),
        after=lambda language: render.value_text(language, item, value),
    )
    done = ctx.text("review_changed", item=item.code, unit=unit.unit_name,
                    before=render.value_text(ctx.language, item, changed.before),
                    after=render.value_text(ctx.language, item, value), count=len(notices))
    done = render.with_nobody_told(ctx, done, changed.told)
    return Turn([desk.card(period, unit, prefix=done), *notices], state=_showing(period, unit))


@refusable
def read_return_reason(ctx: Context, state: ReviewState) -> Turn:
    """The reason to return the report: it goes back to the unit, whose officers are told why."""
    desk = Desk.of(ctx)
    period, unit = _current(desk, state)
    reason = reason_text(ctx)
    if reason is None:
        return Turn([Reply(ctx.text("review_err_reason"))])
    if len(reason) > MAX_REASON:
        return Turn([Reply(ctx.text("review_err_reason_long", max=MAX_REASON))])
    recipients = service.return_for_correction(session=ctx.session, bloc=desk.bloc, period=period, unit=unit,
                                               reason=reason, actor=desk.actor)
    if recipients is None:
        return Turn([desk.card(period, unit, prefix=ctx.text("review_not_handed_in"))], state=_showing(period, unit))
    notices = render.told(recipients, "review_told_returned", unit=unit.unit_name, year=period.year, reason=reason,
                          kind=lambda language: render.kind_text(language, period))
    done = render.with_nobody_told(ctx, ctx.text("review_returned", unit=unit.unit_name, count=len(recipients)),
                                   recipients)
    turn = _listing(desk, period, done)
    return Turn([*turn.replies, *notices], state=turn.state)
