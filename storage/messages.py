"""The inbox and the outbox: what came in before it was acknowledged, what must go out.

Every function works in the caller's transaction. The turn that handles an
update claims its inbox row and writes the replies it decided in the same
transaction; a sender leases the head of a chat's outbox queue, sends, and
records the answer. Written for SQLite and PostgreSQL alike: a claim is an
`UPDATE … WHERE` that only one transaction can win.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, false, func, literal_column, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.models import InboxMessage, OfferedOptions, OutboxMessage, SendBudget
from storage.types import UTCDateTime

_INBOX: Table = InboxMessage.__table__  # type: ignore[attr-defined]
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_BUDGET: Table = SendBudget.__table__  # type: ignore[attr-defined]
PENDING, DELIVERED, BLOCKED, REFUSED, SUPERSEDED = "pending", "delivered", "blocked", "refused", "superseded"


def _insert(session: Session) -> Any:
    return postgresql_insert if session.connection().dialect.name == "postgresql" else sqlite_insert


# -- inbox ------------------------------------------------------------------


# How long after an update arrived the platform may deliver it again: Telegram keeps an
# update it could not deliver for 24 hours; Zalo retries a webhook for minutes. A key
# older than this is not a redelivery but a new update with a reused id (Telegram may
# start its ids afresh after a week without updates, before the keys are pruned).
REDELIVERED_WITHIN = dt.timedelta(days=2)


# An update kept unless its key is taken (one statement each dialect, built once: built for every
# update it cost more of the process's time than sending it to the database).
_KEEP = {
    name: dialect_insert(_INBOX)
    .values(channel=bindparam("at_channel"), bot=bindparam("at_bot"), update_id=bindparam("key"),
            chat_key=bindparam("of_chat"), payload=bindparam("body"),
            received_at=bindparam("at", type_=UTCDateTime()))
    .on_conflict_do_nothing(index_elements=["channel", "bot", "update_id"])
    .returning(_INBOX.c.id)
    for name, dialect_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def store_incoming(*, session: Session, channel: str, bot: str, update_id: str, chat_key: str, payload: str,
                   now: dt.datetime) -> int | None:
    """Keep an update; its new row id, or None when this delivery was kept already."""
    connection = session.connection()
    statement = _KEEP[connection.dialect.name]
    values = {"at_channel": channel, "at_bot": bot, "key": update_id, "of_chat": chat_key, "body": payload,
              "at": now}
    found = connection.execute(statement, values).first()
    if found is not None:
        return int(found[0])
    # The key is taken: a redelivery, unless the key is older than any redelivery can be.
    stale = connection.execute(
        delete(_INBOX).where(col(InboxMessage.channel) == channel, col(InboxMessage.bot) == bot,
                             col(InboxMessage.update_id) == update_id,
                             col(InboxMessage.received_at) < now - REDELIVERED_WITHIN))
    if not stale.rowcount:
        return None
    # Inserted anew (not updated in place), so that its row id orders it after the chat's earlier updates.
    found = connection.execute(statement, values).first()
    return int(found[0]) if found is not None else None


def next_incoming(*, session: Session, chat_key: str) -> tuple[int, str, bool] | None:
    """The oldest update of a chat not yet processed: its row id, its payload, and whether another waits.

    Knowing that nothing else waits spares the caller a transaction that would find nothing.
    """
    rows = session.exec(
        select(InboxMessage.id, InboxMessage.payload)
        .where(InboxMessage.chat_key == chat_key, col(InboxMessage.processed_at).is_(None))
        .order_by(col(InboxMessage.id)).limit(2)
    ).all()
    if not rows or rows[0][0] is None:
        return None
    return int(rows[0][0]), rows[0][1], len(rows) > 1


# A chat's oldest waiting update claimed in one statement, with whether another waits behind it
# (it was a read, then the claim: one round trip per turn more).
_CLAIM_NEXT = (
    update(_INBOX)
    .where(_INBOX.c.id == select(_INBOX.c.id)
           .where(_INBOX.c.chat_key == bindparam("head_of"), _INBOX.c.processed_at.is_(None))
           .order_by(_INBOX.c.id).limit(1).scalar_subquery(),
           _INBOX.c.processed_at.is_(None))
    .values(processed_at=bindparam("now", type_=UTCDateTime()), outcome="done")
    # Spelled out: SQLAlchemy names RETURNING's columns unqualified on SQLite, where the subquery's
    # `chat_key = chat_key` would then compare the inner table with itself.
    .returning(_INBOX.c.id, _INBOX.c.payload, literal_column(
        "EXISTS (SELECT 1 FROM inbox AS waiting WHERE waiting.chat_key = inbox.chat_key"
        " AND waiting.processed_at IS NULL AND waiting.id > inbox.id)"))
)


def claim_next_incoming(*, session: Session, chat_key: str, now: dt.datetime) -> tuple[int, str, bool] | None:
    """Claim a chat's oldest waiting update in this transaction: its row id, its payload, and whether
    another waits behind it; None when none was claimed (none waits, or another transaction claimed
    it first: `next_incoming` tells which)."""
    found = session.connection().execute(_CLAIM_NEXT, {"head_of": chat_key, "now": now}).first()
    if found is None:
        return None
    return int(found[0]), found[1], bool(found[2])


def claim_incoming(*, session: Session, inbox_id: int, now: dt.datetime, outcome: str = "done") -> bool:
    """Mark an update processed in this transaction; False when another transaction did.

    The first write of a turn: on PostgreSQL it takes the row's lock, so a second
    replica handling the same chat waits here, then finds it processed.
    """
    result = session.connection().execute(
        update(_INBOX)
        .where(col(InboxMessage.id) == inbox_id, col(InboxMessage.processed_at).is_(None))
        .values(processed_at=now, outcome=outcome)
    )
    return bool(result.rowcount)


def waiting_chats(*, session: Session, received_before: dt.datetime, limit: int = 500) -> list[str]:
    """Chats with an update kept but not processed (its process stopped, or it is new)."""
    return list(session.exec(
        select(InboxMessage.chat_key)
        .where(col(InboxMessage.processed_at).is_(None), col(InboxMessage.received_at) <= received_before)
        .group_by(col(InboxMessage.chat_key)).order_by(func.min(InboxMessage.id)).limit(limit)
    ))


# -- outbox -----------------------------------------------------------------


@dataclass(frozen=True)
class OwedRow:
    """A leased outbox row: what to send, where, and how many times it was tried."""

    id: int
    channel: str
    bot: str
    chat_key: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int
    created_at: dt.datetime
    edit_key: str | None
    more: bool = True  # whether another message of the chat was pending behind it when it was leased


def add_outgoing(*, session: Session, channel: str, bot: str, chat_id: str, chat_key: str,
                 payload: dict[str, Any], now: dt.datetime) -> None:
    """Owe a message: written in the transaction that decided it."""
    session.add(OutboxMessage(channel=channel, bot=bot, chat_id=chat_id, chat_key=chat_key,
                              payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                              edit_key=payload.get("reply", {}).get("edit_key"),
                              next_attempt_at=now, created_at=now))


def last_outgoing_id(*, session: Session, chat_key: str) -> int:
    """The id of the message a chat was owed last (flushed first, in the caller's transaction)."""
    session.flush()
    found = session.exec(select(func.max(OutboxMessage.id)).where(OutboxMessage.chat_key == chat_key)).one()
    if found is None:
        raise LookupError(f"nothing owed to {chat_key}")
    return int(found)


def outgoing_state(*, session: Session, outbox_id: int) -> str | None:
    """Where an owed message stands (pending, delivered, blocked, refused, superseded); None once forgotten."""
    row = session.get(OutboxMessage, outbox_id)
    return row.state if row is not None else None


# The head of a chat's queue, leased in one statement if it is due and no live lease holds it.
_LEASE_HEAD = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == select(_OUTBOX.c.id)
           .where(_OUTBOX.c.chat_key == bindparam("head_of"), _OUTBOX.c.state == PENDING)
           .order_by(_OUTBOX.c.id).limit(1).scalar_subquery(),
           _OUTBOX.c.state == PENDING, _OUTBOX.c.next_attempt_at <= bindparam("now", type_=UTCDateTime()),
           or_(_OUTBOX.c.leased_until.is_(None),
               _OUTBOX.c.leased_until <= bindparam("now", type_=UTCDateTime())))
    .values(leased_until=bindparam("until", type_=UTCDateTime()))
    .returning(_OUTBOX.c.id, _OUTBOX.c.channel, _OUTBOX.c.bot, _OUTBOX.c.chat_key, _OUTBOX.c.chat_id,
               _OUTBOX.c.payload, _OUTBOX.c.attempts, _OUTBOX.c.created_at, _OUTBOX.c.edit_key,
               # Spelled out, as in _CLAIM_NEXT (SQLite's RETURNING columns are named unqualified).
               literal_column("EXISTS (SELECT 1 FROM outbox AS behind WHERE behind.chat_key = outbox.chat_key"
                              " AND behind.state = 'pending' AND behind.id > outbox.id)").label("more"))
)


