"""What tests call: script people and updates, inspect what the bot did, wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from fakes.chronicle import Chronicle
from fakes.telegram.faults import Hold
from fakes.telegram.models import CallbackAnswer, FakeChat, JSONDict, SentMessage, WebhookDelivery
from fakes.telegram.server import BotApiServer
from fakes.telegram.state import Signal
from fakes.telegram.users import FakeUser

__all__ = ["FakeTelegram"]


class _UpdateQueueOwner(Protocol):
    """What :meth:`FakeTelegram.wait_handled` needs of a python-telegram-bot Application."""

    @property
    def update_queue(self) -> asyncio.Queue[object]: ...


def _chat_key(chat: int | FakeChat | FakeUser) -> int:
    return chat if isinstance(chat, int) else chat.id


class FakeTelegram(BotApiServer):
    """A local fake of the Telegram Bot API for one bot token.

    Point PTB at it with ``ApplicationBuilder().token(fake.token).base_url(fake.base_url)
    .base_file_url(fake.base_file_url)``. Script users with :meth:`user` / :meth:`group`,
    inspect what the bot did through :attr:`sent`, :attr:`calls` and friends, and wait for
    events (:meth:`wait_for`, :meth:`wait_for_messages`, :meth:`wait_handled`, ...): never
    for a quiet period.
    """

    async def __aenter__(self) -> FakeTelegram:
        """Start the server for an ``async with`` block."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server at the end of an ``async with`` block."""
        await self.stop()

    @property
    def bot_user(self) -> JSONDict:
        """The bot's ``User`` object."""
        return self.state.bot_user

    @property
    def chronicle(self) -> Chronicle | None:
        """Where every update queued and every message sent, edited or toasted is noted (None: nowhere)."""
        return self.state.chronicle

    @chronicle.setter
    def chronicle(self, chronicle: Chronicle | None) -> None:
        self.state.chronicle = chronicle

    # ------------------------------------------------------------------ scripting

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        language_code: str = "vi",
        last_name: str | None = None,
    ) -> FakeUser:
        """Create (or replace) a scripted user with a private chat ``id == user_id``."""
        fake_user = FakeUser(
            self.state,
            self.updates,
            user_id,
            first_name,
            bot_username=self.bot_username,
            username=username,
            language_code=language_code,
            last_name=last_name,
        )
        self.state.chats[user_id] = fake_user.chat
        return fake_user

    def group(
        self,
        chat_id: int,
        title: str,
        *,
        supergroup: bool | None = None,
        username: str | None = None,
    ) -> FakeChat:
        """Create a group chat (negative id; "-100..." ids are supergroups by default)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if supergroup is None:
            supergroup = str(chat_id).startswith("-100")
        chat = FakeChat(id=chat_id, type="supergroup" if supergroup else "group", title=title, username=username)
        self.state.chats[chat_id] = chat
        return chat

    def inject(self, update: JSONDict) -> JSONDict:
        """Queue a raw update (an ``update_id`` is assigned unless present) and return it."""
        return self.updates.enqueue(dict(update))

    def inject_duplicate(self, update: JSONDict) -> JSONDict:
        """Deliver ``update`` once more with the SAME update_id (at-least-once delivery)."""
        return self.updates.redeliver(update)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` ("*" = any but getUpdates) fail."""
        self.faults.fail_next(method, status=status, count=count, retry_after=retry_after, description=description)

    def set_delay(self, method: str, seconds: float) -> None:
        """Delay every answer of ``method`` by ``seconds`` (0 removes the delay)."""
        self.faults.set_delay(method, seconds)

    def hold(self, method: str, *, chat: int | FakeChat | FakeUser | None = None) -> Hold:
        """Keep calls of ``method`` (to ``chat`` only, if given) unanswered until ``release()``.

        ``await hold.arrived.wait()`` waits until the bot made such a call.
        """
        return self.faults.hold(method, chat_id=None if chat is None else _chat_key(chat))

    def on_acknowledged(self, callback: Callable[[list[JSONDict]], None] | None) -> None:
        """Call ``callback`` with the updates a getUpdates' ``offset`` acknowledges, at that moment
        (before the call is answered); None removes it. A benchmark kills the bot there."""
        self.updates.on_acknowledged = callback

    async def post_to_webhook(self, update: JSONDict, *, secret_token: str | None) -> int:
        """POST ``update`` to the current webhook with a chosen secret; return the HTTP status."""
        return await self.updates.post_to_webhook(update, secret_token=secret_token)

    # ------------------------------------------------------------------ inspection

    @property
    def sent(self) -> list[SentMessage]:
        """Every message the bot sent and every edit snapshot, in order."""
        return self.state.sent

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """The answerCallbackQuery calls that Telegram accepted."""
        return self.methods.callback_answers

    @property
    def commands(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """setMyCommands by (scope key, language code)."""
        return self.methods.commands

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        """sendChatAction calls as (chat id, action)."""
        return self.methods.chat_actions

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every attempt of POSTing an update to the webhook."""
        return self.updates.deliveries

    @property
    def webhook_most_at_once(self) -> int:
        """The most webhook POSTs that were under way at one moment."""
        return self.updates.most_posts_at_once

    @property
    def webhook_retries(self) -> int:
        """How many times a failed webhook delivery is retried."""
        return self.updates.webhook_retries

    @property
    def webhook_url(self) -> str | None:
        """The webhook URL set by the bot, if any."""
        return self.updates.webhook_url

    @property
    def pending_update_count(self) -> int:
        """Updates not yet confirmed (polling) or delivered (webhook)."""
        return self.updates.pending_count

    def mark(self) -> int:
        """Return a marker (index into :attr:`sent`) for ``wait_for(..., after=marker)``."""
        return len(self.state.sent)

    def messages_to(self, chat: int | FakeChat | FakeUser, *, include_edits: bool = False) -> list[SentMessage]:
        """Messages the bot sent to a chat, in order (edit snapshots only if asked)."""
        items = self.state.by_chat.get(_chat_key(chat), [])
        return list(items) if include_edits else [m for m in items if not m.is_edit]

    def message(self, chat: int | FakeChat | FakeUser, message_id: int) -> SentMessage:
        """The current state (after edits/deletion) of a bot message; KeyError if unknown."""
        return self.state.current[(_chat_key(chat), message_id)]

    def commands_for(self, language_code: str = "", scope: str = "default") -> list[tuple[str, str]]:
        """Commands set with setMyCommands for a language ("" = default) and scope key."""
        return self.methods.commands.get((scope, language_code), [])

    # ------------------------------------------------------------------ waits

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float = 5.0, *, what: str | Callable[[], str] = "the condition"
    ) -> None:
        """Return once ``condition()`` holds; it is checked again after every change the server sees.

        Raises TimeoutError (naming ``what``) after ``timeout`` seconds or when the server stops.
        """
        await self._wait(self.state.changed, condition, timeout, what)

    async def _wait(
        self, signal: Signal, condition: Callable[[], bool], timeout: float, what: str | Callable[[], str]
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or self.state.closing:
                described = what() if callable(what) else what
                raise TimeoutError(f"no {described} within {timeout}s")
            await signal.wait(remaining)

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = 5.0,
        *,
        after: int = 0,
    ) -> SentMessage:
        """Return the first entry of :attr:`sent` at index >= ``after`` matching ``predicate``."""
        sent = self.state.sent
        found: list[SentMessage] = []
        index = after

        def matched() -> bool:
            nonlocal index
            while index < len(sent):
                item = sent[index]
                index += 1
                if predicate(item):
                    found.append(item)
                    return True
            return False

        await self._wait(self.state.sent_signal, matched, timeout, lambda: f"matching message; last sent: {sent[-5:]}")
        return found[0]

    async def wait_for_messages(
        self,
        chat: int | FakeChat | FakeUser,
        count: int,
        timeout: float = 5.0,
        *,
        after: int = 0,
        include_edits: bool = False,
    ) -> list[SentMessage]:
        """Wait until the bot has sent ``count`` messages to ``chat`` since ``after`` (a :meth:`mark`)."""
        chat_id = _chat_key(chat)

        def since() -> list[SentMessage]:
            return [m for m in self.state.sent[after:] if m.chat_id == chat_id and (include_edits or not m.is_edit)]

        await self._wait(self.state.sent_signal, lambda: len(since()) >= count, timeout,
                         lambda: f"{count} messages to chat {chat_id} (got {len(since())})")
        return since()[:count]

    async def next_reply(
        self,
        chat: int | FakeChat | FakeUser,
        timeout: float = 5.0,
        *,
        include_edits: bool = False,
    ) -> SentMessage:
        """Wait for the next message to ``chat`` after the last one returned for it."""
        chat_id = _chat_key(chat)
        found: list[SentMessage] = []

        def arrived() -> bool:
            items = self.state.by_chat.get(chat_id, [])
            cursor = self.state.reply_cursor.get(chat_id, 0)
            while cursor < len(items):
                item = items[cursor]
                cursor += 1
                self.state.reply_cursor[chat_id] = cursor
                if include_edits or not item.is_edit:
                    found.append(item)
                    return True
            return False

        await self._wait(self.state.sent_signal, arrived, timeout, lambda: (
            f"new message to chat {chat_id}; last sent there: {self.state.by_chat.get(chat_id, [])[-3:]}"))
        return found[0]

    async def wait_answered(self, update: JSONDict, timeout: float = 5.0, *, times: int = 1) -> None:
        """Wait until the bot answered the button press ``update`` ``times`` times.

        Refused answers count: a second answer of one press (e.g. of a redelivered
        update) is an answer Telegram refuses.
        """
        query_id = str(update["callback_query"]["id"])
        attempts = self.methods.answer_attempts
        await self.wait_until(lambda: attempts[query_id] >= times, timeout,
                              what=f"answer #{times} of button press {query_id}")

    async def wait_delivered(self, timeout: float = 5.0) -> None:
        """Wait until the bot has every queued update: polling, confirmed by a later
        getUpdates (so the bot has queued it); webhook, POSTed and accepted."""
        await self.wait_until(lambda: self.updates.delivered, timeout,
                              what=lambda: f"delivery of every update ({self.updates.pending_count} pending)")

    async def wait_handled(self, application: _UpdateQueueOwner, timeout: float = 5.0) -> None:
        """Wait until every queued update reached ``application`` and its handlers finished.

        python-telegram-bot marks an update done in its ``update_queue`` when its
        handlers (and error handlers) return; an empty queue with nothing unfinished,
        after every update was delivered, is a bot with nothing left to do.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self.wait_delivered(timeout)
        try:
            await asyncio.wait_for(application.update_queue.join(), max(deadline - loop.time(), 0.001))
        except TimeoutError:
            raise TimeoutError(f"the bot did not finish its updates within {timeout}s") from None

    async def wait_polling(self, timeout: float = 5.0) -> None:
        """Wait until the bot is inside a getUpdates long poll, waiting for updates."""
        await self.wait_until(lambda: self.updates.polls_waiting > 0, timeout, what="long poll")
