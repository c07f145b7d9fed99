"""The one place that says who may see and change which unit's data on the web pages.

- An officer sees and changes their own unit's report, nothing of another unit.
- An officer of the year's leader or deputy unit may see every unit of their
  bloc (the review table; `storage.roles.may_review` decides the reviewing itself).
- The provincial board (later) sees every bloc, changes nothing here.

Every route asks here before it reads or changes a unit's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from storage.chat import OfficerView
from storage.models import Unit
from storage.roles import BlocRole, unit_role


class Via(StrEnum):
    """How the person proved who they are."""

    telegram = "telegram"  # the Mini App's initData, on every request
    link = "link"  # a personal link's session cookie


@dataclass(frozen=True)
class Principal:
    """A person the pages act for: the officer, and how they came."""

    officer: OfficerView
    via: Via
    subject: str  # the Telegram user id, or the web link's id
    language: str

    @property
    def key(self) -> str:
        """The person's key for the CSRF token and the request counter."""
        return f"{self.via.value}:{self.subject}"


def may_change_report(principal: Principal, unit_id: int) -> bool:
    """Only the unit's own officers change its report."""
    return principal.officer.unit_id == unit_id


def may_see_unit(session: Session, principal: Principal, unit_id: int, *, year: int) -> bool:
    """The unit's own officers, and the bloc's leader and deputy units of the year."""
    if principal.officer.unit_id == unit_id:
        return True
    unit = session.get(Unit, unit_id)
    if unit is None or unit.bloc_id != principal.officer.bloc_id:
        return False
    role = unit_role(session=session, bloc_id=principal.officer.bloc_id, unit_id=principal.officer.unit_id,
                     year=year)
    return role in (BlocRole.leader, BlocRole.deputy)
