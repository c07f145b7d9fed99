"""The provincial board's overview: every bloc, its period's status, its ranking and awards, the paperwork.

Board members (Ban Thi đua – Khen thưởng) are not officers of a bloc: they come
by a personal link issued on the operator's command line (`python -m bot
board-link`), a `board_link` row (storage/web.py), signed under purposes of its
own so that neither an officer's link nor their session opens the overview.
The overview changes nothing. It is shown in the link's language, chosen when
the link is issued (`board-link --lang en`; Vietnamese by default), as the chat
speaks each officer's; the refusals, before the person is known, in both. The
ranking is `handlers.services.ranking`'s, the score sheet and minutes are the
`export` command's (official documents, in Vietnamese), made in a worker thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from sqlmodel import Session

from bot.units import UnitsOfWork
from bot.web import pages
from bot.web.pages import esc
from bot.web.settings import WebSettings
from handlers.chat import OutFile
from handlers.i18n import points, t
from handlers.renderers.documents import paperwork_files
from handlers.renderers.files import make
from handlers.services.paperwork import paperwork_data
from handlers.services.ranking import RankingReport, rank_period
from handlers.services.review import member_statuses
from storage.blocs import BlocRef, bloc_by_id, find_bloc, list_bloc_codes
from storage.review import HANDED_IN, PeriodInfo, current_period, period_info, record_export
from storage.votes import ballots_of
from storage.web import BoardMember, live_board_link

BOARD_COOKIE = "ktd_board"
LINK_PURPOSE = "board"
SESSION_PURPOSE = "board-session"
KINDS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@dataclass(frozen=True)
class BlocOverview:
    """One bloc as the board sees it."""

    bloc: BlocRef
    period: PeriodInfo | None
    members: int
    submitted: int
    reviewed: int
    votes_held: int
    votes_open: int
    ranking: RankingReport | None


def overview(session: Session, now: dt.datetime) -> list[BlocOverview]:
    """Every bloc of the province, each with its current period's status and ranking."""
    found = []
    for code in list_bloc_codes(session=session):
        bloc = find_bloc(session=session, bloc_code=code)
        if bloc is None:
            continue
        period = current_period(session=session, bloc_id=bloc.id, now=now)
        if period is None:
            found.append(BlocOverview(bloc, None, len(bloc.config.units), 0, 0, 0, 0, None))
            continue
        statuses = [unit.status for unit in member_statuses(session=session, bloc=bloc, period=period)]
        handed = sum(1 for status in statuses if status in HANDED_IN)
        reviewed = sum(1 for status in statuses if status == "accepted")
        ballots = ballots_of(session=session, bloc_id=bloc.id, year=period.year)
        found.append(BlocOverview(
            bloc=bloc, period=period, members=len(statuses), submitted=handed, reviewed=reviewed,
            votes_held=sum(1 for ballot in ballots if ballot.closed_at is not None),
            votes_open=sum(1 for ballot in ballots if ballot.closed_at is None),
            ranking=rank_period(session=session, bloc=bloc, period=period)))
    return found


def _bloc_html(language: str, item: BlocOverview) -> str:
    config = item.bloc.config
    head = f'<h2>{esc(config.bloc.name)} <span class="hint">({esc(item.bloc.code)})</span></h2>'
    if item.period is None or item.ranking is None:
        return f'<section class="card board-bloc" data-bloc="{esc(item.bloc.code)}">{head}' \
               f'<p class="hint">{t(language, "web_board_no_period")}</p></section>'
    period = item.period
    published = t(language, "web_board_published") if period.published_at is not None \
        else t(language, "web_board_not_published")
    status = t(language, "web_board_status", kind=t(language, f"kind_{period.kind}"), year=period.year,
               submitted=item.submitted, reviewed=item.reviewed, members=item.members, published=published,
               held=item.votes_held, open=item.votes_open)
    rows = "".join(
        f'<tr data-unit="{esc(row.unit_code)}"><td>{row.rank}{"=" if row.shared_rank else ""}</td>'
        f'<td>{esc(row.unit_name)}</td><td>{esc(points(row.total, language))}</td>'
        f'<td>{t(language, f"review_award_{row.award}") if row.award else ""}</td></tr>'
        for row in item.ranking.rows)
    files = "".join(
        f'<a class="button download" href="/web/board/file/{period.id}/{kind}">'
        f'{t(language, f"web_board_download_{kind}")}</a>' for kind in KINDS)
    return (
        f'<section class="card board-bloc" data-bloc="{esc(item.bloc.code)}">{head}<p>{status}</p>'
        f'<div class="table-wrap"><table class="ranking"><thead><tr><th>{t(language, "web_board_rank")}</th>'
        f'<th>{t(language, "web_board_unit")}</th><th>{t(language, "web_board_points")}</th>'
        f'<th>{t(language, "web_board_award")}</th></tr></thead><tbody>{rows}</tbody></table></div>'
        f'<p class="downloads">{files}</p></section>'
    )


