"""A unit's report for one period: its items, what is saved, when it may be changed, its points.

Used by the report flow (and later a web form): everything a step needs to
decide, read once per turn, and every change audited through storage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlmodel import Session

from rules.config import BlocConfig, CriterionKind, Direction
from rules.extras import Extras, explain_extras
from rules.numbers import NumberError, parse_number, percent_of
from rules.scoring import UnitResults, UnitScore, score_unit
from storage.blocs import BlocRef, bloc_by_id, stored_bloc
from storage.chat import (
    OfficerView,
    entries_of,
    evidence_counts,
    find_submission,
    open_periods,
    period_with_submission,
    periods_for_reporting,
)
from storage.evidence import keep_evidence
from storage.models import Entry, Period, Submission, SubmissionStatus
from storage.results import get_or_create_submission, set_entry, set_status

EDITABLE = frozenset({SubmissionStatus.not_started.value, SubmissionStatus.in_progress.value,
                      SubmissionStatus.returned.value})


@dataclass(frozen=True)
class Item:
    """One thing the unit reports: an indicator's actual or a criterion's self score."""

    code: str
    is_indicator: bool
    text: str
    measure: str = ""
    target: Decimal = Decimal(0)
    direction: Direction = Direction.higher
    maximum: Decimal = Decimal(0)
    limit: Decimal = Decimal(0)  # an indicator's largest plausible actual (`BlocConfig.actual_limit`)


def unit_items(config: BlocConfig, unit_code: str) -> list[Item]:
    """The unit's items in reporting order: indicators, self criteria, then bonus criteria."""
    items = [
        Item(code=indicator.code, is_indicator=True, text=indicator.text, measure=indicator.measure,
             target=indicator.target, direction=indicator.direction, limit=config.actual_limit(indicator))
        for indicator in config.indicators_of(unit_code)
    ]
    for criterion in config.pact.criteria():
        if criterion.kind in (CriterionKind.self, CriterionKind.bonus):
            items.append(Item(code=criterion.code, is_indicator=False,
                              text=f"{criterion.code}. {criterion.name}", maximum=criterion.max))
    return items


@dataclass(frozen=True)
class Reading:
    """What was typed for an item, read by the chat's rules: a value, two readings to choose from, or an error.

    `error` is a catalog key: `err_need_number`, `err_not_number`, `err_too_long`
    (these three shown with an example), `err_negative`, `err_range` (with the maximum),
    `err_implausible` (an indicator's actual above its plausible limit), `err_too_many_digits`.
    """

    value: Decimal | None = None
    candidates: tuple[Decimal, ...] = ()
    error: str | None = None


def read_typed(item: Item, typed: str) -> Reading:
    """Read what an officer typed for an item (`30.544`, `96,5`, `102%`), by the chat and the page alike."""
    if not typed.strip():
        return Reading(error="err_need_number")
    try:
        parsed = parse_number(typed, measure=item.measure)
    except NumberError as error:
        if error.reason == "ambiguous":
            return Reading(candidates=tuple(error.candidates))
        if error.reason == "too_many_digits":
            return Reading(error="err_too_many_digits")
        return Reading(error="err_too_long" if error.reason == "too_long" else "err_not_number")
    return checked_reading(item, parsed.value, percent=parsed.percent)


def checked_reading(item: Item, value: Decimal, *, percent: bool) -> Reading:
    """A number read (or picked of two readings) checked against the item.

    An indicator's `102%` when its measure is not a percentage means percent of
    plan: the actual follows from the target. A criterion's self score lies
    between 0 and its maximum.
    """
    if value < 0:
        return Reading(error="err_negative")
    if item.is_indicator:
        if percent and item.measure.strip() != "%":
            value = percent_of(item.target, value)
        if value > item.limit:
            return Reading(error="err_implausible")
    elif percent or value > item.maximum:
        return Reading(error="err_range")
    return Reading(value=value)


class Closed(StrEnum):
    """Why no report can be changed now."""

    locked = "locked"  # the ranking of the open period is published
    not_yet = "not_yet"  # the next period opens later
    over = "over"  # the last period's deadline has passed
    no_period = "no_period"  # the bloc has no period at all


@dataclass(frozen=True)
class ClosedReason:
    """Why reporting is closed, and the moment that goes with it (opening or deadline)."""

    reason: Closed
    zone: str  # the bloc's time zone, to show the moment in
    moment: dt.datetime | None = None


def may_edit(*, session: Session, period: Period, unit_id: int, now: dt.datetime) -> bool:
    """Whether the unit may change its report for the period now.

    Until the reporting deadline; after it only a report the leader returned for
    correction, until the review deadline. A published ranking locks its period
    until the leader reopens it.
    """
    if period.published_at is not None or now < period.reporting_opens:
        return False
    if now < period.reporting_deadline:
        return True
    if period.review_deadline is not None and now >= period.review_deadline:
        return False
    if period.id is None:
        return False
    submission = find_submission(session=session, period_id=period.id, unit_id=unit_id)
    return submission is not None and submission.status == SubmissionStatus.returned.value