def lease_head(*, session: Session, chat_key: str, now: dt.datetime, lease: dt.timedelta) -> OwedRow | None:
    """Lease the first message a chat is owed, if it is due and no live lease holds it.

    Only the head of a chat's queue is ever leased, so the messages of one chat
    go out one at a time, in order, whichever process sends them. One statement
    (it was a read, then the update: one round trip per message more). `OwedRow.more`
    says whether another message of the chat was pending behind it then.
    """
    head = session.connection().execute(_LEASE_HEAD, {"head_of": chat_key, "now": now, "until": now + lease}).first()
    if head is None:
        return None
    return OwedRow(id=head.id, channel=head.channel, bot=head.bot, chat_key=head.chat_key, chat_id=head.chat_id,
                   payload=json.loads(head.payload), attempts=head.attempts, created_at=head.created_at,
                   edit_key=head.edit_key, more=bool(head.more))


def release_leases(*, session: Session, channel: str, bot: str, taken_before: dt.datetime,
                   lease: dt.timedelta) -> int:
    """Free the leases on a bot's messages taken before `taken_before`; how many were freed.

    For a process that sends for the bot alone, at its start: such leases were
    left by a process that stopped in the middle of a send.
    """
    result = session.connection().execute(
        update(_OUTBOX)
        .where(col(OutboxMessage.channel) == channel, col(OutboxMessage.bot) == bot,
               col(OutboxMessage.state) == PENDING, col(OutboxMessage.leased_until).is_not(None),
               col(OutboxMessage.leased_until) <= taken_before + lease)
        .values(leased_until=None))
    return int(result.rowcount)


