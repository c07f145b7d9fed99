"""What every feature's handler receives, and how a feature plugs into the dispatcher."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session

from handlers.chat import Incoming, Option, Outcome, Reply
from handlers.i18n import t
from storage.chat import OfficerView
from storage.models import ChatState


@dataclass
class Context:
    """One incoming message's world: the session, the person's state, the officer, the time."""

    session: Session
    state: ChatState
    incoming: Incoming
    officer: OfficerView
    now: dt.datetime
    language: str

    def new_nonce(self) -> str:
        """A fresh token for the buttons of the prompt being sent; older buttons go stale."""
        self.state.nonce = secrets.token_hex(3)
        return self.state.nonce

    def option(self, label_key: str, action: str, **params: object) -> Option:
        """A report button whose data carries the current nonce."""
        return Option(t(self.language, label_key, **params), f"r:{self.state.nonce}:{action}")

    def leave_flow(self) -> None:
        """Forget the current step (data already saved stays saved)."""
        state = self.state
        state.flow = state.step = state.item_code = state.pending = state.return_to = None
        state.period_id = None
        state.nonce = ""


Handler = Callable[[Context], Outcome]


@dataclass(frozen=True)
class Feature:
    """A piece of the bot: its commands, its buttons, its flow's free-text steps, its menu.

    `commands` work in a private chat; `group_commands` in the bloc's group. Button
    data starts with `option_prefix` and a colon; the handler gets the data split on
    colons. `on_message` receives text and files while `state.flow == name`.
    `menu` maps commands to the catalog key of their description (setMyCommands).
    """

    name: str
    commands: Mapping[str, Handler] = field(default_factory=dict)
    group_commands: Mapping[str, Handler] = field(default_factory=dict)
    option_prefix: str | None = None
    on_option: Callable[[Context, list[str]], Outcome] | None = None
    on_message: Handler | None = None
    menu: Mapping[str, str] = field(default_factory=dict)


_SMALL_NUMBER = re.compile(r"[0-9]{1,9}")


def small_number(text: str) -> int | None:
    """An id or index from button data: ASCII digits only, small enough for any column."""
    return int(text) if _SMALL_NUMBER.fullmatch(text) else None


def stale_elsewhere(ctx: Context) -> Outcome:
    """A button that belongs to no current step: refused politely, nothing changed."""
    outcome = Outcome([Reply(t(ctx.language, "stale_button_idle"))])
    outcome.notice = t(ctx.language, "stale_notice")
    return outcome
