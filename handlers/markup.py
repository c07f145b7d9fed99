"""The catalogs' markup, neutral: five tags every adapter knows how to show.

Catalog texts and the renderers' output use `<b>`, `<i>`, `<code>`, `<pre>`
(a preformatted table) and `<a href="…">`, with `&`, `<` and `>` escaped
(handlers/i18n.py escapes every parameter). Each channel renders it its own
way: Telegram takes it as its HTML parse mode (the same five tags), a channel
without formatting (Zalo, the terminal, a document, a button label, a toast)
takes :func:`to_plain`. Nothing else strips markup.
"""

from __future__ import annotations

from html.parser import HTMLParser

TAGS = frozenset({"b", "i", "code", "pre", "a"})


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


def to_plain(text: str | None) -> str:
    """What a person reads of a marked-up text on a channel without formatting: the words, links spelled out."""
    if not text:
        return ""
    parser = _Plain()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)
