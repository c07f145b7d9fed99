"""The catalogs' markup, neutral: five tags every adapter knows how to show, and one wording.

Catalog texts and the renderers' output use `<b>`, `<i>`, `<code>`, `<pre>`
(a preformatted table) and `<a href="…">`, with `&`, `<` and `>` escaped
(handlers/i18n.py escapes every parameter). Each channel renders it its own
way: Telegram takes it as its HTML parse mode (the same five tags, after
:func:`for_buttons`), a channel without formatting (Zalo, the terminal, a
document, a button label, a toast) takes :func:`to_plain`. Nothing else strips markup.

A text that tells the person to press a button says it twice, for both kinds of channel:
`<press typed="chọn">bấm</press> <b>📨 Nộp báo cáo</b>`. A channel with buttons shows the
element's words ("bấm"); a channel whose options are typed numbers (Zalo, the terminal)
shows its `typed` words instead ("chọn": the officer types the option's number).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

TAGS = frozenset({"b", "i", "code", "pre", "a"})
# The one element no channel shows as is: its words where options are buttons, its `typed` words where
# they are typed numbers. Written in the catalogs only (never around a parameter), never nested.
_PRESS = re.compile(r'<press typed="([^"<>]*)">([^<]*)</press>')


class _Plain(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:])
            if href and href != label:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def for_buttons(text: str) -> str:
    """The text for a channel with buttons: each `<press>` element's own words ("bấm")."""
    return _PRESS.sub(lambda found: found.group(2), text) if "<press" in text else text


def for_typed(text: str) -> str:
    """The text for a channel whose options are typed numbers: each `<press>` element's `typed` words ("chọn")."""
    return _PRESS.sub(lambda found: html.escape(html.unescape(found.group(1)), quote=False), text) \
        if "<press" in text else text


def to_plain(text: str | None, *, typed: bool = False) -> str:
    """What a person reads of a marked-up text on a channel without formatting: the words, links spelled out
    (with the wording of typed options if `typed`, else of buttons)."""
    if not text:
        return ""
    parser = _Plain()
    parser.feed(for_typed(text) if typed else for_buttons(text))
    parser.close()
    return "".join(parser.parts)
