"""Outbound messages per bot per month: counted in the database, so every process adds to one figure."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.models import OutboundUsage, YearRoles
from storage.roles import linked_officer_chats

Notice = Literal["near", "exceeded"]


def month_of(moment: dt.datetime) -> str:
    """The calendar month (UTC) a message counts in: "2019-01"."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m")


def count_outbound(*, session: Session, channel: str, bot: str, now: dt.datetime, messages: int = 1) -> int:
    """Add `messages` to the bot's count for this month; the new count (one statement, safe across processes)."""
    bind = session.get_bind()
    make = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    statement = make(OutboundUsage).values(channel=channel, bot=bot, month=month_of(now), messages=messages)
    upsert = statement.on_conflict_do_update(
        index_elements=["channel", "bot", "month"],
        set_={"messages": OutboundUsage.__table__.c.messages + messages},  # type: ignore[attr-defined]
    ).returning(OutboundUsage.__table__.c.messages)  # type: ignore[attr-defined]
    return int(session.execute(upsert).scalar_one())


def tell_once(*, session: Session, channel: str, bot: str, now: dt.datetime, notice: Notice) -> bool:
    """Record that the leader is told `notice` this month; True only the first time (across processes)."""
    name = "near_told_at" if notice == "near" else "exceeded_told_at"
    count_outbound(session=session, channel=channel, bot=bot, now=now, messages=0)
    changed = session.execute(update(OutboundUsage).where(
        col(OutboundUsage.channel) == channel, col(OutboundUsage.bot) == bot,
        col(OutboundUsage.month) == month_of(now),
        OutboundUsage.__table__.c[name].is_(None)).values({name: now}))  # type: ignore[attr-defined]
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def usage_rows(*, session: Session) -> list[OutboundUsage]:
    """Every bot's count, month by month."""
    return list(session.exec(select(OutboundUsage).order_by(
        col(OutboundUsage.channel), col(OutboundUsage.bot), col(OutboundUsage.month))))


def leader_chats(*, session: Session, channel: str | None = None) -> list[tuple[str, str]]:
    """(address, language) of the linked officers of each bloc's latest leader unit (on `channel` if given)."""
    found: list[tuple[str, str]] = []
    blocs = {roles.bloc_id for roles in session.exec(select(YearRoles))}
    for bloc_id in sorted(blocs):
        latest = session.exec(select(YearRoles).where(YearRoles.bloc_id == bloc_id)
                              .order_by(col(YearRoles.year).desc())).first()
        if latest is None:
            continue
        for address, language in linked_officer_chats(session=session, unit_id=latest.leader_unit_id):
            if channel is None or address.startswith(f"{channel}:"):
                found.append((address, language))
    return found