def editable_periods(*, session: Session, officer: OfficerView, now: dt.datetime) -> list[Period]:
    """The periods whose report the officer's unit may change now, newest first."""
    return [period for period in periods_for_reporting(session=session, bloc_id=officer.bloc_id)
            if may_edit(session=session, period=period, unit_id=officer.unit_id, now=now)]


def closed_reason(*, session: Session, bloc_id: int, now: dt.datetime) -> ClosedReason:
    """Why the unit cannot report now."""
    periods = periods_for_reporting(session=session, bloc_id=bloc_id)
    zone = stored_bloc(session=session, bloc_id=bloc_id).config.bloc.timezone
    if any(p.published_at is not None and p.reporting_opens <= now < p.reporting_deadline for p in periods):
        return ClosedReason(Closed.locked, zone)
    upcoming = [p for p in periods if p.reporting_opens > now]
    if upcoming:
        return ClosedReason(Closed.not_yet, zone, min(p.reporting_opens for p in upcoming))
    if periods:
        return ClosedReason(Closed.over, zone, periods[0].reporting_deadline)
    return ClosedReason(Closed.no_period, zone)


@dataclass(frozen=True)
class PeriodProgress:
    """How far a unit's report of one period is: its status, the items done, what is missing."""

    year: int
    kind: str
    status: str
    done: int
    total: int
    missing: list[tuple[str, str]]  # (code, text) of each missing item, in reporting order
    deadline: dt.datetime
    period_id: int = 0
    editable: bool = False  # the unit may change the report now


def progress(*, session: Session, officer: OfficerView, now: dt.datetime) -> tuple[str, list[PeriodProgress]]:
    """The bloc's time zone and the progress of the unit's report in the open periods (else the latest)."""
    periods = open_periods(session=session, bloc_id=officer.bloc_id, now=now) \
        or periods_for_reporting(session=session, bloc_id=officer.bloc_id)[:1]
    bloc = stored_bloc(session=session, bloc_id=officer.bloc_id)
    items = unit_items(bloc.config, officer.unit_code)
    found = []
    for period in periods:
        submission = find_submission(session=session, period_id=period.id, unit_id=officer.unit_id) \
            if period.id is not None else None
        entries = entries_of(session=session, submission_id=submission.id) \
            if submission is not None and submission.id is not None else {}
        missing = [(item.code, item.text) for item in items
                   if item.code not in entries or entries[item.code].value is None]
        status = submission.status if submission else SubmissionStatus.not_started.value
        editable = status in EDITABLE and may_edit(session=session, period=period, unit_id=officer.unit_id, now=now)
        found.append(PeriodProgress(
            year=period.year, kind=period.kind, status=status,
            done=len(items) - len(missing), total=len(items), missing=missing, deadline=period.reporting_deadline,
            period_id=period.id or 0, editable=editable))
    return bloc.config.bloc.timezone, found


@dataclass(frozen=True)
class SummaryLine:
    """One item of the summary: its value (None when missing), its achievement, its evidence."""

    item: Item
    value: Decimal | None
    achievement: Decimal | None
    evidence: int


@dataclass(frozen=True)
class Summary:
    """Every item with its value, the unit's score, and what is missing."""

    lines: list[SummaryLine]
    score: UnitScore
    extras: Extras  # where the bonus and deductions come from

    @property
    def missing(self) -> list[str]:
        """Codes of the items without a value."""
        return [line.item.code for line in self.lines if line.value is None]


