"""The web pages' personal links: issued to one officer, expiring, revocable, audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.audit import record
from storage.models import BoardLink, Officer, WebLink, stored_id


@dataclass(frozen=True)
class LiveLink:
    """A link that still works: its id, whose it is, until when."""

    id: int
    officer_id: int
    expires_at: dt.datetime


def issue_link(*, session: Session, officer_id: int, now: dt.datetime, ttl: dt.timedelta,
               sent_to: str | None, actor: str) -> LiveLink:
    """A new personal link for an officer (audited); the caller signs its id (bot/web/auth.py)."""
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise ValueError(f"no officer {officer_id}")
    link = WebLink(officer_id=officer_id, created_at=now, expires_at=now + ttl, sent_to=sent_to)
    session.add(link)
    session.flush()
    record(session=session, actor=actor, bloc_id=officer.bloc_id, action="web_link_issued",
           target=f"officer:{officer.code}", before=None,
           after={"link": stored_id(link), "expires_at": link.expires_at.isoformat(), "sent_to": sent_to})
    return LiveLink(id=stored_id(link), officer_id=officer_id, expires_at=link.expires_at)


def live_link(*, session: Session, link_id: int, now: dt.datetime) -> LiveLink | None:
    """The link if it exists, is not revoked and has not expired."""
    link = session.get(WebLink, link_id)
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        return None
    return LiveLink(id=link_id, officer_id=link.officer_id, expires_at=link.expires_at)


def revoke_links(*, session: Session, officer_id: int, now: dt.datetime, actor: str,
                 link_id: int | None = None) -> int:
    """Revoke one link of an officer, or all of them (audited); how many were revoked."""
    query = select(WebLink).where(WebLink.officer_id == officer_id, col(WebLink.revoked_at).is_(None))
    if link_id is not None:
        query = query.where(WebLink.id == link_id)
    links = list(session.exec(query))
    officer = session.get(Officer, officer_id)
    for link in links:
        link.revoked_at = now
        session.add(link)
    if links and officer is not None:
        record(session=session, actor=actor, bloc_id=officer.bloc_id, action="web_link_revoked",
               target=f"officer:{officer.code}", before=None, after={"links": [stored_id(x) for x in links]})
    return len(links)


def reusable_link(*, session: Session, officer_id: int, sent_to: str, now: dt.datetime,
                  at_least: dt.timedelta) -> LiveLink | None:
    """The newest live link already sent to this chat that still works `at_least` longer (sent again, not
    issued anew: one chat asking for the form twice holds one link, not two)."""
    link = session.exec(
        select(WebLink).where(WebLink.officer_id == officer_id, WebLink.sent_to == sent_to,
                              col(WebLink.revoked_at).is_(None), WebLink.expires_at > now + at_least)
        .order_by(col(WebLink.expires_at).desc())
    ).first()
    return LiveLink(id=stored_id(link), officer_id=officer_id, expires_at=link.expires_at) if link else None


# -- the provincial board's links --------------------------------------------------------


@dataclass(frozen=True)
class BoardMember:
    """A board link that still works: its id, the person's name, until when, the overview's language."""

    id: int
    name: str
    expires_at: dt.datetime
    language: str = "vi"


def issue_board_link(*, session: Session, name: str, now: dt.datetime, ttl: dt.timedelta,
                     actor: str, language: str = "vi") -> BoardMember:
    """A new personal link for a board member (audited); the caller signs its id (bot/web/auth.py)."""
    link = BoardLink(name=name, language=language, created_at=now, expires_at=now + ttl)
    session.add(link)
    session.flush()
    record(session=session, actor=actor, bloc_id=None, action="board_link_issued", target=f"board:{name}",
           before=None, after={"link": stored_id(link), "expires_at": link.expires_at.isoformat(),
                               "language": language})
    return BoardMember(id=stored_id(link), name=name, expires_at=link.expires_at, language=language)


def live_board_link(*, session: Session, link_id: int, now: dt.datetime) -> BoardMember | None:
    """The board link if it exists, is not revoked and has not expired."""
    link = session.get(BoardLink, link_id)
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        return None
    return BoardMember(id=link_id, name=link.name, expires_at=link.expires_at, language=link.language)


def revoke_board_links(*, session: Session, now: dt.datetime, actor: str, name: str | None = None,
                       link_id: int | None = None) -> int:
    """Revoke a board member's links (by name), or one link (by id), audited; how many were revoked."""
    query = select(BoardLink).where(col(BoardLink.revoked_at).is_(None))
    if name is not None:
        query = query.where(BoardLink.name == name)
    if link_id is not None:
        query = query.where(BoardLink.id == link_id)
    if name is None and link_id is None:
        return 0
    links = list(session.exec(query))
    for link in links:
        link.revoked_at = now
        session.add(link)
        record(session=session, actor=actor, bloc_id=None, action="board_link_revoked",
               target=f"board:{link.name}", before=None, after={"link": stored_id(link)})
    return len(links)
