"""The chat's offer of the web form: a `web_app` button on Telegram, a personal link elsewhere."""

from __future__ import annotations

from handlers.chat import Option, Reply
from handlers.flow import Context
from handlers.i18n import Safe, format_moment
from handlers.services.web import FormPage


def form_offer(ctx: Context, form: FormPage, *, items: int | None, zone: str) -> Reply:
    """The offer: why (a long sheet: `items`), the button or the link, and for whom the link is."""
    lines = [ctx.text("web_form_offer", count=items) if items is not None else ctx.text("web_form_open")]
    if form.link_expires is not None:
        lines.append(ctx.text("web_link_note", until=format_moment(form.link_expires, zone, ctx.language)))
    return Reply(Safe("\n\n".join(lines)), options=((Option(ctx.text("btn_web_form"), "", page=form.page),),))


def form_off(ctx: Context) -> Reply:
    """`/form` where no web pages are served."""
    return Reply(ctx.text("web_form_off"))