def board_html(language: str, member: BoardMember, blocs: list[BlocOverview]) -> str:
    """The overview's body."""
    return (f'<h1>{t(language, "web_board_heading")}</h1>'
            f'<p class="hint">{t(language, "web_board_for", name=member.name)}</p>'
            + "".join(_bloc_html(language, item) for item in blocs))


def board_link_url(settings: WebSettings, member: BoardMember) -> str:
    """The signed address of a board link."""
    token = settings.signer.token(LINK_PURPOSE, member.id, member.expires_at)
    return f"{settings.base_url.rstrip('/')}/web/b/{token}"


class BoardService:
    """The overview's routes: the board link, the page, the downloads."""

    def __init__(self, units: UnitsOfWork, settings: WebSettings, clock: Callable[[], dt.datetime]) -> None:
        self.units, self.settings, self.clock = units, settings, clock

    async def member(self, request: web.Request) -> BoardMember | None:
        """The board member whose session cookie comes with the request (the link still live)."""
        now = self.clock()
        link_id = self.settings.signer.check(SESSION_PURPOSE, request.cookies.get(BOARD_COOKIE, ""), now)
        if link_id is None:
            return None
        return await self.units.run(lambda session: live_board_link(session=session, link_id=link_id, now=now))

    async def link(self, request: web.Request) -> web.StreamResponse:
        """A board link: a session cookie naming it, then the overview."""
        now = self.clock()
        link_id = self.settings.signer.check(LINK_PURPOSE, request.match_info["token"], now)
        member = await self.units.run(lambda session: live_board_link(session=session, link_id=link_id, now=now)) \
            if link_id is not None else None
        if member is None:
            return pages.refusal(403, "web_link_invalid")
        response = web.Response(status=303, headers={"Location": "/web/board"})
        response.set_cookie(BOARD_COOKIE, self.settings.signer.token(SESSION_PURPOSE, member.id, member.expires_at),
                            max_age=int((member.expires_at - now).total_seconds()), path="/web", httponly=True,
                            samesite="Strict", secure=self.settings.base_url.startswith("https://"))
        return response

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The overview of every bloc."""
        member = await self.member(request)
        if member is None:
            return pages.refusal(401, "web_not_signed_in")
        now = self.clock()
        blocs = await self.units.run(lambda session: overview(session, now))
        language = member.language  # the link's (`board-link --lang`), Vietnamese unless English was chosen
        return web.Response(text=pages.layout(language, board_html(language, member, blocs),
                                              title_key="web_board_title"),
                            content_type="text/html", charset="utf-8")

    async def file(self, request: web.Request) -> web.StreamResponse:
        """A period's score sheet (xlsx) or minutes (docx), made from the ranking in a worker thread."""
        member = await self.member(request)
        if member is None:
            return pages.refusal(401, "web_not_signed_in")
        kind = request.match_info["kind"]
        period_text = request.match_info["period"]
        if kind not in KINDS or not period_text.isdigit() or len(period_text) > 9:
            return pages.refusal(404, "web_no_item")
        period_id, now = int(period_text), self.clock()

        def gather(session: Session) -> OutFile | None:
            period = period_info(session=session, period_id=period_id)
            bloc = bloc_by_id(session=session, bloc_id=period.bloc_id) if period is not None else None
            if period is None or bloc is None:
                return None
            report = rank_period(session=session, bloc=bloc, period=period)
            sheet, minutes = paperwork_data(session=session, bloc=bloc, period=period, report=report, now=now)
            chosen = paperwork_files(sheet, minutes)[0 if kind == "xlsx" else 1]
            record_export(session=session, bloc_id=bloc.id, actor=f"board:{member.name}",
                          target=f"period {period.year} {period.kind}", files=[chosen.name])
            return chosen

        chosen = await self.units.run(gather)
        if chosen is None:
            return pages.refusal(404, "web_no_item")
        data = await asyncio.to_thread(make, chosen)
        name = chosen.name
        return web.Response(body=data, content_type=KINDS[kind], headers={
            "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"})
