"""What tests call: script people and events, inject faults, inspect what the bot sent, wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

from fakes.chronicle import Chronicle
from fakes.zalo.faults import Fault, Hold
from fakes.zalo.models import FakeZaloChat, JSONDict, SentZaloMessage, WebhookDelivery
from fakes.zalo.server import ZaloBotApiServer
from fakes.zalo.users import FakeZaloUser

__all__ = ["FakeZalo"]

ChatRef = str | FakeZaloChat | FakeZaloUser


def _chat_id(chat: ChatRef) -> str:
    return chat if isinstance(chat, str) else chat.id


class FakeZalo(ZaloBotApiServer):
    """A local fake of the Zalo Bot API for one bot token.

    Point the client at it with ``ZaloBotClient(fake.token, base_url=fake.base_url)``.
    Script people with :meth:`user` / :meth:`group`, faults with :meth:`fail_next`,
    :meth:`remove_from_group` (or ``can_join_groups=False``: ``getMe`` says so, and every group send is 403),
    :meth:`set_delay`, :meth:`hold` and :meth:`set_quota`; inspect :attr:`sent`,
    :attr:`calls`, :attr:`chat_actions`, :attr:`webhook_deliveries`; wait for events
    (:meth:`wait_for_messages`, :meth:`next_reply`, :meth:`wait_polling`,
    :meth:`wait_delivered`), never for a quiet period.
    """

    async def __aenter__(self) -> FakeZalo:
        """Start the server for an ``async with`` block."""
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server at the end of an ``async with`` block."""
        await self.stop()

    @property
    def chronicle(self) -> Chronicle | None:
        """Where every event queued and every message sent is noted (None: nowhere)."""
        return self.updates.chronicle

    @chronicle.setter
    def chronicle(self, chronicle: Chronicle | None) -> None:
        self.updates.chronicle = chronicle

    # ------------------------------------------------------------------ scripting

    def user(self, display_name: str, user_id: str | None = None) -> FakeZaloUser:
        """A scripted person (a Zalo-like id unless given) and their private chat with the bot."""
        person = FakeZaloUser(self.updates, self.ids, user_id or self.ids.next("user"), display_name)
        self.chats[person.id] = person.chat
        return person

    def group(self, name: str, group_id: str | None = None) -> FakeZaloChat:
        """A group chat the bot is in (its messages reach the bot only when it is mentioned)."""
        chat = FakeZaloChat(id=group_id or self.ids.next("group"), chat_type="GROUP", name=name)
        self.chats[chat.id] = chat
        return chat

    def block(self, person: FakeZaloUser) -> None:
        """The person blocks the bot: messages to them answer 403."""
        self.blocked.add(person.id)

    def remove_from_group(self, group: ChatRef) -> None:
        """The bot is removed from a group: sends to it answer 403 ("not a member of this group")."""
        self.refusing_groups.add(_chat_id(group))

    def inject(self, event: JSONDict, *, first: bool = False) -> JSONDict:
        """Queue a raw event (at the front with ``first``, i.e. out of order) and return it."""
        return self.updates.enqueue(event, first=first)

    def inject_duplicate(self, event: JSONDict) -> JSONDict:
        """Deliver an event once more, the same ``message_id`` (at-least-once delivery)."""
        return self.updates.enqueue(event)

    def fail_next(self, method: str, *, status: int = 500, count: int = 1, description: str | None = None,
                  retry_after: int | None = None, http_status: int | None = None) -> None:
        """Make the next ``count`` calls of ``method`` ("*" = any but getUpdates) fail with ``status``.

        ``retry_after`` is sent as a ``Retry-After`` header; ``http_status`` (e.g. 200)
        makes an answer whose HTTP status differs from its ``error_code``.
        """
        self.faults.fail_next(method, Fault(status, description, http_status, retry_after), count)

    def set_delay(self, method: str, seconds: float) -> None:
        """Delay every answer of ``method`` ("*" = any but getUpdates) by ``seconds`` (0 removes it)."""
        self.faults.set_delay(method, seconds)

    def hold(self, method: str, *, chat: ChatRef | None = None) -> Hold:
        """Keep calls of ``method`` (to ``chat`` only, if given) unanswered until ``release()``: a hang.

        ``await hold.arrived.wait()`` waits until the bot made such a call.
        """
        return self.faults.hold(method, chat_id=None if chat is None else _chat_id(chat))

    def on_handed_out(self, callback: Callable[[JSONDict], None] | None) -> None:
        """Call ``callback`` with each event getUpdates hands out, once its answer was written; None removes it.

        There is no offset on Zalo: an event handed out is gone from the platform. A
        benchmark kills the bot there (the event is in flight or just read, not yet kept).
        """
        self.updates.on_handed_out = callback

    def on_webhook_accepted(self, callback: Callable[[JSONDict], None] | None) -> None:
        """Call ``callback`` with each event the bot's webhook answered 2xx to, at that moment; None removes it."""
        self.updates.on_accepted = callback

    def set_webhook_retries(self, retries: int, delay: float) -> None:
        """How often (and how far apart, in seconds) a refused or failed webhook POST is tried again."""
        self.updates.webhook_retries = retries
        self.updates.webhook_retry_delay = delay

    def set_quota(self, monthly_messages: int | None) -> None:
        """Allow this many messages in the month (counting those sent); None lifts the limit."""
        self.faults.monthly_quota = monthly_messages

    @property
    def quota_used(self) -> int:
        """Messages sent this month (the fake's lifetime)."""
        return self.faults.quota_used

    def wrap_webhook_bodies(self, wrapped: bool) -> None:
        """POST webhook bodies as ``{"ok": true, "result": event}`` (the default) or as the bare event."""
        self.updates.wrap_webhook_bodies = wrapped

    async def post_to_webhook(self, event: JSONDict, *, secret_token: str | None, wrap: bool | None = None,
                              url: str | None = None) -> int | None:
        """POST one event to the webhook with a chosen (wrong, missing) secret; the HTTP status."""
        return await self.updates.post_to_webhook(event, secret_token=secret_token, wrap=wrap, url=url)

    # ------------------------------------------------------------------ inspection

    @property
    def webhook_url(self) -> str | None:
        """The webhook URL the bot set, if any."""
        return self.updates.webhook_url

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every attempt at POSTing an event to the webhook, in order."""
        return self.updates.deliveries

    @property
    def handed_out(self) -> list[JSONDict]:
        """Events handed to the bot by getUpdates, in order."""
        return self.updates.handed_out

    @property
    def pending_count(self) -> int:
        """Events not yet handed out or accepted by the webhook."""
        return self.updates.pending_count

    def messages_to(self, chat: ChatRef) -> list[SentZaloMessage]:
        """What the bot sent to a chat, in order."""
        return list(self.by_chat.get(_chat_id(chat), []))

    def calls_of(self, method: str) -> list[JSONDict]:
        """The parameters of every call of ``method`` (answered or not), in order."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    # ------------------------------------------------------------------ waits

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0, *,
                         what: str | Callable[[], str] = "the condition") -> None:
        """Return once ``condition()`` holds, checked after every change; TimeoutError after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closing:
                described = what() if callable(what) else what
                raise TimeoutError(f"no {described} within {timeout}s")
            await self.changed.wait(remaining)

    async def wait_for_messages(self, chat: ChatRef, count: int, timeout: float = 5.0, *, after: int = 0
                                ) -> list[SentZaloMessage]:
        """Wait until the bot sent ``count`` messages to ``chat`` (from index ``after`` of its messages)."""
        chat_id = _chat_id(chat)

        def since() -> list[SentZaloMessage]:
            return self.by_chat.get(chat_id, [])[after:]

        await self.wait_until(lambda: len(since()) >= count, timeout,
                              what=lambda: f"{count} messages to {chat_id} (got {len(since())})")
        return since()[:count]

    async def next_reply(self, chat: ChatRef, timeout: float = 5.0) -> SentZaloMessage:
        """The next message to ``chat`` after the last one this returned for it."""
        chat_id = _chat_id(chat)
        cursor = self.reply_cursors.get(chat_id, 0)
        [message] = await self.wait_for_messages(chat_id, 1, timeout, after=cursor)
        self.reply_cursors[chat_id] = cursor + 1
        return message

    async def wait_polling(self, timeout: float = 5.0) -> None:
        """Wait until the bot is inside a getUpdates long poll."""
        await self.wait_until(lambda: self.updates.polls_waiting > 0, timeout, what="long poll")

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Wait until every queued event was handed out (polling) or POSTed and answered (webhook)."""
        await self.wait_until(lambda: self.updates.pending_count == 0, timeout,
                              what=lambda: f"delivery of every event ({self.updates.pending_count} pending)")
