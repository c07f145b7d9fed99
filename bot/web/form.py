"""The report form's requests: each reads and changes the report through handlers/services/reporting.py.

The same `UnitReport` the chat's report flow uses: `read_typed` reads what was
typed by the chat's rules, `save` keeps a value (audited, the submission moved
to "in progress"), `attach` keeps evidence, `submit` hands the report in.
Each request is one unit of work (one transaction), like one chat message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from sqlmodel import Session

from bot.units import UnitsOfWork
from bot.web import pages
from bot.web.access import Principal, may_change_report, may_see_unit
from bot.web.settings import WebSettings
from handlers.i18n import format_moment, t
from handlers.renderers.reporting import reading_error_text
from handlers.services import review as review_service
from handlers.services.reporting import (
    UnitReport,
    checked_reading,
    closed_reason,
    editable_periods,
    read_typed,
)
from storage.blocs import stored_bloc
from storage.chat import periods_for_reporting
from storage.evidence import evidence_of, evidence_owner
from storage.models import SubmissionStatus

MAX_NOTE = 1000  # as in the chat (handlers/flows/reporting.py)


@dataclass(frozen=True)
class Upload:
    """A file sent with the form, within the size and type limits."""

    name: str
    data: bytes


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() and len(text) < 10 else None


class FormService:
    """The form's routes' work, given who asks (routes.py has checked that)."""

    def __init__(self, units: UnitsOfWork, settings: WebSettings, clock: Callable[[], dt.datetime]) -> None:
        self.units, self.settings, self.clock = units, settings, clock

    def _report(self, session: Session, principal: Principal, period_id: int | None,
                now: dt.datetime) -> UnitReport | None:
        """The person's unit's report for the period asked (else the newest they may change)."""
        officer = principal.officer
        if period_id is None:
            periods = editable_periods(session=session, officer=officer, now=now) \
                or periods_for_reporting(session=session, bloc_id=officer.bloc_id)[:1]
            if not periods or periods[0].id is None:
                return None
            period_id = periods[0].id
        report = UnitReport.open(session=session, officer=officer, period_id=period_id)
        if report is None or not may_change_report(principal, report.officer.unit_id):
            return None
        return report

    def _view(self, session: Session, principal: Principal, report: UnitReport, now: dt.datetime) -> pages.FormView:
        language = principal.language
        config = report.config
        summary = report.summary()
        values = {line.item.code: line.value for line in summary.lines}
        indicators = {indicator.code: indicator for indicator in config.indicators_of(report.officer.unit_code)}
        items = []
        for item in report.items:
            criterion = indicators[item.code].criterion if item.is_indicator else item.code
            section = config.pact.section_of(criterion)
            heading = f"{section.code}. {section.name}" if section is not None else to_text(language, "web_bonus")
            kept = kept_evidence(session, report, item.code)
            items.append(pages.FormItem(item=item, value=values.get(item.code), evidence=kept, section=heading))
        period = report.period
        late = now >= period.reporting_deadline and period.review_deadline is not None
        until = period.review_deadline if late and period.review_deadline else period.reporting_deadline
        return pages.FormView(
            language=language, address=config.bloc.address, unit_name=report.officer.unit_name,
            period_label=to_text(language, "period_label", year=period.year,
                                 kind=t(language, f"kind_{period.kind}")),
            period_id=report.period_id, deadline=format_moment(until, config.bloc.timezone, language),
            status=report.status(), editable=report.may_edit(now) and report.editable(), items=items,
            summary=summary, config=config, csrf=self.settings.signer.csrf(principal.key))

    async def body(self, request: web.Request, principal: Principal) -> str:
        """The form's HTML for the person (or why there is none now)."""
        now = self.clock()
        period_id = _number(request.query.get("period"))

        def read(session: Session) -> str:
            report = self._report(session, principal, period_id, now)
            address = stored_bloc(session=session, bloc_id=principal.officer.bloc_id).config.bloc.address
            if report is None:
                reason = closed_reason(session=session, bloc_id=principal.officer.bloc_id, now=now)
                return pages.closed(principal.language, f"web_closed_{reason.reason.value}", address)
            return pages.form(self._view(session, principal, report, now)) + review_link(session, principal, now)

        return await self.units.run(read)

    async def main(self, request: web.Request, principal: Principal) -> web.StreamResponse:
        """The form's body, for the Mini App's script."""
        return web.Response(text=await self.body(request, principal), content_type="text/html", charset="utf-8")

    async def value(self, request: web.Request, principal: Principal) -> web.StreamResponse:
        """One field typed: read by the chat's rules; saved at once when it reads one way."""
        fields = await request.post()
        period_id, code = _number(str(fields.get("period", ""))), str(fields.get("item", ""))
        typed, pick = str(fields.get("typed", ""))[:200], _number(str(fields.get("pick", "")) or None)
        now, language = self.clock(), principal.language

        def work(session: Session) -> web.Response:
            report = self._report(session, principal, period_id, now) if period_id is not None else None
            item = report.by_code.get(code) if report is not None else None
            if report is None or item is None:
                return pages.refusal(404, "web_no_item", json=True)
            address = report.config.bloc.address
            if not report.may_edit(now):
                return pages.answer("error", t(language, "web_not_editable", address=address))
            reading = read_typed(item, typed)
            if pick is not None and reading.candidates:
                if pick >= len(reading.candidates):
                    return pages.refusal(400, "web_no_item", json=True)
                reading = checked_reading(item, reading.candidates[pick], percent=False)
            if reading.candidates:
                return pages.answer("ask", pages.ambiguity(language, address, typed, reading.candidates))
            if reading.error is not None or reading.value is None:
                return pages.answer("error", reading_error_text(language, item, reading.error or "err_need_number",
                                                                address=address))
            if not report.save(item, reading.value):
                return pages.answer("error", t(language, "web_not_editable", address=address))
            return pages.answer("saved", pages.echo(language, item, reading.value),
                                shown=pages.shown_value(item, reading.value, language),
                                summary=pages.summary_html(language, report.config, report.summary()))

        return await self.units.run(work)

    async def evidence(self, request: web.Request, principal: Principal) -> web.StreamResponse:
        """A file (within the limits) or a note for an item whose value is saved."""
        fields, upload, wrong = await read_upload(request, self.settings)
        language = principal.language
        if wrong is not None:
            limit = self.settings.upload_max_bytes // (1024 * 1024)
            return pages.answer("error", t(language, wrong, mb=limit))
        note = fields.get("note", "").strip()
        if upload is None and not note:
            return pages.answer("error", t(language, "err_evidence_kind"))
        if len(note) > MAX_NOTE:
            return pages.answer("error", t(language, "err_note_long", max=MAX_NOTE))
        period_id, code = _number(fields.get("period")), fields.get("item", "")
        now = self.clock()
        stored: Path | None = None
        if upload is not None:
            folder = self.settings.upload_dir
            stored = folder / f"{secrets.token_hex(16)}{Path(upload.name).suffix.lower()}"
            await asyncio.to_thread(_write, stored, upload.data)

        def work(session: Session) -> tuple[web.Response, bool]:
            report = self._report(session, principal, period_id, now) if period_id is not None else None
            item = report.by_code.get(code) if report is not None else None
            if report is None or item is None:
                return pages.refusal(404, "web_no_item", json=True), False
            if not (report.may_edit(now) and report.editable()):
                return pages.answer("error", t(language, "web_not_editable",
                                               address=report.config.bloc.address)), False
            if upload is not None and stored is not None:
                attached = report.attach(item, channel="web", file_id=stored.name, file_name=upload.name,
                                         file_size=len(upload.data),
                                         is_photo=stored.suffix in (".jpg", ".jpeg", ".png"))
            else:
                attached = report.attach(item, note=note)
            if not attached:
                return pages.answer("error", t(language, "web_evidence_first",
                                               address=report.config.bloc.address)), False
            session.flush()
            kept = kept_evidence(session, report, item.code)
            return pages.answer("saved", t(language, "web_evidence_saved"), kept=pages.evidence_list(language, kept),
                                summary=pages.summary_html(language, report.config, report.summary())), True

        try:
            response, attached = await self.units.run(work)
        except BaseException:
            attached = False
            raise
        finally:
            if stored is not None and not attached:
                stored.unlink(missing_ok=True)
        return response

    async def submit(self, request: web.Request, principal: Principal) -> web.StreamResponse:
        """Hand the report in, when every item has a value (the chat's submit)."""
        fields = await request.post()
        period_id = _number(str(fields.get("period", "")))
        now, language = self.clock(), principal.language

        def work(session: Session) -> web.Response:
            report = self._report(session, principal, period_id, now) if period_id is not None else None
            if report is None:
                return pages.refusal(404, "web_no_item", json=True)
            address = report.config.bloc.address
            if not report.may_edit(now):
                return pages.answer("error", t(language, "web_not_editable", address=address))
            missing = report.first_missing()
            if missing is not None:
                return pages.answer("error", t(language, "web_submit_missing", address=address,
                                               codes=", ".join(report.summary().missing[:8])))
            report.submit()
            view = self._view(session, principal, report, now)
            status = report.status()
            key = "web_submitted" if status == SubmissionStatus.submitted.value else f"web_status_{status}"
            return pages.answer("saved", t(language, key, address=address), banner=pages.banner(view),
                                summary=pages.summary_html(language, report.config, report.summary()))

        return await self.units.run(work)

    async def download(self, request: web.Request, principal: Principal) -> web.StreamResponse:
        """A file uploaded on the page, for whoever may see its unit (its officers; the leader and deputy)."""
        evidence_id = _number(request.match_info.get("id"))

        def find(session: Session) -> str | None:
            owner = evidence_owner(session=session, evidence_id=evidence_id) if evidence_id is not None else None
            if owner is None or owner.evidence.channel != "web" or owner.evidence.file_id is None:
                return None
            if not may_see_unit(session, principal, owner.unit_id, year=owner.year):
                return None
            return f"{owner.evidence.file_id}\n{owner.evidence.file_name or owner.evidence.file_id}"

        found = await self.units.run(find)
        if found is None:
            return pages.refusal(404, "web_no_item")
        stored, name = found.split("\n", 1)
        path = self.settings.upload_dir / Path(stored).name
        if not path.is_file():
            return pages.refusal(404, "web_no_item")
        data = await asyncio.to_thread(path.read_bytes)
        ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
        return web.Response(body=data, content_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name)}'})


