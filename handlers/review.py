"""The leader's part of the year: bind the group, review, rank, publish, reopen, paperwork.

Who may act is checked again on every command, press and typed answer: only
officers of the leader and deputy units of the period's year review, preview and
publish; the leader's own submission is reviewed by the deputy; only the leader
reopens a published ranking. Every decision is audited by `storage.review`.

Button data is `rv:<nonce>:<action>[:<argument>]`; the nonce is the person's
current prompt, so a button of an older message is refused and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from handlers.chart import ChartBar, render_ranking_chart
from handlers.chat import InKind, Option, Outcome, OutFile, Reply
from handlers.context import Context, Feature, small_number
from handlers.i18n import Safe, format_moment, points, t
from handlers.paperwork import (
    MinutesData,
    MinutesVote,
    ScoreSheetData,
    SheetCriterion,
    SheetRow,
    SheetSection,
    render_minutes,
    render_score_sheet,
)
from handlers.ranking import RankingReport, compute_ranking, unit_results
from handlers.renderers.votes import minutes_outcome, minutes_question, minutes_tallies
from handlers.services.votes import vote_results
from rules.config import BlocConfig, CriterionKind, Direction, PeriodKind
from rules.numbers import NumberError, format_number, format_percent, parse_number
from rules.scoring import ScoreSheet, UnitScore, achievement
from storage.blocs import BlocRef, bloc_by_id, find_bloc, latest_year, period_row
from storage.results import ReportedFigures, reported_figures
from storage.review import (
    HANDED_IN,
    MAX_REASON,
    PeriodInfo,
    SubmissionView,
    UnitStatus,
    accept_submission,
    bind_group,
    current_period,
    latest_publication,
    officers_of_unit,
    period_info,
    publish_period,
    record_export,
    reopen_period,
    return_submission,
    review_entry,
    submission_view,
    unit_statuses,
)
from storage.roles import BlocRole, leading_unit_ids, linked_officer_chats, may_review, unit_name, unit_role

PREFIX = "rv"
FLOW = "review"
LEADING = (BlocRole.leader, BlocRole.deputy)
STATUS_ICONS = {"not_started": "⚪", "in_progress": "🟡", "submitted": "🔵", "returned": "↩️", "accepted": "✅"}
PART_LIMIT = 3500  # characters of HTML per message; Telegram's limit is 4.096


# -- plain data for the renderers ------------------------------------------------------


@dataclass(frozen=True)
class ReviewItem:
    """Something a reviewer may change: an indicator's actual or a criterion's points."""

    code: str
    kind: str  # "indicator" or the criterion's kind
    text: str
    measure: str = ""
    target: Decimal = Decimal(0)
    direction: Direction = Direction.higher
    maximum: Decimal = Decimal(0)

    @property
    def is_indicator(self) -> bool:
        """Whether the item is an indicator (its value is an actual, not points)."""
        return self.kind == "indicator"


@dataclass(frozen=True)
class RankingView:
    """A ranking with what the chat shows beside it: short names, who has not submitted."""

    report: RankingReport
    short_names: dict[str, str]
    missing: list[str]  # unit codes whose report is not handed in
    unreviewed: list[str]  # handed in, not yet accepted

    def shared(self, rank: int) -> bool:
        """Whether a rank is shared by several units."""
        return sum(1 for row in self.report.rows if row.rank == rank) > 1


def review_items(config: BlocConfig, unit_code: str) -> list[ReviewItem]:
    """A unit's reviewable items: its indicators, then self, bonus and deduction criteria."""
    items = [
        ReviewItem(code=indicator.code, kind="indicator", text=indicator.text, measure=indicator.measure,
                   target=indicator.target, direction=indicator.direction)
        for indicator in config.indicators_of(unit_code)
    ]
    items += [
        ReviewItem(code=criterion.code, kind=criterion.kind.value, text=criterion.name, maximum=criterion.max)
        for criterion in config.pact.criteria() if criterion.kind is not CriterionKind.indicator
    ]
    return items


def plain(text: str) -> str:
    """A catalog message as plain text (for pictures and documents, which are not HTML)."""
    return html.unescape(text)


# -- services shared by the chat and the command line ------------------------------------


def ranking_view(*, session: Session, bloc: BlocRef, period: PeriodInfo) -> RankingView:
    """The reviewed ranking of a period with each unit's status."""
    report = compute_ranking(session=session, bloc_code=bloc.code, year=period.year,
                             period=PeriodKind(period.kind))
    statuses = {row.unit_code: row.status for row in report.rows}
    return RankingView(
        report=report,
        short_names={unit.code: unit.short_name for unit in bloc.config.units},
        missing=[code for code, status in statuses.items() if status not in HANDED_IN],
        unreviewed=[code for code, status in statuses.items() if status == "submitted"],
    )


