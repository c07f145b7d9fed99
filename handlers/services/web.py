"""The web form offered in the chat: the page an option opens, and the personal link behind it.

On a channel with Telegram's Mini Apps the option opens the form, whose
`initData` proves who opens it; elsewhere (Zalo, a browser) the turn issues a
personal link to that officer alone (storage/web.py, audited, expiring,
revocable) and the channel signs its id into the address it shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from handlers.chat import WebPage
from storage.chat import OfficerView
from storage.web import issue_link, reusable_link

FORM_PATH = "/web/report"


@dataclass(frozen=True)
class FormPage:
    """The page an option opens, and until when its personal link works (None: the Mini App)."""

    page: WebPage
    link_expires: dt.datetime | None


def form_page(*, session: Session, officer: OfficerView, mini_app: bool, chat_address: str, now: dt.datetime,
              ttl: dt.timedelta) -> FormPage:
    """The form for this officer: the Mini App, or a personal link sent to `chat_address` alone.

    A link sent to the same chat before that still works more than half its time is sent again.
    """
    if mini_app:
        return FormPage(WebPage(FORM_PATH), None)
    link = reusable_link(session=session, officer_id=officer.id, sent_to=chat_address, now=now, at_least=ttl / 2) \
        or issue_link(session=session, officer_id=officer.id, now=now, ttl=ttl, sent_to=chat_address,
                      actor=f"officer:{officer.code}")
    return FormPage(WebPage(FORM_PATH, link=link.id, expires=int(link.expires_at.timestamp())), link.expires_at)
