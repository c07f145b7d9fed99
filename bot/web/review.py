"""The leader's review table: every unit's items side by side; accept, change a score, return.

Only an officer of the year's leader or deputy unit gets the table
(`handlers.services.review.access`), and acts only on the units it may review
(`may_review_unit`: the leader's own report is the deputy's). The table shows
the period under way; `?period=N` shows an earlier one the unit led (a selector
above the table lists them), to read only: decisions are made, as in the chat,
on the period under way. Each decision is
the chat's `/review` decision: the same service function (same audit), the
same notices to the unit's officers (handlers/renderers/review.py `told`),
written to the outbox in the same transaction (`handlers.dispatch.owe`), then
delivered by the process's sender.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from sqlmodel import Session

from bot.units import UnitsOfWork
from bot.web import pages
from bot.web.access import Principal
from bot.web.pages import esc
from bot.web.settings import WebSettings
from handlers.dispatch import owe, system_clock
from handlers.i18n import Safe, points, t
from handlers.markup import to_plain
from handlers.renderers import review as render
from handlers.services import review as service
from handlers.services.review import ReviewItem, ValueProblem
from rules.config import CriterionKind
from rules.numbers import format_number
from storage.blocs import BlocRef, stored_bloc
from storage.review import MAX_REASON, PeriodInfo, SubmissionView, UnitStatus, opened_periods

Deliver = Callable[[list[str]], Awaitable[None]]


@dataclass(frozen=True)
class Column:
    """One unit as the table shows it."""

    unit: UnitStatus
    view: SubmissionView | None
    points: Mapping[str, str]  # criterion code -> points, when handed in
    total: str | None
    evidence: Mapping[str, tuple[int, list[tuple[int, str]]]]  # item -> (chat pieces, web files)
    may_act: bool


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() and len(text) < 10 else None


class ReviewService:
    """The review table's routes' work, given who asks (routes.py has checked the person and CSRF)."""

    def __init__(self, units: UnitsOfWork, settings: WebSettings, clock: Callable[[], dt.datetime], *,
                 bots: Mapping[str, str], deliver: Deliver | None) -> None:
        self.units, self.settings, self.clock = units, settings, clock
        self.bots, self.deliver = bots, deliver

    def _desk(self, session: Session, principal: Principal,
              period_id: int | None = None) -> tuple[BlocRef, PeriodInfo] | service.Refusal:
        """The bloc and the period the table is of: the one under way, or one asked for that has opened."""
        bloc = stored_bloc(session=session, bloc_id=principal.officer.bloc_id)
        if period_id is None:
            period = service.period_now(session=session, bloc=bloc, now=self.clock())
        else:
            period = next((one for one in opened_periods(session=session, bloc_id=bloc.id, now=self.clock())
                           if one.id == period_id), None)
        refused = service.access(session=session, bloc=bloc, unit_id=principal.officer.unit_id, period=period,
                                 unlocked=False)
        if refused is not None or period is None:
            return refused or service.Refusal.no_period
        return bloc, period

    def _periods(self, session: Session, principal: Principal, bloc: BlocRef) -> list[PeriodInfo]:
        """The periods whose table the person may see: opened, in a year their unit led the bloc."""
        return [period for period in opened_periods(session=session, bloc_id=bloc.id, now=self.clock())
                if service.access(session=session, bloc=bloc, unit_id=principal.officer.unit_id, period=period,
                                  unlocked=False) is None]

    def _columns(self, session: Session, principal: Principal, bloc: BlocRef, period: PeriodInfo,
                 *, actionable: bool) -> list[Column]:
        columns = []
        for unit in service.member_statuses(session=session, bloc=bloc, period=period):
            view = service.submission(session=session, period=period, unit=unit)
            score_points: dict[str, str] = {}
            total = None
            if service.handed_in(view) and view is not None:
                score = service.unit_score(bloc.config, unit.unit_code, view)
                score_points = {code: points(value, principal.language) for code, value in score.criteria.items()}
                total = points(score.total, principal.language)
            evidence: dict[str, tuple[int, list[tuple[int, str]]]] = {}
            if view is not None:
                for item in service.review_items(bloc.config, unit.unit_code):
                    if not view.entries.get(item.code) or not view.entries[item.code].evidence:
                        continue
                    kept = service.evidence(session=session, period=period, unit=unit, item=item)
                    files = [(piece.id, piece.file_name or str(piece.id)) for piece in kept
                             if piece.channel == "web" and piece.id is not None and piece.file_id]
                    evidence[item.code] = (len(kept) - len(files), files)
            may_act = actionable and period.published_at is None and service.may_review_unit(
                session=session, bloc=bloc, period=period, reviewer_unit_id=principal.officer.unit_id, unit=unit)
            columns.append(Column(unit=unit, view=view, points=score_points, total=total, evidence=evidence,
                                  may_act=may_act))
        return columns

    def _body(self, session: Session, principal: Principal, period_id: int | None = None) -> str:
        desk = self._desk(session, principal, period_id)
        language = principal.language
        if isinstance(desk, service.Refusal):
            return f'<div class="banner"><p>{t(language, "web_review_forbidden")}</p></div>'
        bloc, period = desk
        now = service.period_now(session=session, bloc=bloc, now=self.clock())
        actionable = now is not None and now.id == period.id  # as the chat's /review: the period under way
        return table(language, bloc, period, self._columns(session, principal, bloc, period, actionable=actionable),
                     csrf=self.settings.signer.csrf(principal.key), periods=self._periods(session, principal, bloc),
                     read_only=not actionable)

    async def allowed(self, principal: Principal, period_id: int | None = None) -> bool:
        """Whether the person's unit leads the bloc in the period (else the table is refused, 403)."""
        return await self.units.run(lambda session: not isinstance(self._desk(session, principal, period_id),
                                                                   service.Refusal))

    async def body(self, principal: Principal, period_id: int | None = None) -> str:
        """The table's HTML for the person: the period under way, or the one asked for."""
        return await self.units.run(lambda session: self._body(session, principal, period_id))

    async def main(self, request: web.Request, principal: Principal) -> web.StreamResponse:
        """The table's body, for the Mini App's script."""
        period_id = asked_period(request)
        if not await self.allowed(principal, period_id):
            return pages.refusal(403, "web_review_forbidden", fragment=True)
        return web.Response(text=await self.body(principal, period_id), content_type="text/html",
                            charset="utf-8")

    async def act(self, request: web.Request, principal: Principal) -> web.StreamResponse:
        """One decision on one unit: `accept`, `change` (item, value, reason) or `return` (reason)."""
        fields = await request.post()
        action = str(fields.get("action", ""))
        unit_id = _number(str(fields.get("unit", "")))
        reason = " ".join(str(fields.get("reason", "")).split())
        typed = str(fields.get("value", ""))[:100]
        code = str(fields.get("item", ""))
        language = principal.language
        actor = f"officer:{principal.officer.code}"

        def decide(session: Session) -> tuple[int, str, str, list[str]]:
            desk = self._desk(session, principal)
            if isinstance(desk, service.Refusal):
                return 403, "error", t(language, "web_review_forbidden"), []
            bloc, period = desk
            if period.published_at is not None:
                return 409, "error", t(language, "web_review_locked"), []
            unit = service.member_unit(session=session, bloc=bloc, period=period, unit_id=unit_id or 0)
            if unit is None or not service.may_review_unit(session=session, bloc=bloc, period=period,
                                                           reviewer_unit_id=principal.officer.unit_id, unit=unit):
                return 403, "error", t(language, "web_review_not_this_unit"), []
            if not service.handed_in(service.submission(session=session, period=period, unit=unit)):
                return 409, "error", t(language, "web_review_not_handed_in", unit=unit.unit_name), []
            reviewer = principal.officer.unit_name

            def kind(lang: str) -> str:
                return render.kind_text(lang, period)

            if action == "accept":
                recipients = service.accept(session=session, bloc=bloc, period=period, unit=unit, actor=actor)
                if recipients is None:
                    return 409, "error", t(language, "web_review_not_handed_in", unit=unit.unit_name), []
                notices = render.told(recipients, "review_told_accepted", unit=unit.unit_name, year=period.year,
                                      reviewer=reviewer, kind=kind)
                done = t(language, "review_accepted", unit=unit.unit_name)
            elif action in ("change", "return"):
                if not reason:
                    return 200, "error", t(language, "web_review_reason_needed"), []
                if len(reason) > MAX_REASON:
                    return 200, "error", t(language, "web_review_reason_long", max=MAX_REASON), []
                if action == "return":
                    recipients = service.return_for_correction(session=session, bloc=bloc, period=period,
                                                               unit=unit, reason=reason, actor=actor)
                    if recipients is None:
                        return 409, "error", t(language, "web_review_not_handed_in", unit=unit.unit_name), []
                    notices = render.told(recipients, "review_told_returned", unit=unit.unit_name,
                                          year=period.year, reason=reason, kind=kind)
                    done = t(language, "review_returned", unit=unit.unit_name, count=len(recipients))
                else:
                    item = service.review_item(bloc.config, unit.unit_code, code)
                    if item is None:
                        return 404, "error", t(language, "web_no_item"), []
                    value = service.read_value(item, typed)
                    if isinstance(value, ValueProblem):
                        return 200, "error", problem_text(language, value, item), []
                    changed = service.change_score(session=session, bloc=bloc, period=period, unit=unit,
                                                   item=item, value=value, reason=reason, actor=actor)
                    recipients = changed.told
                    notices = render.told(
                        changed.told, "review_told_changed", reviewer=reviewer, unit=unit.unit_name,
                        item=f"{item.code}. {item.text}", reason=reason,
                        before=lambda lang: render.value_text(lang, item, changed.before),
                        after=lambda lang: render.value_text(lang, item, value))
                    done = t(language, "review_changed", item=item.code, unit=unit.unit_name,
                             before=render.value_text(language, item, changed.before),
                             after=render.value_text(language, item, value), count=len(notices))
            else:
                return 400, "error", t(language, "web_review_unknown"), []
            if not recipients:
                done = Safe(done + "<br>" + t(language, "review_nobody_told"))
            chats = owe(session, channel="web", bot="", replies=notices, now=system_clock(), bots=self.bots)
            return 200, "saved", done, chats

        status, kind, text, chats = await self.units.run(decide)
        if chats and self.deliver is not None:
            await self.deliver(chats)
        body = await self.body(principal) if kind == "saved" else None
        response = pages.answer(kind, text, **({"body": body} if body is not None else {}))
        response.set_status(status)
        return response