def build_paperwork(
    *, session: Session, bloc_code: str | None, year: int | None, period_kind: PeriodKind = PeriodKind.year_end,
    place: str | None = None, now: dt.datetime,
) -> tuple[ScoreSheetData, MinutesData]:
    """The score sheet's and the minutes' data of a period, from the stored, reviewed figures."""
    bloc = find_bloc(session=session, bloc_code=bloc_code)
    if bloc is None:
        raise LookupError(f"no bloc {bloc_code!r}" if bloc_code else "give --bloc CODE (none or several blocs)")
    year = year if year is not None else latest_year(session=session, bloc_id=bloc.id)
    stored = period_row(session=session, bloc_id=bloc.id, year=year, kind=period_kind.value) if year else None
    if year is None or stored is None or stored.id is None:
        raise LookupError(f"bloc {bloc.code} has no {period_kind.value} period in {year}")
    config = bloc.config
    report = compute_ranking(session=session, bloc_code=bloc.code, year=year, period=period_kind)
    figures = {found.unit_code: found for found in reported_figures(session=session, period_id=stored.id)}
    sheet = ScoreSheet.build(config.pact, config.indicators)
    rows = []
    for row in report.rows:
        found = figures.get(row.unit_code)
        own = sheet.score(unit_results(config, row.unit_code, found, reviewed=False))
        reviewed = sheet.score(unit_results(config, row.unit_code, found))
        rows.append(SheetRow(
            rank=row.rank, shared_rank=sum(1 for other in report.rows if other.rank == row.rank) > 1,
            unit_code=row.unit_code, unit_name=row.unit_name, submitted=row.status in HANDED_IN,
            self_points=dict(own.criteria), reviewed_points=dict(reviewed.criteria), sections=row.sections,
            bonus=row.bonus, deductions=row.deductions, total=row.total,
            percent_of_standard=row.percent_of_standard, band=row.band, award=row.award,
        ))
    data = ScoreSheetData(
        bloc_code=bloc.code, bloc_name=config.bloc.name, province=config.bloc.province, year=year,
        period_kind=period_kind.value, standard_score=config.pact.standard_score,
        sections=[SheetSection(code=section.code, name=section.name, max_points=section.max)
                  for section in config.pact.sections],
        criteria=[SheetCriterion(code=criterion.code, name=criterion.name, kind=criterion.kind.value,
                                 max_points=criterion.max) for criterion in config.pact.criteria()],
        rows=rows,
    )
    zone = config.zone()
    held_at = (stored.votes_opens or now).astimezone(zone)
    leading = leading_unit_ids(session=session, bloc_id=bloc.id, year=year)
    chair_name = chair_unit = secretary_name = secretary_unit = "…"
    if leading is not None:
        leader_officers = officers_of_unit(session=session, unit_id=leading[0])
        chair_unit = secretary_unit = unit_name(session=session, unit_id=leading[0])
        if leader_officers:
            chair_name = leader_officers[0].name
        if len(leader_officers) > 1:
            secretary_name = leader_officers[1].name
        else:
            deputy_officers = officers_of_unit(session=session, unit_id=leading[1])
            if deputy_officers:
                secretary_name = deputy_officers[-1].name
                secretary_unit = unit_name(session=session, unit_id=leading[1])
    minutes = MinutesData(
        sheet=data, held_at=held_at, place=place, chair_name=chair_name, chair_unit=chair_unit,
        secretary_name=secretary_name, secretary_unit=secretary_unit,
        attending=[unit.name for unit in config.members_in(year)],
        votes=[MinutesVote(question=minutes_question(vote), tallies=minutes_tallies(vote),
                           outcome=minutes_outcome(vote))
               for vote in vote_results(session=session, bloc_id=bloc.id, year=year)
               if vote.decision is not None],
    )
    return data, minutes


def paperwork_files(score_sheet: ScoreSheetData, minutes: MinutesData) -> list[OutFile]:
    """The score sheet and the minutes as files, named after the bloc and the period."""
    stem = f"{score_sheet.bloc_code}-{score_sheet.year}-{score_sheet.period_kind}"
    return [
        OutFile(name=f"{stem}-bang-tong-hop-diem.xlsx", content=render_score_sheet(score_sheet)),
        OutFile(name=f"{stem}-bien-ban-hop-khoi.docx", content=render_minutes(minutes)),
    ]


# -- rendering for the chat ----------------------------------------------------------------


def award_text(language: str, award: str | None) -> str:
    """An award proposal in words."""
    return t(language, f"review_award_{award}") if award else ""


