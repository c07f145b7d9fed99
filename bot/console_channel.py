"""The terminal channel: the same conversation, typed at a prompt.

For trying the bot and for support staff (`python -m bot shell --officer CODE`).
Options are numbered; type `#1` to choose the first, anything else is a message.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial
from typing import TextIO

from bot.terminal import plain
from handlers.chat import Incoming, InKind, Option, Outcome
from handlers.dispatch import Conversation
from handlers.flow import small_number
from handlers.renderers.files import make

CHANNEL = "console"


class ConsoleChannel:
    """Reads lines, hands them to the conversation, prints the replies."""

    def __init__(self, conversation: Conversation, officer_id: int, output: TextIO,
                 session_tag: str) -> None:
        self.conversation = conversation
        self.officer_id = officer_id
        self.output = output
        self.options: list[Option] = []
        self._counter = itertools.count(1)
        self._tag = session_tag

    def to_incoming(self, line: str) -> Incoming:
        """A typed line as a neutral message: `#n` picks an option, `/cmd args` is a command."""
        message = partial(Incoming, channel=CHANNEL, update_id=f"{self._tag}:{next(self._counter)}",
                          user_id=str(self.officer_id), chat_id=str(self.officer_id), is_private=True)
        stripped = line.strip()
        chosen = small_number(stripped[1:]) if stripped.startswith("#") else None
        if chosen is not None:
            index = chosen - 1
            if 0 <= index < len(self.options):
                return message(kind=InKind.option, data=self.options[index].data)
        if stripped.startswith("/") and len(stripped) > 1:
            head, *args = stripped.split()
            return message(kind=InKind.command, command=head[1:].lower(), args=tuple(args), text=stripped)
        return message(kind=InKind.text, text=line)

    def show(self, outcome: Outcome) -> None:
        """Print replies as plain text with numbered options."""
        if outcome.notice:
            self.output.write(f"  ({outcome.notice})\n")
        self.options = []
        for reply in outcome.replies:
            if reply.menu is not None:
                continue  # the terminal has no command menu
            self.output.write(plain(reply.text, typed=True) + "\n")  # options are typed numbers here
            for row in reply.options:
                for option in row:
                    if option.page is not None:  # the terminal serves no web page: its address only
                        self.output.write(f"  [web] {plain(option.label)}: {option.page.path}\n")
                        continue
                    self.options.append(option)
                    self.output.write(f"  #{len(self.options)} {option.label}\n")
            for file in reply.files:
                self.output.write(f"  [file] {file.name} ({len(make(file))} bytes)\n")
        self.output.flush()

    def run(self, read_line: Callable[[], str | None]) -> None:
        """Loop until end of input or `/quit`."""
        self.show(self.conversation.handle(self.to_incoming("/report")))
        while True:
            self.output.write("> ")
            self.output.flush()
            line = read_line()
            if line is None or line.strip() in ("/quit", "/exit"):
                self.output.write("\n")
                return
            self.show(self.conversation.handle(self.to_incoming(line)))
