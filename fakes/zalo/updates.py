"""Event delivery: the queue of events, getUpdates (one event per call) and the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

import aiohttp

from fakes.chronicle import Chronicle, Kind
from fakes.telegram.state import Signal
from fakes.zalo.faults import ApiError
from fakes.zalo.models import JSONDict, WebhookDelivery

__all__ = ["EventQueue", "SECRET_HEADER"]

_LOG = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def note_event(chronicle: Chronicle, event: JSONDict) -> None:
    """Note what a person did in an event: a text or a picture (by its URL)."""
    message = event.get("message")
    if not isinstance(message, dict):
        return
    chat, sender = message.get("chat") or {}, message.get("from") or {}
    where = {"channel": "zalo", "chat_id": str(chat.get("id", "")), "group": chat.get("chat_type") == "GROUP",
             "sender": str(sender.get("display_name", ""))}
    if "photo_url" in message or "photo" in message:
        url = str(message.get("photo_url") or message.get("photo"))
        chronicle.note(Kind.photo, **where, text=str(message.get("caption", "")), link=url,
                       file_name=url.rsplit("/", 1)[-1])
    else:
        chronicle.note(Kind.text, **where, text=str(message.get("text", "")))


class EventQueue:
    """The events waiting for the bot, handed out one per getUpdates or POSTed to its webhook.

    There is no offset: an event handed out by getUpdates is gone from the queue, as
    on the platform. ``changed`` wakes whoever waits for anything that happened here.
    """

    def __init__(self, changed: Signal, *, idle_wait: float, webhook_retries: int, webhook_retry_delay: float) -> None:
        """An empty queue; the webhook delivers nothing before :meth:`open`."""
        self.changed = changed
        self.idle_wait = idle_wait
        self.webhook_retries = webhook_retries
        self.webhook_retry_delay = webhook_retry_delay
        self.handed_out: list[JSONDict] = []  # by getUpdates, in order
        self.deliveries: list[WebhookDelivery] = []
        self.dropped: list[JSONDict] = []  # events the webhook refused every time, given up
        self.polls_waiting = 0
        self.idle_polls = 0  # getUpdates answered 408
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_updated_at: int | None = None
        self.wrap_webhook_bodies = True
        self.chronicle: Chronicle | None = None  # notes every event queued when set
        # Called with an event once getUpdates' answer carrying it was written (a benchmark kills the bot there).
        self.on_handed_out: Callable[[JSONDict], None] | None = None
        # Called with an event once the bot's webhook answered its POST with a 2xx (and so took it).
        self.on_accepted: Callable[[JSONDict], None] | None = None
        self._pending: deque[JSONDict] = deque()
        self._signal = Signal()
        self._closing = False
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_busy = False

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        """The server listens: webhook deliveries may start."""
        self._closing = False
        self._session = aiohttp.ClientSession()
        self._kick_webhook()

    async def close(self) -> None:
        """Wake long polls, stop webhook delivery, close the HTTP client."""
        self._closing = True
        self._signal.notify_all()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ the queue

    @property
    def pending_count(self) -> int:
        """Events not yet handed out (polling) or accepted (webhook)."""
        return len(self._pending) + (1 if self._webhook_busy else 0)

    def enqueue(self, event: JSONDict, *, first: bool = False) -> JSONDict:
        """Queue an event (at the front with ``first``: out of order) and return it."""
        if first:
            self._pending.appendleft(event)
        else:
            self._pending.append(event)
        if self.chronicle is not None:
            note_event(self.chronicle, event)
        self._signal.notify_all()
        self.changed.notify_all()
        self._kick_webhook()
        return event

    # ------------------------------------------------------------------ getUpdates

    async def get_updates(self, params: JSONDict, connected: Callable[[], bool] = lambda: True) -> JSONDict:
        """One event, waiting for it up to the poll's timeout (at most ``idle_wait``); else 408.

        ``connected`` says whether the poll's connection is still open: a poll whose
        client went away (a killed bot) ends without taking an event, which stays queued.
        """
        if self.webhook_url is not None:
            raise ApiError(409, "Conflict: getUpdates is not available while a webhook is set; deleteWebhook first")
        try:
            requested = float(params.get("timeout") or 30)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: timeout must be a number of seconds") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(requested, 0.0), self.idle_wait)
        while not self._pending or not connected():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing or not connected():
                self.idle_polls += 1
                raise ApiError(408, "Request timeout")
            if self.webhook_url is not None:
                raise ApiError(409, "Conflict: a webhook was set while polling")
            self.polls_waiting += 1
            self.changed.notify_all()
            try:
                await self._signal.wait(remaining)
            finally:
                self.polls_waiting -= 1
        event = self._pending.popleft()
        self.handed_out.append(event)
        return event

    # ------------------------------------------------------------------ the webhook

    def set_webhook(self, url: str, secret: str) -> None:
        """Deliver events by POSTing them to ``url`` from now on."""
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_updated_at = int(time.time() * 1000)
        self._signal.notify_all()  # a waiting long poll ends
        self._kick_webhook()

    def delete_webhook(self) -> None:
        """Back to getUpdates."""
        self.webhook_url = None
        self.webhook_secret = None
        self.webhook_updated_at = int(time.time() * 1000)

    def body(self, event: JSONDict, *, wrap: bool | None = None) -> JSONDict:
        """A webhook body: ``{"ok": true, "result": event}``, or the bare event."""
        wrapped = self.wrap_webhook_bodies if wrap is None else wrap
        return {"ok": True, "result": event} if wrapped else event

    async def post_to_webhook(self, event: JSONDict, *, secret_token: str | None, wrap: bool | None = None,
                              url: str | None = None) -> int | None:
        """POST one event to the webhook (or ``url``) with a chosen secret; the HTTP status, None if unreachable."""
        target = url or self.webhook_url
        if target is None or self._session is None:
            raise RuntimeError("no webhook is set (or the fake server is not started)")
        headers = {} if secret_token is None else {SECRET_HEADER: secret_token}
        wrapped = self.wrap_webhook_bodies if wrap is None else wrap
        delivery = WebhookDelivery(event=event, secret_sent=secret_token, status=None, wrapped=wrapped)
        try:
            async with self._session.post(target, json=self.body(event, wrap=wrapped), headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=10)) as response:
                await response.read()
                delivery.status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            delivery.error = f"{type(error).__name__}: {error}"
        self.deliveries.append(delivery)
        if delivery.status is not None and 200 <= delivery.status < 300 and self.on_accepted is not None:
            self.on_accepted(event)
        self.changed.notify_all()
        return delivery.status

    def _kick_webhook(self) -> None:
        if self.webhook_url is None or self._session is None or self._closing or not self._pending:
            return
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())

    async def _deliver_webhook(self) -> None:
        """POST the queued events in order; a refused one is tried again, then dropped."""
        while self._pending and self.webhook_url is not None and not self._closing:
            event = self._pending[0]
            self._webhook_busy = True
            try:
                for attempt in range(self.webhook_retries + 1):
                    if attempt:
                        await asyncio.sleep(self.webhook_retry_delay)
                    if self.webhook_url is None:
                        return
                    status = await self.post_to_webhook(event, secret_token=self.webhook_secret)
                    if status is not None and 200 <= status < 300:
                        break
                else:
                    _LOG.info("fake Zalo: webhook refused an event %s times; dropped", self.webhook_retries + 1)
                    self.dropped.append(event)
                if self._pending and self._pending[0] is event:
                    self._pending.popleft()
            finally:
                self._webhook_busy = False
                self.changed.notify_all()
