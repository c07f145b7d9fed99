"""Personal invite codes: single-use, expiring, stored only as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.audit import record
from storage.models import Invite, Officer, OfficerAccount, StartAttempt, Unit, stored_id


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


class InviteState(StrEnum):
    """Where an officer stands with their invites."""

    linked = "linked"  # a chat account is linked
    waiting = "waiting"  # a code was issued, is unused and still valid
    expired = "expired"  # the last code expired unused
    none = "none"  # no code was ever issued


@dataclass(frozen=True)
class OfficerInvites:
    """An officer and the state of their invites, for the operator."""

    unit_code: str
    officer_code: str
    officer_name: str
    state: InviteState
    accounts: tuple[str, ...]  # linked channels
    expires_at: dt.datetime | None  # of the waiting code


def invite_states(*, session: Session, bloc_id: int, now: dt.datetime) -> list[OfficerInvites]:
    """Every active officer of a bloc with the state of their invites."""
    officers = list(session.exec(
        select(Officer, Unit.code).join(Unit, col(Unit.id) == Officer.unit_id)
        .where(Officer.bloc_id == bloc_id, col(Officer.active).is_(True))
        .order_by(col(Unit.code), col(Officer.code))))
    ids = [officer.id for officer, _ in officers]
    accounts: dict[int, list[str]] = {}
    for account in session.exec(select(OfficerAccount).where(col(OfficerAccount.officer_id).in_(ids))):
        accounts.setdefault(account.officer_id, []).append(account.channel)
    invites: dict[int, list[Invite]] = {}
    for invite in session.exec(select(Invite).where(col(Invite.officer_id).in_(ids)).order_by(col(Invite.id))):
        invites.setdefault(invite.officer_id, []).append(invite)
    states: list[OfficerInvites] = []
    for officer, unit_code in officers:
        officer_id = stored_id(officer)
        live = next((invite for invite in invites.get(officer_id, []) if _live(invite, now)), None)
        if officer_id in accounts:
            state = InviteState.linked
        elif live is not None:
            state = InviteState.waiting
        elif officer_id in invites:
            state = InviteState.expired
        else:
            state = InviteState.none
        states.append(OfficerInvites(unit_code=unit_code, officer_code=officer.code, officer_name=officer.name,
                                     state=state, accounts=tuple(sorted(accounts.get(officer_id, []))),
                                     expires_at=live.expires_at if live is not None else None))
    return states


def _live(invite: Invite, now: dt.datetime) -> bool:
    return (invite.used_at is None and invite.replaced_at is None and invite.revoked_at is None
            and invite.expires_at > now)


def issue_invites(
    *, session: Session, bloc_id: int, now: dt.datetime, ttl: dt.timedelta, actor: str,
    include_linked: bool = False, officer_code: str | None = None,
) -> list[IssuedInvite]:
    """A code for each active officer who needs one: not linked (unless `include_linked`) and
    holding no valid unused code. `officer_code` names one officer, whose valid code (if any)
    is replaced: it then answers that it was replaced, not that it expired."""
    query = (
        select(Officer, Unit.code)
        .join(Unit, col(Unit.id) == Officer.unit_id)
        .where(Officer.bloc_id == bloc_id, col(Officer.active).is_(True))
        .order_by(col(Unit.code), col(Officer.code))
    )
    if officer_code is not None:
        query = query.where(Officer.code == officer_code)
    issued: list[IssuedInvite] = []
    linked = set(session.exec(select(OfficerAccount.officer_id)
                              .join(Officer, col(Officer.id) == OfficerAccount.officer_id)
                              .where(Officer.bloc_id == bloc_id)))
    for officer, unit_code in session.exec(query):
        if officer.id in linked and not include_linked and officer_code is None:
            continue
        officer_id = stored_id(officer)
        live = [invite for invite in session.exec(select(Invite).where(Invite.officer_id == officer_id))
                if _live(invite, now)]
        if live and officer_code is None and not include_linked:
            continue  # the code handed out still works
        for old in live:
            old.replaced_at = now
            session.add(old)
        code = secrets.token_urlsafe(12)
        expires_at = now + ttl
        session.add(Invite(officer_id=officer_id, code_hash=hash_code(code), created_at=now,
                           expires_at=expires_at))
        record(session=session, actor=actor, bloc_id=bloc_id, unit_code=unit_code,
               action="invite.issue", target=officer.code, before={"replaced": len(live)} if live else None,
               after={"expires_at": expires_at})
        issued.append(IssuedInvite(officer_code=officer.code, officer_name=officer.name,
                                   unit_code=unit_code, code=code, expires_at=expires_at))
    session.flush()
    return issued


def link_account(*, session: Session, officer_id: int, channel: str, external_id: str, now: dt.datetime,
                 bot: str | None = None) -> None:
    """Link a chat account to an officer directly (what a redeemed invite does; operators' tools, tests).

    `bot`: the bot of the channel the account talks to (None: the bloc's, else the channel's first).
    """
    session.add(OfficerAccount(channel=channel, external_id=external_id, officer_id=officer_id, linked_at=now,
                               bot=bot))


class RedeemOutcome(StrEnum):
    """What happened to a code presented in `/start`."""

    linked = "linked"
    unknown = "unknown"
    expired = "expired"
    used = "used"
    replaced = "replaced"
    revoked = "revoked"  # shown in a group chat, so no longer secret
    account_taken = "account_taken"
    already_linked = "already_linked"


@dataclass(frozen=True)
class Redeemed:
    """The outcome and, when linked, the officer."""

    outcome: RedeemOutcome
    officer_id: int | None = None


def redeem_invite(*, session: Session, code: str, channel: str, external_id: str,
                  now: dt.datetime, bot: str | None = None) -> Redeemed:
    """Link a chat account to the officer of a code; single use, one account per officer and channel."""
    invite = session.exec(select(Invite).where(Invite.code_hash == hash_code(code))).first()
    if invite is None:
        return Redeemed(RedeemOutcome.unknown)
    if invite.used_at is not None:
        return Redeemed(RedeemOutcome.used)
    if invite.revoked_at is not None:
        return Redeemed(RedeemOutcome.revoked)
    if invite.replaced_at is not None:
        return Redeemed(RedeemOutcome.replaced)
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
                     now=now, bot=bot)
    record(session=session, actor=f"{channel}:{external_id}", bloc_id=officer.bloc_id,
           action="officer.link", target=officer.code, before=None,
           after={"channel": channel, "account": external_id})
    session.flush()
    return Redeemed(RedeemOutcome.linked, officer.id)


# What may be an invite code in a message: `secrets.token_urlsafe(12)` gives 16 characters;
# the `start=` of a deep link included. Looked up by hash, so guessing learns nothing.
_CODE_SHAPE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{12,64}(?![A-Za-z0-9_-])")
_MAX_CANDIDATES = 20  # a long message is not a list of codes to check


@dataclass(frozen=True)
class Revoked:
    """An invite code revoked because it was shown in a group: whose it was."""

    officer_id: int
    officer_code: str
    officer_name: str
    unit_name: str
    bloc_id: int


def revoke_shown_codes(*, session: Session, text: str, where: str, now: dt.datetime) -> list[Revoked]:
    """Revoke every unused invite code that appears in `text` (a message in a group chat); audited."""
    candidates = list(dict.fromkeys(_CODE_SHAPE.findall(text)))[:_MAX_CANDIDATES]
    if not candidates:
        return []
    hashes = [hash_code(candidate) for candidate in candidates]
    revoked: list[Revoked] = []
    rows = session.exec(select(Invite, Officer, Unit.name)
                        .join(Officer, col(Officer.id) == Invite.officer_id)
                        .join(Unit, col(Unit.id) == Officer.unit_id)
                        .where(col(Invite.code_hash).in_(hashes)))
    for invite, officer, unit in rows:
        if invite.used_at is not None or invite.revoked_at is not None:
            continue  # a used code links nobody else; a revoked one is already dead
        invite.revoked_at = now
        session.add(invite)
        record(session=session, actor=where, bloc_id=officer.bloc_id, action="invite.revoke",
               target=officer.code, before=None, after={"reason": "shown in a group chat"})
        revoked.append(Revoked(officer_id=stored_id(officer), officer_code=officer.code,
                               officer_name=officer.name, unit_name=unit, bloc_id=officer.bloc_id))
    session.flush()
    return revoked


FAILURES_BEFORE_PAUSE = 5
"""Wrong codes in a row from one account before its attempts pause."""
START_PAUSE = dt.timedelta(minutes=15)
"""How long an account's `/start` attempts pause after too many wrong codes."""


def start_paused_until(*, session: Session, channel: str, external_id: str, now: dt.datetime) -> dt.datetime | None:
    """When the account may try a code again, or None when it may now."""
    attempt = session.exec(select(StartAttempt).where(StartAttempt.channel == channel,
                                                      StartAttempt.external_id == external_id)).first()
    if attempt is None or attempt.paused_until is None or attempt.paused_until <= now:
        return None
    return attempt.paused_until


def count_failed_start(
    *, session: Session, channel: str, external_id: str, now: dt.datetime,
) -> tuple[int, dt.datetime | None]:
    """Count a wrong code from an account: (wrong codes in a row, the end of the pause it starts or None)."""
    attempt = session.exec(select(StartAttempt).where(StartAttempt.channel == channel,
                                                      StartAttempt.external_id == external_id)
                           .with_for_update()).first()
    if attempt is None:
        attempt = StartAttempt(channel=channel, external_id=external_id, last_failed_at=now)
    attempt.failures += 1
    attempt.last_failed_at = now
    paused_until = None
    if attempt.failures >= FAILURES_BEFORE_PAUSE:
        paused_until = attempt.paused_until = now + START_PAUSE
        failures, attempt.failures = attempt.failures, 0
    else:
        failures = attempt.failures
    session.add(attempt)
    session.flush()
    return failures, paused_until


def clear_failed_starts(*, session: Session, channel: str, external_id: str) -> None:
    """Forget an account's wrong codes once it linked."""
    attempt = session.exec(select(StartAttempt).where(StartAttempt.channel == channel,
                                                      StartAttempt.external_id == external_id)).first()
    if attempt is not None:
        session.delete(attempt)