def ranking_parts(language: str, view: RankingView) -> list[str]:
    """The ranking as <pre> blocks of short lines, each block small enough for one message."""
    report = view.report
    blocks: list[str] = []
    for row in report.rows:
        marks = ""
        if view.shared(row.rank):
            marks += t(language, "publish_mark_shared")
        if row.unit_code in view.missing:
            marks += t(language, "publish_mark_missing")
        sections = [f"{code} {format_number(value, decimals=2, locale=language)}"
                    for code, value in row.sections.items()]
        lines = [t(language, "publish_row_unit", rank=row.rank, unit=row.unit_name) + marks]
        for start in range(0, len(sections), 3):
            lines.append(t(language, "publish_row_sections", sections=" · ".join(sections[start:start + 3])))
        lines.append(t(language, "publish_row_extras", bonus=format_number(row.bonus, decimals=2, locale=language),
                       deductions=format_number(row.deductions, decimals=2, locale=language)))
        lines.append(t(language, "publish_row_total", total=format_number(row.total, decimals=2, locale=language),
                       percent=format_percent(row.percent_of_standard, locale=language), band=row.band or "—"))
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
    """The ranking's chart: a bar per unit stacked by section, labelled with rank and short name."""
    report = view.report
    bars = [
        ChartBar(label=f"{row.rank}. {view.short_names.get(row.unit_code, row.unit_code)}",
                 sections=[row.sections.get(section.code, Decimal(0)) for section in config.pact.sections],
                 bonus=row.bonus, deductions=row.deductions, total=row.total)
        for row in report.rows
    ]
    return render_ranking_chart(
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


# -- the conversation ---------------------------------------------------------------------------


class Refused(Exception):
    """An action that is not allowed now; carries the reply that says why."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


class ReviewFlow:
    """Commands, buttons and typed answers of the leader and deputy."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        bloc = bloc_by_id(session=ctx.session, bloc_id=ctx.officer.bloc_id)
        if bloc is None:
            raise RuntimeError("an officer's bloc exists")
        self.bloc = bloc
        self.config = bloc.config
        self.language = ctx.language

    # -- helpers ---------------------------------------------------------------

    def _t(self, key: str, **params: Any) -> Safe:
        return t(self.language, key, **params)

    def _option(self, label_key: str, action: str, **params: Any) -> Option:
        return Option(self._t(label_key, **params), f"{PREFIX}:{self.ctx.state.nonce}:{action}")

    def _actor(self) -> str:
        return f"officer:{self.ctx.officer.code}"

    def _pending(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.ctx.state.pending or "{}")
        return loaded

    def _enter(self, step: str, period: PeriodInfo, **pending: Any) -> str:
        state = self.ctx.state
        state.flow, state.step, state.period_id, state.item_code = FLOW, step, period.id, None
        state.return_to = None
        state.pending = json.dumps(pending) if pending else None
        return self.ctx.new_nonce()

    def _period_now(self) -> PeriodInfo | None:
        return current_period(session=self.ctx.session, bloc_id=self.bloc.id, now=self.ctx.now)

    def _period_of_state(self) -> PeriodInfo:
        state = self.ctx.state
        period = period_info(session=self.ctx.session, period_id=state.period_id) \
            if state.period_id is not None else None
        if period is None or period.bloc_id != self.bloc.id:
            raise Refused(Reply(self._t("review_stale")))
        return period

    def _role(self, period: PeriodInfo) -> BlocRole:
        return unit_role(session=self.ctx.session, bloc_id=self.bloc.id, unit_id=self.ctx.officer.unit_id,
                         year=period.year)

    def _kind(self, period: PeriodInfo) -> str:
        return self._t(f"kind_{period.kind}")

    def _guard(self, period: PeriodInfo | None, *, leader_only: bool = False, unlocked: bool = True) -> PeriodInfo:
        """Refuse unless the officer may act on the period now (checked on every message)."""
        if period is None:
            raise Refused(Reply(self._t("review_no_period")))
        role = self._role(period)
        if leader_only and role is not BlocRole.leader:
            raise Refused(Reply(self._t("publish_reopen_leader_only", unit=self.ctx.officer.unit_name)))
        if role not in LEADING:
            raise Refused(Reply(self._t("review_not_allowed", unit=self.ctx.officer.unit_name, year=period.year)))
        if unlocked and period.published_at is not None:
            self.ctx.leave_flow()
            raise Refused(Reply(self._t(
                "publish_locked", kind=self._kind(period), year=period.year,
                moment=format_moment(period.published_at, self.config.bloc.timezone, self.language))))
        return period

    def _unit(self, period: PeriodInfo, unit_id: int) -> UnitStatus:
        """A member unit the officer may review in this period."""
        units = self._units(period)
        unit = next((unit for unit in units if unit.unit_id == unit_id), None)
        if unit is None:
            raise Refused(Reply(self._t("review_stale")))
        if not may_review(session=self.ctx.session, bloc_id=self.bloc.id, reviewer_unit_id=self.ctx.officer.unit_id,
                          reviewed_unit_id=unit_id, year=period.year):
            raise Refused(Reply(self._t("review_own_unit", unit=unit.unit_name)))
        return unit

    def _units(self, period: PeriodInfo) -> list[UnitStatus]:
        return unit_statuses(session=self.ctx.session, bloc_id=self.bloc.id, period_id=period.id,
                             unit_codes=[unit.code for unit in self.config.members_in(period.year)])

    def _notify(self, unit_id: int, key: str, **params: Any) -> list[Reply]:
        """A message to every linked officer of a unit, each in their language."""
        replies = []
        for user_id, language in linked_officer_chats(session=self.ctx.session, unit_id=unit_id):
            localized = {name: value(language) if callable(value) else value for name, value in params.items()}
            replies.append(Reply(t(language, key, **localized), chat_id=user_id))
        return replies

    # -- commands -----------------------------------------------------------------

    def review(self) -> Outcome:
        """`/review`: the units of the current period with their status, as buttons."""
        period = self._guard(self._period_now())
        self._enter("list", period)
        return Outcome([self._list_reply(period)])

    def preview(self) -> Outcome:
        """`/ranking`: the reviewed ranking, privately, before it is published."""
        period = self._guard(self._period_now(), unlocked=False)
        view = ranking_view(session=self.ctx.session, bloc=self.bloc, period=period)
        key = "publish_preview_title" if period.published_at is None else "publish_preview_published"
        head = [self._t(key, kind=self._kind(period), year=period.year, bloc=self.config.bloc.name)]
        if view.missing:
            head.append(self._t("publish_missing_line", units=self._names(view.missing)))
        if view.unreviewed:
            head.append(self._t("publish_unreviewed_line", units=self._names(view.unreviewed)))
        return Outcome([Reply(Safe("\n".join(head)))] + [Reply(Safe(part)) for part in ranking_parts(
            self.language, view)])

    def publish(self) -> Outcome:
        """`/publish`: confirm, twice when some units have not handed in their report."""
        period = self._guard(self._period_now())
        if self.bloc.group_chat_id is None:
            return Outcome([Reply(self._t("publish_no_group"))])
        view = ranking_view(session=self.ctx.session, bloc=self.bloc, period=period)
        self._enter("publish", period, missing=view.missing)
        if view.missing:
            text = self._t("publish_missing", count=len(view.missing), units=self._names(view.missing))
            options = ((self._option("publish_btn_anyway", "force"),), (self._option("publish_btn_cancel", "cancel"),))
        else:
            text = self._t("publish_confirm", kind=self._kind(period), year=period.year, count=len(view.report.rows))
            options = ((self._option("publish_btn_publish", "go"),), (self._option("publish_btn_cancel", "cancel"),))
        if view.unreviewed:
            text = Safe(text + "\n" + self._t("publish_unreviewed_line", units=self._names(view.unreviewed)))
        return Outcome([Reply(text, options=options)])

    def reopen(self) -> Outcome:
        """`/reopen [reason]`: the leader unlocks a published ranking, with a reason."""
        period = self._guard(self._period_now(), leader_only=True, unlocked=False)
        if period.published_at is None:
            return Outcome([Reply(self._t("publish_not_published", kind=self._kind(period), year=period.year))])
        reason = " ".join(self.ctx.incoming.args).strip()
        if reason:
            return self._reopen(period, reason)
        self._enter("reopen", period)
        return Outcome([Reply(self._t("publish_reopen_ask"))])

    def _may_bind(self) -> bool:
        """Whether the officer's unit leads the bloc in the current year (the newest year before any period)."""
        period = self._period_now()
        year = period.year if period is not None else latest_year(session=self.ctx.session, bloc_id=self.bloc.id)
        role = unit_role(session=self.ctx.session, bloc_id=self.bloc.id, unit_id=self.ctx.officer.unit_id,
                         year=year or 0)
        return role in LEADING

    def bind(self) -> Outcome:
        """`/bind` in a group: make it the bloc's group (a move to another group is confirmed privately)."""
        ctx = self.ctx
        if not self._may_bind():
            return Outcome([Reply(self._t("bind_not_allowed", unit=ctx.officer.unit_name))])
        chat_id = ctx.incoming.chat_id
        if self.bloc.group_chat_id == chat_id:
            return Outcome([Reply(self._t("bind_already", bloc=self.config.bloc.name))])
        if self.bloc.group_chat_id is None:
            bind_group(session=ctx.session, bloc_id=self.bloc.id, chat_id=chat_id, actor=self._actor())
            return Outcome([Reply(self._t("bind_done", bloc=self.config.bloc.name))])
        state = ctx.state
        state.flow, state.step, state.period_id, state.item_code = FLOW, "bind", None, None
        state.pending = None
        ctx.new_nonce()
        options = ((self._option("bind_btn_move", f"move:{chat_id}"),), (self._option("bind_btn_keep", "keep"),))
        return Outcome([
            Reply(self._t("bind_check_private")),
            Reply(self._t("bind_confirm_move", bloc=self.config.bloc.name), options=options,
                  chat_id=ctx.incoming.user_id),
        ])

    # -- buttons -----------------------------------------------------------------------

    def on_option(self, action: str, argument: str) -> Outcome:
        """A pressed button of this flow (its nonce already checked)."""
        handlers: dict[str, Callable[[str], Outcome]] = {
            "open": self._open, "list": lambda _: self._back_to_list(), "accept": lambda _: self._accept(),
            "change": lambda _: self._choose_item(), "item": self._chose_item, "return": lambda _: self._ask_return(),
            "force": lambda _: self._force(), "go": lambda _: self._go(), "cancel": lambda _: self._cancel(),
            "move": self._move, "keep": lambda _: self._keep(),
        }
        handler = handlers.get(action)
        if handler is None:
            return self.stale()
        return handler(argument)

    def stale(self) -> Outcome:
        """A button from an older message: nothing changes."""
        return Outcome([Reply(self._t("review_stale"))], notice=self._t("review_stale_notice"))

    def _step(self, *steps: str) -> None:
        if self.ctx.state.step not in steps:
            raise Refused(Reply(self._t("review_stale")))

    def _open(self, argument: str) -> Outcome:
        self._step("list", "unit", "unit_item")
        period = self._guard(self._period_of_state())
        unit_id = small_number(argument)
        if unit_id is None:
            return self.stale()
        unit = self._unit(period, unit_id)
        return Outcome([self._unit_reply(period, unit)])

    def _back_to_list(self) -> Outcome:
        period = self._guard(self._period_of_state())
        self._enter("list", period)
        return Outcome([self._list_reply(period)])

    def _current_unit(self, period: PeriodInfo) -> UnitStatus:
        unit_id = self._pending().get("unit")
        if not isinstance(unit_id, int):
            raise Refused(Reply(self._t("review_stale")))
        return self._unit(period, unit_id)

    def _accept(self) -> Outcome:
        self._step("unit")
        period = self._guard(self._period_of_state())
        unit = self._current_unit(period)
        if not accept_submission(session=self.ctx.session, period_id=period.id, unit_id=unit.unit_id,
                                 actor=self._actor(), bloc_id=self.bloc.id, unit_code=unit.unit_code):
            return Outcome([self._unit_reply(period, unit, prefix=self._t("review_cannot_accept"))])
        self._enter("list", period)
        notices = self._notify(unit.unit_id, "review_told_accepted", unit=unit.unit_name, year=period.year,
                               kind=lambda language: t(language, f"kind_{period.kind}"))
        done = self._t("review_accepted", unit=unit.unit_name)
        listing = self._list_reply(period)
        return Outcome([Reply(Safe(done + "\n\n" + listing.text), options=listing.options), *notices],
                       notice=plain(done))

    def _choose_item(self) -> Outcome:
        self._step("unit")
        period = self._guard(self._period_of_state())
        unit = self._current_unit(period)
        self._require_handed_in(period, unit)
        self.ctx.state.step = "unit_item"
        nonce = self.ctx.new_nonce()
        options = tuple(
            (Option(_short(f"{item.code} · {item.text}", 48), f"{PREFIX}:{nonce}:item:{item.code}"),)
            for item in review_items(self.config, unit.unit_code)
        )
        back = ((Option(self._t("review_btn_back_unit"), f"{PREFIX}:{nonce}:open:{unit.unit_id}"),),)
        return Outcome([Reply(self._t("review_pick_item", unit=unit.unit_name), options=options + back)])

    def _chose_item(self, code: str) -> Outcome:
        self._step("unit_item")
        period = self._guard(self._period_of_state())
        unit = self._current_unit(period)
        self._require_handed_in(period, unit)
        item = next((item for item in review_items(self.config, unit.unit_code) if item.code == code), None)
        if item is None:
            return self.stale()
        self.ctx.state.step, self.ctx.state.item_code = "value", item.code
        self.ctx.new_nonce()
        return Outcome([Reply(self._value_prompt(period, unit, item))])

    def _ask_return(self) -> Outcome:
        self._step("unit")
        period = self._guard(self._period_of_state())
        unit = self._current_unit(period)
        self._require_handed_in(period, unit)
        self.ctx.state.step = "return"
        self.ctx.new_nonce()
        return Outcome([Reply(self._t("review_return_ask", unit=unit.unit_name))])

    def _force(self) -> Outcome:
        self._step("publish")
        period = self._guard(self._period_of_state())
        view = ranking_view(session=self.ctx.session, bloc=self.bloc, period=period)
        if not view.missing:
            return self.publish()
        self._enter("publish2", period, missing=view.missing)
        options = ((self._option("publish_btn_confirm_missing", "go", count=len(view.missing)),),
                   (self._option("publish_btn_cancel", "cancel"),))
        return Outcome([Reply(self._t("publish_confirm_missing", count=len(view.missing),
                                      units=self._names(view.missing)), options=options)])

    def _go(self) -> Outcome:
        self._step("publish", "publish2")
        period = self._guard(self._period_of_state())
        if self.bloc.group_chat_id is None:
            return Outcome([Reply(self._t("publish_no_group"))])
        view = ranking_view(session=self.ctx.session, bloc=self.bloc, period=period)
        confirmed = set(self._pending().get("missing", [])) if self.ctx.state.step == "publish2" else set()
        if not set(view.missing) <= confirmed:
            # Someone's status changed since the question: ask again with the current list.
            return self.publish()
        return self._publish(period, view)

    def _cancel(self) -> Outcome:
        self.ctx.leave_flow()
        return Outcome([Reply(self._t("review_cancelled"))])

    def _move(self, argument: str) -> Outcome:
        self._step("bind")
        ctx = self.ctx
        if not self._may_bind():
            ctx.leave_flow()
            return Outcome([Reply(self._t("bind_not_allowed", unit=ctx.officer.unit_name))])
        try:
            chat_id = int(argument)
        except ValueError:
            return self.stale()
        if chat_id >= 0:
            return self.stale()
        bind_group(session=ctx.session, bloc_id=self.bloc.id, chat_id=chat_id, actor=self._actor())
        ctx.leave_flow()
        return Outcome([Reply(self._t("bind_moved"), edit=True),
                        Reply(self._t("bind_done", bloc=self.config.bloc.name), chat_id=chat_id)])

    def _keep(self) -> Outcome:
        self._step("bind")
        self.ctx.leave_flow()
        return Outcome([Reply(self._t("bind_kept"), edit=True)])

    # -- typed answers -----------------------------------------------------------------

    def on_message(self) -> Outcome:
        """Text while the flow waits for a value or a reason."""
        step = self.ctx.state.step
        if step == "value":
            return self._read_value()
        if step == "reason":
            return self._read_reason()
        if step == "return":
            return self._read_return_reason()
        if step == "reopen":
            period = self._guard(self._period_of_state(), leader_only=True, unlocked=False)
            reason = self._reason_text()
            if reason is None:
                return Outcome([Reply(self._t("review_err_reason"))])
            if period.published_at is None:
                self.ctx.leave_flow()
                return Outcome([Reply(self._t("publish_not_published", kind=self._kind(period), year=period.year))])
            return self._reopen(period, reason)
        return Outcome([Reply(self._t("review_press_button"))])

    def _reason_text(self) -> str | None:
        incoming = self.ctx.incoming
        if incoming.kind is not InKind.text or not incoming.text.strip():
            return None
        return incoming.text.strip()

    def _read_value(self) -> Outcome:
        period = self._guard(self._period_of_state())
        unit = self._current_unit(period)
        self._require_handed_in(period, unit)
        item = self._item()
        incoming = self.ctx.incoming
        again = Reply(Safe(self._t("review_err_number") + "\n\n" + self._value_prompt(period, unit, item)))
        if incoming.kind is not InKind.text or not incoming.text.strip():
            return Outcome([again])
        try:
            parsed = parse_number(incoming.text)
        except NumberError as error:
            if error.reason == "ambiguous":
                readings = " / ".join(format_number(value, locale=self.language) for value in error.candidates)
                return Outcome([Reply(self._t("review_err_ambiguous", readings=readings))])
            return Outcome([again])
        value = parsed.value
        if item.is_indicator:
            if value < 0:
                return Outcome([Reply(self._t("review_err_negative"))])
            if parsed.percent and item.measure.strip() != "%":
                # "102%" of a count means percent of plan, as in the report.
                value = (item.target * value / 100).quantize(Decimal("0.0001")).normalize()
        elif parsed.percent or value < 0 or value > item.maximum:
            return Outcome([Reply(self._t("review_err_range", max=format_number(item.maximum, locale=self.language)))])
        self.ctx.state.step = "reason"
        self.ctx.state.pending = json.dumps({**self._pending(), "value": str(value)})
        return Outcome([Reply(self._t("review_reason_ask", item=item.code, echo=self._echo(item, value)))])

    def _read_reason(self) -> Outcome:
        period = self._guard(self._period_of_state())
        unit = self._current_unit(period)
        self._require_handed_in(period, unit)
        item = self._item()
        reason = self._reason_text()
        if reason is None:
            return Outcome([Reply(self._t("review_err_reason"))])
        if len(reason) > MAX_REASON:
            return Outcome([Reply(self._t("review_err_reason_long", max=MAX_REASON))])
        raw = self._pending().get("value")
        if raw is None:
            raise Refused(Reply(self._t("review_stale")))
        value = Decimal(raw)
        change = review_entry(session=self.ctx.session, period_id=period.id, unit_id=unit.unit_id,
                              item_type="indicator" if item.is_indicator else "criterion", item_code=item.code,
                              value=value, reason=reason, actor=self._actor(), bloc_id=self.bloc.id,
                              unit_code=unit.unit_code)
        before = change.before if change.before is not None else change.own
        notices = self._notify(
            unit.unit_id, "review_told_changed", reviewer=self.ctx.officer.unit_name, unit=unit.unit_name,
            item=f"{item.code}. {item.text}", reason=reason,
            before=lambda language: self._value_text(item, before, language),
            after=lambda language: self._value_text(item, value, language),
        )
        self.ctx.state.pending = json.dumps({"unit": unit.unit_id})
        self.ctx.state.item_code = None
        done = self._t("review_changed", item=item.code, unit=unit.unit_name,
                       before=self._value_text(item, before, self.language),
                       after=self._value_text(item, value, self.language), count=len(notices))
        if not notices:
            done = Safe(done + "\n" + self._t("review_nobody_told"))
        return Outcome([self._unit_reply(period, unit, prefix=done), *notices])

    def _read_return_reason(self) -> Outcome:
        period = self._guard(self._period_of_state())
        unit = self._current_unit(period)
        reason = self._reason_text()
        if reason is None:
            return Outcome([Reply(self._t("review_err_reason"))])
        if len(reason) > MAX_REASON:
            return Outcome([Reply(self._t("review_err_reason_long", max=MAX_REASON))])
        if not return_submission(session=self.ctx.session, period_id=period.id, unit_id=unit.unit_id,
                                 reason=reason, actor=self._actor(), bloc_id=self.bloc.id,
                                 unit_code=unit.unit_code):
            return Outcome([self._unit_reply(period, unit, prefix=self._t("review_not_handed_in"))])
        notices = self._notify(unit.unit_id, "review_told_returned", unit=unit.unit_name, year=period.year,
                               reason=reason, kind=lambda language: t(language, f"kind_{period.kind}"))
        self._enter("list", period)
        listing = self._list_reply(period)
        done = self._t("review_returned", unit=unit.unit_name, count=len(notices))
        if not notices:
            done = Safe(done + "\n" + self._t("review_nobody_told"))
        return Outcome([Reply(Safe(done + "\n\n" + listing.text), options=listing.options), *notices])

    # -- publishing --------------------------------------------------------------------

    def _publish(self, period: PeriodInfo, view: RankingView) -> Outcome:
        ctx, language = self.ctx, self.language
        group = self.bloc.group_chat_id
        if group is None:
            raise RuntimeError("checked by the caller")
        snapshot = {**view.report.as_json(), "missing": view.missing}
        previous = latest_publication(session=ctx.session, period_id=period.id)
        version = publish_period(session=ctx.session, period_id=period.id, ranking=snapshot, actor=self._actor(),
                                 now=ctx.now, bloc_id=self.bloc.id)
        ctx.leave_flow()
        zone = self.config.bloc.timezone
        head: list[str] = [
            self._t("publish_group_title", kind=self._kind(period), year=period.year, bloc=self.config.bloc.name),
            self._t("publish_group_when", moment=format_moment(ctx.now, zone, language), unit=ctx.officer.unit_name),
        ]
        if previous is not None:
            changes = ranking_changes(language, previous.ranking, snapshot)
            head.append(self._t("publish_group_again", version=version, reason=previous.reopen_reason or "—"))
            head.extend(changes or [self._t("publish_change_none")])
        if view.missing:
            head.append(self._t("publish_missing_line", units=self._names(view.missing)))
        head.append(self._t("publish_legend"))
        replies = [Reply(Safe("\n".join(head)), chat_id=group)]
        replies += [Reply(Safe(part), chat_id=group) for part in ranking_parts(language, view)]
        chart = ranking_chart(language, view, self.config)
        replies.append(Reply("", files=(OutFile(name=f"xep-hang-{period.year}.png", content=chart, is_photo=True,
                                                caption=plain(self._t("publish_chart_caption", year=period.year))),),
                             chat_id=group))
        score_sheet, minutes = build_paperwork(session=ctx.session, bloc_code=self.bloc.code, year=period.year,
                                               period_kind=PeriodKind(period.kind), now=ctx.now)
        files = paperwork_files(score_sheet, minutes)
        record_export(session=ctx.session, bloc_id=self.bloc.id, actor=self._actor(),
                      target=f"period {period.year} {period.kind}", files=[file.name for file in files])
        replies.append(Reply(self._t("publish_done", version=version), files=tuple(files)))
        return Outcome(replies, notice=self._t("publish_done_notice"))

    def _reopen(self, period: PeriodInfo, reason: str) -> Outcome:
        if len(reason) > MAX_REASON:
            return Outcome([Reply(self._t("review_err_reason_long", max=MAX_REASON))])
        reopen_period(session=self.ctx.session, period_id=period.id, reason=reason, actor=self._actor(),
                      now=self.ctx.now, bloc_id=self.bloc.id)
        self.ctx.leave_flow()
        replies = [Reply(self._t("publish_reopened", kind=self._kind(period), year=period.year))]
        if self.bloc.group_chat_id is not None:
            replies.append(Reply(self._t("publish_reopened_group", kind=self._kind(period), year=period.year,
                                         reason=reason), chat_id=self.bloc.group_chat_id))
        return Outcome(replies)

    # -- rendering -----------------------------------------------------------------------

    def _names(self, codes: list[str]) -> str:
        names = {unit.code: unit.name for unit in self.config.units}
        return ", ".join(names.get(code, code) for code in codes)

    def _list_reply(self, period: PeriodInfo) -> Reply:
        nonce = self.ctx.state.nonce
        units = self._units(period)
        lines: list[str] = [self._t("review_list_title", kind=self._kind(period), year=period.year)]
        options = []
        for unit in units:
            icon = STATUS_ICONS.get(unit.status, "•")
            status = self._t(f"review_status_{unit.status}")
            own = unit.unit_id == self.ctx.officer.unit_id
            lines.append(self._t("review_list_line", icon=icon, unit=unit.unit_name, status=status)
                         + (self._t("review_list_own") if own else ""))
            options.append((Option(_short(f"{icon} {unit.short_name} – {status}", 48),
                                   f"{PREFIX}:{nonce}:open:{unit.unit_id}"),))
        done = sum(1 for unit in units if unit.status == "accepted")
        lines.append(self._t("review_list_footer", done=done, total=len(units)))
        return Reply(Safe("\n".join(lines)), options=tuple(options))

    def _unit_reply(self, period: PeriodInfo, unit: UnitStatus, prefix: str = "") -> Reply:
        """A submission: every item with its value, points and evidence, and what may be done."""
        language = self.language
        self._enter("unit", period, unit=unit.unit_id)
        view = submission_view(session=self.ctx.session, period_id=period.id, unit_id=unit.unit_id)
        status = view.status if view is not None else "not_started"
        lines = [prefix + "\n" if prefix else "",
                 self._t("review_unit_title", unit=unit.unit_name, status=self._t(f"review_status_{status}"))]
        if view is None or status not in HANDED_IN:
            if view is not None and view.return_reason and status == "returned":
                lines.append(self._t("review_unit_returned", reason=view.return_reason))
            lines.append(self._t("review_unit_not_handed_in"))
            options = ((self._option("review_btn_list", "list"),),)
            return Reply(Safe("\n".join(line for line in lines if line)), options=options)
        score = self._score(unit.unit_code, view)
        for item in review_items(self.config, unit.unit_code):
            lines.append(self._item_line(item, view))
        for criterion in self.config.pact.criteria():
            if criterion.kind is CriterionKind.indicator:
                lines.append(self._t("review_item_indicator_points", code=criterion.code,
                                     points=points(score.criteria.get(criterion.code, Decimal(0)), language),
                                     max=format_number(criterion.max, locale=language)))
        for section in self.config.pact.sections:
            lines.append(self._t("review_unit_section", code=section.code,
                                 points=points(score.sections.get(section.code, Decimal(0)), language),
                                 max=format_number(section.max, locale=language)))
        lines.append(self._t("review_unit_total", total=points(score.total, language),
                             bonus=points(score.bonus, language), deductions=points(score.deductions, language),
                             standard=format_number(self.config.pact.standard_score, locale=language)))
        rows: list[tuple[Option, ...]] = []
        if status == "submitted":
            rows.append((self._option("review_btn_accept", "accept"),))
        rows.append((self._option("review_btn_change", "change"), self._option("review_btn_return", "return")))
        rows.append((self._option("review_btn_list", "list"),))
        return Reply(Safe("\n".join(line for line in lines if line)), options=tuple(rows))

    def _score(self, unit_code: str, view: SubmissionView) -> UnitScore:
        figures = ReportedFigures(
            unit_code=unit_code, status=view.status,
            actuals={code: entry.value for code, entry in view.entries.items()
                     if entry.item_type == "indicator" and entry.value is not None},
            scores={code: entry.value for code, entry in view.entries.items()
                    if entry.item_type != "indicator" and entry.value is not None},
            reviewed={code: entry.reviewed_value for code, entry in view.entries.items()
                      if entry.reviewed_value is not None},
        )
        sheet = ScoreSheet.build(self.config.pact, self.config.indicators_of(unit_code))
        return sheet.score(unit_results(self.config, unit_code, figures))

    def _item_line(self, item: ReviewItem, view: SubmissionView) -> str:
        language = self.language
        entry = view.entries.get(item.code)
        own = entry.value if entry is not None else None
        clip = f" 📎{entry.evidence}" if entry is not None and entry.evidence else ""
        if item.is_indicator:
            text = self._t("review_item_indicator", code=item.code, value=self._value_text(item, own, language),
                           percent=format_percent(achievement(own, item.target, item.direction), locale=language)
                           if own is not None else "—")
        else:
            text = self._t("review_item_criterion", code=item.code,
                           value=points(own, language) if own is not None else "—",
                           max=format_number(item.maximum, locale=language))
        if entry is not None and entry.reviewed_value is not None:
            text = Safe(text + self._t("review_item_reviewed", value=self._value_text(item, entry.reviewed_value,
                                                                                    language),
                                       reason=entry.review_reason or "—"))
        return text + clip

    def _value_text(self, item: ReviewItem, value: Decimal | None, language: str) -> str:
        if value is None:
            return "—"
        if item.is_indicator:
            return f"{format_number(value, locale=language)} {item.measure}"
        return t(language, "review_points", value=points(value, language))

    def _echo(self, item: ReviewItem, value: Decimal) -> Safe:
        language = self.language
        if item.is_indicator:
            return self._t("review_echo_indicator", value=format_number(value, locale=language), measure=item.measure,
                           percent=format_percent(achievement(value, item.target, item.direction), locale=language))
        return self._t("review_echo_criterion", value=format_number(value, locale=language),
                       max=format_number(item.maximum, locale=language))

    def _value_prompt(self, period: PeriodInfo, unit: UnitStatus, item: ReviewItem) -> Safe:
        language = self.language
        view = submission_view(session=self.ctx.session, period_id=period.id, unit_id=unit.unit_id)
        entry = view.entries.get(item.code) if view is not None else None
        own = self._value_text(item, entry.value if entry is not None else None, language)
        if item.is_indicator:
            return self._t("review_value_indicator", item=f"{item.code}. {item.text}", unit=unit.unit_name, own=own,
                           target=format_number(item.target, locale=language), measure=item.measure)
        return self._t("review_value_criterion", item=f"{item.code}. {item.text}", unit=unit.unit_name, own=own,
                       max=format_number(item.maximum, locale=language))

    def _item(self) -> ReviewItem:
        unit_code = self._current_unit(self._period_of_state()).unit_code
        item = next((item for item in review_items(self.config, unit_code)
                     if item.code == self.ctx.state.item_code), None)
        if item is None:
            raise Refused(Reply(self._t("review_stale")))
        return item

    def _require_handed_in(self, period: PeriodInfo, unit: UnitStatus) -> None:
        view = submission_view(session=self.ctx.session, period_id=period.id, unit_id=unit.unit_id)
        if view is None or view.status not in HANDED_IN:
            raise Refused(self._unit_reply(period, unit, prefix=self._t("review_not_handed_in")))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _run(ctx: Context, action: Callable[[ReviewFlow], Outcome]) -> Outcome:
    """Run one step; a refusal is answered and changes nothing the step would have changed."""
    flow = ReviewFlow(ctx)
    try:
        return action(flow)
    except Refused as refused:
        return Outcome([refused.reply], notice=plain(refused.reply.text)[:190]
                       if ctx.incoming.kind is InKind.option else None)


def _on_option(ctx: Context, parts: list[str]) -> Outcome:
    """Buttons `rv:<nonce>:<action>[:<argument>]`: the nonce must be the person's current one."""
    if ctx.state.flow != FLOW or len(parts) < 3 or not ctx.state.nonce or parts[1] != ctx.state.nonce:
        return _run(ctx, lambda flow: flow.stale())
    return _run(ctx, lambda flow: flow.on_option(parts[2], ":".join(parts[3:])))


FEATURE = Feature(
    name=FLOW,
    commands={
        "review": lambda ctx: _run(ctx, ReviewFlow.review),
        "ranking": lambda ctx: _run(ctx, ReviewFlow.preview),
        "publish": lambda ctx: _run(ctx, ReviewFlow.publish),
        "reopen": lambda ctx: _run(ctx, ReviewFlow.reopen),
        "bind": lambda ctx: Outcome([Reply(t(ctx.language, "bind_in_group"))]),
    },
    group_commands={"bind": lambda ctx: _run(ctx, ReviewFlow.bind)},
    option_prefix=PREFIX,
    on_option=_on_option,
    on_message=lambda ctx: _run(ctx, ReviewFlow.on_message),
    menu={"review": "review_cmd_review", "ranking": "review_cmd_ranking", "publish": "review_cmd_publish"},
)
