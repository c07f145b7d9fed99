"""Evidence: the files and notes that back an entry, kept so that a reviewer can open them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.models import Entry, Evidence, Period, Submission


@dataclass(frozen=True)
class EvidenceView:
    """One piece of evidence, detached from the session: a file on a channel, or a note."""

    file_id: str | None
    file_name: str | None
    file_size: int | None
    note: str | None
    channel: str | None
    is_photo: bool
    id: int | None = None


def keep_evidence(
    *, session: Session, entry_id: int, channel: str | None, file_id: str | None = None,
    file_name: str | None = None, file_size: int | None = None, is_photo: bool = False, note: str | None = None,
) -> None:
    """Attach a file (by the id the channel gave it) or a note to an entry."""
    session.add(Evidence(entry_id=entry_id, channel=channel if file_id is not None else None, file_id=file_id,
                         file_name=file_name, file_size=file_size, is_photo=is_photo, note=note))


def evidence_of(*, session: Session, period_id: int, unit_id: int, item_code: str) -> list[EvidenceView]:
    """The evidence of one item of a unit's submission, oldest first."""
    query = (
        select(Evidence)
        .join(Entry, col(Entry.id) == Evidence.entry_id)
        .join(Submission, col(Submission.id) == Entry.submission_id)
        .where(Submission.period_id == period_id, Submission.unit_id == unit_id, Entry.item_code == item_code)
        .order_by(col(Evidence.id))
    )
    return [EvidenceView(file_id=row.file_id, file_name=row.file_name, file_size=row.file_size, note=row.note,
                         channel=row.channel, is_photo=row.is_photo, id=row.id)
            for row in session.exec(query)]


@dataclass(frozen=True)
class EvidenceOwner:
    """A piece of evidence with whose it is: the unit and the period of its submission."""

    evidence: EvidenceView
    unit_id: int
    period_id: int
    year: int


def evidence_owner(*, session: Session, evidence_id: int) -> EvidenceOwner | None:
    """A piece of evidence by its id, with its unit and period (to check who may open it)."""
    row = session.exec(
        select(Evidence, Submission, Period)
        .join(Entry, col(Entry.id) == Evidence.entry_id)
        .join(Submission, col(Submission.id) == Entry.submission_id)
        .join(Period, col(Period.id) == Submission.period_id)
        .where(Evidence.id == evidence_id)
    ).first()
    if row is None:
        return None
    evidence, submission, period = row
    view = EvidenceView(file_id=evidence.file_id, file_name=evidence.file_name, file_size=evidence.file_size,
                        note=evidence.note, channel=evidence.channel, is_photo=evidence.is_photo, id=evidence.id)
    return EvidenceOwner(evidence=view, unit_id=submission.unit_id, period_id=submission.period_id, year=period.year)
