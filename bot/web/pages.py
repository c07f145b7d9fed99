"""The web pages' HTML: the layout, the refusals, the report form.

Every text comes from the message catalogs (handlers/locales/*/web.yaml and
report.yaml), whose parameters `handlers.i18n.t` escapes; every other value
that reaches the HTML goes through :func:`esc`. No inline script or style: the
Content-Security-Policy forbids them.
"""

from __future__ import annotations

import html
import json as jsonlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from aiohttp import web

from handlers.i18n import Safe, points, t
from handlers.markup import to_plain
from handlers.services.reporting import Item, Summary
from rules.config import BlocConfig
from rules.numbers import format_number, format_percent, format_quantity
from rules.scoring import achievement

ASSET_VERSION = "6"


def esc(value: object) -> str:
    """Any value as HTML text."""
    return html.escape(str(value), quote=True)


def both(key: str, **params: object) -> str:
    """A catalog text as plain text, Vietnamese first, English second (before we know the person)."""
    return f"{to_plain(t('vi', key, **params))}\n\n{to_plain(t('en', key, **params))}"


def layout(language: str, body: str, *, src: str = "", title_key: str = "web_title") -> str:
    """A whole page: the stylesheet, the script, and the body (or the address the script fills it from)."""
    title = to_plain(t(language, title_key))
    source = f' data-src="{esc(src)}"' if src and not body else ""
    return (
        f'<!doctype html><html lang="{esc(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)}</title><link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="/web/static/app.css?v={ASSET_VERSION}">'
        f'<script src="/web/static/app.js?v={ASSET_VERSION}" defer></script>'
        f'</head><body><main id="main"{source}>{body or _loading(language)}</main></body></html>'
    )


def _loading(language: str) -> str:
    return f'<p class="hint">{t(language, "web_loading")}</p>'


def refusal(status: int, key: str, *, json: bool = False, fragment: bool = False) -> web.Response:
    """A refused request: a polite text in both languages (JSON for the script's changes, a fragment
    for the body it fetches)."""
    if json:
        body = {"kind": "error", "html": f"{t('vi', key)}<br>{t('en', key)}"}
        return web.Response(status=status, text=jsonlib.dumps(body, ensure_ascii=False),
                            content_type="application/json")
    text = f'<div class="banner"><p>{t("vi", key)}</p><p class="hint">{t("en", key)}</p></div>'
    return web.Response(status=status, text=text if fragment else layout("vi", text), content_type="text/html",
                        charset="utf-8")


def answer(kind: str, html_text: str, **extra: object) -> web.Response:
    """The answer to one of the script's requests: what to show and where."""
    return web.Response(text=jsonlib.dumps({"kind": kind, "html": html_text, **extra}, ensure_ascii=False),
                        content_type="application/json")


# -- the form ---------------------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    """One piece of evidence as listed: its name, and where to open it (a file uploaded on the page)."""

    name: str
    href: str | None = None


@dataclass(frozen=True)
class FormItem:
    """An item as the form shows it: its value, its evidence, its section."""

    item: Item
    value: Decimal | None
    evidence: Sequence[Kept]  # files and notes, as kept
    section: str  # the section's heading


@dataclass(frozen=True)
class FormView:
    """Everything the form shows, read in one unit of work."""

    language: str
    address: str
    unit_name: str
    period_label: str
    period_id: int
    deadline: str
    status: str
    editable: bool
    items: Sequence[FormItem]
    summary: Summary
    config: BlocConfig
    csrf: str


def shown_value(item: Item, value: Decimal, language: str) -> str:
    """A saved value as typed back into its field (`30.544`, `9,5`)."""
    return format_number(value, locale=language)


def echo(language: str, item: Item, value: Decimal) -> Safe:
    """The server's reading of a value: `30.544 hộ = 102,0% kế hoạch`, or `9,5/10 điểm`."""
    if item.is_indicator:
        return t(language, "echo_indicator", value=format_quantity(value, item.measure, locale=language),
                 percent=format_percent(achievement(value, item.target, item.direction), locale=language))
    return t(language, "echo_criterion", value=format_number(value, locale=language),
             max=format_number(item.maximum, locale=language))


def ambiguity(language: str, address: str, typed: str, candidates: Sequence[Decimal]) -> str:
    """The chat's question for a number that reads two ways, with one button per reading."""
    buttons = "".join(f'<button type="button" class="secondary" data-pick="{index}">'
                      f"{esc(format_number(candidate, locale=language))}</button>"
                      for index, candidate in enumerate(candidates))
    return f'{t(language, "ambiguous", address=address, text=typed.strip()[:40])}<br>{buttons}'


def evidence_list(language: str, kept: Sequence[Kept]) -> str:
    """The evidence already attached to an item (the files uploaded here as links)."""
    if not kept:
        return ""
    names = [f'<a class="evidence-file" href="{esc(one.href)}">{esc(one.name)}</a>' if one.href else esc(one.name)
             for one in kept]
    return t(language, "web_evidence_kept", count=len(kept)) + ": " + ", ".join(names)


