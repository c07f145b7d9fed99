"""What the review decides: who may act, what a unit scores, accept, change, return, publish, reopen, bind.

A session in, plain data out: no reply and no catalog text. Every decision is
audited by `storage.review`; the review flow, the command line and the
scheduler call these functions and render what they return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from handlers.services.paperwork import MinutesData, ScoreSheetData, paperwork_data
from handlers.services.ranking import RankingReport, rank_period, unit_results
from rules.config import BlocConfig, CriterionKind, Direction
from rules.numbers import NumberError, parse_number, percent_of
from rules.scoring import ScoreSheet, UnitScore
from storage.blocs import BlocRef, latest_year
from storage.evidence import EvidenceView, evidence_of
from storage.groups import group_post_address
from storage.results import ReportedFigures
from storage.review import (
    HANDED_IN,
    PeriodInfo,
    Publication,
    ScoreChange,
    SubmissionView,
    UnitStatus,
    accept_submission,
    bind_group,
    current_period,
    latest_publication,
    publish_period,
    record_export,
    reopen_period,
    return_submission,
    review_entry,
    submission_view,
    unit_statuses,
)
from storage.roles import BlocRole, linked_officer_chats, may_review, unit_role

LEADING = (BlocRole.leader, BlocRole.deputy)

Recipient = tuple[str, str]  # (address, language)
"""A linked officer to tell: (chat id, language)."""


class Refusal(StrEnum):
    """Why an officer may not do what they asked, now."""

    no_period = "no_period"
    leader_only = "leader_only"
    not_allowed = "not_allowed"
    locked = "locked"
    stale = "stale"
    own_unit = "own_unit"


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
    criterion: str = ""  # an indicator's criterion in the pact
    limit: Decimal = Decimal(0)  # an indicator's largest plausible actual (`BlocConfig.actual_limit`)

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


@dataclass(frozen=True)
class ValueProblem:
    """Why a typed value cannot be a reviewed value: `number`, `ambiguous`, `negative`, `range`,
    `digits` (too many) or `implausible` (above the indicator's limit)."""

    reason: str
    readings: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class Changed:
    """A reviewer's change, saved: the value before it and the officers to tell."""

    before: Decimal | None
    told: list[Recipient]


@dataclass(frozen=True)
class Published:
    """A publication: its version, the one before it, what was kept, and the paperwork's data."""

    version: int
    previous: Publication | None
    snapshot: dict[str, Any]
    score_sheet: ScoreSheetData
    minutes: MinutesData


# -- who may act ----------------------------------------------------------------------


def period_now(*, session: Session, bloc: BlocRef, now: dt.datetime) -> PeriodInfo | None:
    """The period under way in the bloc."""
    return current_period(session=session, bloc_id=bloc.id, now=now)


def access(
    *, session: Session, bloc: BlocRef, unit_id: int, period: PeriodInfo | None, leader_only: bool = False,
    unlocked: bool = True,
) -> Refusal | None:
    """Why an officer of the unit may not act on the period now, or None when they may."""
    if period is None:
        return Refusal.no_period
    role = unit_role(session=session, bloc_id=bloc.id, unit_id=unit_id, year=period.year)
    if leader_only and role is not BlocRole.leader:
        return Refusal.leader_only
    if role not in LEADING:
        return Refusal.not_allowed
    if unlocked and period.published_at is not None:
        return Refusal.locked
    return None


def may_bind(*, session: Session, bloc: BlocRef, unit_id: int, now: dt.datetime) -> bool:
    """Whether the unit leads the bloc in the current year (the newest year before any period opens)."""
    period = period_now(session=session, bloc=bloc, now=now)
    year = period.year if period is not None else latest_year(session=session, bloc_id=bloc.id)
    return unit_role(session=session, bloc_id=bloc.id, unit_id=unit_id, year=year or 0) in LEADING


def member_statuses(*, session: Session, bloc: BlocRef, period: PeriodInfo) -> list[UnitStatus]:
    """The period's member units with where their submissions stand."""
    return unit_statuses(session=session, bloc_id=bloc.id, period_id=period.id,
                         unit_codes=[unit.code for unit in bloc.config.members_in(period.year)])


def member_unit(*, session: Session, bloc: BlocRef, period: PeriodInfo, unit_id: int) -> UnitStatus | None:
    """A member unit of the period by id."""
    return next((unit for unit in member_statuses(session=session, bloc=bloc, period=period)
                 if unit.unit_id == unit_id), None)


def may_review_unit(*, session: Session, bloc: BlocRef, period: PeriodInfo, reviewer_unit_id: int,
                    unit: UnitStatus) -> bool:
    """Whether the reviewer's unit may review the unit (the leader's own report is the deputy's)."""
    return may_review(session=session, bloc_id=bloc.id, reviewer_unit_id=reviewer_unit_id,
                      reviewed_unit_id=unit.unit_id, year=period.year)


# -- what a unit reported and scores -----------------------------------------------------------


def review_items(config: BlocConfig, unit_code: str) -> list[ReviewItem]:
    """A unit's reviewable items: its indicators, then self, bonus and deduction criteria."""
    items = [
        ReviewItem(code=indicator.code, kind="indicator", text=indicator.text, measure=indicator.measure,
                   target=indicator.target, direction=indicator.direction, criterion=indicator.criterion,
                   limit=config.actual_limit(indicator))
        for indicator in config.indicators_of(unit_code)
    ]
    items += [
        ReviewItem(code=criterion.code, kind=criterion.kind.value, text=criterion.name, maximum=criterion.max)
        for criterion in config.pact.criteria() if criterion.kind is not CriterionKind.indicator
    ]
    return items


def review_item(config: BlocConfig, unit_code: str, code: str | None) -> ReviewItem | None:
    """One of a unit's reviewable items by code."""
    return next((item for item in review_items(config, unit_code) if item.code == code), None)


def submission(*, session: Session, period: PeriodInfo, unit: UnitStatus) -> SubmissionView | None:
    """A unit's submission with its entries, None before it started."""
    return submission_view(session=session, period_id=period.id, unit_id=unit.unit_id)


def evidence(*, session: Session, period: PeriodInfo, unit: UnitStatus, item: ReviewItem) -> list[EvidenceView]:
    """The files and notes the unit attached to one item, oldest first."""
    return evidence_of(session=session, period_id=period.id, unit_id=unit.unit_id, item_code=item.code)


def handed_in(view: SubmissionView | None) -> bool:
    """Whether the unit handed the submission in (the only ones a reviewer acts on)."""
    return view is not None and view.status in HANDED_IN


def unit_score(config: BlocConfig, unit_code: str, view: SubmissionView) -> UnitScore:
    """What a submission scores now, the review winning over the unit's own figures."""
    figures = ReportedFigures(
        unit_code=unit_code, status=view.status,
        actuals={code: entry.value for code, entry in view.entries.items()
                 if entry.item_type == "indicator" and entry.value is not None},
        scores={code: entry.value for code, entry in view.entries.items()
                if entry.item_type != "indicator" and entry.value is not None},
        reviewed={code: entry.reviewed_value for code, entry in view.entries.items()
                  if entry.reviewed_value is not None},
    )
    sheet = ScoreSheet.build(config.pact, config.indicators_of(unit_code))
    return sheet.score(unit_results(config, unit_code, figures))


def read_value(item: ReviewItem, text: str) -> Decimal | ValueProblem:
    """A reviewed value typed the Vietnamese way; `102%` of a count is percent of plan, as in the report."""
    if not text.strip():
        return ValueProblem("number")
    try:
        parsed = parse_number(text, measure=item.measure)
    except NumberError as error:
        if error.reason == "ambiguous":
            return ValueProblem("ambiguous", error.candidates)
        if error.reason == "too_many_digits":
            return ValueProblem("digits")
        return ValueProblem("number")
    value = parsed.value
    if item.is_indicator:
        if value < 0:
            return ValueProblem("negative")
        if parsed.percent and item.measure.strip() != "%":
            value = percent_of(item.target, value)
        if value > item.limit:
            return ValueProblem("implausible")
    elif parsed.percent or value < 0 or value > item.maximum:
        return ValueProblem("range")
    return value


# -- decisions ---------------------------------------------------------------------------


def accept(
    *, session: Session, bloc: BlocRef, period: PeriodInfo, unit: UnitStatus, actor: str,
) -> list[Recipient] | None:
    """Accept a handed-in submission; the officers to tell, or None when it is not handed in."""
    if not accept_submission(session=session, period_id=period.id, unit_id=unit.unit_id, actor=actor,
                             bloc_id=bloc.id, unit_code=unit.unit_code):
        return None
    return linked_officer_chats(session=session, unit_id=unit.unit_id)


def change_score(
    *, session: Session, bloc: BlocRef, period: PeriodInfo, unit: UnitStatus, item: ReviewItem, value: Decimal,
    reason: str, actor: str,
) -> Changed:
    """Set an item's reviewed value with the reason the unit will see."""
    change: ScoreChange = review_entry(
        session=session, period_id=period.id, unit_id=unit.unit_id,
        item_type="indicator" if item.is_indicator else "criterion", item_code=item.code, value=value,
        reason=reason, actor=actor, bloc_id=bloc.id, unit_code=unit.unit_code)
    return Changed(before=change.before if change.before is not None else change.own,
                   told=linked_officer_chats(session=session, unit_id=unit.unit_id))


def return_for_correction(
    *, session: Session, bloc: BlocRef, period: PeriodInfo, unit: UnitStatus, reason: str, actor: str,
) -> list[Recipient] | None:
    """Return a handed-in submission with a reason; the officers to tell, or None when it is not handed in."""
    if not return_submission(session=session, period_id=period.id, unit_id=unit.unit_id, reason=reason,
                             actor=actor, bloc_id=bloc.id, unit_code=unit.unit_code):
        return None
    return linked_officer_chats(session=session, unit_id=unit.unit_id)


def ranking_view(*, session: Session, bloc: BlocRef, period: PeriodInfo) -> RankingView:
    """The reviewed ranking of a period with each unit's status."""
    report = rank_period(session=session, bloc=bloc, period=period)
    statuses = {row.unit_code: row.status for row in report.rows}
    return RankingView(
        report=report,
        short_names={unit.code: unit.short_name for unit in bloc.config.units},
        missing=[code for code, status in statuses.items() if status not in HANDED_IN],
        unreviewed=[code for code, status in statuses.items() if status == "submitted"],
    )


def publish(
    *, session: Session, bloc: BlocRef, period: PeriodInfo, view: RankingView, actor: str, now: dt.datetime,
) -> Published:
    """Lock the period, keep the ranking as published, and make the paperwork's data from the same ranking."""
    snapshot = {**view.report.as_json(), "missing": view.missing}
    previous = latest_publication(session=session, period_id=period.id)
    version = publish_period(session=session, period_id=period.id, ranking=snapshot, actor=actor, now=now,
                             bloc_id=bloc.id)
    score_sheet, minutes = paperwork_data(session=session, bloc=bloc, period=period, report=view.report, now=now)
    record_export(session=session, bloc_id=bloc.id, actor=actor, target=f"period {period.year} {period.kind}",
                  files=list(score_sheet.file_names))
    return Published(version=version, previous=previous, snapshot=snapshot, score_sheet=score_sheet,
                     minutes=minutes)


def reopen(*, session: Session, bloc: BlocRef, period: PeriodInfo, reason: str, actor: str, now: dt.datetime) -> None:
    """Unlock a published period, with the reason."""
    reopen_period(session=session, period_id=period.id, reason=reason, actor=actor, now=now, bloc_id=bloc.id)


def group_address(*, session: Session, bloc: BlocRef, now: dt.datetime) -> str | None:
    """Where the bloc's group posts go: its group, or (none bound) its officers on Zalo in private; None: nowhere."""
    return group_post_address(session=session, bloc_id=bloc.id, group_chat_id=bloc.group_chat_id,
                              now=now.astimezone(dt.UTC))


def bind(*, session: Session, bloc: BlocRef, chat_id: str, actor: str) -> None:
    """Make a group chat the bloc's group."""
    bind_group(session=session, bloc_id=bloc.id, chat_id=chat_id, actor=actor)

