"""The web pages' routes on the process's one HTTP server (bot/http_server.py).

- `GET  /web/report[?period=N]`: the form's page. With a session cookie it is
  rendered whole; in Telegram's Mini App the page's script fetches its body
  (`/web/report/main`) sending `initData` in a header (Telegram gives it to the
  page's script, never to the server in the address).
- `POST /web/report/value`, `/web/report/evidence`, `/web/report/submit`: one
  field saved, evidence attached, the report submitted; each through the same
  service the chat calls (handlers/services/reporting.py), in a unit of work of
  its own, audited the same way.
- `GET  /web/evidence/<id>`: a file uploaded on the page, for whoever may see its unit.
- `GET  /web/review[?period=N]`, `/web/review/main`, `POST /web/review/act`: the leader's review
  table (review.py), of the period under way or, to read, an earlier one.
- `GET  /web/l/<token>`: a personal link: sets the session cookie, then the form.
- `GET  /web/static/<file>`: the stylesheet and the script.

Every request under /web is answered with a strict Content-Security-Policy.
Every change needs the person's CSRF token; every request is counted against
the person's limit; `access.py` decides what a person may see and change.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from aiohttp import web
from sqlmodel import Session

from bot.units import UnitsOfWork
from bot.web import pages
from bot.web.access import Principal, Via
from bot.web.auth import (
    CSRF_HEADER,
    INIT_DATA_HEADER,
    SESSION_COOKIE,
    RequestCounter,
    check_init_data,
)
from bot.web.board import BOARD_COOKIE, BoardService
from bot.web.form import FormService
from bot.web.review import Deliver, ReviewService, asked_period
from bot.web.settings import WebSettings
from handlers.i18n import language_of
from storage.chat import officer_for_user, officer_view
from storage.web import live_link

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org")
Handler = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]
__all__ = ["WebPages", "WebSettings"]


class WebPages:
    """Mounts the pages on an aiohttp application (before it starts)."""

    def __init__(self, app: web.Application, units: UnitsOfWork, settings: WebSettings,
                 clock: Callable[[], dt.datetime], *, bots: Mapping[str, str] | None = None,
                 deliver: Deliver | None = None) -> None:
        self.units, self.settings, self.clock = units, settings, clock
        self.counter = RequestCounter(settings.requests_per_minute)
        self.form = FormService(units, settings, clock)
        self.review = ReviewService(units, settings, clock, bots=bots or {}, deliver=deliver)
        self.board = BoardService(units, settings, clock)
        app.on_response_prepare.append(self._headers)
        app.router.add_get("/web/static/{name}", self._static)
        app.router.add_get("/web/l/{token}", self._link)
        app.router.add_get("/web/report", self._page)
        app.router.add_get("/web/report/main", self._guard(self.form.main))
        app.router.add_post("/web/report/value", self._guard(self.form.value, change=True))
        app.router.add_post("/web/report/evidence", self._guard(self.form.evidence, change=True))
        app.router.add_post("/web/report/submit", self._guard(self.form.submit, change=True))
        app.router.add_get("/web/evidence/{id}", self._guard(self.form.download))
        app.router.add_get("/web/review", self._review_page)
        app.router.add_get("/web/review/main", self._guard(self.review.main))
        app.router.add_post("/web/review/act", self._guard(self.review.act, change=True))
        app.router.add_get("/web/b/{token}", self._counted(self.board.link))
        app.router.add_get("/web/board", self._counted(self.board.page))
        app.router.add_get("/web/board/file/{period}/{kind}", self._counted(self.board.file))

    def link_url(self, token: str) -> str:
        """The address of a personal link."""
        return f"{self.settings.base_url.rstrip('/')}/web/l/{token}"

    def form_url(self) -> str:
        """The form's address (the Mini App's `web_app` button opens it)."""
        return f"{self.settings.base_url.rstrip('/')}/web/report"

    @staticmethod
    async def _headers(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith("/web/"):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers.setdefault("Cache-Control", "no-store")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        kinds = {"app.js": "text/javascript", "app.css": "text/css"}
        if name not in kinds:
            return web.Response(status=404)
        return web.Response(body=(STATIC / name).read_bytes(), content_type=kinds[name], charset="utf-8",
                            headers={"Cache-Control": "public, max-age=300"})

    async def principal(self, request: web.Request) -> Principal | None:
        """Who is asking: initData in its header (checked every time), else the session cookie."""
        now = self.clock()
        init_data = request.headers.get(INIT_DATA_HEADER)
        if init_data:
            user = next((checked for token in self.settings.telegram_tokens
                         if (checked := check_init_data(init_data, token, now=now,
                                                      max_age=self.settings.init_data_max_age)) is not None), None)
            if user is None:
                return None
            found = await self.units.run(
                lambda session: officer_for_user(session=session, channel="telegram", user_id=user.id))
            if found is None:
                return None
            return Principal(officer=found, via=Via.telegram, subject=user.id,
                             language=found.language or language_of(user.language_code))
        cookie = request.cookies.get(SESSION_COOKIE, "")
        link_id = self.settings.signer.check("session", cookie, now) if cookie else None
        if link_id is None:
            return None

        def load(session: Session) -> Principal | None:
            link = live_link(session=session, link_id=link_id, now=now)
            officer = officer_view(session=session, officer_id=link.officer_id) if link is not None else None
            if officer is None:
                return None
            return Principal(officer=officer, via=Via.link, subject=str(link_id), language=officer.language)

        return await self.units.run(load)

    def _guard(self, handler: Handler, *,
               change: bool = False) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A route for a known person, within their request limit; a change with their CSRF token."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            principal = await self.principal(request)
            fragment = request.headers.get("X-Requested-With") == "fetch"
            if not self.counter.allow(principal.key if principal else f"ip:{request.remote}"):
                return pages.refusal(429, "web_too_many", json=change, fragment=fragment)
            if principal is None:
                return pages.refusal(401, "web_not_signed_in", json=change, fragment=fragment)
            if change:
                given = request.headers.get(CSRF_HEADER)
                if not self.settings.signer.csrf_ok(principal.key, given):
                    log.warning("web change without a valid CSRF token from %s", principal.key)
                    return pages.refusal(403, "web_csrf", json=True)
            return await handler(request, principal)

        return guarded

    async def _page(self, request: web.Request) -> web.StreamResponse:
        """The form's page: whole with a session cookie; else the shell the Mini App's script fills."""
        principal = None
        if request.cookies.get(SESSION_COOKIE):
            principal = await self.principal(request)
            if not self.counter.allow(principal.key if principal else f"ip:{request.remote}"):
                return pages.refusal(429, "web_too_many")
        src = "/web/report/main" + (f"?{request.query_string}" if request.query_string else "")
        body = await self.form.body(request, principal) if principal is not None else ""
        language = principal.language if principal is not None else "vi"
        return web.Response(text=pages.layout(language, body, src=src), content_type="text/html", charset="utf-8")

    def _counted(self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                 ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A board route within the request limit (the board's pages change nothing: no CSRF token)."""

        async def counted(request: web.Request) -> web.StreamResponse:
            if not self.counter.allow(f"board:{request.cookies.get(BOARD_COOKIE, '')[:12]}:{request.remote}"):
                return pages.refusal(429, "web_too_many")
            return await handler(request)

        return counted

    async def _review_page(self, request: web.Request) -> web.StreamResponse:
        """The review table's page: whole with a session cookie (403 for a unit that does not lead the
        bloc); else the shell the Mini App's script fills."""
        principal = None
        if request.cookies.get(SESSION_COOKIE):
            principal = await self.principal(request)
            if not self.counter.allow(principal.key if principal else f"ip:{request.remote}"):
                return pages.refusal(429, "web_too_many")
        if principal is None:
            src = "/web/review/main" + (f"?{request.query_string}" if request.query_string else "")
            return web.Response(text=pages.layout("vi", "", src=src, title_key="web_review_title"),
                                content_type="text/html", charset="utf-8")
        period_id = asked_period(request)
        if not await self.review.allowed(principal, period_id):
            return pages.refusal(403, "web_review_forbidden")
        body = await self.review.body(principal, period_id)
        return web.Response(text=pages.layout(principal.language, body, title_key="web_review_title"),
                            content_type="text/html", charset="utf-8")

    async def _link(self, request: web.Request) -> web.StreamResponse:
        """A personal link: a session cookie naming the link, then the form."""
        now = self.clock()
        link_id = self.settings.signer.check("link", request.match_info["token"], now)
        if not self.counter.allow(f"ip:{request.remote}"):
            return pages.refusal(429, "web_too_many")
        link = await self.units.run(lambda session: live_link(session=session, link_id=link_id, now=now)) \
            if link_id is not None else None
        if link is None:
            return pages.refusal(403, "web_link_invalid")
        target = "/web/review" if request.query.get("next") == "review" else "/web/report"
        response = web.Response(status=303, headers={"Location": target})
        response.set_cookie(SESSION_COOKIE, self.settings.signer.token("session", link.id, link.expires_at),
                            max_age=int((link.expires_at - now).total_seconds()), path="/web",
                            httponly=True, samesite="Strict",
                            secure=self.settings.base_url.startswith("https://"))
        return response
