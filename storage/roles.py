"""Who leads the bloc in a year: the leader and deputy units, and what that allows."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session, select

from storage.models import Bloc, Officer, Unit, YearRoles


class BlocRole(StrEnum):
    """A unit's role in the bloc for a year."""

    leader = "leader"
    deputy = "deputy"
    member = "member"


def unit_role(*, session: Session, bloc_id: int, unit_id: int, year: int) -> BlocRole:
    """The role of a unit in a year (member when no roles are recorded for that year)."""
    roles = session.exec(select(YearRoles).where(YearRoles.bloc_id == bloc_id, YearRoles.year == year)).first()
    if roles is None:
        return BlocRole.member
    if roles.leader_unit_id == unit_id:
        return BlocRole.leader
    if roles.deputy_unit_id == unit_id:
        return BlocRole.deputy
    return BlocRole.member


def leading_unit_ids(*, session: Session, bloc_id: int, year: int) -> tuple[int, int] | None:
    """The (leader, deputy) unit ids of a year."""
    roles = session.exec(select(YearRoles).where(YearRoles.bloc_id == bloc_id, YearRoles.year == year)).first()
    return (roles.leader_unit_id, roles.deputy_unit_id) if roles is not None else None


def may_review(*, session: Session, bloc_id: int, reviewer_unit_id: int, reviewed_unit_id: int, year: int) -> bool:
    """Leader and deputy review; the leader's own submission is reviewed by the deputy only."""
    role = unit_role(session=session, bloc_id=bloc_id, unit_id=reviewer_unit_id, year=year)
    if role is BlocRole.member:
        return False
    if reviewer_unit_id == reviewed_unit_id:
        return False
    return True


def linked_officer_chats(*, session: Session, unit_id: int) -> list[tuple[int, str]]:
    """(Telegram user id, language) of every active, linked officer of a unit."""
    rows = session.exec(
        select(Officer.telegram_user_id, Officer.language)
        .where(Officer.unit_id == unit_id, Officer.active == True, Officer.telegram_user_id != None)  # noqa: E711, E712
    )
    return [(user_id, language) for user_id, language in rows if user_id is not None]


def unit_name(*, session: Session, unit_id: int) -> str:
    """A unit's full name."""
    unit = session.get(Unit, unit_id)
    return unit.name if unit is not None else "?"


def next_year_roles(*, session: Session, bloc_code: str, year: int) -> tuple[str, str] | None:
    """The names of the leader and deputy units recorded for a year, if any."""

    bloc = session.exec(select(Bloc).where(Bloc.code == bloc_code)).first()
    if bloc is None or bloc.id is None:
        return None
    ids = leading_unit_ids(session=session, bloc_id=bloc.id, year=year)
    if ids is None:
        return None
    return unit_name(session=session, unit_id=ids[0]), unit_name(session=session, unit_id=ids[1])
