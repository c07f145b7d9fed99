"""One record of what people and the bot said on the fake servers, in the order it happened.

Both fake servers (Telegram's and Zalo's) note into one :class:`Chronicle` when they
are given it (``fake.chronicle = chronicle``): each message a person sends (a text, a
button pressed, a file), when it is queued for the bot; each message the bot sends,
edits or shows as a toast, when the server takes it. One counter orders them across
both servers; the time is the chronicle's clock (the demo's, which moves through the
year).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Chronicle", "Kind", "Said"]


class Kind(StrEnum):
    """What a noted moment is."""

    text = "text"  # a text message
    press = "press"  # a button pressed (its label in `text`)
    file = "file"  # a document (name and size)
    photo = "photo"  # a picture (with its caption in `text`)
    edit = "edit"  # the bot changed a message it had sent
    toast = "toast"  # the bot's short answer to a pressed button
    chapter = "chapter"  # a heading the script writes between parts of the story


@dataclass(frozen=True, slots=True)
class Said:
    """One moment of the story."""

    seq: int
    at: dt.datetime
    kind: Kind
    channel: str = ""  # "telegram" or "zalo" ("" for a chapter)
    chat_id: str = ""
    group: bool = False
    by_bot: bool = False
    sender: str = ""  # the person's display name ("" for the bot)
    text: str = ""
    file_name: str | None = None
    file_size: int | None = None
    link: str | None = None  # a photo's URL on Zalo
    buttons: tuple[str, ...] = ()  # the labels of the buttons under a bot message (Telegram)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Chronicle:
    """The moments noted so far, in order."""

    clock: Callable[[], dt.datetime] = _utc_now
    moments: list[Said] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def note(self, kind: Kind, **fields: object) -> Said:
        """Note a moment now (see :class:`Said` for the fields)."""
        said = Said(seq=next(self._counter), at=self.clock(), kind=kind, **fields)  # type: ignore[arg-type]
        self.moments.append(said)
        return said

    def chapter(self, title: str) -> Said:
        """Begin a part of the story."""
        return self.note(Kind.chapter, text=title)
