"""Fault injection: scripted errors, slow or held answers, and Telegram's rate limits."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass, field

from fakes.telegram.errors import DEFAULT_DESCRIPTIONS, ApiError
from fakes.telegram.models import SEND_METHODS, JSONDict

__all__ = ["Faults", "Hold"]

# Methods counted by the message rate limits.
RATE_LIMITED = SEND_METHODS | {
    "copymessage",
    "forwardmessage",
    "sendmediagroup",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
    "editmessagemedia",
}


@dataclass(slots=True)
class Fault:
    """One scripted error answer."""

    status: int
    retry_after: int | None
    description: str | None

    def error(self) -> ApiError:
        """The error answer, worded as Telegram words it."""
        if self.status == 429:
            retry = self.retry_after or 1
            return ApiError(429, self.description or f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        description = self.description or DEFAULT_DESCRIPTIONS.get(self.status, "Error")
        parameters = {"retry_after": self.retry_after} if self.retry_after else None
        return ApiError(self.status, description, parameters)


@dataclass(eq=False)
class Hold:
    """Calls of one method (to one chat) that wait unanswered until :meth:`release`."""

    method: str
    chat_id: int | None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0

    def matches(self, method: str, params: JSONDict) -> bool:
        """Whether a call is one this hold keeps waiting."""
        return method == self.method and (self.chat_id is None or params.get("chat_id") == self.chat_id)

    def release(self) -> None:
        """Answer the held calls and every later one."""
        self.released.set()


class Faults:
    """What the next calls go through: scripted errors, delays, holds, rate limits."""

    def __init__(self, *, rate_limit: float | None, per_chat_rate_limit: float | None) -> None:
        """No fault scripted; the rate limits are messages per second (None: unlimited)."""
        self.rate_limit = rate_limit
        self.per_chat_rate_limit = per_chat_rate_limit
        self._faults: dict[str, deque[Fault]] = {}
        self._delays: dict[str, float] = {}
        self._holds: list[Hold] = []
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}

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
        if status == 429 and retry_after is None:
            retry_after = 1
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(Fault(status, retry_after, description) for _ in range(count))

    def set_delay(self, method: str, seconds: float) -> None:
        """Delay every answer of ``method`` by ``seconds`` (0 removes the delay)."""
        if seconds > 0:
            self._delays[method.lower()] = seconds
        else:
            self._delays.pop(method.lower(), None)

    def delay(self, method: str) -> float | None:
        """The delay set for ``method`` (lower case), if any."""
        return self._delays.get(method)

    def hold(self, method: str, *, chat_id: int | None = None) -> Hold:
        """Keep calls of ``method`` (to ``chat_id`` only, if given) unanswered until released."""
        hold = Hold(method.lower(), chat_id)
        self._holds.append(hold)
        return hold

    def holding(self, method: str, params: JSONDict) -> Hold | None:
        """The unreleased hold a call waits for, if any."""
        return next((h for h in self._holds if not h.released.is_set() and h.matches(method, params)), None)

    def release_all(self) -> None:
        """Release every hold (the server stops)."""
        for hold in self._holds:
            hold.release()

    def take(self, method: str) -> Fault | None:
        """The fault scripted for this call of ``method`` (lower case), if any."""
        for key in (method, "*"):
            if key == "*" and method == "getupdates":
                continue
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    # ------------------------------------------------------------------ rate limits

    @staticmethod
    def _window_retry(window: deque[float], rate: float, now: float) -> int | None:
        span = max(1.0, 1.0 / rate)
        capacity = max(1, int(rate * span + 1e-9))
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) < capacity:
            return None
        return max(1, math.ceil(window[0] + span - now))

    @staticmethod
    def _rate_chat(params: JSONDict) -> int | None:
        chat_id = params.get("chat_id")
        return chat_id if isinstance(chat_id, int) else None

    def check_rate(self, method: str, params: JSONDict) -> None:
        """Refuse a message over the limits with 429, as Telegram does."""
        if method not in RATE_LIMITED:
            return
        chat_id = self._rate_chat(params)
        now = time.monotonic()
        retry: int | None = None
        if self.rate_limit:
            retry = self._window_retry(self._global_window, self.rate_limit, now)
        if retry is None and self.per_chat_rate_limit and chat_id is not None:
            window = self._chat_windows.setdefault(chat_id, deque())
            retry = self._window_retry(window, self.per_chat_rate_limit, now)
        if retry is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    def count_rate(self, method: str, params: JSONDict) -> None:
        """Count a message that was sent against the limits."""
        if method not in RATE_LIMITED:
            return
        chat_id = self._rate_chat(params)
        now = time.monotonic()
        if self.rate_limit:
            self._global_window.append(now)
        if self.per_chat_rate_limit and chat_id is not None:
            self._chat_windows.setdefault(chat_id, deque()).append(now)
