"""/vote: a voter's open ballots again, and for the leader and deputy units the ballots' menu.

The desk's steps (declared in `handlers.flows.votes.FLOW`): `menu` (the three
ballots; open one, close one early, or announce next year's roles when the bloc
does not elect them), `hours` (the ballot about to be opened: its closing time,
the configured default or hours typed), `close` (close early: confirm). Its
buttons are `v:<nonce>:<action>[:<argument>]`, the nonce checked by the
dispatcher; every press and typed answer checks again that the officer's unit
is the year's leader or deputy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from handlers.chat import InKind, Reply
from handlers.flow import KEEP, Context, FlowState, Turn, small_number, stale_elsewhere
from handlers.renderers.votes import (
    OUTSIDE,
    announced_replies,
    ballot_message,
    ballot_title,
    close_prompt,
    closing_replies,
    hours_prompt,
    menu,
    opened_replies,
)
from handlers.services.votes import (
    KINDS,
    Year,
    announce_fixed_roles,
    ballots_to_vote,
    close_and_count,
    default_hours,
    desk,
    manages,
    open_ballot,
    rules_for,
    vote_year,
)
from storage.votes import BallotKind

PREFIX = "v"
MENU, HOURS, CLOSE = "menu", "hours", "close"
TYPED_HOURS = re.compile(r"\s*(\d{1,4})\s*(?:h|giờ|gio|tiếng|hours?)?\s*", re.IGNORECASE)


class Opening(NamedTuple):
    """The ballot the `hours` step would open."""

    kind: BallotKind
    round: int
    hours: int


class DeskState(FlowState):
    """Where the leader is at the desk: the ballot about to be opened (step `hours`) or closed (`close`)."""

    kind: BallotKind | None = None
    round: int | None = None
    hours: int | None = None
    ballot_id: int | None = None


def _menu(ctx: Context, year: Year, prefix: str = "", *replies: Reply, notice: str | None = None) -> Turn:
    """The menu (after `prefix`), then `replies`; the desk is at its menu again."""
    shown = menu(ctx.language, desk(year), ctx.buttons(PREFIX), prefix)
    return Turn([shown, *replies], notice=notice, state=DeskState(step=MENU))


def _hours(ctx: Context, year: Year, opening: Opening, prefix: str = "") -> Turn:
    """The ballot about to be opened and when it would close; the desk waits at `hours`."""
    kind, round, hours = opening
    config = year.config
    reply = hours_prompt(ctx.language, year.roster, kind=kind, round=round, year=year.year, plan=year.plan(kind),
                         rules=rules_for(config, kind), members=len(config.members_in(year.year)),
                         hours=hours, times=year.times(hours, ctx.now),
                         working=config.votes.working_hours or config.reminders.working_hours,
                         buttons=ctx.buttons(PREFIX), prefix=prefix)
    return Turn([reply], state=DeskState(step=HOURS, kind=kind, round=round, hours=hours))


def _opening(state: DeskState) -> Opening | None:
    """The ballot the `hours` step is about."""
    if state.kind is None or state.round is None or state.hours is None:
        return None
    return Opening(state.kind, state.round, state.hours)


def _leading(handler: Callable[[Context, DeskState, str, Year], Turn]) -> Callable[[Context, DeskState, str], Turn]:
    """A menu button's handler, run only while the officer's unit leads the year (checked on every press)."""

    def checked(ctx: Context, state: DeskState, argument: str) -> Turn:
        year = vote_year(session=ctx.session, officer=ctx.officer)
        if year is None:
            return Turn([Reply(ctx.text("vote_not_published"))])
        if not manages(year, ctx.officer):
            return Turn([Reply(ctx.text("vote_leader_only", year=year.year))],
                        notice=ctx.text("vote_notice_refused"), state=None)
        return handler(ctx, state, argument, year)

    checked.__doc__ = handler.__doc__
    return checked


def _typing(handler: Callable[[Context, DeskState, Year], Turn]) -> Callable[[Context, DeskState], Turn]:
    """A typed answer's handler, run only while the officer's unit leads the year; else /vote afresh."""

    def checked(ctx: Context, state: DeskState) -> Turn:
        year = vote_year(session=ctx.session, officer=ctx.officer)
        if year is None or not manages(year, ctx.officer):
            turn = start(ctx, None)
            return Turn(turn.replies, turn.notice, None if turn.state is KEEP else turn.state)
        return handler(ctx, state, year)

    checked.__doc__ = handler.__doc__
    return checked


# -- entry and stale buttons --------------------------------------------------------------


def start(ctx: Context, _state: DeskState | None) -> Turn:
    """`/vote`: the ballots the unit still has to vote in; the menu for the leader and deputy units."""
    year = vote_year(session=ctx.session, officer=ctx.officer)
    if year is None:
        return Turn([Reply(ctx.text("vote_not_published"))])
    replies = [ballot_message(ctx.language, year.roster, ballot, ctx.officer.unit_code)
               for ballot in ballots_to_vote(year, ctx.officer, ctx.now)]
    if manages(year, ctx.officer):
        replies.append(menu(ctx.language, desk(year), ctx.buttons(PREFIX)))
        return Turn(replies, state=DeskState(step=MENU))
    if not replies:
        replies.append(Reply(ctx.text("vote_nothing_for_you", year=year.year)))
    return Turn(replies)


def stale(ctx: Context, _state: DeskState) -> Turn:
    """A button of an older message, or forged: nothing changes; the menu again."""
    year = vote_year(session=ctx.session, officer=ctx.officer)
    if year is None or not manages(year, ctx.officer):
        return stale_elsewhere(ctx)
    return _menu(ctx, year, ctx.text("vote_stale"), notice=ctx.text("stale_notice"))


# -- the menu -----------------------------------------------------------------------------


@_leading
def ask_hours(ctx: Context, state: DeskState, argument: str, year: Year) -> Turn:
    """"Open": the ballot of that kind that may be opened now, with the default closing time."""
    if argument not in {kind.value for kind in KINDS}:
        return stale(ctx, state)
    kind = BallotKind(argument)
    plan = year.plan(kind)
    if plan is None:
        return _menu(ctx, year, ctx.text("vote_plan_gone"))
    return _hours(ctx, year, Opening(kind, plan.round, default_hours(rules_for(year.config, kind))))


@_leading
def ask_close(ctx: Context, state: DeskState, argument: str, year: Year) -> Turn:
    """"Close early": the turnout so far, and a confirmation."""
    ballot_id = small_number(argument)
    ballot = year.own_ballot(ballot_id) if ballot_id is not None else None
    if ballot is None or ballot.closed_at is not None:
        return _menu(ctx, year, ctx.text("vote_already_closed"))
    reply = close_prompt(ctx.language, year.roster, ballot, year.voted(ballot), ctx.buttons(PREFIX))
    return Turn([reply], state=DeskState(step=CLOSE, ballot_id=ballot.id))


@_leading
def announce(ctx: Context, state: DeskState, _argument: str, year: Year) -> Turn:
    """Rotation or appointment: next year's leader and deputy from the configuration, announced and stored."""
    announced = announce_fixed_roles(year, ctx.officer)
    if announced is None:
        return stale(ctx, state)
    if announced.already:
        return _menu(ctx, year, ctx.text("vote_fixed_already"))
    return _menu(ctx, year, ctx.text("vote_fixed_stored"), *announced_replies(announced))


