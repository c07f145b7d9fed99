"""Plain data records kept by the fake Zalo Bot API server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

JSONDict = dict[str, Any]
ChatType = Literal["PRIVATE", "GROUP"]

# Methods that send a message, counted against the monthly quota.
SEND_METHODS = frozenset({"sendmessage", "sendphoto", "sendsticker"})


@dataclass(slots=True)
class FakeZaloChat:
    """A chat the bot can write to: a person's private chat (id = the person's id) or a group."""

    id: str
    chat_type: ChatType
    name: str = ""


@dataclass(slots=True)
class SentZaloMessage:
    """One message the bot sent: text, photo (by URL, with a caption) or sticker."""

    method: str  # "sendMessage", "sendPhoto" or "sendSticker"
    chat_id: str
    message_id: str
    date: int  # epoch milliseconds
    text: str = ""
    photo: str = ""
    caption: str = ""
    sticker: str = ""


@dataclass(slots=True)
class WebhookDelivery:
    """One attempt at POSTing an event to the bot's webhook."""

    event: JSONDict
    secret_sent: str | None
    status: int | None  # the bot's HTTP answer; None when the connection failed
    error: str | None = None
    wrapped: bool = True  # the body was {"ok": true, "result": event}
