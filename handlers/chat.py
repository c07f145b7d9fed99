"""The channel-neutral conversation: what comes in, what goes out.

Telegram, a terminal and (later) Zalo each translate their own updates into an
:class:`Incoming` and render each :class:`Reply`. Nothing here knows a channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class InKind(StrEnum):
    """What the person sent."""

    text = "text"
    command = "command"
    option = "option"  # a pressed button; `data` holds its callback data
    file = "file"  # a document or a photo
    unsupported = "unsupported"  # a sticker, voice, location...


@dataclass(frozen=True)
class InFile:
    """A file the person sent, kept by reference (the channel's file id)."""

    file_id: str
    file_name: str
    file_size: int | None
    is_photo: bool = False


@dataclass(frozen=True)
class Incoming:
    """One message in, in neutral terms.

    `update_key` identifies the delivery (e.g. `tg:123456`) so that the same
    update delivered twice is processed once. `user_id` is the channel's id of
    the person; `chat_id` the chat it came from (equal to `user_id` in a
    private chat).
    """

    channel: str
    update_key: str
    user_id: int
    chat_id: int
    is_private: bool
    kind: InKind
    text: str = ""
    command: str = ""
    args: tuple[str, ...] = ()
    data: str = ""
    file: InFile | None = None
    message_id: int | None = None  # the bot's message a pressed button belongs to
    user_name: str = ""
    language_code: str | None = None


@dataclass(frozen=True)
class Option:
    """A choice offered under a reply (an inline button on Telegram)."""

    label: str
    data: str


@dataclass(frozen=True)
class OutFile:
    """A file to send: a document or a picture, made when it is sent.

    `render` makes the bytes from plain data it holds: the chart and the
    paperwork take a few hundred milliseconds, so a channel calls it after the
    turn's transaction, off the event loop (`await asyncio.to_thread(...)`),
    where it holds up neither the database nor other people's chats.
    """

    name: str
    render: Callable[[], bytes]
    is_photo: bool = False
    caption: str = ""

    @property
    def content(self) -> bytes:
        """The file's bytes (made anew at each call)."""
        return self.render()


@dataclass(frozen=True)
class KeptFile:
    """A file already on a channel, sent again by the id that channel gave it (a unit's evidence).

    Only the channel named can send it; another channel shows its name instead.
    """

    channel: str
    file_id: str
    name: str
    is_photo: bool = False


@dataclass(frozen=True)
class Reply:
    """One message out: HTML-safe text, options in rows, files.

    `chat_id` None means the chat the incoming message came from. `edit` asks the
    channel to replace the message that carried the pressed button instead of
    sending a new one (falling back to a new message when it cannot).
    `remember_as` keeps the sent message's id under a key; `edit_key` edits the
    message kept under that key instead of sending a new one (a new one is sent,
    and kept, when there is none or it cannot be edited). `resend` are files already
    on the channel, sent again by their id after the text and the new files.
    """

    text: str
    options: tuple[tuple[Option, ...], ...] = ()
    files: tuple[OutFile, ...] = ()
    chat_id: int | None = None
    edit: bool = False
    remember_as: str | None = None
    edit_key: str | None = None
    resend: tuple[KeptFile, ...] = ()


@dataclass
class Outcome:
    """What handling one incoming message produced."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None  # a short toast for a pressed button (answerCallbackQuery text)
    duplicate: bool = False  # the update was already processed; nothing was done