class UnitReport:
    """One unit's report for one period, read once per turn and changed through storage (audited)."""

    def __init__(self, *, session: Session, officer: OfficerView, bloc: BlocRef, period: Period) -> None:
        if period.id is None:
            raise ValueError("a stored period")
        self.session, self.officer, self.bloc, self.period = session, officer, bloc, period
        self.period_id: int = period.id
        self.config = bloc.config
        self.items = unit_items(self.config, officer.unit_code)
        self.by_code = {item.code: item for item in self.items}
        self._submission: Submission | None = None
        self._looked_up = False  # whether `_submission` was read (None then: the unit has none yet)
        self._entries: dict[str, Entry] | None = None

    @classmethod
    def open(cls, *, session: Session, officer: OfficerView, period_id: int) -> UnitReport | None:
        """The report of the officer's unit for a period of its bloc; None when there is no such period."""
        found = period_with_submission(session=session, period_id=period_id, unit_id=officer.unit_id)
        bloc = bloc_by_id(session=session, bloc_id=officer.bloc_id)
        if found is None or bloc is None or found[0].bloc_id != officer.bloc_id:
            return None
        report = cls(session=session, officer=officer, bloc=bloc, period=found[0])
        report._submission, report._looked_up = found[1], True
        return report

    @property
    def actor(self) -> str:
        """Who changes the report, for the audit trail."""
        return self.officer.actor

    def may_edit(self, now: dt.datetime) -> bool:
        """Whether the report may be changed now (see :func:`may_edit`)."""
        return may_edit(session=self.session, period=self.period, unit_id=self.officer.unit_id, now=now)

    def status(self) -> str:
        """The submission's status (`not_started` before anything was saved)."""
        submission = self._find()
        return submission.status if submission is not None else SubmissionStatus.not_started.value

    def return_reason(self) -> str | None:
        """The leader's reason when the report was returned for correction."""
        submission = self._find()
        return submission.return_reason if submission is not None else None

    def editable(self) -> bool:
        """Whether the submission's status lets the unit change it."""
        return self.status() in EDITABLE

    def value(self, code: str) -> Decimal | None:
        """The saved value of an item, if any."""
        entry = self._entries_now().get(code)
        return entry.value if entry is not None else None

    def first_missing(self, after: str | None = None) -> Item | None:
        """The first item without a value, looking from the one after `after` round to the start."""
        start = self.items.index(self.by_code[after]) + 1 if after in self.by_code else 0
        for item in self.items[start:] + self.items[:start]:
            if self.value(item.code) is None:
                return item
        return None

    def save(self, item: Item, value: Decimal) -> bool:
        """Save a confirmed value (audited); False when the submission can no longer be changed."""
        submission = self._created()
        if submission.status not in EDITABLE:
            return False
        set_entry(session=self.session, submission=submission,
                  item_type="indicator" if item.is_indicator else "criterion", item_code=item.code,
                  value=value, actor=self.actor, bloc_id=self.officer.bloc_id,
                  unit_code=self.officer.unit_code, entries=self._entries_now())
        if submission.status == SubmissionStatus.not_started.value:
            self._set_status(SubmissionStatus.in_progress)
        return True

    def attach(self, item: Item, *, channel: str | None = None, file_id: str | None = None,
               file_name: str | None = None, file_size: int | None = None, is_photo: bool = False,
               note: str | None = None) -> bool:
        """Attach a file or a note to a saved item; False when the item has no saved value."""
        entry = self._entries_now().get(item.code)
        if entry is None or entry.id is None:
            return False
        keep_evidence(session=self.session, entry_id=entry.id, channel=channel, file_id=file_id,
                      file_name=file_name, file_size=file_size, is_photo=is_photo, note=note)
        return True

    def submit(self) -> None:
        """Submit the report (audited); a report already submitted or accepted stays as it is."""
        if self.status() in EDITABLE:
            self._set_status(SubmissionStatus.submitted)

    def reopen(self) -> bool:
        """Take a submitted report back to editing (audited); False when it is not submitted."""
        if self.status() != SubmissionStatus.submitted.value:
            return False
        self._set_status(SubmissionStatus.in_progress)
        return True

    def summary(self) -> Summary:
        """Every item with its value and achievement, and the unit's score by the pact."""
        entries = self._entries_now()
        values = {code: entry.value for code, entry in entries.items() if entry.value is not None}
        indicators = self.config.indicators_of(self.officer.unit_code)
        score = score_unit(self.config.pact, indicators, UnitResults(
            unit_code=self.officer.unit_code,
            actuals={item.code: values[item.code] for item in self.items
                     if item.is_indicator and item.code in values},
            self_scores={item.code: values[item.code] for item in self.items
                         if not item.is_indicator and item.code in values},
        ))
        counts = evidence_counts(session=self.session,
                                 entry_ids=[entry.id for entry in entries.values() if entry.id is not None])
        lines = []
        for item in self.items:
            entry = entries.get(item.code)
            value = values.get(item.code)
            achieved = score.achievements.get(item.code) if item.is_indicator and value is not None else None
            evidence = counts.get(entry.id, 0) if entry is not None and entry.id is not None else 0
            lines.append(SummaryLine(item=item, value=value, achievement=achieved, evidence=evidence))
        return Summary(lines=lines, score=score, extras=explain_extras(self.config.pact, indicators, score))

    def _find(self) -> Submission | None:
        if not self._looked_up:
            self._looked_up = True
            self._submission = find_submission(session=self.session, period_id=self.period_id,
                                               unit_id=self.officer.unit_id)
        return self._submission

    def _created(self) -> Submission:
        submission = self._find()
        if submission is None:
            submission = self._submission = get_or_create_submission(
                session=self.session, period_id=self.period_id, unit_id=self.officer.unit_id)
        return submission

    def _entries_now(self) -> dict[str, Entry]:
        if self._entries is None:
            submission = self._find()
            self._entries = entries_of(session=self.session, submission_id=submission.id) \
                if submission is not None and submission.id is not None else {}
        return self._entries

    def _set_status(self, status: SubmissionStatus) -> None:
        set_status(session=self.session, submission=self._created(), status=status, actor=self.actor,
                   bloc_id=self.officer.bloc_id, unit_code=self.officer.unit_code)
