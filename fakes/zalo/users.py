"""Scripted Zalo people: they write to the bot in private or in a group, as the platform reports it."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Mapping

from fakes.zalo.models import FakeZaloChat, JSONDict
from fakes.zalo.updates import EventQueue

__all__ = [
    "EVENT_IMAGE",
    "EVENT_STICKER",
    "EVENT_TEXT",
    "EVENT_UNSUPPORTED",
    "FakeZaloUser",
    "IdMaker",
    "message_event",
]

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"


class IdMaker:
    """Zalo-like string ids (20 hex digits), the same in every run."""

    def __init__(self, seed: str = "fake-zalo") -> None:
        """Ids derived from ``seed`` and a counter."""
        self._seed = seed
        self._counter = itertools.count(1)

    def next(self, kind: str) -> str:
        """A new id of a kind ("message", "user", ...)."""
        return hashlib.sha256(f"{self._seed}:{kind}:{next(self._counter)}".encode()).hexdigest()[:20]


def now_ms() -> int:
    """The time as the platform writes it: epoch milliseconds."""
    return int(time.time() * 1000)


def message_event(
    event_name: str,
    *,
    message_id: str,
    chat: FakeZaloChat,
    sender_id: str,
    display_name: str,
    date: int | None = None,
    is_bot: bool = False,
    content: Mapping[str, str] | None = None,
) -> JSONDict:
    """One event as the platform sends it (``content``: text, photo_url and caption, or sticker)."""
    message: JSONDict = {
        "message_id": message_id,
        "date": now_ms() if date is None else date,
        "chat": {"id": chat.id, "chat_type": chat.chat_type},
        "from": {"id": sender_id, "display_name": display_name, "is_bot": is_bot},
        **(content or {}),
    }
    return {"event_name": event_name, "message": message}


class FakeZaloUser:
    """A person on Zalo: their private chat with the bot has their id."""

    def __init__(self, queue: EventQueue, ids: IdMaker, user_id: str, display_name: str) -> None:
        """A person known to the fake server (see :meth:`FakeZalo.user`)."""
        self._queue = queue
        self._ids = ids
        self.id = user_id
        self.display_name = display_name
        self.chat = FakeZaloChat(id=user_id, chat_type="PRIVATE", name=display_name)
        self.unseen: list[JSONDict] = []  # group messages the bot was not shown (not mentioned)

    def __repr__(self) -> str:
        """The person's name and id."""
        return f"FakeZaloUser({self.display_name!r}, {self.id!r})"

    def event(self, event_name: str, *, group: FakeZaloChat | None = None, date: int | None = None,
              message_id: str | None = None, content: Mapping[str, str] | None = None) -> JSONDict:
        """An event of this person, not queued (to queue later, twice, or out of order)."""
        return message_event(event_name, message_id=message_id or self._ids.next("message"),
                             chat=group or self.chat, sender_id=self.id, display_name=self.display_name,
                             date=date, content=content)

    def _send(self, event: JSONDict, group: FakeZaloChat | None, mentioned: bool) -> JSONDict | None:
        if group is not None and not mentioned:
            # Groups are in beta: the bot sees a group message only when it is mentioned (or replied to).
            self.unseen.append(event)
            return None
        return self._queue.enqueue(event)

    def send_text(self, text: str, *, group: FakeZaloChat | None = None, mentioned: bool = True,
                  date: int | None = None) -> JSONDict | None:
        """Type a text (in ``group`` if given); the queued event, None when the bot does not see it."""
        return self._send(self.event(EVENT_TEXT, group=group, date=date, content={"text": text}), group, mentioned)

    def send_command(self, command: str, *args: str, group: FakeZaloChat | None = None) -> JSONDict | None:
        """Type "/command args" (a plain text on Zalo: there are no command entities)."""
        return self.send_text(" ".join([f"/{command}", *args]), group=group)

    def send_image(self, url: str, caption: str = "", *, group: FakeZaloChat | None = None,
                   mentioned: bool = True) -> JSONDict | None:
        """Send a picture; the platform reports it by URL (``photo_url``) with its caption."""
        content = {"photo_url": url}
        if caption:
            content["caption"] = caption
        return self._send(self.event(EVENT_IMAGE, group=group, content=content), group, mentioned)

    def send_sticker(self, sticker: str = "d063f44dc80821567819", *, group: FakeZaloChat | None = None,
                     mentioned: bool = True) -> JSONDict | None:
        """Send a sticker."""
        return self._send(self.event(EVENT_STICKER, group=group, content={"sticker": sticker}), group, mentioned)

    def send_unsupported(self, *, group: FakeZaloChat | None = None, mentioned: bool = True) -> JSONDict | None:
        """Send something the platform withholds (a voice message, a protected user's content)."""
        return self._send(self.event(EVENT_UNSUPPORTED, group=group), group, mentioned)
