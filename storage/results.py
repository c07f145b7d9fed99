"""Reported results: submissions and their entries, written with an audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlmodel import Session, col, select

from rules.config import CriterionKind, ResultsFile
from storage.audit import record
from storage.blocs import find_bloc, period_row, unit_ids_by_code
from storage.models import Entry, Submission, SubmissionStatus, Unit, stored_id, utcnow


class ResultsError(Exception):
    """Results that do not fit the bloc, one line per problem with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportSummary:
    """What importing a results file did."""

    units: int = 0
    changed_entries: int = 0
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportedFigures:
    """One unit's stored figures for a period, detached from the session."""

    unit_code: str
    status: str
    actuals: dict[str, Decimal]
    scores: dict[str, Decimal]
    reviewed: dict[str, Decimal]  # reviewed points of criteria, reviewed actuals of indicators


def get_or_create_submission(*, session: Session, period_id: int, unit_id: int) -> Submission:
    """The unit's submission row for a period, created on first use."""
    submission = session.exec(
        select(Submission).where(Submission.period_id == period_id, Submission.unit_id == unit_id)
    ).first()
    if submission is None:
        submission = Submission(period_id=period_id, unit_id=unit_id)
        session.add(submission)
        session.flush()
    return submission


def set_entry(
    *,
    session: Session,
    submission: Submission,
    item_type: str,
    item_code: str,
    value: Decimal,
    actor: str,
    bloc_id: int,
    unit_code: str,
    entries: dict[str, Entry] | None = None,
) -> bool:
    """Store a reported value, auditing before → after; False when it did not change.

    `entries`, when the caller has loaded the submission's entries already (by
    item code), saves the lookup and is kept up to date with the new entry.
    """
    submission_id = stored_id(submission)
    if entries is not None:
        entry = entries.get(item_code)
    else:
        entry = session.exec(
            select(Entry).where(Entry.submission_id == submission_id, Entry.item_code == item_code)
        ).first()
    before = entry.value if entry is not None else None
    if before is not None and before == value:
        return False
    if entry is None:
        entry = Entry(submission_id=submission_id, item_type=item_type, item_code=item_code,
                      updated_by=actor[:64])
        if entries is not None:
            entries[item_code] = entry
    entry.value, entry.updated_at, entry.updated_by = value, utcnow(), actor[:64]
    session.add(entry)
    record(session=session, actor=actor, bloc_id=bloc_id, unit_code=unit_code,
           action=f"{item_type}.set", target=item_code,
           before=None if before is None else str(before), after=str(value))
    return True


def set_status(
    *, session: Session, submission: Submission, status: SubmissionStatus, actor: str,
    bloc_id: int, unit_code: str,
) -> None:
    """Change a submission's status, audited."""
    if submission.status == status.value:
        return
    record(session=session, actor=actor, bloc_id=bloc_id, unit_code=unit_code,
           action="submission.status", target=f"submission {submission.id}",
           before=submission.status, after=status.value)
    submission.status = status.value
    if status is SubmissionStatus.submitted:
        submission.submitted_at = utcnow()
        submission.version += 1
    session.add(submission)


def import_results(*, session: Session, results: ResultsFile, actor: str) -> ImportSummary:
    """Check a results file against the bloc, then store it in the caller's transaction."""
    bloc = find_bloc(session=session, bloc_code=results.bloc)
    if bloc is None:
        raise ResultsError([f"bloc: no bloc {results.bloc!r} in the database; run init first"])
    config = bloc.config
    period = period_row(session=session, bloc_id=bloc.id, year=results.year, kind=results.period.value)
    if period is None or period.id is None:
        raise ResultsError([f"year/period: the bloc has no {results.period.value} period in {results.year}"])
    if period.published_at is not None:
        raise ResultsError([
            f"year/period: the {results.period.value} {results.year} ranking is published and locked; "
            "the leader must /reopen it (with a reason) before figures can change"
        ])
    criteria = {criterion.code: criterion for criterion in config.pact.criteria()}
    members = {unit.code for unit in config.members_in(results.year)}
    problems: list[str] = []
    for index, entry in enumerate(results.results):
        where = f"results[{index}]"
        if entry.unit not in members:
            problems.append(
                f"{where}.unit: {entry.unit!r} is not a member unit of {config.bloc.code} in {results.year}"
            )
            continue
        own = {indicator.code for indicator in config.indicators_of(entry.unit)}
        for code in entry.indicators:
            if code not in own:
                problems.append(f"{where}.indicators.{code}: no such indicator for unit {entry.unit}")
        for code, value in entry.criteria.items():
            criterion = criteria.get(code)
            if criterion is None:
                problems.append(f"{where}.criteria.{code}: no such criterion in the pact")
            elif criterion.kind is CriterionKind.indicator:
                problems.append(
                    f"{where}.criteria.{code}: is scored from indicators; give the indicators' actuals"
                )
            elif value > criterion.max:
                problems.append(f"{where}.criteria.{code}: {value} is above the maximum {criterion.max}")
    if problems:
        raise ResultsError(problems)

    unit_ids = unit_ids_by_code(session=session, bloc_id=bloc.id)
    summary = ImportSummary()
    for entry in results.results:
        submission = get_or_create_submission(session=session, period_id=period.id,
                                              unit_id=unit_ids[entry.unit])
        changed = 0
        items = [("indicator", code, value) for code, value in entry.indicators.items()]
        items += [("criterion", code, value) for code, value in entry.criteria.items()]
        for item_type, code, value in items:
            if set_entry(session=session, submission=submission, item_type=item_type, item_code=code,
                         value=value, actor=actor, bloc_id=bloc.id, unit_code=entry.unit):
                changed += 1
        if changed or submission.status != SubmissionStatus.submitted.value:
            set_status(session=session, submission=submission, status=SubmissionStatus.submitted,
                       actor=actor, bloc_id=bloc.id, unit_code=entry.unit)
        summary.units += 1
        summary.changed_entries += changed
        if changed:
            summary.changes.append(f"{entry.unit}: {changed} value(s) changed")
    session.flush()
    return summary


def reported_figures(*, session: Session, period_id: int) -> list[ReportedFigures]:
    """Every unit's stored figures for a period, one query."""
    query = (
        select(Unit.code, Submission.status, Entry)
        .join(Submission, col(Submission.unit_id) == Unit.id)
        .join(Entry, col(Entry.submission_id) == Submission.id, isouter=True)
        .where(Submission.period_id == period_id)
    )
    figures: dict[str, ReportedFigures] = {}
    for unit_code, status, entry in session.exec(query):
        found = figures.setdefault(
            unit_code, ReportedFigures(unit_code=unit_code, status=status, actuals={}, scores={}, reviewed={})
        )
        if entry is None:
            continue
        if entry.value is not None:
            target = found.actuals if entry.item_type == "indicator" else found.scores
            target[entry.item_code] = entry.value
        # A reviewed value counts even where the unit gave none (a deduction the reviewer set).
        if entry.reviewed_value is not None:
            found.reviewed[entry.item_code] = entry.reviewed_value
    return list(figures.values())