def asked_period(request: web.Request) -> int | None:
    """The period a table's address asks for (`?period=N`), None for the one under way."""
    return _number(request.query.get("period"))


def problem_text(language: str, problem: ValueProblem, item: ReviewItem) -> str:
    """Why a typed reviewed value was not taken."""
    if problem.reason == "ambiguous":
        readings = " / ".join(format_number(value, locale=language) for value in problem.readings)
        return t(language, "web_review_value_ambiguous", readings=readings)
    if problem.reason == "range":
        return t(language, "web_review_value_range", max=points(item.maximum, language))
    return t(language, "web_review_value_number")


def _entry(language: str, item: ReviewItem, column: Column, *, labelled: bool) -> str:
    entry = column.view.entries.get(item.code) if column.view is not None else None
    if entry is None or entry.value is None and entry.reviewed_value is None:
        own = '<span class="hint">–</span>'
    else:
        own = esc(render.value_text(language, item, entry.value))
    label = f'<span class="code" title="{esc(item.text)}">{esc(item.code)}</span> ' if labelled else ""
    parts = [f'<div class="own">{label}{own}</div>']
    if entry is not None and entry.reviewed_value is not None:
        parts.append(f'<div class="reviewed">→ <b>{esc(render.value_text(language, item, entry.reviewed_value))}'
                     f'</b></div>')
    chat, files = column.evidence.get(item.code, (0, []))
    for evidence_id, name in files:
        parts.append(f'<a class="evidence-file" href="/web/evidence/{evidence_id}">📎 {esc(name)}</a>')
    if chat:
        parts.append(f'<div class="hint">{t(language, "web_review_chat_evidence", count=chat)}</div>')
    return f'<div class="entry" data-item="{esc(item.code)}">{"".join(parts)}</div>'


