"""A direct driver of the channel-neutral conversation, for fast tests of the flows."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from sqlalchemy import Engine

from handlers.chat import Incoming, InFile, InKind, Outcome, Reply
from handlers.dispatch import Conversation
from handlers.markup import for_buttons

_keys = itertools.count(1)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Person:
    """One chat user talking to the conversation directly."""

    conversation: Conversation
    user_id: int
    last: Outcome = field(default_factory=Outcome)

    def _send(self, **values: object) -> Outcome:
        incoming = Incoming(channel="telegram", update_id=f"{next(_keys)}", user_id=str(self.user_id),
                            chat_id=str(self.user_id), is_private=True, **values)  # type: ignore[arg-type]
        self.last = self.conversation.handle(incoming)
        return self.last

    def text(self, text: str) -> Outcome:
        """Type a message."""
        return self._send(kind=InKind.text, text=text)

    def command(self, command: str, *args: str) -> Outcome:
        """Send /command args."""
        return self._send(kind=InKind.command, command=command, args=tuple(args))

    def press(self, label_part: str) -> Outcome:
        """Press the button of the last reply whose label contains `label_part`."""
        for reply in reversed(self.last.replies):
            for row in reply.options:
                for option in row:
                    if label_part in option.label:
                        return self._send(kind=InKind.option, data=option.data)
        raise AssertionError(f"no button {label_part!r} in {self.texts()}")

    def press_data(self, data: str) -> Outcome:
        """Press a button with raw data (forged or stale)."""
        return self._send(kind=InKind.option, data=data)

    def file(self, name: str, size: int) -> Outcome:
        """Send a document."""
        return self._send(kind=InKind.file, file=InFile(file_id=f"f-{name}", file_name=name, file_size=size))

    def sticker(self) -> Outcome:
        """Send something that is not text."""
        return self._send(kind=InKind.unsupported)

    def texts(self) -> str:
        """All reply texts of the last outcome, as a channel with buttons shows them ("bấm")."""
        return "\n---\n".join(for_buttons(reply.text) for reply in self.last.replies)

    def buttons(self) -> list[str]:
        """Every button data of the last outcome."""
        return [option.data for reply in self.last.replies for row in reply.options for option in row]


def replies_text(replies: list[Reply]) -> str:
    """Join reply texts, as a channel with buttons shows them."""
    return "\n".join(for_buttons(reply.text) for reply in replies)


def make_person(engine: Engine, user_id: int, clock: Clock) -> Person:
    """A person on a fresh conversation object."""
    return Person(Conversation(engine, clock=clock), user_id)
