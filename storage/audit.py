"""The audit trail: who changed what, when, from what to what."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.models import AuditLog, Bloc, utcnow

# A Core insert on the table, run at once: no ORM object to track and flush for a
# row nothing reads back in the same unit of work (one goes with every saved value).
_INSERT = insert(AuditLog.__table__)  # type: ignore[attr-defined]


def _default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot audit a {type(value).__name__}")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_default)


def record(
    *,
    session: Session,
    actor: str,
    bloc_id: int | None,
    action: str,
    target: str,
    before: Any,
    after: Any,
    unit_code: str | None = None,
) -> None:
    """Add one audit row in the caller's transaction."""
    session.execute(
        _INSERT,
        {"at": utcnow(), "actor": actor[:64], "bloc_id": bloc_id, "unit_code": unit_code,
         "action": action, "target": target[:128], "before": _text(before), "after": _text(after)},
    )


@dataclass(frozen=True)
class AuditEntry:
    """One audit row, detached from the session."""

    at: dt.datetime
    actor: str
    bloc_code: str | None
    unit_code: str | None
    action: str
    target: str
    before: str | None
    after: str | None


def list_audit(
    *, session: Session, bloc_id: int | None = None, unit_code: str | None = None, limit: int = 1000
) -> list[AuditEntry]:
    """Audit rows, oldest first, optionally for one bloc or unit."""
    query = select(AuditLog, Bloc.code).join(Bloc, col(AuditLog.bloc_id) == Bloc.id, isouter=True)
    if bloc_id is not None:
        query = query.where(AuditLog.bloc_id == bloc_id)
    if unit_code is not None:
        query = query.where(AuditLog.unit_code == unit_code)
    query = query.order_by(col(AuditLog.at), col(AuditLog.id)).limit(limit)
    return [
        AuditEntry(at=row.at, actor=row.actor, bloc_code=code, unit_code=row.unit_code,
                   action=row.action, target=row.target, before=row.before, after=row.after)
        for row, code in session.exec(query)
    ]
