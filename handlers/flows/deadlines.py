"""/deadline: the leader or deputy unit moves a deadline of its year.

Choose a deadline (step `pick`), type the new date the Vietnamese way
(`17:00 20/01/2019` or `20/01/2019`, step `value`), confirm with a button
(step `confirm`). The change is audited and every unit's linked officers are
told. Authorization is checked again on every press and typed answer. Button
data is `dl:<nonce>:<action>[:<argument>...]`, the nonce checked by the dispatcher.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from handlers.chat import InKind, Reply
from handlers.flow import Context, Flow, FlowState, Step, Turn, small_number
from handlers.renderers.reminders import (
    deadline_confirm,
    deadline_moved,
    deadline_pick,
    deadline_retry,
    deadline_value_prompt,
    moment,
)
from handlers.services.reminders import Deadline, movable_deadline, movable_deadlines, move_deadline
from rules.reminders import MomentError, parse_local_moment
from storage.reminders import DeadlineField

PREFIX = "dl"
PICK, VALUE, CONFIRM = "pick", "value", "confirm"


class DeadlineState(FlowState):
    """The deadline being moved (from the step `value` on) and, at `confirm`, from what to what."""

    period_id: int | None = None
    field: DeadlineField | None = None
    before: dt.datetime | None = None  # the deadline as it stood when the new one was typed
    after: dt.datetime | None = None  # the new deadline typed


def _deadline(ctx: Context, state: DeadlineState) -> Deadline | None:
    """The deadline being moved, if it still exists and the officer's unit may still move it."""
    if state.period_id is None or state.field is None:
        return None
    return movable_deadline(session=ctx.session, officer=ctx.officer, period_id=state.period_id, field=state.field)


def _gone(ctx: Context) -> Turn:
    return Turn([Reply(ctx.text("deadline_not_allowed"))], state=None)


def _ask_value(ctx: Context, deadline: Deadline) -> Turn:
    return Turn([deadline_value_prompt(ctx.language, deadline, ctx.buttons(PREFIX))],
                state=DeadlineState(step=VALUE, period_id=deadline.period_id, field=deadline.field))


def start(ctx: Context, _state: DeadlineState | None) -> Turn:
    """`/deadline`: the deadlines still ahead that the officer's unit may move."""
    deadlines = movable_deadlines(session=ctx.session, officer=ctx.officer, now=ctx.now)
    if deadlines is None:
        return Turn([Reply(ctx.text("deadline_not_allowed"))])
    if not deadlines:
        return Turn([Reply(ctx.text("deadline_none"))])
    return Turn([deadline_pick(ctx.language, deadlines, ctx.buttons(PREFIX))], state=DeadlineState(step=PICK))


def stale(ctx: Context, _state: DeadlineState) -> Turn:
    """A button of an older prompt: nothing changes."""
    return Turn([Reply(ctx.text("deadline_stale"))], notice=ctx.text("stale_notice"))


def press_a_button(ctx: Context, _state: DeadlineState) -> Turn:
    """Typed text where a button is expected."""
    return Turn([Reply(ctx.text("deadline_press_button"))])


def picked(ctx: Context, state: DeadlineState, argument: str) -> Turn:
    """A deadline chosen (`pick:<period>:<field>`): ask for the new one."""
    parts = argument.split(":")
    number = small_number(parts[0]) if len(parts) == 2 else None
    if number is None or parts[1] not in DeadlineField.__members__:
        return stale(ctx, state)
    deadline = movable_deadline(session=ctx.session, officer=ctx.officer, period_id=number,
                                field=DeadlineField(parts[1]))
    if deadline is None:
        return _gone(ctx)
    return _ask_value(ctx, deadline)


def typed(ctx: Context, state: DeadlineState) -> Turn:
    """The typed new deadline: read the Vietnamese way, checked, echoed back to confirm."""
    deadline = _deadline(ctx, state)
    if deadline is None:
        return _gone(ctx)
    language = ctx.language
    if ctx.incoming.kind is not InKind.text:
        return Turn([deadline_retry(language, deadline, ctx.text("deadline_err_format"))])
    zone = ZoneInfo(deadline.timezone)
    try:
        day, time = parse_local_moment(ctx.incoming.text, default_time=deadline.current.astimezone(zone).time())
    except MomentError as error:
        key = "deadline_err_date" if str(error) in ("no_such_date", "no_such_time") else "deadline_err_format"
        return Turn([deadline_retry(language, deadline, ctx.text(key))])
    new = dt.datetime.combine(day, time, tzinfo=zone).astimezone(dt.UTC)
    if new <= ctx.now:
        return Turn([deadline_retry(language, deadline,
                                    ctx.text("deadline_err_past", now=moment(language, deadline, ctx.now)))])
    if deadline.opens is not None and new <= deadline.opens:
        return Turn([deadline_retry(language, deadline, ctx.text(
            "deadline_err_before_opens", opens=moment(language, deadline, deadline.opens)))])
    return Turn([deadline_confirm(language, deadline, new, ctx.buttons(PREFIX))],
                state=state.model_copy(update={"step": CONFIRM, "before": deadline.current, "after": new}))


def retype(ctx: Context, state: DeadlineState, _argument: str) -> Turn:
    """"Type again": the question again."""
    deadline = _deadline(ctx, state)
    return _ask_value(ctx, deadline) if deadline is not None else _gone(ctx)


def cancel(ctx: Context, _state: DeadlineState, _argument: str) -> Turn:
    """"Cancel": the deadline stays."""
    return Turn([Reply(ctx.text("deadline_cancelled"), edit=True)], state=None)


def confirmed(ctx: Context, state: DeadlineState, _argument: str) -> Turn:
    """"Confirm": the deadline is moved, unless someone moved it meanwhile."""
    deadline = _deadline(ctx, state)
    if deadline is None or state.after is None:
        return _gone(ctx)
    if deadline.current != state.before:
        changed = ctx.text("deadline_changed_meanwhile", deadline=moment(ctx.language, deadline, deadline.current))
        return Turn([deadline_retry(ctx.language, deadline, changed)],
                    state=DeadlineState(step=VALUE, period_id=deadline.period_id, field=deadline.field))
    moved = move_deadline(session=ctx.session, officer=ctx.officer, deadline=deadline, after=state.after)
    return Turn(deadline_moved(ctx.language, moved, ctx.officer.unit_name), notice=ctx.text("deadline_saved"),
                state=None)


FLOW: Flow[DeadlineState] = Flow(
    name="deadline",
    prefix=PREFIX,
    state_type=DeadlineState,
    steps={
        PICK: Step(buttons={"pick": picked}, on_message=press_a_button),
        VALUE: Step(buttons={"cancel": cancel}, on_message=typed),
        CONFIRM: Step(buttons={"ok": confirmed, "retype": retype, "cancel": cancel}, on_message=press_a_button),
    },
    on_stale=stale,
    commands={"deadline": start},
    menu={"deadline": "deadline_cmd"},
)