@_leading
def back(ctx: Context, _state: DeskState, _argument: str, year: Year) -> Turn:
    """"Back": the menu."""
    return _menu(ctx, year)


@_typing
def press_a_button(ctx: Context, _state: DeskState, year: Year) -> Turn:
    """Anything typed where a button is expected: the menu again."""
    return _menu(ctx, year, ctx.text("vote_press_a_button"))


# -- opening ------------------------------------------------------------------------------


@_typing
def typed_hours(ctx: Context, state: DeskState, year: Year) -> Turn:
    """Hours typed at the closing-time step, within the configured bounds."""
    opening = _opening(state)
    if opening is None:
        return _menu(ctx, year, ctx.text("vote_press_a_button"))
    rules = rules_for(year.config, opening.kind)
    match = TYPED_HOURS.fullmatch(ctx.incoming.text) if ctx.incoming.kind is InKind.text else None
    hours = int(match.group(1)) if match else 0
    if not rules.min_hours <= hours <= rules.max_hours:
        bad = ctx.text("vote_hours_bad", min=rules.min_hours, max=rules.max_hours, example=default_hours(rules))
        return _hours(ctx, year, opening, bad)
    return _hours(ctx, year, opening._replace(hours=hours))


@_leading
def go(ctx: Context, state: DeskState, argument: str, year: Year) -> Turn:
    """"Open the ballot": the ballots to the voters, the turnout message to the group.

    Outside the bloc's votes window only the button that said so opens it (the
    leader saw the window); the plain one shows the warning and waits.
    """
    opening = _opening(state)
    if opening is None:
        return stale(ctx, state)
    if year.times(opening.hours, ctx.now).outside_window and argument != OUTSIDE:
        return _hours(ctx, year, opening, ctx.text("vote_confirm_outside"))
    plan = year.plan(opening.kind)
    opened = open_ballot(year, plan, opening.hours, ctx.officer, ctx.now) \
        if plan is not None and plan.round == opening.round else None
    if opened is None:
        return _menu(ctx, year, ctx.text("vote_plan_gone"))
    text, replies = opened_replies(ctx.language, opened)
    return _menu(ctx, year, text, *replies)


# -- closing early ------------------------------------------------------------------------


@_leading
def close(ctx: Context, state: DeskState, argument: str, year: Year) -> Turn:
    """"Close now": the ballot is counted and the result announced (once, whoever closes at the same time)."""
    ballot = year.own_ballot(state.ballot_id) if state.ballot_id is not None and \
        str(state.ballot_id) == argument else None
    if ballot is None:
        return stale(ctx, state)
    closed = close_and_count(session=ctx.session, ballot_id=ballot.id, now=ctx.now,
                             closed_by=ctx.officer.actor)
    year = year.reload()
    if closed is None:
        return _menu(ctx, year, ctx.text("vote_already_closed"))
    done = ctx.text("vote_closed_by_you", title=ballot_title(ctx.language, year.roster, ballot))
    return _menu(ctx, year, done, *closing_replies(closed))
