"""Plain data records kept by the fake Telegram server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

# Methods that create a new message (their SentMessage is a "reply").
SEND_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "sendsticker",
        "sendvoice",
        "sendaudio",
        "sendvideo",
        "sendanimation",
    }
)


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    name: str
    content: bytes
    mime_type: str


@dataclass(slots=True)
class StoredFile:
    """A file known to the server, downloadable at ``base_file_url + token + '/' + path``."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    mime_type: str
    file_name: str | None = None

    def to_file(self) -> JSONDict:
        """Return the Bot API ``File`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass(slots=True)
class FakeChat:
    """A chat known to the fake server (private chat of a FakeUser, group or supergroup)."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None

    def to_dict(self) -> JSONDict:
        """Return the Bot API ``Chat`` object."""
        data: JSONDict = {"id": self.id, "type": self.type}
        if self.title is not None:
            data["title"] = self.title
        if self.username is not None:
            data["username"] = self.username
        if self.first_name is not None:
            data["first_name"] = self.first_name
        return data


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent (or a snapshot of it after an edit).

    ``text`` is what the bot passed (text or caption, HTML tags included); ``plain_text`` is
    what a user would see after entity parsing.
    """

    method: str
    chat_id: int
    message_id: int
    text: str | None
    parse_mode: str | None
    reply_markup: JSONDict | None
    date: int
    plain_text: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    file_name: str | None = None
    file_bytes: bytes | None = None
    mime_type: str | None = None
    file_id: str | None = None
    kind: str = "text"  # text | document | photo | sticker | voice | ...
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    params: JSONDict = field(default_factory=dict, repr=False)

    @property
    def is_edit(self) -> bool:
        """True for snapshots recorded by editMessage* calls."""
        return self.method.lower().startswith("edit")

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline keyboard buttons as (text, callback_data), row by row."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [(str(button.get("text", "")), button.get("callback_data")) for row in rows for button in row]

    @property
    def button_rows(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard buttons as rows of (text, callback_data)."""
        if not self.reply_markup:
            return []
        return [
            [(str(b.get("text", "")), b.get("callback_data")) for b in row]
            for row in self.reply_markup.get("inline_keyboard") or []
        ]


@dataclass(slots=True)
class CallbackAnswer:
    """An answerCallbackQuery call."""

    callback_query_id: str
    user_id: int | None
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass(slots=True)
class WebhookDelivery:
    """One attempt of POSTing an update to the webhook (status None: connection failed)."""

    update_id: int
    status: int | None
    error: str | None = None
