"""Who leads the bloc in a year: the leader and deputy units, and what that allows."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.models import Bloc, ChatState, Officer, OfficerAccount, Unit, YearRoles


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


def linked_officer_chats(*, session: Session, unit_id: int) -> list[tuple[str, str]]:
    """(address, language) of every active, linked officer of a unit: their latest linked account."""
    accounts = officer_addresses(session=session, officer_ids=list(session.exec(
        select(Officer.id).where(Officer.unit_id == unit_id, col(Officer.active).is_(True)))))
    languages = {officer_id: language for officer_id, language in session.exec(
        select(Officer.id, Officer.language).where(col(Officer.id).in_(list(accounts))))}
    return [(found, languages[officer_id]) for officer_id, found in accounts.items()]


def officer_addresses(*, session: Session, officer_ids: list[int | None]) -> dict[int, str]:
    """Where each officer is reached (officers without an account left out): the account they
    used last (its conversation state changed last), else the one they linked last."""
    ids = [officer_id for officer_id in officer_ids if officer_id is not None]
    if not ids:
        return {}
    best: dict[int, tuple[tuple[int, dt.datetime, int], str]] = {}
    rows = session.exec(
        select(OfficerAccount, ChatState.updated_at)
        .join(ChatState, (col(ChatState.channel) == OfficerAccount.channel)
              & (col(ChatState.user_id) == OfficerAccount.external_id), isouter=True)
        .where(col(OfficerAccount.officer_id).in_(ids)))
    for account, used_at in rows:
        # An account used (a conversation state) beats one only linked; then the later one.
        rank = (1, used_at, account.id or 0) if used_at is not None else (0, account.linked_at, account.id or 0)
        if account.officer_id not in best or rank > best[account.officer_id][0]:
            best[account.officer_id] = (rank, account.address)
    return {officer_id: best[officer_id][1] for officer_id in ids if officer_id in best}


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
