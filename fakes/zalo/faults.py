"""Fault injection: scripted errors, slow and held answers, a monthly message quota."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from fakes.zalo.models import JSONDict

__all__ = ["ApiError", "Fault", "Faults", "Hold"]

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request timeout",
    409: "Conflict",
    429: "Quota exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": status, "description": ...}``.

    ``http_status`` is the HTTP status of the answer (by default the error code itself;
    200 makes an answer that says the error only in its body). ``retry_after`` is sent
    as a ``Retry-After`` header.
    """

    def __init__(self, status: int, description: str | None = None, *, http_status: int | None = None,
                 retry_after: int | None = None) -> None:
        self.status = status
        self.description = description or DEFAULT_DESCRIPTIONS.get(status, "Error")
        self.http_status = http_status or status
        self.retry_after = retry_after
        super().__init__(self.description)


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted error answer."""

    status: int
    description: str | None = None
    http_status: int | None = None
    retry_after: int | None = None

    def error(self) -> ApiError:
        """The error this fault answers with."""
        return ApiError(self.status, self.description, http_status=self.http_status, retry_after=self.retry_after)


@dataclass(eq=False)
class Hold:
    """Calls of one method (to one chat) that stay unanswered until :meth:`release`."""

    method: str
    chat_id: str | None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0

    def matches(self, method: str, params: JSONDict) -> bool:
        """Whether a call is one this hold keeps waiting."""
        return method == self.method and (self.chat_id is None or str(params.get("chat_id")) == self.chat_id)

    def release(self) -> None:
        """Answer the held calls and every later one."""
        self.released.set()


class Faults:
    """What the next calls go through: scripted errors, delays, holds, the quota."""

    def __init__(self, *, monthly_quota: int | None = None) -> None:
        """Nothing scripted; ``monthly_quota`` messages may be sent (None: no limit)."""
        self.monthly_quota = monthly_quota
        self.quota_used = 0
        self._faults: dict[str, deque[Fault]] = {}
        self._delays: dict[str, float] = {}
        self._holds: list[Hold] = []

    def fail_next(self, method: str, fault: Fault, count: int = 1) -> None:
        """Make the next ``count`` calls of ``method`` ("*" = any but getUpdates) answer ``fault``."""
        self._faults.setdefault(method.lower(), deque()).extend([fault] * count)

    def set_delay(self, method: str, seconds: float) -> None:
        """Delay every answer of ``method`` ("*" = any but getUpdates) by ``seconds`` (0 removes it)."""
        if seconds > 0:
            self._delays[method.lower()] = seconds
        else:
            self._delays.pop(method.lower(), None)

    def delay(self, method: str) -> float | None:
        """The delay for a call of ``method`` (lower case), if any."""
        if method in self._delays:
            return self._delays[method]
        return None if method == "getupdates" else self._delays.get("*")

    def hold(self, method: str, *, chat_id: str | None = None) -> Hold:
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

    def check_quota(self) -> None:
        """Refuse a message over the month's quota with 429, as the free plan does."""
        if self.monthly_quota is not None and self.quota_used >= self.monthly_quota:
            raise ApiError(429, "Quota exceeded")

    def count_message(self) -> None:
        """Count a message that was sent against the quota."""
        self.quota_used += 1
