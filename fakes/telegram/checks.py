"""What Telegram checks in a call before it sends anything: text, markup, files."""

from __future__ import annotations

import json
import re
from typing import Any

from fakes.telegram.errors import ApiError
from fakes.telegram.html import EntityParseError, parse_html
from fakes.telegram.models import JSONDict, StoredFile, UploadedFile
from fakes.telegram.state import ServerState

__all__ = ["check_markup", "render_caption", "render_text", "upload"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")


def _is_image(content: bytes) -> bool:
    return content.startswith(_IMAGE_MAGIC) or (content[:4] == b"RIFF" and content[8:12] == b"WEBP")


def _render(text: Any, parse_mode: Any, entities: Any) -> tuple[str, list[JSONDict]]:
    """Apply parse_mode like Telegram: return the visible text and its entities."""
    raw = "" if text is None else str(text)
    if not parse_mode:
        return raw, list(entities) if isinstance(entities, list) else []
    mode = str(parse_mode).lower()
    if mode == "html":
        try:
            return parse_html(raw)
        except EntityParseError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
    if mode in ("markdown", "markdownv2"):
        return raw, []  # not validated by the fake
    raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")


def render_text(params: JSONDict) -> tuple[str, list[JSONDict]]:
    """The visible text and entities of a message's ``text``; refused when empty or too long."""
    plain, entities = _render(params.get("text"), params.get("parse_mode"), params.get("entities"))
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(plain) > MAX_TEXT_LENGTH:
        raise ApiError(400, "Bad Request: message is too long")
    return plain, entities


def render_caption(params: JSONDict) -> tuple[str | None, list[JSONDict]]:
    """The visible caption and its entities (None without one); refused when too long."""
    if params.get("caption") is None:
        return None, []
    plain, entities = _render(params.get("caption"), params.get("parse_mode"), params.get("caption_entities"))
    if len(plain) > MAX_CAPTION_LENGTH:
        raise ApiError(400, "Bad Request: message caption is too long")
    return plain, entities


def check_markup(value: Any) -> JSONDict | None:
    """Validate reply_markup the way Telegram does for the parts that matter to us."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = value.get("inline_keyboard")
    if rows is None:
        return value
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard button")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
            actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
            if not actions:
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg)://[^\s]+$", str(button["url"])):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
    return value


def upload(state: ServerState, params: JSONDict, field: str, kind: str) -> StoredFile:
    """The file a send call names in ``field``: uploaded now, known by its file_id, or a URL."""
    value = params.get(field)
    if isinstance(value, str) and value.startswith("attach://"):
        value = params.get(value[len("attach://") :])
    if isinstance(value, UploadedFile):
        if not value.content:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if kind == "photo" and not _is_image(value.content):
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        return state.store_file(kind, value.content, value.mime_type, value.name)
    if isinstance(value, str) and value in state.files:
        return state.files[value]
    if isinstance(value, str) and re.match(r"^https?://", value):
        name = value.rstrip("/").rsplit("/", 1)[-1] or "file"
        return state.store_file(kind, b"", "application/octet-stream", name)
    if value is None:
        raise ApiError(400, f"Bad Request: there is no {field} in the request")
    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
