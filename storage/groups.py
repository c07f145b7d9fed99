"""Where a bloc's group posts go: its group, and in private to the officers the group does not reach.

A group post (the published ranking and its chart, a ballot's turnout and result, the
roles announced) is addressed to the bloc's group, the one bound last, on one channel.
Officers are reached on the channel the bot writes to them on (storage.roles.officer_addresses):
those on another channel than the group's read nothing there, so they get the post in
private, as does every officer when the group cannot be used: the Zalo bot cannot join
groups at all (`getMe` said `can_join_groups: false`, kept per bot in `bot_profile`), or
the platform refused a post to the group (`bloc_group.refused_at`). With no group bound,
the bloc's posts go in private as long as some officer is on Zalo (`bloc:<id>`); a bloc
without a group and without officers on Zalo must bind one first, as on Telegram before.

The leader unit is told once per bloc and reason (`group_notice`) when officers on Zalo get
the posts in private: the bot cannot join, the group refused, or the group is not on Zalo.
Officers on Telegram beside a Zalo group get them in private without a notice: nothing
failed and there is nothing for the operator to do (the bloc chose its group on Zalo).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.models import Bloc, BlocGroup, BotProfile, GroupNotice, Officer, OfficerAccount, Unit
from storage.roles import leader_unit_of, linked_officer_chats, officer_addresses

ZALO: Final = "zalo"
BLOC_PREFIX = "bloc:"  # `bloc:<id>`: the bloc's group posts when no group is bound (only Zalo officers get them)
Reason = Literal["cannot_join", "refused", "no_group"]


@dataclass(frozen=True)
class GroupPlan:
    """Where one group post goes: the group (None when it cannot be used) and the officers in private."""

    bloc_id: int
    bloc_name: str
    group: str | None
    private: tuple[str, ...]  # the officers' addresses on a channel without a usable group, each once
    reason: Reason | None  # why the officers on Zalo get it in private (None: they do not)


def record_bot_profile(*, session: Session, channel: str, bot: str, can_join_groups: bool,
                       now: dt.datetime) -> None:
    """Keep what the platform said of a bot at its start (its `getMe`)."""
    row = session.get(BotProfile, (channel, bot))
    if row is None:
        row = BotProfile(channel=channel, bot=bot)
    row.can_join_groups, row.checked_at = can_join_groups, now
    session.add(row)
    session.flush()


def _bloc_zalo_bots(session: Session, bloc_id: int, group: BlocGroup | None) -> set[str]:
    """The Zalo bots that serve a bloc: its group's, its officers' accounts', the one its file names."""
    from storage.blocs import bloc_config_of

    bots = {bot for bot in session.exec(
        select(OfficerAccount.bot).join(Officer, col(Officer.id) == OfficerAccount.officer_id)
        .where(Officer.bloc_id == bloc_id, OfficerAccount.channel == ZALO)) if bot}
    if group is not None and group.channel == ZALO and group.bot:
        bots.add(group.bot)
    bloc = session.get(Bloc, bloc_id)
    if bloc is not None:
        named = dict(bloc_config_of(session=session, bloc=bloc).bloc.bots).get(ZALO)
        if isinstance(named, str):
            bots.add(named)
    return bots


def _cannot_join(session: Session, bloc_id: int, group: BlocGroup | None) -> bool:
    """Whether the bloc's Zalo bot said it cannot join groups (any of its bots; all Zalo bots when none is known)."""
    bots = _bloc_zalo_bots(session, bloc_id, group)
    query = select(BotProfile.bot).where(BotProfile.channel == ZALO, col(BotProfile.can_join_groups).is_(False))
    if bots:
        query = query.where(col(BotProfile.bot).in_(sorted(bots)))
    return session.exec(query.limit(1)).first() is not None


def reached_officers(*, session: Session, bloc_id: int, now: dt.datetime) -> tuple[str, ...]:
    """The addresses of the active officers of a bloc's current units (where the bot writes to each), once each."""
    today = now.date()
    officer_ids = list(session.exec(
        select(Officer.id).join(Unit, col(Unit.id) == Officer.unit_id)
        .where(Officer.bloc_id == bloc_id, col(Officer.active).is_(True),
               or_(col(Unit.valid_to).is_(None), col(Unit.valid_to) >= today))
        .order_by(col(Unit.id), col(Officer.id))))
    reached = officer_addresses(session=session, officer_ids=list(officer_ids))
    return tuple(dict.fromkeys(reached[officer_id] for officer_id in officer_ids
                               if officer_id is not None and officer_id in reached))


def zalo_officers(*, session: Session, bloc_id: int, now: dt.datetime) -> tuple[str, ...]:
    """The addresses of the active officers of a bloc's current units who are reached on Zalo."""
    return tuple(found for found in reached_officers(session=session, bloc_id=bloc_id, now=now)
                 if found.startswith(f"{ZALO}:"))