def review_link(session: Session, principal: Principal, now: dt.datetime) -> str:
    """For an officer of the year's leader or deputy unit: the way to the review table."""
    bloc = stored_bloc(session=session, bloc_id=principal.officer.bloc_id)
    period = review_service.period_now(session=session, bloc=bloc, now=now)
    if review_service.access(session=session, bloc=bloc, unit_id=principal.officer.unit_id, period=period,
                             unlocked=False) is not None:
        return ""
    label = t(principal.language, "web_review_open")
    return f'<p class="review-link"><a class="button" href="/web/review">{label}</a></p>'


def kept_evidence(session: Session, report: UnitReport, code: str) -> list[pages.Kept]:
    """The evidence of an item as the form lists it: a file's name (a link when uploaded here) or a note."""
    return [pages.Kept(name=view.file_name or (view.note or "")[:40],
                       href=f"/web/evidence/{view.id}" if view.channel == "web" and view.id is not None else None)
            for view in evidence_of(session=session, period_id=report.period_id, unit_id=report.officer.unit_id,
                                    item_code=code)]


async def read_upload(request: web.Request, settings: WebSettings) -> tuple[dict[str, str], Upload | None, str | None]:
    """The fields of a multipart POST, its file (at most the size limit), or the catalog key of what was wrong."""
    fields: dict[str, str] = {}
    upload: Upload | None = None
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        if part.filename:
            name = Path(part.filename).name[:120]
            if Path(name).suffix.lower() not in settings.upload_types:
                return fields, None, "web_upload_type"
            data = bytearray()
            while chunk := await part.read_chunk(65536):
                data.extend(chunk)
                if len(data) > settings.upload_max_bytes:
                    return fields, None, "web_upload_size"
            if data:
                upload = Upload(name=name, data=bytes(data))
        elif part.name:
            fields[part.name] = (await part.read(decode=True)).decode("utf-8", "replace")[:4000]
    return fields, upload, None


def to_text(language: str, key: str, **params: object) -> str:
    """A catalog text for a place that escapes it again (a heading built with `esc`)."""
    from handlers.markup import to_plain

    return to_plain(t(language, key, **params))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)

