"""A small checker/renderer for Telegram's HTML ``parse_mode``.

It follows the rules of the Bot API documentation ("HTML style" formatting options):
only a fixed set of tags is supported, tags must be properly nested and closed, and every
``<`` and ``&`` that is not part of a tag or of an HTML entity must be escaped. Real Telegram
is slightly more lenient with a bare ``&``; the fake is strict on purpose so that tests catch
user-provided text that was not passed through ``html.escape``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["EntityParseError", "parse_html", "utf16_len"]

# Tag name -> MessageEntity type.
_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]{1,10}));")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class EntityParseError(ValueError):
    """Raised when a text cannot be parsed with ``parse_mode=HTML``."""


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units (how Telegram counts offsets)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity starting at ``text[pos] == '&'``; return (char, end) or None."""
    match = _ENTITY_RE.match(text, pos)
    if match is None:
        return None
    dec, hexa, name = match.groups()
    if name is not None:
        char = _NAMED_ENTITIES.get(name)
        return None if char is None else (char, match.end())
    code = int(dec) if dec is not None else int(hexa, 16)
    if code <= 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _unescape_attr(value: str) -> str:
    """Decode entities inside an attribute value (lenient, like Telegram)."""
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            decoded = _decode_entity(value, i)
            if decoded is not None:
                out.append(decoded[0])
                i = decoded[1]
                continue
        out.append(value[i])
        i += 1
    return "".join(out)


def _parse_attributes(text: str, pos: int, tag: str, tag_start: int) -> tuple[dict[str, str], int]:
    """Parse attributes from ``pos`` up to and including the closing '>'."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}")
        if text[pos] == ">":
            return attrs, pos + 1
        name_start = pos
        while pos < n and text[pos] in _NAME_CHARS:
            pos += 1
        if pos == name_start:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, tag_start)}'
            )
        name = text[name_start:pos].lower()
        while pos < n and text[pos].isspace():
            pos += 1
        if pos < n and text[pos] == "=":
            pos += 1
            while pos < n and text[pos].isspace():
                pos += 1
            if pos >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}")
            if text[pos] in "\"'":
                quote = text[pos]
                end = text.find(quote, pos + 1)
                if end < 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_start)}")
                raw = text[pos + 1 : end]
                pos = end + 1
            else:
                value_start = pos
                while pos < n and not text[pos].isspace() and text[pos] != ">":
                    pos += 1
                raw = text[value_start:pos]
            attrs[name] = _unescape_attr(raw)
        else:
            attrs[name] = ""


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML; return the plain text and its MessageEntity dicts.

    Raises:
        EntityParseError: with a message in Telegram's wording (without the
            "can't parse entities: " prefix).
    """
    out: list[str] = []
    offset = 0  # current position in the plain text, in UTF-16 code units
    # Open tags: (tag name, start offset, extra entity fields)
    stack: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_entity(text, i)
            if decoded is None:
                snippet = text[i : i + 10].split(" ", 1)[0]
                raise EntityParseError(
                    f'Unsupported HTML entity "{snippet}" at byte offset {_byte_offset(text, i)}'
                    " (escape '&' as &amp;)"
                )
            out.append(decoded[0])
            offset += utf16_len(decoded[0])
            i = decoded[1]
            continue
        if ch != "<":
            out.append(ch)
            offset += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        tag_start = i
        if i + 1 < n and text[i + 1] == "/":
            # End tag.
            end = text.find(">", i + 2)
            if end < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, tag_start)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, tag_start)}")
            open_name, start, extras = stack.pop()
            if name != open_name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, tag_start)}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            _close_entity(open_name, start, offset, extras, stack, entities)
            i = end + 1
            continue
        # Start tag.
        pos = i + 1
        while pos < n and text[pos] in _NAME_CHARS:
            pos += 1
        name = text[i + 1 : pos].lower()
        if name not in _TAGS or (pos < n and not (text[pos].isspace() or text[pos] == ">")):
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, tag_start)}')
        attrs, i = _parse_attributes(text, pos, name, tag_start)
        stack.append((name, offset, _tag_extras(name, attrs, text, tag_start)))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _tag_extras(name: str, attrs: dict[str, str], text: str, tag_start: int) -> dict[str, Any]:
    """Validate tag attributes and return extra MessageEntity fields."""
    where = f"at byte offset {_byte_offset(text, tag_start)}"
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" {where}')
        return {}
    if name == "a":
        return {"url": attrs["href"]} if attrs.get("href") else {}
    if name == "code":
        language = attrs.get("class", "")
        return {"language": language[9:]} if language.startswith("language-") else {}
    if name == "blockquote":
        return {"expandable": True} if "expandable" in attrs else {}
    if name == "tg-emoji":
        if not attrs.get("emoji-id"):
            raise EntityParseError(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        return {"custom_emoji_id": attrs["emoji-id"]}
    return {}


def _close_entity(
    name: str,
    start: int,
    end: int,
    extras: dict[str, Any],
    stack: list[tuple[str, int, dict[str, Any]]],
    entities: list[dict[str, Any]],
) -> None:
    """Turn a closed tag into a MessageEntity dict (empty ranges produce nothing)."""
    if end <= start:
        return
    if name == "code" and stack and stack[-1][0] == "pre" and "language" in extras:
        # <pre><code class="language-x"> is one pre entity with a language.
        stack[-1][2]["language"] = extras["language"]
        return
    kind = _TAGS[name]
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": end - start}
    if kind == "text_link":
        if "url" not in extras:
            return
        entity["url"] = extras["url"]
    elif kind == "pre" and "language" in extras:
        entity["language"] = extras["language"]
    elif kind == "blockquote" and extras.get("expandable"):
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = extras["custom_emoji_id"]
    entities.append(entity)
