"""The data of the paperwork the board expects: the score sheet and the minutes of the meeting.

Plain data from the stored, reviewed figures of a period; `handlers.renderers.documents`
turns it into the .xlsx and the .docx. The ranking is passed in where the caller
has it already (a publication ranks once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlmodel import Session

from handlers.services.ranking import RankedRow, RankingReport, find_bloc_period, rank_period
from handlers.services.votes import VoteResult, vote_results
from rules.config import PeriodKind
from storage.blocs import BlocRef
from storage.review import PeriodInfo, officers_of_unit
from storage.roles import leading_unit_ids, unit_name

UNKNOWN = "…"  # a name the minutes leave for the secretary to write in


@dataclass(frozen=True)
class SheetSection:
    """A section of the pact."""

    code: str
    name: str
    max_points: Decimal


@dataclass(frozen=True)
class SheetCriterion:
    """A scored line of the pact (section criteria, then bonus, then deductions)."""

    code: str
    name: str
    kind: str
    max_points: Decimal


@dataclass(frozen=True)
class ScoreSheetData:
    """Everything on the score sheet, rows in rank order."""

    bloc_code: str
    bloc_name: str
    province: str
    year: int
    period_kind: str
    standard_score: Decimal
    sections: Sequence[SheetSection]
    criteria: Sequence[SheetCriterion]
    rows: Sequence[RankedRow]

    @property
    def file_stem(self) -> str:
        """The start of the files' names: `K3-2018-year-end`."""
        return f"{self.bloc_code}-{self.year}-{self.period_kind}"

    @property
    def file_names(self) -> tuple[str, str]:
        """The names of the score sheet's and the minutes' files."""
        return f"{self.file_stem}-bang-tong-hop-diem.xlsx", f"{self.file_stem}-bien-ban-hop-khoi.docx"


@dataclass(frozen=True)
class MinutesData:
    """The year-end meeting: when, where, who, and the results."""

    sheet: ScoreSheetData
    held_at: dt.datetime  # local time of the bloc
    place: str | None
    chair_name: str
    chair_unit: str
    secretary_name: str
    secretary_unit: str
    attending: Sequence[str] = field(default_factory=list)
    votes: Sequence[VoteResult] = field(default_factory=list)  # the year's closed ballots


def build_paperwork(
    *, session: Session, bloc_code: str | None, year: int | None, period_kind: PeriodKind = PeriodKind.year_end,
    place: str | None = None, now: dt.datetime,
) -> tuple[ScoreSheetData, MinutesData]:
    """The score sheet's and the minutes' data of a period, from the stored, reviewed figures."""
    bloc, period = find_bloc_period(session=session, bloc_code=bloc_code, year=year, kind=period_kind)
    report = rank_period(session=session, bloc=bloc, period=period)
    return paperwork_data(session=session, bloc=bloc, period=period, report=report, place=place, now=now)


def paperwork_data(
    *, session: Session, bloc: BlocRef, period: PeriodInfo, report: RankingReport, place: str | None = None,
    now: dt.datetime,
) -> tuple[ScoreSheetData, MinutesData]:
    """The paperwork of a period from a ranking already made of it."""
    config = bloc.config
    sheet = ScoreSheetData(
        bloc_code=bloc.code, bloc_name=config.bloc.name, province=config.bloc.province, year=period.year,
        period_kind=period.kind, standard_score=config.pact.standard_score,
        sections=[SheetSection(code=section.code, name=section.name, max_points=section.max)
                  for section in config.pact.sections],
        criteria=[SheetCriterion(code=criterion.code, name=criterion.name, kind=criterion.kind.value,
                                 max_points=criterion.max) for criterion in config.pact.criteria()],
        rows=report.rows,
    )
    held_at = (period.votes_opens or now).astimezone(config.zone())
    chair_name = chair_unit = secretary_name = secretary_unit = UNKNOWN
    leading = leading_unit_ids(session=session, bloc_id=bloc.id, year=period.year)
    if leading is not None:
        leader_unit, deputy_unit = leading
        leader_officers = officers_of_unit(session=session, unit_id=leader_unit)
        chair_unit = secretary_unit = unit_name(session=session, unit_id=leader_unit)
        if leader_officers:
            chair_name = leader_officers[0].name
        if len(leader_officers) > 1:
            secretary_name = leader_officers[1].name
        else:
            deputy_officers = officers_of_unit(session=session, unit_id=deputy_unit)
            if deputy_officers:
                secretary_name = deputy_officers[-1].name
                secretary_unit = unit_name(session=session, unit_id=deputy_unit)
    minutes = MinutesData(
        sheet=sheet, held_at=held_at, place=place, chair_name=chair_name, chair_unit=chair_unit,
        secretary_name=secretary_name, secretary_unit=secretary_unit,
        attending=[unit.name for unit in config.members_in(period.year)],
        votes=[vote for vote in vote_results(session=session, bloc_id=bloc.id, year=period.year)
               if vote.decision is not None],
    )
    return sheet, minutes
