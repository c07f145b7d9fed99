"""Personal invite codes: single-use, expiring, stored only as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.audit import record
from storage.models import Invite, Officer, OfficerAccount, Unit, stored_id


def hash_code(code: str) -> str:
    """The stored form of an invite code."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvite:
    """A freshly issued code, shown once to the operator."""

    officer_code: str
    officer_name: str
    unit_code: str
    code: str
    expires_at: dt.datetime


def issue_invites(
    *, session: Session, bloc_id: int, now: dt.datetime, ttl: dt.timedelta, actor: str,
    include_linked: bool = False,
) -> list[IssuedInvite]:
    """One new code per active officer (not yet linked unless asked); older unused codes expire."""
    query = (
        select(Officer, Unit.code)
        .join(Unit, col(Unit.id) == Officer.unit_id)
        .where(Officer.bloc_id == bloc_id, col(Officer.active).is_(True))
        .order_by(col(Unit.code), col(Officer.code))
    )
    issued: list[IssuedInvite] = []
    linked = set(session.exec(select(OfficerAccount.officer_id)
                              .join(Officer, col(Officer.id) == OfficerAccount.officer_id)
                              .where(Officer.bloc_id == bloc_id)))
    for officer, unit_code in session.exec(query):
        if officer.id in linked and not include_linked:
            continue
        officer_id = stored_id(officer)
        for old in session.exec(
            select(Invite).where(Invite.officer_id == officer_id, col(Invite.used_at).is_(None))
        ):
            if old.expires_at > now:
                old.expires_at = now
                session.add(old)
        code = secrets.token_urlsafe(12)
        expires_at = now + ttl
        session.add(Invite(officer_id=officer_id, code_hash=hash_code(code), created_at=now,
                           expires_at=expires_at))
        record(session=session, actor=actor, bloc_id=bloc_id, unit_code=unit_code,
               action="invite.issue", target=officer.code, before=None,
               after={"expires_at": expires_at})
        issued.append(IssuedInvite(officer_code=officer.code, officer_name=officer.name,
                                   unit_code=unit_code, code=code, expires_at=expires_at))
    session.flush()
    return issued


def link_account(*, session: Session, officer_id: int, channel: str, external_id: str, now: dt.datetime) -> None:
    """Link a chat account to an officer directly (what a redeemed invite does; operators' tools, tests)."""
    session.add(OfficerAccount(channel=channel, external_id=external_id, officer_id=officer_id, linked_at=now))


class RedeemOutcome(StrEnum):
    """What happened to a code presented in `/start`."""

    linked = "linked"
    unknown = "unknown"
    expired = "expired"
    used = "used"
    account_taken = "account_taken"
    already_linked = "already_linked"


@dataclass(frozen=True)
class Redeemed:
    """The outcome and, when linked, the officer."""

    outcome: RedeemOutcome
    officer_id: int | None = None


def redeem_invite(*, session: Session, code: str, channel: str, external_id: str,
                  now: dt.datetime) -> Redeemed:
    """Link a chat account to the officer of a code; single use, one account per officer and channel."""
    invite = session.exec(select(Invite).where(Invite.code_hash == hash_code(code))).first()
    if invite is None:
        return Redeemed(RedeemOutcome.unknown)
    if invite.used_at is not None:
        return Redeemed(RedeemOutcome.used)
    if invite.expires_at <= now:
        return Redeemed(RedeemOutcome.expired)
    officer = session.get(Officer, invite.officer_id)
    if officer is None:  # the foreign key keeps an invite's officer
        raise LookupError(f"invite {invite.id} names no officer")
    accounts = list(session.exec(select(OfficerAccount).where(
        OfficerAccount.channel == channel,
        or_(col(OfficerAccount.external_id) == external_id, col(OfficerAccount.officer_id) == officer.id))))
    holder = next((account for account in accounts if account.external_id == external_id), None)
    if holder is not None and holder.officer_id != officer.id:
        return Redeemed(RedeemOutcome.account_taken, holder.officer_id)
    if any(account.officer_id == officer.id and account.external_id != external_id for account in accounts):
        return Redeemed(RedeemOutcome.already_linked, officer.id)
    invite.used_at = now
    session.add(invite)
    if holder is None:
        link_account(session=session, officer_id=stored_id(officer), channel=channel, external_id=external_id,
                     now=now)
    record(session=session, actor=f"{channel}:{external_id}", bloc_id=officer.bloc_id,
           action="officer.link", target=officer.code, before=None,
           after={"channel": channel, "account": external_id})
    session.flush()
    return Redeemed(RedeemOutcome.linked, officer.id)