def is_superseded(*, session: Session, owed: OwedRow) -> bool:
    """An edit of a kept message with a newer edit of the same message owed or sent."""
    if owed.edit_key is None:
        return False
    newer = session.exec(
        select(OutboxMessage.id).where(OutboxMessage.edit_key == owed.edit_key, col(OutboxMessage.id) > owed.id)
        .limit(1)
    ).first()
    return newer is not None


_FINISH = (
    update(_OUTBOX).where(_OUTBOX.c.id == bindparam("outbox_id"))
    .values(state=bindparam("final"), finished_at=bindparam("at", type_=UTCDateTime()), leased_until=None,
            error=bindparam("failure"), attempts=_OUTBOX.c.attempts + 1)
)


def finish_outgoing(*, session: Session, outbox_id: int, state: str, now: dt.datetime,
                    error: str | None = None) -> None:
    """Record the end of a message: delivered, blocked, refused or superseded (a statement built once)."""
    session.connection().execute(_FINISH, {"outbox_id": outbox_id, "final": state, "at": now, "failure": error})


def retry_outgoing(*, session: Session, outbox_id: int, at: dt.datetime, error: str) -> None:
    """Try a message again at `at` (and the chat's later messages after it)."""
    session.connection().execute(
        update(_OUTBOX).where(col(OutboxMessage.id) == outbox_id)
        .values(next_attempt_at=at, leased_until=None, error=error, attempts=OutboxMessage.attempts + 1))


def save_payload(*, session: Session, outbox_id: int, payload: dict[str, Any]) -> None:
    """Keep a message's progress (the parts of it already sent) with it."""
    session.connection().execute(
        update(_OUTBOX).where(col(OutboxMessage.id) == outbox_id)
        .values(payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":"))))


