"""What a conversation flow is made of, and what each of its steps receives.

A flow (the report, the review, the votes, a deadline change) is declared as
data, the way python-telegram-bot's ``ConversationHandler(states={...})`` is,
but persisted: :class:`Flow` names its typed state (a :class:`FlowState`
model the dispatcher stores as JSON in the person's ``ChatState``), its entry
commands, and for each step what a pressed button (by action) and what typed
text or a file do there. The dispatcher (``handlers/dispatch.py``) loads the
state, checks a button's nonce once (in constant time), finds the step's
handler in the map and stores the state the handler returns.

A step handler decides: it may call services and storage, and returns a
:class:`Turn` (the replies, made by a renderer, and the flow's next state).
A renderer renders: it never changes state. A button bound to the current
prompt is made with :meth:`Context.button`; its data carries the turn's fresh
nonce, and the dispatcher keeps that nonce once a reply with such a button
goes out, so every older button of the flow goes stale.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from handlers.chat import Incoming, Option, Reply
from handlers.i18n import DEFAULT_ADDRESS, Safe, t
from storage.blocs import stored_bloc
from storage.chat import OfficerView


class FlowState(BaseModel):
    """A flow's own state between two messages; each flow subclasses it with a `step` and its fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    step: str


StateT = TypeVar("StateT", bound=FlowState)


class _Keep:
    """The flow's state stays as it was (the default of a :class:`Turn`)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass
class Turn:
    """What a step decided: the replies to send, a toast for a pressed button, and the next state.

    `state` is :data:`KEEP` (unchanged), ``None`` (the person leaves the flow; data
    already saved stays saved) or the flow's new state.
    """

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    state: FlowState | None | _Keep = KEEP


class Buttons(Protocol):
    """Makes a button of the current prompt, bound to a flow's prefix and the turn's nonce."""

    def __call__(self, label: str, action: str, *arguments: object) -> Option: ...


@dataclass(frozen=True)
class WebOffer:
    """The web pages are served (bot/web/): when the chat offers the report form, and how.

    `/report` offers the form when a unit's sheet has more than `min_items` items
    (`/form` always). On `mini_app_channels` (Telegram) the form opens as a Mini
    App; elsewhere (Zalo, a terminal) the bot sends a personal link that works
    `link_ttl` (storage/web.py).
    """

    min_items: int = 12
    link_ttl: dt.timedelta = dt.timedelta(hours=72)
    mini_app_channels: frozenset[str] = frozenset({"telegram"})


@dataclass(frozen=True)
class Context:
    """One incoming message's world: the session, the message, the officer, the time, the language.

    `nonce` is this turn's fresh token: buttons made with :meth:`button` carry it,
    and it becomes the person's current nonce when such a button is sent.
    """

    session: Session
    incoming: Incoming
    officer: OfficerView
    now: dt.datetime
    language: str
    nonce: str
    web: WebOffer | None = None  # None: no web pages are served

    @cached_property
    def address(self) -> str:
        """How the officer's bloc addresses its officers (`đồng chí`, `anh/chị`), read once per turn."""
        try:
            return stored_bloc(session=self.session, bloc_id=self.officer.bloc_id).config.bloc.address
        except LookupError:
            return DEFAULT_ADDRESS

    def text(self, key: str, **params: object) -> Safe:
        """A catalog text in the person's language, addressing the officer as the bloc chose."""
        return t(self.language, key, address=self.address, **params)

    def button(self, prefix: str, label: str, action: str, *arguments: object) -> Option:
        """A button of the current prompt: `<prefix>:<nonce>:<action>[:<argument>...]`."""
        data = ":".join([prefix, self.nonce, action, *(str(argument) for argument in arguments)])
        if len(data.encode()) > 64:
            raise ValueError(f"button data over 64 bytes: {data!r}")
        return Option(label, data)

    def buttons(self, prefix: str) -> Buttons:
        """A button maker for a renderer: :meth:`button` with the flow's prefix filled in."""
        return partial(self.button, prefix)


Handler = Callable[[Context], Turn]
"""A group command, or a button without a nonce."""


@dataclass(frozen=True)
class Step(Generic[StateT]):
    """What one step of a flow answers: pressed buttons by action, and typed text or a file.

    A button handler gets the state and the button's argument (the parts after
    the action, joined by colons); `on_message` gets the state. A button whose
    action the step does not list is stale: the flow's `on_stale` answers it.
    """

    buttons: Mapping[str, Callable[[Context, StateT, str], Turn]] = field(default_factory=dict)
    on_message: Callable[[Context, StateT], Turn] | None = None


@dataclass(frozen=True)
class Flow(Generic[StateT]):
    """A piece of the bot: its commands, its typed state, its steps, its menu.

    `commands` work in a private chat and get the flow's stored state (None when
    the person is not in this flow), `group_commands` work in the bloc's group.
    Button data is `<prefix>:<nonce>:<action>[:<argument>...]`; `open_buttons`
    are buttons without a nonce (`<prefix>:<action>[:...]`, e.g. a report's
    "resume" under a reminder, or a ballot whose own token stands in for the
    nonce), each re-checking authorization itself; like a command, such a
    button gets the flow's stored state (or None) and the parts after its name. `steps` maps each value of
    the state's `step` to what it answers; `on_stale` answers a button of an
    older prompt (or of no current step) and typed text in a step without
    `on_message`. `again` shows the current step once more under a header text
    (after a message whose turn failed and saved nothing). `menu` maps commands
    to the catalog key of their description.
    """

    name: str
    prefix: str
    state_type: type[StateT]
    steps: Mapping[str, Step[StateT]]
    on_stale: Callable[[Context, StateT], Turn]
    commands: Mapping[str, Callable[[Context, StateT | None], Turn]] = field(default_factory=dict)
    group_commands: Mapping[str, Handler] = field(default_factory=dict)
    open_buttons: Mapping[str, Callable[[Context, StateT | None, list[str]], Turn]] = field(default_factory=dict)
    menu: Mapping[str, str] = field(default_factory=dict)
    again: Callable[[Context, StateT, str], Turn] | None = None

    def load(self, stored: str) -> StateT:
        """The flow's state from its stored JSON."""
        return self.state_type.model_validate_json(stored)


AnyFlow = Flow[Any]

_SMALL_NUMBER = re.compile(r"[0-9]{1,9}")


def small_number(text: str) -> int | None:
    """An id or index from button data: ASCII digits only, small enough for any column."""
    return int(text) if _SMALL_NUMBER.fullmatch(text) else None


def stale_elsewhere(ctx: Context) -> Turn:
    """A button that belongs to no current step: refused politely, nothing changed."""
    return Turn([Reply(ctx.text("stale_button_idle"))], notice=ctx.text("stale_notice"))
