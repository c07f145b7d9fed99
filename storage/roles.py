"""Who leads the bloc in a year: the leader and deputy units, and what that allows."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from storage.models import Bloc, BlocGroup, ChatState, Officer, OfficerAccount, Unit, YearRoles


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


def leader_unit_of(*, session: Session, bloc_id: int, year: int) -> int | None:
    """The leader unit of a year, or of the latest year before it with roles recorded."""
    roles = session.exec(select(YearRoles).where(YearRoles.bloc_id == bloc_id, col(YearRoles.year) <= year)
                         .order_by(col(YearRoles.year).desc()).limit(1)).first()
    return roles.leader_unit_id if roles is not None else None


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
    """Where each officer is reached (officers without an account left out): their account on the channel
    they chose (`/channel`, `officer.preferred_channel`) if they have one there, else the account they
    used last (its conversation state changed last), else the one they linked last."""
    ids = [officer_id for officer_id in officer_ids if officer_id is not None]
    if not ids:
        return {}
    best: dict[int, tuple[tuple[int, dt.datetime, int], str]] = {}
    chosen: dict[int, str] = {}  # the account on the chosen channel, per officer
    rows = session.exec(
        select(OfficerAccount, ChatState.updated_at, Officer.preferred_channel)
        .join(Officer, col(Officer.id) == OfficerAccount.officer_id)
        .join(ChatState, (col(ChatState.channel) == OfficerAccount.channel)
              & (col(ChatState.user_id) == OfficerAccount.external_id), isouter=True)
        .where(col(OfficerAccount.officer_id).in_(ids)))
    for account, used_at, preferred in rows:
        if preferred is not None and account.channel == preferred:
            chosen[account.officer_id] = account.address
        # An account used (a conversation state) beats one only linked; then the later one.
        rank = (1, used_at, account.id or 0) if used_at is not None else (0, account.linked_at, account.id or 0)
        if account.officer_id not in best or rank > best[account.officer_id][0]:
            best[account.officer_id] = (rank, account.address)
    return {officer_id: chosen.get(officer_id) or best[officer_id][1] for officer_id in ids if officer_id in best}


def officer_channels(*, session: Session, officer_id: int) -> tuple[list[str], str | None]:
    """The channels an officer has an account on (by name) and the one they chose (None: used last)."""
    channels = list(session.exec(select(OfficerAccount.channel).where(OfficerAccount.officer_id == officer_id)
                                 .order_by(col(OfficerAccount.channel))))
    officer = session.get(Officer, officer_id)
    return channels, officer.preferred_channel if officer is not None else None


def set_preferred_channel(*, session: Session, officer_id: int, channel: str | None) -> None:
    """Where the bot writes to an officer first: `channel` (one they have an account on), or None: used last."""
    officer = session.get(Officer, officer_id)
    if officer is not None:
        officer.preferred_channel = channel
        session.add(officer)


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


def stale_menus(*, session: Session, channel: str, year: int, external_id: str | None = None,
                ) -> list[tuple[str, str]]:
    """(platform id, menu) of the accounts on `channel` whose command menu is not the one their unit's role
    (in the latest year up to `year` with roles recorded) and their language call for (`leading:vi`,
    `member:en`); each is marked as owed it.

    One query for the accounts and one for the roles, whatever the number of accounts:
    it runs at every start and once an hour.
    """
    query = (select(OfficerAccount, Officer.unit_id, Officer.bloc_id, Officer.language)
             .join(Officer, col(Officer.id) == OfficerAccount.officer_id)
             .where(OfficerAccount.channel == channel, col(Officer.active).is_(True)))
    if external_id is not None:
        query = query.where(OfficerAccount.external_id == external_id)
    rows = list(session.exec(query))
    if not rows:
        return []
    leading: dict[int, set[int]] = {}  # per bloc, the roles of the latest year up to `year`
    for roles in session.exec(select(YearRoles).where(col(YearRoles.year) <= year).order_by(col(YearRoles.year))):
        leading[roles.bloc_id] = {roles.leader_unit_id, roles.deputy_unit_id}
    owed: list[tuple[str, str]] = []
    for account, unit_id, bloc_id, language in rows:
        wanted = f"{'leading' if unit_id in leading.get(bloc_id, set()) else 'member'}:{language}"
        if account.menu != wanted:
            account.menu = wanted
            session.add(account)
            owed.append((account.external_id, wanted))
    return owed


def serving_bot(*, session: Session, channel: str, chat_id: str) -> str | None:
    """The bot of `channel` that reaches a chat: the one an officer's account or a bloc's group talks
    through, else the one the bloc's file names for that channel (None: no such chat, or neither known)."""
    from storage.blocs import bloc_config_of

    found = session.exec(
        select(OfficerAccount.bot, Officer.bloc_id).join(Officer, col(Officer.id) == OfficerAccount.officer_id)
        .where(OfficerAccount.channel == channel, OfficerAccount.external_id == chat_id)
    ).first()
    if found is None:
        found = session.exec(select(BlocGroup.bot, BlocGroup.bloc_id)
                             .where(BlocGroup.channel == channel, BlocGroup.chat_id == chat_id)).first()
    if found is None:
        return None
    bot, bloc_id = found
    if bot:
        return bot
    bloc = session.get(Bloc, bloc_id)
    if bloc is None:
        return None
    named: str | None = dict(bloc_config_of(session=session, bloc=bloc).bloc.bots).get(channel)  # type: ignore[call-overload]
    return named


def remember_group_bot(*, session: Session, channel: str, chat_id: str, bot: str) -> None:
    """A bloc's group on `channel` talks through `bot` (the bot a message of the group came to)."""
    session.connection().execute(
        update(BlocGroup).where(col(BlocGroup.channel) == channel, col(BlocGroup.chat_id) == chat_id,
                                or_(col(BlocGroup.bot).is_(None), col(BlocGroup.bot) != bot))
        .values(bot=bot))