def due_chats(*, session: Session, now: dt.datetime, limit: int = 500,
              bots: Sequence[tuple[str, str]] | None = None) -> list[str]:
    """Chats whose first owed message is due and not leased by a live sender (of these (channel, bot)s)."""
    pending = and_(col(OutboxMessage.state) == PENDING, col(OutboxMessage.next_attempt_at) <= now,
                   or_(col(OutboxMessage.leased_until).is_(None), col(OutboxMessage.leased_until) <= now))
    if bots is not None:
        pending = and_(pending, or_(false(), *(and_(col(OutboxMessage.channel) == name, col(OutboxMessage.bot) == bot)
                                              for name, bot in bots)))
    return list(session.exec(
        select(OutboxMessage.chat_key).where(pending)
        .group_by(col(OutboxMessage.chat_key)).order_by(func.min(OutboxMessage.id)).limit(limit)
    ))


def backlog(*, session: Session) -> tuple[int, dt.datetime | None]:
    """How many messages are owed, and since when the oldest is."""
    count, oldest = session.exec(
        select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.state == PENDING)
    ).one()
    if isinstance(oldest, str):  # SQLite's aggregate loses the column type
        oldest = dt.datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return int(count), oldest


def prune(*, session: Session, before: dt.datetime) -> tuple[int, int]:
    """Forget processed updates and finished messages older than `before`.

    An update's key must be kept longer than the platform may deliver it again,
    but not for ever: Telegram starts its update ids afresh after a week without
    updates, so the keys of `days` ago must not swallow new updates.
    """
    inbox = session.connection().execute(
        delete(_INBOX).where(
            col(InboxMessage.processed_at).is_not(None), col(InboxMessage.processed_at) < before))
    outbox = session.connection().execute(
        delete(_OUTBOX).where(
            col(OutboxMessage.state) != PENDING, col(OutboxMessage.finished_at) < before))
    session.connection().execute(
        delete(_BUDGET).where(
            col(SendBudget.window) < int(before.timestamp())))
    return int(inbox.rowcount), int(outbox.rowcount)


# -- one send budget for every process ----------------------------------------


def take_budget(*, session: Session, scope: str, window: int, limit: int) -> bool:
    """One message more in `scope`'s window, if fewer than `limit` went out in it.

    The count lives in the database, so the platform's limits (about 30 messages
    a second per bot, 20 a minute per group) hold for all processes together.
    """
    table = _BUDGET
    insert = _insert(session)(table).values(scope=scope, window=window, used=1)
    statement = insert.on_conflict_do_update(
        index_elements=["scope", "window"], set_={"used": table.c.used + 1},
        where=table.c.used < limit,
    ).returning(table.c.used)
    return session.connection().execute(statement).first() is not None


# -- numbered options, for a channel without buttons ---------------------------


def offer_options(*, session: Session, chat_key: str, options: list[str], now: dt.datetime,
                  by_command: bool = False) -> None:
    """Keep the button data a chat was last offered, in order (option 1 first).

    With `by_command` the step takes a typed number as its answer, and the options
    are picked by typing "/1", "/2"... instead (see `offered_option`).
    """
    row = session.get(OfferedOptions, chat_key)
    if row is None:
        row = OfferedOptions(chat_key=chat_key, options_json="[]", offered_at=now)
    kept: list[str] | dict[str, list[str]] = {"by_command": options} if by_command else options
    row.options_json, row.offered_at = json.dumps(kept, ensure_ascii=False), now
    session.add(row)


def offered_option(*, session: Session, chat_key: str, number: int, by_command: bool = False) -> str | None:
    """The button data of option `number` (from 1) last offered in a chat, if there is one: picked by
    the number typed alone, or with `by_command` by "/number" (where a number alone is an answer)."""
    row = session.get(OfferedOptions, chat_key)
    if row is None:
        return None
    kept = json.loads(row.options_json)
    if isinstance(kept, dict):
        options: list[str] = kept.get("by_command", []) if by_command else []
    else:
        options = [] if by_command else kept
    return options[number - 1] if 1 <= number <= len(options) else None


def outbox_payload(*, session: Session, outbox_id: int) -> dict[str, Any] | None:
    """An outbox row's payload (for a file link to a file it carried), while the row is kept."""
    row = session.get(OutboxMessage, outbox_id)
    return json.loads(row.payload) if row is not None else None
