"""The bloc's group chat: `/bind` there makes it the group the ranking is published to."""

from __future__ import annotations

from handlers.chat import Reply, parse_address
from handlers.flow import Context, Turn
from handlers.flows.review.desk import Desk, stale
from handlers.flows.review.state import ReviewState
from handlers.renderers import review as render
from handlers.services import review as service


def _may_bind(desk: Desk) -> bool:
    return service.may_bind(session=desk.ctx.session, bloc=desk.bloc, unit_id=desk.ctx.officer.unit_id,
                            now=desk.ctx.now)


def bind_in_private(ctx: Context, state: ReviewState | None) -> Turn:
    """`/bind` in the private chat: it is a command of the group."""
    return Turn([Reply(ctx.text("bind_in_group"))])


def bind(ctx: Context) -> Turn:
    """`/bind` in a group: make it the bloc's group (a move to another group is confirmed privately)."""
    desk = Desk.of(ctx)
    if not _may_bind(desk):
        return Turn([Reply(ctx.text("bind_not_allowed", unit=ctx.officer.unit_name))])
    chat_id = ctx.incoming.chat_address
    if desk.bloc.group_chat_id == chat_id:
        # Bound again where it is: a group Zalo refused before is tried again.
        service.bind(session=ctx.session, bloc=desk.bloc, chat_id=chat_id, actor=desk.actor)
        return Turn([Reply(ctx.text("bind_already", bloc=desk.config.bloc.name))])
    if desk.bloc.group_chat_id is None:
        service.bind(session=ctx.session, bloc=desk.bloc, chat_id=chat_id, actor=desk.actor)
        return Turn([Reply(ctx.text("bind_done", bloc=desk.config.bloc.name))])
    return Turn(render.bind_question(ctx, desk.config, chat_id), state=ReviewState(step="bind"))


def move(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Move the bloc's group to the one the button names (its address; the button's nonce vouches for it)."""
    desk = Desk.of(ctx)
    if not _may_bind(desk):
        return Turn([Reply(ctx.text("bind_not_allowed", unit=ctx.officer.unit_name))], state=None)
    try:
        parse_address(argument)
    except ValueError:
        return stale(ctx, state)
    chat_id = argument
    service.bind(session=ctx.session, bloc=desk.bloc, chat_id=chat_id, actor=desk.actor)
    return Turn([Reply(ctx.text("bind_moved"), edit=True),
                 Reply(ctx.text("bind_done", bloc=desk.config.bloc.name), chat_id=chat_id)], state=None)


def keep(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Keep the bloc's group as it is."""
    return Turn([Reply(ctx.text("bind_kept"), edit=True)], state=None)
