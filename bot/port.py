"""The channel port: what every messenger adapter does for the runtime.

An adapter turns what its platform sends into the neutral `Incoming` (and
hands it to the runtime, which keeps it before the platform is told it
arrived), and delivers what the outbox owes to an address, answering one of
four things: delivered, blocked by the person, try again later, refused.
An address is the channel's name, the bot's id on it, and the platform's id of
the chat as a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from handlers.chat import Reply
from handlers.wire import load_reply


class Verdict(StrEnum):
    """How a delivery ended."""

    delivered = "delivered"
    blocked = "blocked"  # the person blocked the bot, or it was removed from the group
    retry = "retry"  # rate limited, a server error, a timeout, no connection: try again later
    refused = "refused"  # the platform refused this message for good (a bad request)


@dataclass(frozen=True)
class Delivery:
    """A platform's answer to one owed message."""

    verdict: Verdict
    detail: str = ""
    retry_after: float | None = None  # seconds, when the platform said
    message_id: str | None = None  # the (first) message sent, kept for a later edit
    parts_done: int = 0  # of a message sent in parts, those that went out before a failure
    answered: bool = False  # the pressed button the message carried was answered (or refused for good)
    held: bool = False  # a quota pause: kept however long it lasts (never given up), sent when it ends
    # Refused because the chat is a bloc's group the bot is not in or may not post to: the sender owes
    # the post to each unit's officers in private instead (handlers.dispatch.reroute_refused).
    group_refused: bool = False


@dataclass(frozen=True)
class Answer:
    """The answer to a pressed button (a toast, or just the spinner stopped)."""

    option_id: str
    notice: str | None


@dataclass(frozen=True)
class Message:
    """A reply to deliver: where to edit (None: send anew) and which of its parts went out already."""

    reply: Reply
    edit_message_id: str | None = None
    parts_done: int = 0
    outbox_id: int | None = None  # the row it comes from (a file link names it)
    # The pressed button this reply answers, answered first (in the reply's row: one row and one
    # record fewer per press); None once answered (a retry of the message does not answer again).
    answer: Answer | None = None


Owed = Answer | Message


def decode(payload: dict[str, Any], outbox_id: int | None = None) -> Owed:
    """An outbox row's payload as what to deliver."""
    if "answer" in payload and "reply" not in payload:  # a button answered with no reply of its own
        return Answer(option_id=str(payload["answer"]), notice=payload.get("notice"))
    if "menu" in payload:  # a chat's command menu (Reply.menu), no message
        return Message(reply=Reply("", menu=str(payload["menu"])), outbox_id=outbox_id)
    edit = payload.get("edit_message_id")
    answer = Answer(option_id=str(payload["answer"]), notice=payload.get("notice")) \
        if payload.get("answer") is not None else None
    return Message(reply=load_reply(payload["reply"]), edit_message_id=str(edit) if edit is not None else None,
                   parts_done=int(payload.get("parts_done") or 0), outbox_id=outbox_id, answer=answer)


class Channel(Protocol):
    """One bot on one messenger, as the outbox's sender sees it."""

    @property
    def name(self) -> str:
        """The channel's name ("telegram", "zalo")."""

    @property
    def bot(self) -> str:
        """The bot's id on the channel."""

    def is_group(self, chat_id: str) -> bool:
        """Whether a chat is a group (its own, slower, rate limit)."""

    async def deliver(self, chat_id: str, owed: Owed) -> Delivery:
        """Deliver one owed message; never raises for the platform's or the network's errors."""
