"""The channel-neutral conversation: what comes in, what goes out.

Telegram, a terminal and (later) Zalo each translate their own updates into an
:class:`Incoming` and render each :class:`Reply`. Nothing here knows a channel.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class InKind(StrEnum):
    """What the person sent."""

    text = "text"
    command = "command"
    option = "option"  # a pressed button; `data` holds its callback data
    file = "file"  # a document or a photo
    unsupported = "unsupported"  # a sticker, voice, location...
    edited = "edited"  # an earlier message changed by its sender; `text` holds the new text, never read as input


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

    (`channel`, `bot`, `update_id`) identifies the delivery, so that the same
    update delivered twice is processed once. `user_id` is the channel's id of
    the person; `chat_id` the chat it came from (equal to `user_id` in a
    private chat). `option_id` is the platform's id of a pressed button, to
    answer it.
    """

    channel: str
    update_id: str
    user_id: str
    chat_id: str
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
    bot: str = ""
    option_id: str = ""

    @property
    def update_key(self) -> str:
        """The delivery's key, `<channel>:<bot>:<update id>` (the inbox's unique key, as one string)."""
        return f"{self.channel}:{self.bot}:{self.update_id}"

    @property
    def chat_key(self) -> str:
        """The key of the chat this came from, for ordering its updates and replies."""
        return chat_key(self.channel, self.bot, self.chat_id)


    @property
    def chat_address(self) -> str:
        """The address of the chat this came from (see :func:`address`)."""
        return address(self.channel, self.chat_id)

    @property
    def user_address(self) -> str:
        """The address of the person's private chat."""
        return address(self.channel, self.user_id)


def chat_key(channel: str, bot: str, chat_id: str) -> str:
    """One chat of one bot on one channel, as the inbox and the outbox name it."""
    return f"{channel}:{bot}:{chat_id}"


def address(channel: str, chat_id: str) -> str:
    """Where a reply goes when it is not the chat a message came from: `<channel>:<platform id>`.

    Platform ids are strings (Telegram's are integers, Zalo's are not); which
    bot of the channel sends is the deployment's choice (handlers.dispatch.owe).
    """
    return f"{channel}:{chat_id}"


def parse_address(text: str) -> tuple[str, str]:
    """An address's channel and platform id."""
    channel, separator, chat_id = text.partition(":")
    if not separator or not channel or not chat_id:
        raise ValueError(f"not an address: {text!r}")
    return channel, chat_id


@dataclass(frozen=True)
class WebPage:
    """A web page an option opens instead of answering the bot (the report form, bot/web/).

    `path` is the page's address under the public base URL. Each channel renders
    it its own way: Telegram as a `web_app` button (the Mini App proves who opens
    it by its initData); Zalo and the terminal as the address in the text, made
    personal by `link`, the id of a web link (storage/web.py) the turn issued to
    the officer, which the channel signs with its expiry `expires` (a timestamp).
    """

    path: str
    link: int | None = None
    expires: int = 0


@dataclass(frozen=True)
class Option:
    """A choice offered under a reply (an inline button on Telegram), or a web page to open (`page`).

    `command` is what to type instead (`/back`) where a typed number answers the
    step, so a channel without buttons cannot offer the choice by its number.
    """

    label: str
    data: str
    page: WebPage | None = None
    command: str | None = None


@dataclass(frozen=True)
class OutFile:
    """A file to send: a document or a picture, made when it is sent.

    `maker` names a renderer of `handlers.renderers.files` and `data` is the
    plain data it makes the bytes from; both are kept in the outbox with the
    reply, so a file owed survives a restart. The chart and the paperwork take
    a few hundred milliseconds: a channel makes them after the turn's
    transaction, off the event loop (`await asyncio.to_thread(make, out)`,
    `handlers.renderers.files.make`).
    """

    name: str
    maker: str
    data: Any
    is_photo: bool = False
    caption: str = ""


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

    `chat_id` None means the chat the incoming message came from; otherwise it
    is an address (:func:`address`: the channel and the platform's id). `edit` asks the
    channel to replace the message that carried the pressed button instead of
    sending a new one (falling back to a new message when it cannot).
    `remember_as` keeps the sent message's id under a key; `edit_key` edits the
    message kept under that key instead of sending a new one (a new one is sent,
    and kept, when there is none or it cannot be edited). `resend` are files already
    on the channel, sent again by their id after the text and the new files.
    `protect` asks for the platform's protection from forwarding and saving.
    """

    text: str
    options: tuple[tuple[Option, ...], ...] = ()
    files: tuple[OutFile, ...] = ()
    chat_id: str | None = None
    edit: bool = False
    remember_as: str | None = None
    edit_key: str | None = None
    resend: tuple[KeptFile, ...] = ()
    # Ask the platform to keep the message from being forwarded or saved (ballots, score
    # sheets); Telegram's `protect_content`, ignored where there is no such thing (Zalo).
    protect: bool = False
    # Instead of a message: the chat's command menu, `<kind>:<language>` (`leading:vi`,
    # `member:en`; handlers.dispatch.menu_commands), where the platform has menus per chat.
    menu: str | None = None
    # A number typed in answer to this reply is the answer itself (an item's value), not the
    # pick of a numbered option: channels without buttons name the options by their commands.
    typed_numbers: bool = False
    # A post to the bloc's group (the ranking, a ballot's turnout and result): where the group is out of
    # reach on Zalo it goes to each unit's officers in private (storage/groups.py, handlers.dispatch.owe).
    group_post: bool = False
    # An edit that changes nothing a reader needs at once (a ballot's turnout one vote on): a channel
    # that cannot edit, where an edit is a new message (Zalo), leaves it out instead.
    minor_edit: bool = False


@dataclass
class Outcome:
    """What handling one incoming message produced."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None  # a short toast for a pressed button (answerCallbackQuery text)
    duplicate: bool = False  # the update was already processed; nothing was done
    chats: list[str] = field(default_factory=list)  # the chats owed messages in the outbox by this turn
    waiting: bool = False  # the chat had another update waiting when this turn claimed its own


# -- kept as JSON: the inbox keeps what came in, the outbox what must go out ----


def dump_incoming(incoming: Incoming) -> str:
    """An incoming message as JSON, for the inbox."""
    data = asdict(incoming)
    data["kind"] = incoming.kind.value
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def load_incoming(text: str) -> Incoming:
    """An incoming message back from `dump_incoming`."""
    data = json.loads(text)
    data["kind"] = InKind(data["kind"])
    data["args"] = tuple(data.get("args") or ())
    if data.get("file") is not None:
        data["file"] = InFile(**data["file"])
    return Incoming(**data)
