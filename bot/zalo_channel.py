"""The Zalo channel adapter: Zalo Bot Platform events to the neutral conversation.

For now only the pure parts: reading a webhook body, checking its secret, and
translating one event into a :class:`handlers.chat.Incoming`. The adapter on the
channel port (polling, the webhook route, the sender) plugs these in.

An event, as the platform sends it::

    {"event_name": "message.text.received",
     "message": {"message_id": "16f6…", "date": 1766619597466,          # epoch milliseconds
                 "chat": {"id": "e4ea…", "chat_type": "PRIVATE"},       # or "GROUP"
                 "from": {"id": "e4ea…", "display_name": "…", "is_bot": false},
                 "text": "…"}}                                         # or photo_url/photo + caption, sticker

Ids are strings. Zalo has no command entities, no buttons and no callbacks: a text
that starts with "/" is a command, and a number typed alone stays text (the port maps
it to the option offered in that chat's current step).
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from handlers.chat import Incoming, InFile, InKind

__all__ = [
    "CHANNEL",
    "EVENT_IMAGE",
    "EVENT_STICKER",
    "EVENT_TEXT",
    "EVENT_UNSUPPORTED",
    "SECRET_HEADER",
    "event_time",
    "to_incoming",
    "unwrap_webhook_body",
    "update_key",
    "webhook_secret_ok",
]

CHANNEL: Final = "zalo"
SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret

EVENT_TEXT: Final = "message.text.received"
EVENT_IMAGE: Final = "message.image.received"
EVENT_STICKER: Final = "message.sticker.received"
EVENT_UNSUPPORTED: Final = "message.unsupported.received"  # content withheld, e.g. from a protected user


def webhook_secret_ok(header: str | None, secret: str) -> bool:
    """Whether a webhook request's secret header is ours, compared in constant time.

    The platform sends the secret itself (not a signature of the body). A missing
    header, or an empty configured secret, never matches.
    """
    if not header or not secret:
        return False
    return hmac.compare_digest(header.encode(), secret.encode())


def unwrap_webhook_body(body: object) -> dict[str, Any] | None:
    """The event in a webhook body: ``{"ok": true, "result": {...}}``, or the bare event.

    The platform's documentation shows the wrapped form; clients in use accept both
    (some report the bare event), so both are read. None for anything else.
    """
    if not isinstance(body, dict):
        return None
    if "event_name" not in body and body.get("ok") is True and isinstance(body.get("result"), dict):
        body = body["result"]
    if not isinstance(body, dict) or not isinstance(body.get("event_name"), str):
        return None
    return body


def update_key(bot_id: str, message_id: str) -> str:
    """The processed-update key: the same message delivered twice is handled once, per bot."""
    return f"{CHANNEL}:{bot_id}:{message_id}"


def event_time(event: Mapping[str, Any]) -> dt.datetime | None:
    """When the message was sent (the event's ``date``, epoch milliseconds), in UTC."""
    message = event.get("message")
    date = message.get("date") if isinstance(message, Mapping) else None
    if not isinstance(date, int | float) or isinstance(date, bool):
        return None
    return dt.datetime.fromtimestamp(date / 1000, tz=dt.UTC)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id(value: object) -> str:
    # Ids are strings on Zalo; a number (as a fake or an old payload may send) is read as its digits.
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value)
    return ""


def _photo_url(message: Mapping[str, Any]) -> str:
    # Image events carry the picture's URL as `photo_url` in the clients seen; the
    # documentation calls it `photo`. Either way it is a URL, not a file id.
    for key in ("photo_url", "photo"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _photo_name(url: str, message_id: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name if "." in name else f"photo-{message_id}.jpg"


def to_incoming(event: Mapping[str, Any], bot_id: str) -> Incoming | None:
    """Translate one Zalo event into a neutral message (None for what is not a person's message).

    Texts starting with "/" are commands (``/start CODE`` → command "start", args
    ("CODE",)); images are files whose ``file_id`` is the picture's URL; stickers,
    withheld content and event kinds this adapter does not know are unsupported.
    """
    message = event.get("message")
    if not isinstance(message, Mapping):
        return None
    message_id = _id(message.get("message_id"))
    chat = message.get("chat")
    sender = message.get("from")
    if not message_id or not isinstance(chat, Mapping) or not isinstance(sender, Mapping):
        return None
    chat_id = _id(chat.get("id"))
    user_id = _id(sender.get("id"))
    if not chat_id or not user_id or sender.get("is_bot") is True:
        return None
    user_name = _text(sender.get("display_name")) or _text(sender.get("name")) or _text(sender.get("first_name"))
    is_private = _text(chat.get("chat_type")).upper() != "GROUP"

    def incoming(kind: InKind, *, text: str = "", command: str = "", args: tuple[str, ...] = (),
                 file: InFile | None = None) -> Incoming:
        return Incoming(
            channel=CHANNEL,
            bot=bot_id,
            update_id=message_id,
            user_id=user_id,
            chat_id=chat_id,
            is_private=is_private,
            kind=kind,
            text=text,
            command=command,
            args=args,
            file=file,
            user_name=user_name,
            language_code=None,  # Zalo does not say; the person's stored language applies
        )

    event_name = _text(event.get("event_name"))
    if event_name == EVENT_TEXT:
        text = _text(message.get("text"))
        head, *args = text.split() or [""]
        if head.startswith("/") and len(head) > 1:
            # No bot names after commands on Zalo ("/report@bot" is Telegram's); drop one if typed.
            command = head[1:].partition("@")[0].lower()
            return incoming(InKind.command, command=command, args=tuple(args), text=text)
        return incoming(InKind.text, text=text)
    if event_name == EVENT_IMAGE:
        url = _photo_url(message)
        if not url:
            return incoming(InKind.unsupported)
        photo = InFile(file_id=url, file_name=_photo_name(url, message_id), file_size=None, is_photo=True)
        return incoming(InKind.file, file=photo, text=_text(message.get("caption")))
    return incoming(InKind.unsupported)
