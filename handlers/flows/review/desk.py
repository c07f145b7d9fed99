"""What every step of the review shares: the officer's bloc, the checks run on every message, a refusal."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec

from handlers.chat import InKind, Reply
from handlers.flow import KEEP, Context, Turn
from handlers.flows.review.state import ReviewState
from handlers.renderers import review as render
from handlers.services import review as service
from rules.config import BlocConfig
from storage.blocs import BlocRef, stored_bloc
from storage.review import PeriodInfo, UnitStatus, period_info

P = ParamSpec("P")


class Refused(Exception):
    """An action that is not allowed now; carries the reply that says why and the state to keep.

    `leave` ends the flow (the period was published meanwhile); `state` moves the
    flow there (a report no longer handed in shows the unit again); otherwise
    the state stays as it was.
    """

    def __init__(self, reply: Reply, *, leave: bool = False, state: ReviewState | None = None) -> None:
        super().__init__(reply.text)
        self.reply, self.leave, self.state = reply, leave, state


def refusable(handler: Callable[Concatenate[Context, P], Turn]) -> Callable[Concatenate[Context, P], Turn]:
    """A step whose refusal is answered (with a toast for a pressed button) and changes nothing else."""

    @functools.wraps(handler)
    def run(ctx: Context, /, *args: P.args, **kwargs: P.kwargs) -> Turn:
        try:
            return handler(ctx, *args, **kwargs)
        except Refused as refused:
            notice = render.plain(refused.reply.text)[:190] if ctx.incoming.kind is InKind.option else None
            state = None if refused.leave else refused.state if refused.state is not None else KEEP
            return Turn([refused.reply], notice=notice, state=state)

    return run


@dataclass(frozen=True)
class Desk:
    """One message's reviewer: the context and the officer's bloc, with the checks every step runs."""

    ctx: Context
    bloc: BlocRef

    @classmethod
    def of(cls, ctx: Context) -> Desk:
        """The desk of the officer who wrote."""
        return cls(ctx, stored_bloc(session=ctx.session, bloc_id=ctx.officer.bloc_id))

    @property
    def config(self) -> BlocConfig:
        """The bloc's configuration."""
        return self.bloc.config

    @property
    def actor(self) -> str:
        """Who the audit trail names."""
        return self.ctx.officer.actor

    def refuse(self, why: service.Refusal, period: PeriodInfo | None = None, unit: UnitStatus | None = None,
               *, leave: bool = False) -> Refused:
        """A refusal, rendered."""
        return Refused(render.refusal(self.ctx, why, self.config, period, unit), leave=leave)

    def period_now(self) -> PeriodInfo | None:
        """The period under way."""
        return service.period_now(session=self.ctx.session, bloc=self.bloc, now=self.ctx.now)

    def period_of(self, state: ReviewState) -> PeriodInfo:
        """The period the flow is in (stale when it is gone or not the officer's bloc's)."""
        period = period_info(session=self.ctx.session, period_id=state.period_id) \
            if state.period_id is not None else None
        if period is None or period.bloc_id != self.bloc.id:
            raise self.refuse(service.Refusal.stale)
        return period

    def guard(self, period: PeriodInfo | None, *, leader_only: bool = False, unlocked: bool = True) -> PeriodInfo:
        """The period, when the officer may act on it now (checked on every message); else refused."""
        why = service.access(session=self.ctx.session, bloc=self.bloc, unit_id=self.ctx.officer.unit_id,
                             period=period, leader_only=leader_only, unlocked=unlocked)
        if why is not None or period is None:
            raise self.refuse(why or service.Refusal.no_period, period, leave=why is service.Refusal.locked)
        return period

    def units(self, period: PeriodInfo) -> list[UnitStatus]:
        """The period's member units with their status."""
        return service.member_statuses(session=self.ctx.session, bloc=self.bloc, period=period)

    def unit(self, period: PeriodInfo, unit_id: int | None) -> UnitStatus:
        """A member unit the officer may review in this period."""
        if unit_id is None:
            raise self.refuse(service.Refusal.stale)
        unit = service.member_unit(session=self.ctx.session, bloc=self.bloc, period=period, unit_id=unit_id)
        if unit is None:
            raise self.refuse(service.Refusal.stale)
        if not service.may_review_unit(session=self.ctx.session, bloc=self.bloc, period=period,
                                       reviewer_unit_id=self.ctx.officer.unit_id, unit=unit):
            raise self.refuse(service.Refusal.own_unit, period, unit)
        return unit

    def card(self, period: PeriodInfo, unit: UnitStatus, prefix: str = "") -> Reply:
        """A unit's report as the reviewer sees it."""
        view = service.submission(session=self.ctx.session, period=period, unit=unit)
        score = service.unit_score(self.config, unit.unit_code, view) \
            if view is not None and service.handed_in(view) else None
        return render.unit_card(self.ctx, self.config, unit, view, score,
                                service.review_items(self.config, unit.unit_code), prefix)

    def require_handed_in(self, period: PeriodInfo, unit: UnitStatus) -> None:
        """Refuse (showing the unit) unless its report is handed in."""
        view = service.submission(session=self.ctx.session, period=period, unit=unit)
        if not service.handed_in(view):
            raise Refused(self.card(period, unit, prefix=self.ctx.text("review_not_handed_in")),
                          state=ReviewState(step="unit", period_id=period.id, unit_id=unit.unit_id))


def stale(ctx: Context, state: ReviewState) -> Turn:
    """A button of an older message, or typed text where a button is expected: nothing changes."""
    if ctx.incoming.kind is InKind.option:
        return Turn([Reply(ctx.text("review_stale"))], notice=ctx.text("review_stale_notice"))
    return Turn([Reply(ctx.text("review_press_button"))])


def reason_text(ctx: Context) -> str | None:
    """The typed reason, or None when the message is no text or blank."""
    incoming = ctx.incoming
    if incoming.kind is not InKind.text or not incoming.text.strip():
        return None
    return incoming.text.strip()