def _group_at(session: Session, address: str) -> tuple[int, BlocGroup | None] | None:
    """The bloc a group post's address names, and its group row (None: not a bloc's group)."""
    if address.startswith(BLOC_PREFIX):
        number = address[len(BLOC_PREFIX):]
        if not number.isdigit():
            return None
        bloc_id = int(number)
        latest = session.exec(select(BlocGroup).where(BlocGroup.bloc_id == bloc_id)
                              .order_by(col(BlocGroup.bound_at).desc()).limit(1)).first()
        return bloc_id, latest
    channel, _, chat_id = address.partition(":")
    row = session.exec(select(BlocGroup).where(BlocGroup.channel == channel, BlocGroup.chat_id == chat_id)
                       .order_by(col(BlocGroup.bloc_id)).limit(1)).first()
    return (row.bloc_id, row) if row is not None else None


def group_plan(*, session: Session, address: str, now: dt.datetime) -> GroupPlan | None:
    """Where a post to a bloc's group (`address`: the group's, or `bloc:<id>`) goes; None: not a bloc's group."""
    found = _group_at(session, address)
    if found is None:
        return None
    bloc_id, group = found
    bloc = session.get(Bloc, bloc_id)
    cannot = _cannot_join(session, bloc_id, group)
    on_zalo = group is not None and group.channel == ZALO
    usable = group is not None and group.refused_at is None and not (on_zalo and cannot)
    # Everyone on another channel than a usable group's gets the post in private (everyone when none is usable).
    read_there = group.channel if usable and group is not None else None
    private = tuple(found for found in reached_officers(session=session, bloc_id=bloc_id, now=now)
                    if found.partition(":")[0] != read_there)
    reason: Reason | None = None
    if any(found.startswith(f"{ZALO}:") for found in private):
        refused = on_zalo and group is not None and group.refused_at is not None
        reason = "refused" if refused and not cannot else "cannot_join" if cannot else "no_group"
    return GroupPlan(bloc_id=bloc_id, bloc_name=bloc.name if bloc is not None else "",
                     group=group.address if usable and group is not None else None, private=private, reason=reason)


def group_post_address(*, session: Session, bloc_id: int, group_chat_id: str | None, now: dt.datetime) -> str | None:
    """Where a bloc's group posts are addressed: its group, else `bloc:<id>` when officers are on Zalo
    (they get them in private), else None (nowhere: the caller says so or tells the leader unit)."""
    if group_chat_id is not None:
        return group_chat_id
    return f"{BLOC_PREFIX}{bloc_id}" if zalo_officers(session=session, bloc_id=bloc_id, now=now) else None


def is_bloc_group(*, session: Session, channel: str, chat_id: str) -> bool:
    """Whether a chat is some bloc's group."""
    return session.exec(select(BlocGroup.bloc_id).where(BlocGroup.channel == channel, BlocGroup.chat_id == chat_id)
                        .limit(1)).first() is not None


def mark_group_refused(*, session: Session, channel: str, chat_id: str, now: dt.datetime) -> None:
    """The platform refused a post to a bloc's group for good: its posts go in private from now on."""
    session.connection().execute(
        update(BlocGroup).where(col(BlocGroup.channel) == channel, col(BlocGroup.chat_id) == chat_id,
                                col(BlocGroup.refused_at).is_(None)).values(refused_at=now))


def forget_refusal(*, session: Session, bloc_id: int, channel: str) -> None:
    """A group bound again on a channel: tried again, and a new refusal is told again."""
    session.connection().execute(
        update(BlocGroup).where(col(BlocGroup.bloc_id) == bloc_id, col(BlocGroup.channel) == channel)
        .values(refused_at=None))
    session.connection().execute(
        delete(GroupNotice).where(col(GroupNotice.bloc_id) == bloc_id, col(GroupNotice.reason) == "refused"))


def tell_once(*, session: Session, bloc_id: int, reason: Reason, now: dt.datetime) -> bool:
    """Record that the leader unit is told why a bloc's group posts go in private; True only the first time."""
    bind = session.get_bind()
    make = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    statement = make(GroupNotice).values(bloc_id=bloc_id, reason=reason, told_at=now).on_conflict_do_nothing(
        index_elements=["bloc_id", "reason"]).returning(GroupNotice.__table__.c.bloc_id)  # type: ignore[attr-defined]
    return session.execute(statement).first() is not None


def leader_officers(*, session: Session, bloc_id: int, now: dt.datetime) -> list[tuple[str, str]]:
    """(address, language) of the linked officers of the bloc's leader unit (the latest roles up to this year)."""
    leader = leader_unit_of(session=session, bloc_id=bloc_id, year=now.year)
    return linked_officer_chats(session=session, unit_id=leader) if leader is not None else []