def _item_card(view: FormView, form_item: FormItem) -> str:
    item, language = form_item.item, view.language
    if item.is_indicator:
        meta = t(language, "web_indicator_meta", measure=item.measure,
                 target=format_number(item.target, locale=language))
        if item.direction.value == "lower":
            meta = Safe(meta + " · " + t(language, "web_lower_better"))
    else:
        meta = t(language, "web_criterion_meta", max=format_number(item.maximum, locale=language))
    typed = shown_value(item, form_item.value, language) if form_item.value is not None else ""
    reading = echo(language, item, form_item.value) if form_item.value is not None else ""
    disabled = "" if view.editable else " disabled"
    field_id = f"v-{esc(item.code)}"
    evidence = (
        f'<details class="evidence"><summary>{t(language, "web_evidence_open")}</summary>'
        f'<form class="evidence-form" enctype="multipart/form-data">'
        f'<label for="f-{esc(item.code)}">{t(language, "web_evidence_file")}</label>'
        f'<input type="file" id="f-{esc(item.code)}" name="file" accept=".pdf,.doc,.docx,.xls,.xlsx,.jpg,.jpeg,.png"'
        f'{disabled}>'
        f'<label for="n-{esc(item.code)}">{t(language, "web_evidence_note")}</label>'
        f'<textarea id="n-{esc(item.code)}" name="note" maxlength="1000"{disabled}></textarea>'
        f'<button type="submit"{disabled}>{t(language, "web_evidence_send")}</button>'
        f'<div class="reading evidence-result"></div></form></details>'
    )
    return (
        f'<div class="card" data-item="{esc(item.code)}">'
        f'<div class="text">{esc(item.text if not item.is_indicator else f"{item.code}. {item.text}")}</div>'
        f'<div class="meta">{meta}</div>'
        f'<label for="{field_id}">{t(language, "web_actual" if item.is_indicator else "web_self_score")}</label>'
        f'<input type="text" class="value" id="{field_id}" name="typed" inputmode="decimal" autocomplete="off"'
        f' value="{esc(typed)}"{disabled}>'
        f'<div class="reading{" saved" if reading else ""}">{reading}</div>'
        f'<div class="kept">{evidence_list(language, form_item.evidence)}</div>'
        f"{evidence}</div>"
    )


def summary_html(language: str, config: BlocConfig, summary: Summary) -> str:
    """The summary: the sections' points, the total, what is missing; the submit button."""
    score = summary.score
    rows = "".join(
        f'<tr><td>{esc(section.code)}. {esc(section.name)}</td><td class="num">'
        f'{esc(points(score.sections.get(section.code, Decimal(0)), language))}/'
        f'{esc(format_number(section.max, locale=language))}</td></tr>'
        for section in config.pact.sections)
    total = t(language, "web_total", total=points(score.total, language),
              standard=format_number(config.pact.standard_score, locale=language),
              bonus=points(score.bonus, language), deductions=points(score.deductions, language))
    missing = summary.missing
    state = t(language, "web_missing", count=len(missing), codes=", ".join(missing[:8])) if missing \
        else t(language, "web_ready")
    short = t(language, "web_total_short", total=points(score.total, language),
              standard=format_number(config.pact.standard_score, locale=language))
    return (f'<div class="bar"><span class="total">{short}</span>'
            f'<button type="button" data-action="submit">{t(language, "btn_submit")}</button>'
            f'<div class="reading" id="submit-result"></div></div>'
            f'<h2>{t(language, "web_summary")}</h2><table class="lines">{rows}</table>'
            f'<p>{total}</p><p class="hint">{state}</p>')


def banner(view: FormView) -> str:
    """The report's status above the form."""
    key = f"web_status_{view.status}"
    done = view.status in ("submitted", "accepted")
    return (f'<div id="banner" class="banner{" done" if done else ""}">'
            f'{t(view.language, key, address=view.address)}</div>')


def form(view: FormView) -> str:
    """The whole form: head, items by section, the summary."""
    language = view.language
    parts = [f'<div id="form" data-csrf="{esc(view.csrf)}" data-period="{view.period_id}" '
             'data-value-url="/web/report/value" data-evidence-url="/web/report/evidence" '
             f'data-submit-url="/web/report/submit" data-saving="{esc(to_plain(t(language, "web_saving")))}">',
             f'<h1>{t(language, "web_heading", unit=view.unit_name, period=view.period_label)}</h1>',
             f'<p class="hint">{t(language, "web_intro", address=view.address, deadline=view.deadline)}</p>',
             banner(view)]
    section = None
    for form_item in view.items:
        if form_item.section != section:
            section = form_item.section
            parts.append(f"<h2>{esc(section)}</h2>")
        parts.append(_item_card(view, form_item))
    parts.append("</div>")
    return "<section>" + "".join(parts) + f'</section><aside id="summary">' \
        f"{summary_html(language, view.config, view.summary)}</aside>"


def closed(language: str, key: str, address: str, **params: object) -> str:
    """No report to fill now: why."""
    return f'<div class="banner"><p>{t(language, key, address=address, **params)}</p></div>'