def _cell(language: str, row: str, items: list[ReviewItem], column: Column, *, labelled: bool) -> str:
    """One unit's cell of a row: a self-scored criterion, or the unit's own indicators of a criterion."""
    inside = "".join(_entry(language, item, column, labelled=labelled) for item in items) \
        or '<span class="hint">·</span>'
    return f'<td data-unit="{column.unit.unit_code}" data-item="{esc(row)}">{inside}</td>'


def _actions(language: str, column: Column, items: list[ReviewItem]) -> str:
    unit = column.unit
    status = t(language, f"status_{unit.status or 'not_started'}")
    head = (f'<h3>{esc(unit.unit_name)}</h3><p class="hint">{status}'
            f'{" · " + t(language, "web_review_total", value=column.total) if column.total else ""}</p>')
    if not column.may_act or not service.handed_in(column.view):
        return (f'<section class="card unit-card" data-unit="{unit.unit_code}">{head}'
                f'<div class="review-result" role="status"></div></section>')
    hidden = f'<input type="hidden" name="unit" value="{unit.unit_id}">'
    options = "".join(f'<option value="{esc(item.code)}">{esc(item.code)}. {esc(item.text[:60])}</option>'
                      for item in items)
    return (
        f'<section class="card unit-card" data-unit="{unit.unit_code}">{head}'
        f'<form class="review-form" data-action="accept">{hidden}<input type="hidden" name="action" value="accept">'
        f'<button type="submit" class="primary">{t(language, "web_review_accept")}</button></form>'
        f'<details><summary>{t(language, "web_review_change")}</summary>'
        f'<form class="review-form" data-action="change">{hidden}<input type="hidden" name="action" value="change">'
        f'<label>{t(language, "web_review_item")}<select name="item">{options}</select></label>'
        f'<label>{t(language, "web_review_value")}<input name="value" inputmode="decimal" autocomplete="off">'
        f'</label><label>{t(language, "web_review_reason")}<textarea name="reason" maxlength="{MAX_REASON}">'
        f'</textarea></label><button type="submit">{t(language, "web_review_save")}</button></form></details>'
        f'<details><summary>{t(language, "web_review_return")}</summary>'
        f'<form class="review-form" data-action="return">{hidden}<input type="hidden" name="action" value="return">'
        f'<label>{t(language, "web_review_reason")}<textarea name="reason" maxlength="{MAX_REASON}"></textarea>'
        f'</label><button type="submit">{t(language, "web_review_return")}</button></form></details>'
        f'<div class="review-result" role="status"></div></section>'
    )


