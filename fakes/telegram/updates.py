"""Update delivery: the queue of updates, getUpdates long polling and the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable

import aiohttp

from fakes.telegram.errors import ApiError
from fakes.telegram.models import JSONDict, WebhookDelivery
from fakes.telegram.state import ServerState, Signal

__all__ = ["UpdateQueue"]

_LOG = logging.getLogger(__name__)

# Update types delivered when allowed_updates was never specified (Bot API default).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


# The longest pause between two attempts of one webhook delivery (Telegram's grow to
# minutes; a fake's tests and benchmarks should not wait that long).
_LONGEST_RETRY = 1.0


def _update_type(update: JSONDict) -> str:
    return next((key for key in update if key != "update_id"), "")


def _queue_key(update: JSONDict) -> object:
    """The webhook queue an update waits in: its chat's (its sender's when it has no chat)."""
    body = update.get(_update_type(update))
    if isinstance(body, dict):
        message = body.get("message")
        chat = body.get("chat") or (message.get("chat") if isinstance(message, dict) else None)
        if isinstance(chat, dict) and "id" in chat:
            return chat["id"]
        sender = body.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return sender["id"]
    return ("update", update.get("update_id"))


class UpdateQueue:
    """The updates waiting for the bot, handed out by getUpdates or POSTed to its webhook."""

    def __init__(self, state: ServerState, *, webhook_retries: int) -> None:
        """An empty queue; nothing is POSTed before :meth:`open`."""
        self.state = state
        self.webhook_retries = webhook_retries
        self.deliveries: list[WebhookDelivery] = []
        self._pending: deque[JSONDict] = deque()
        self._redeliver: list[JSONDict] = []
        self._next_update_id = 1
        # The offset a getUpdates must ask for to confirm the last batch handed out.
        self._unconfirmed_offset: int | None = None
        self._allowed_updates: list[str] | None = None
        self._signal = Signal()
        self._poll_generation = 0
        # Called with the updates a getUpdates' offset just acknowledged, before it is answered.
        self.on_acknowledged: Callable[[list[JSONDict]], None] | None = None
        self.polls_waiting = 0

        self._session: aiohttp.ClientSession | None = None
        self.webhook_url: str | None = None
        self._webhook_secret: str | None = None
        self._webhook_max_connections = 40
        self._webhook_task: asyncio.Task[None] | None = None
        # The delivery under way per chat queue (see _webhook_loop).
        self._webhook_chats: dict[object, asyncio.Task[None]] = {}
        self.most_posts_at_once = 0
        self._webhook_last_error: tuple[int, str] | None = None

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        """The server listens: webhook deliveries may start."""
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Wake long polls, cancel webhook delivery, close the HTTP client."""
        self._signal.notify_all()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        posts = list(self._webhook_chats.values())
        for post in posts:
            post.cancel()
        for post in posts:
            with contextlib.suppress(asyncio.CancelledError):
                await post
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ the queue

    @property
    def pending_count(self) -> int:
        """Updates not yet confirmed (polling) or delivered (webhook)."""
        return len(self._pending) + len(self._redeliver)

    @property
    def delivered(self) -> bool:
        """Every queued update reached the bot: confirmed by a later getUpdates, or POSTed."""
        if self._redeliver:
            return False
        if self.webhook_url is not None:
            return not self._pending and not self._webhook_chats
        return not self._pending and self._unconfirmed_offset is None

    def enqueue(self, update: JSONDict) -> JSONDict:
        """Queue an update (an ``update_id`` is assigned unless present) and return it."""
        if "update_id" in update:
            update_id = int(update["update_id"])
            self._next_update_id = max(self._next_update_id, update_id + 1)
        else:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
        if self._pending and int(self._pending[-1]["update_id"]) > int(update["update_id"]):
            # An explicit, older update_id: keep the queue ordered.
            items = sorted([*self._pending, update], key=lambda u: int(u["update_id"]))
            self._pending = deque(items)
        else:
            self._pending.append(update)
        if self.state.chronicle is not None:
            self.state.note_update(self.state.chronicle, update)
        self._signal.notify_all()
        return update

    def redeliver(self, update: JSONDict) -> JSONDict:
        """Deliver ``update`` once more with the SAME update_id (at-least-once delivery)."""
        if "update_id" not in update:
            raise ValueError("inject_duplicate needs an update that has an update_id")
        self._redeliver.append(update)
        self._redeliver.sort(key=lambda u: int(u["update_id"]))
        self._signal.notify_all()
        return update

    def drop_pending(self) -> None:
        """Forget every queued update (``drop_pending_updates``)."""
        self._pending.clear()
        self._redeliver.clear()

    def _allowed(self, update: JSONDict) -> bool:
        kind = _update_type(update)
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _DEFAULT_EXCLUDED_UPDATES

    def _set_allowed(self, allowed: object) -> None:
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None

    # ------------------------------------------------------------------ getUpdates

    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset > 0:
            acknowledged = []
            while pending and int(pending[0]["update_id"]) < offset:
                acknowledged.append(pending.popleft())
            if acknowledged and self.on_acknowledged is not None:
                self.on_acknowledged(acknowledged)
            if self._unconfirmed_offset is not None and offset >= self._unconfirmed_offset:
                self._unconfirmed_offset = None
        elif offset < 0:
            while len(pending) > -offset:
                pending.popleft()

    def _take_batch(self, limit: int) -> list[JSONDict]:
        batch = self._redeliver[:limit]
        del self._redeliver[:limit]
        dropped: set[int] = set()
        for update in self._pending:
            if len(batch) >= limit:
                break
            if self._allowed(update):
                batch.append(update)
            else:
                dropped.add(int(update["update_id"]))
        if dropped:
            self._pending = deque(u for u in self._pending if int(u["update_id"]) not in dropped)
        if batch:
            batch.sort(key=lambda u: int(u["update_id"]))
            self._unconfirmed_offset = int(batch[-1]["update_id"]) + 1
        return batch

    async def get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Answer getUpdates: confirm by ``offset``, then hand out a batch or wait for one."""
        if self.webhook_url is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        # A new getUpdates request terminates an older one still waiting.
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal.notify_all()
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        self._set_allowed(params.get("allowed_updates"))
        self._confirm(offset)
        self.state.changed.notify_all()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.state.closing:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            if self.webhook_url is not None:
                raise ApiError(409, "Conflict: webhook was set while polling")
            batch = self._take_batch(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            self.polls_waiting += 1
            self.state.changed.notify_all()
            try:
                await self._signal.wait(remaining)
            finally:
                self.polls_waiting -= 1

    # ------------------------------------------------------------------ webhook

    def set_webhook(self, params: JSONDict) -> None:
        """Answer setWebhook: check the URL and secret, then deliver there."""
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not re.match(r"^https?://", url):
            raise ApiError(400, "Bad Request: bad webhook: Failed to resolve host")
        if params.get("drop_pending_updates"):
            self.drop_pending()
        self._set_allowed(params.get("allowed_updates"))
        self._webhook_max_connections = int(params.get("max_connections") or 40)
        self.webhook_url = url or None
        self._webhook_secret = str(secret) if secret else None
        self._signal.notify_all()
        if self.webhook_url is not None:
            self._ensure_webhook_task()

    def delete_webhook(self, params: JSONDict) -> None:
        """Answer deleteWebhook: back to getUpdates."""
        self.webhook_url = None
        self._webhook_secret = None
        if params.get("drop_pending_updates"):
            self.drop_pending()
        self._signal.notify_all()

    def webhook_info(self) -> JSONDict:
        """Answer getWebhookInfo."""
        info: JSONDict = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_count,
        }
        if self.webhook_url is not None:
            info["max_connections"] = self._webhook_max_connections
            if self._allowed_updates:
                info["allowed_updates"] = self._allowed_updates
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def post_to_webhook(self, update: JSONDict, *, secret_token: str | None) -> int:
        """POST ``update`` to the current webhook with a chosen secret; return the HTTP status."""
        if self.webhook_url is None or self._session is None:
            raise RuntimeError("no webhook is set")
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        async with self._session.post(self.webhook_url, data=json.dumps(update).encode(), headers=headers) as response:
            return response.status

    def _ensure_webhook_task(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._webhook_loop(), name="FakeTelegram:webhook")

    async def _webhook_loop(self) -> None:
        """POST updates as Telegram does: up to ``max_connections`` at once, one at a time per chat.

        Telegram's Bot API server keeps a queue per chat for a webhook: updates of
        different chats go out in parallel, those of one chat one after the other,
        a failed one retried before the chat's next.
        """
        while self.webhook_url is not None and not self.state.closing:
            started = False
            candidates = [(update, False) for update in self._redeliver] + [(update, True) for update in self._pending]
            for update, from_pending in candidates:
                if len(self._webhook_chats) >= self._webhook_max_connections:
                    break
                key = _queue_key(update)
                if key in self._webhook_chats:
                    continue
                if not self._allowed(update):
                    self._drop_delivered(update, from_pending)
                    continue
                task = asyncio.create_task(self._deliver_one(update, from_pending), name="FakeTelegram:post")
                self._webhook_chats[key] = task
                self.most_posts_at_once = max(self.most_posts_at_once, len(self._webhook_chats))
                task.add_done_callback(functools.partial(self._delivery_done, key))
                started = True
            if not started:
                await self._signal.wait(None)

    def _delivery_done(self, key: object, _task: asyncio.Task[None]) -> None:
        self._webhook_chats.pop(key, None)
        self._signal.notify_all()
        self.state.changed.notify_all()

    async def _deliver_one(self, update: JSONDict, from_pending: bool) -> None:
        delivered = await self._deliver(update)
        if delivered is not None:  # None: the webhook changed while delivering; retried with the new one
            self._drop_delivered(update, from_pending)

    def _drop_delivered(self, update: JSONDict, from_pending: bool) -> None:
        if from_pending:
            for index, item in enumerate(self._pending):
                if item is update:
                    del self._pending[index]
                    return
        else:
            for index, item in enumerate(self._redeliver):
                if item is update:
                    del self._redeliver[index]
                    return

    async def _deliver(self, update: JSONDict) -> bool | None:
        """POST one update, retrying; True when accepted, False when given up, None if reset."""
        url = self.webhook_url
        body = json.dumps(update).encode()
        update_id = int(update["update_id"])
        for attempt in range(self.webhook_retries + 1):
            if self.webhook_url != url or url is None or self._session is None:
                return None
            headers = {"Content-Type": "application/json"}
            if self._webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
            try:
                async with self._session.post(
                    url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                ) as response:
                    status: int | None = response.status
                    error = None
                    if not 200 <= response.status < 300:
                        error = f"Wrong response from the webhook: {status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, f"Connection failed: {exc!r}"
            self.deliveries.append(WebhookDelivery(update_id, status, error))
            self.state.changed.notify_all()
            if error is None:
                return True
            self._webhook_last_error = (int(time.time()), error)
            _LOG.debug("webhook delivery of update %s failed: %s", update_id, error)
            if self.state.closing:
                return False
            await self.state.sleep(min(0.05 * 2 ** min(attempt, 10), _LONGEST_RETRY))
        return False
