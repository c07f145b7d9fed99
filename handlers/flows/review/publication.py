"""The ranking previewed, published to the bloc's group (confirmed, twice with a unit missing), and reopened."""

from __future__ import annotations

from handlers.chat import Reply
from handlers.flow import Context, Turn
from handlers.flows.review.desk import Desk, reason_text, refusable
from handlers.flows.review.state import ReviewState
from handlers.renderers import review as render
from handlers.services import review as service
from storage.review import MAX_REASON, PeriodInfo


@refusable
def preview(ctx: Context, state: ReviewState | None) -> Turn:
    """`/ranking`: the reviewed ranking, privately, before (or after) it is published."""
    desk = Desk.of(ctx)
    period = desk.guard(desk.period_now(), unlocked=False)
    view = service.ranking_view(session=ctx.session, bloc=desk.bloc, period=period)
    return Turn(render.preview(ctx, desk.config, period, view))


@refusable
def publish(ctx: Context, state: ReviewState | None) -> Turn:
    """`/publish`: confirm, twice when some units have not handed in their report."""
    desk = Desk.of(ctx)
    period = desk.guard(desk.period_now())
    if service.group_address(session=ctx.session, bloc=desk.bloc, now=ctx.now) is None:
        return Turn([Reply(ctx.text("publish_no_group"))])
    view = service.ranking_view(session=ctx.session, bloc=desk.bloc, period=period)
    return Turn([render.publish_question(ctx, desk.config, period, view)],
                state=ReviewState(step="publish", period_id=period.id, missing=tuple(view.missing)))


@refusable
def force(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Publish although units are missing: the last confirmation, naming them."""
    desk = Desk.of(ctx)
    period = desk.guard(desk.period_of(state))
    view = service.ranking_view(session=ctx.session, bloc=desk.bloc, period=period)
    if not view.missing:
        return publish(ctx, state)
    return Turn([render.publish_second_question(ctx, desk.config, view)],
                state=ReviewState(step="publish2", period_id=period.id, missing=tuple(view.missing)))


@refusable
def go(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Publish: rank once, post the table and the chart to the group, lock the period, send the paperwork."""
    desk = Desk.of(ctx)
    period: PeriodInfo = desk.guard(desk.period_of(state))
    group = service.group_address(session=ctx.session, bloc=desk.bloc, now=ctx.now)
    if group is None:
        return Turn([Reply(ctx.text("publish_no_group"))])
    view = service.ranking_view(session=ctx.session, bloc=desk.bloc, period=period)
    confirmed = set(state.missing) if state.step == "publish2" else set()
    if not set(view.missing) <= confirmed:
        # Someone's status changed since the question: ask again with the current list.
        return publish(ctx, state)
    published = service.publish(session=ctx.session, bloc=desk.bloc, period=period, view=view, actor=desk.actor,
                                now=ctx.now)
    return Turn(render.publication(ctx, desk.config, period, view, published, group),
                notice=ctx.text("publish_done_notice"), state=None)


def cancel(ctx: Context, state: ReviewState, argument: str) -> Turn:
    """Do not publish."""
    return Turn([Reply(ctx.text("review_cancelled"))], state=None)


def _reopen(desk: Desk, period: PeriodInfo, reason: str) -> Turn:
    ctx = desk.ctx
    if len(reason) > MAX_REASON:
        return Turn([Reply(ctx.text("review_err_reason_long", max=MAX_REASON))])
    service.reopen(session=ctx.session, bloc=desk.bloc, period=period, reason=reason, actor=desk.actor, now=ctx.now)
    return Turn(render.reopened(ctx, period, reason, service.group_address(session=ctx.session, bloc=desk.bloc,
                                                                          now=ctx.now)), state=None)


@refusable
def reopen(ctx: Context, state: ReviewState | None) -> Turn:
    """`/reopen [reason]`: the leader unlocks a published ranking, with a reason (asked for when not given)."""
    desk = Desk.of(ctx)
    period = desk.guard(desk.period_now(), leader_only=True, unlocked=False)
    if period.published_at is None:
        return Turn([Reply(ctx.text("publish_not_published", kind=render.kind_text(ctx.language, period),
                                    year=period.year))])
    reason = " ".join(ctx.incoming.args).strip()
    if reason:
        return _reopen(desk, period, reason)
    return Turn([Reply(ctx.text("publish_reopen_ask"), typed_numbers=True)],  # typed text, never an option
                state=ReviewState(step="reopen", period_id=period.id))


@refusable
def read_reopen_reason(ctx: Context, state: ReviewState) -> Turn:
    """The reason to reopen, typed."""
    desk = Desk.of(ctx)
    period = desk.guard(desk.period_of(state), leader_only=True, unlocked=False)
    reason = reason_text(ctx)
    if reason is None:
        return Turn([Reply(ctx.text("review_err_reason"))])
    if period.published_at is None:
        return Turn([Reply(ctx.text("publish_not_published", kind=render.kind_text(ctx.language, period),
                                    year=period.year))], state=None)
    return _reopen(desk, period, reason)