def period_links(language: str, periods: list[PeriodInfo], shown: PeriodInfo) -> str:
    """The selector of the periods whose table the person may see (none when there is only one)."""
    if len(periods) < 2:
        return ""
    links = "".join(
        f'<a class="button{"" if period.id == shown.id else " secondary"}" href="/web/review?period={period.id}"'
        f'{" aria-current=page" if period.id == shown.id else ""}>'
        f'{t(language, "period_label", year=period.year, kind=render.kind_text(language, period))}</a>'
        for period in periods)
    return f'<nav class="periods" aria-label="{esc(to_plain(t(language, "web_review_periods")))}">{links}</nav>'


def table(language: str, bloc: BlocRef, period: PeriodInfo, columns: list[Column], *, csrf: str,
          periods: list[PeriodInfo] | None = None, read_only: bool = False) -> str:
    """The review table: items as rows, units as columns (scrolls sideways on a phone), then each unit's
    decisions; above it, the other periods the person may see."""
    config = bloc.config
    head = "".join(f'<th scope="col">{esc(column.unit.short_name or column.unit.unit_name)}</th>'
                   for column in columns)
    own_items = {column.unit.unit_code: service.review_items(config, column.unit.unit_code) for column in columns}
    rows = []
    # Each unit has indicators of its own: one row per indicator criterion, each cell listing the unit's.
    for criterion in config.pact.criteria():
        indicator = criterion.kind is CriterionKind.indicator
        cells = "".join(
            _cell(language, criterion.code, [item for item in own_items[column.unit.unit_code]
                                             if (item.criterion if indicator else item.code) == criterion.code
                                             and item.is_indicator == indicator], column, labelled=indicator)
            for column in columns)
        rows.append(f'<tr><th scope="row" title="{esc(criterion.name)}">{esc(criterion.code)}'
                    f'<div class="hint">{esc(criterion.name[:50])}</div></th>{cells}</tr>')
    totals = "".join(f'<td><b>{esc(column.total or "–")}</b></td>' for column in columns)
    kind = render.kind_text(language, period)
    note = f'<p class="banner">{t(language, "web_review_read_only")}</p>' if read_only else ""
    cards = "".join(_actions(language, column, service.review_items(config, column.unit.unit_code))
                    for column in columns)
    return (
        f'<div id="review" data-csrf="{esc(csrf)}" data-act-url="/web/review/act">'
        f'<h1>{t(language, "web_review_heading", bloc=config.bloc.name, kind=kind, year=period.year)}</h1>'
        f'{period_links(language, periods or [], period)}'
        f'{note}'
        f'<div class="table-wrap"><table class="review-table"><thead><tr>'
        f'<th scope="col">{t(language, "web_review_item")}</th>{head}</tr></thead>'
        f'<tbody>{"".join(rows)}<tr class="total"><th scope="row">{t(language, "web_review_total_head")}</th>'
        f'{totals}</tr></tbody></table></div>{cards}</div>'
    )
