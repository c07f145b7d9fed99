"""A small async client for the Zalo Bot Platform's Bot API, on aiohttp.

The Bot API is Telegram-like and much smaller: every method is a POST of a JSON
object to ``{base}/bot{token}/{method}``, answered by ``{ok, result, description,
error_code}``. ``getUpdates`` hands out one event (an object, not a list), takes no
offset, and an idle long poll answers HTTP 408 ("Request timeout"): nothing new, not
an error.

Failures are typed so that a sender can decide without reading text:

- :class:`ZaloRetryLater`: try again later (429, 5xx, a timeout, a refused or dropped
  connection, an answer that is not the platform's JSON); ``retry_after`` holds the
  platform's hint when it gave one.
- :class:`ZaloBlocked`: the person blocked the bot or it may not write there (403).
- :class:`ZaloRefused`: the platform (or this client, before sending) refused the
  request as it is (400, 404, ...): sending it again changes nothing.
  :class:`ZaloUnauthorized` (401, a wrong or revoked token) is a refusal too.

The token is a secret: it is in the URL of every request, so neither log lines nor
exception messages carry the URL (they name the method), and the aiohttp exceptions
that could carry it are not chained.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

import aiohttp

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "SentMessage",
    "ZaloBlocked",
    "ZaloBotClient",
    "ZaloBotInfo",
    "ZaloError",
    "ZaloRefused",
    "ZaloRetryLater",
    "ZaloTimeouts",
    "ZaloUnauthorized",
    "ZaloWebhookInfo",
    "split_text",
    "text_length",
]

_LOG = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://bot-api.zaloplatforms.com"
MAX_TEXT_LENGTH: Final = 2000
MAX_CAPTION_LENGTH: Final = 2000
MIN_SECRET_LENGTH: Final = 8
MAX_SECRET_LENGTH: Final = 256
CHAT_ACTIONS: Final = frozenset({"typing", "upload_photo"})

_RETRY_AFTER_TEXT = re.compile(r"retry after (\d+(?:\.\d+)?)", re.IGNORECASE)


# ---------------------------------------------------------------------- errors


class ZaloError(Exception):
    """A Bot API call that did not succeed.

    ``status`` is the platform's error code (the body's ``error_code``, else the HTTP
    status; None when nothing was answered or the client refused before sending).
    ``sent`` lists the parts of a split text that were delivered before this failure,
    so that a sender resumes with the next part instead of repeating them.
    """

    def __init__(
        self,
        method: str,
        description: str,
        *,
        status: int | None = None,
        sent: tuple[SentMessage, ...] = (),
    ) -> None:
        super().__init__(f"Zalo {method}: {description}" + (f" ({status})" if status is not None else ""))
        self.method = method
        self.description = description
        self.status = status
        self.sent = sent

    def with_sent(self, sent: tuple[SentMessage, ...]) -> ZaloError:
        """This error, noting the parts of a split text delivered before it."""
        self.sent = sent
        return self


class ZaloRetryLater(ZaloError):
    """Transient: 429 (quota or rate), 5xx, timeouts, connection failures; try again later."""

    def __init__(
        self,
        method: str,
        description: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        sent: tuple[SentMessage, ...] = (),
    ) -> None:
        super().__init__(method, description, status=status, sent=sent)
        self.retry_after = retry_after

    @property
    def quota_exceeded(self) -> bool:
        """The platform answered 429: on Zalo's plans that is the monthly quota, not a burst limit."""
        return self.status == 429


class ZaloBlocked(ZaloError):
    """403: the person blocked the bot, or the bot may not write to that chat."""


class ZaloRefused(ZaloError):
    """The request as it is will never succeed (400, 404, 409 ...); give it up and log it."""


class ZaloUnauthorized(ZaloRefused):
    """401: the token is wrong or revoked (a configuration problem, not a message problem)."""


# ---------------------------------------------------------------------- results


@dataclass(frozen=True)
class ZaloBotInfo:
    """What ``getMe`` says about the bot."""

    id: str
    account_name: str
    account_type: str
    can_join_groups: bool


@dataclass(frozen=True)
class ZaloWebhookInfo:
    """The webhook as the platform holds it (``url`` empty when none is set)."""

    url: str
    updated_at: int | None  # epoch milliseconds


@dataclass(frozen=True)
class SentMessage:
    """A message the platform accepted: its id (a string) and date (epoch milliseconds)."""

    message_id: str
    date: int | None


@dataclass(frozen=True)
class ZaloTimeouts:
    """Seconds to wait, per request.

    ``connect``: for a connection; ``read``: for the answer of an ordinary call;
    ``photo``: for ``sendPhoto``, where the platform fetches the picture from its URL
    before it answers; ``poll_grace``: added to a long poll's own timeout.
    """

    connect: float = 5.0
    read: float = 10.0
    photo: float = 30.0
    poll_grace: float = 10.0


# ---------------------------------------------------------------------- texts


def text_length(text: str) -> int:
    """Length as the platform counts it, assumed in UTF-16 code units (a JavaScript ``length``).

    That is never less than the number of characters, so a text that fits by this
    count fits by either; Vietnamese letters are one unit, most emoji two.
    """
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> tuple[str, str]:
    """The longest head of ``line`` within ``limit`` units (never splitting a surrogate pair)."""
    units = 0
    for index, char in enumerate(line):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return line[:index], line[index:]
    return line, ""


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """Split a text into parts of at most ``limit`` units, at line breaks where possible.

    A single line longer than the limit is cut where it must be. Joining the parts
    with line breaks gives back the text (a cut inside a line adds one break).
    """
    if text_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        candidate = line if current is None else f"{current}\n{line}"
        if text_length(candidate) <= limit:
            current = candidate
            continue
        if current is not None:
            parts.append(current)
        current = None
        while text_length(line) > limit:
            head, line = _cut(line, limit)
            parts.append(head)
        current = line
    if current is not None:
        parts.append(current)
    # Blank lines at a boundary would make an empty part, which the platform refuses.
    return [part for part in parts if part.strip()] or [text[:limit]]


# ---------------------------------------------------------------------- the client


def _retry_hint(body: Mapping[str, Any], headers: Mapping[str, str]) -> float | None:
    """The seconds to wait that the answer suggests, wherever it says so (if it does)."""
    parameters = body.get("parameters")
    if isinstance(parameters, Mapping):
        value = parameters.get("retry_after")
        if isinstance(value, int | float) and value >= 0:
            return float(value)
    header = headers.get("Retry-After")
    if header is not None:
        try:
            return max(float(header), 0.0)
        except ValueError:
            pass  # an HTTP date: no hint we rely on
    match = _RETRY_AFTER_TEXT.search(str(body.get("description") or ""))
    return float(match.group(1)) if match else None


class ZaloBotClient:
    """One bot's Bot API client: one pooled aiohttp session, typed answers and errors.

    Use as ``async with ZaloBotClient(token) as client: ...`` or call :meth:`start` and
    :meth:`close` (e.g. in an application's ``post_init`` / ``post_shutdown``).
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeouts: ZaloTimeouts | None = None,
        connection_pool_size: int = 16,
    ) -> None:
        """Configure the client; no connection is made before :meth:`start`."""
        if not token or any(c in token for c in "/?# "):
            raise ValueError("a Zalo bot token is '<bot id>:<secret>' without '/', '?', '#' or spaces")
        self._token = token
        self._base_url = base_url.rstrip("/")
        self.timeouts = timeouts or ZaloTimeouts()
        self._pool_size = connection_pool_size
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        """Names the bot by its id, never by its token."""
        return f"ZaloBotClient(bot_id={self.bot_id!r}, base_url={self._base_url!r})"

    @property
    def bot_id(self) -> str:
        """The bot's id: the part of the token before the colon (also ``getMe``'s ``id``)."""
        return self._token.split(":", 1)[0]

    @property
    def base_url(self) -> str:
        """The Bot API's base URL (without the token)."""
        return self._base_url

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Open the session (in the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._pool_size))

    async def close(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> ZaloBotClient:
        """Start for an ``async with`` block."""
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close at the end of an ``async with`` block."""
        await self.close()

    # ------------------------------------------------------------------ the one request

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<token>")

    async def call(self, method: str, params: Mapping[str, Any] | None = None, *, read_timeout: float | None = None
                   ) -> Any:
        """POST one method and return its ``result`` (None when the answer has none).

        Raises :class:`ZaloRetryLater`, :class:`ZaloBlocked` or :class:`ZaloRefused`.
        """
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("ZaloBotClient is not started")
        read = self.timeouts.read if read_timeout is None else read_timeout
        timeout = aiohttp.ClientTimeout(total=None, connect=self.timeouts.connect,
                                        sock_connect=self.timeouts.connect, sock_read=read)
        url = f"{self._base_url}/bot{self._token}/{method}"
        try:
            async with session.post(url, json=dict(params or {}), timeout=timeout) as response:
                status = response.status
                raw = await response.read()
                headers = dict(response.headers)
        except TimeoutError:
            _LOG.info("Zalo %s: no answer in time", method)
            raise ZaloRetryLater(method, "timed out") from None
        except aiohttp.ClientError as error:
            # aiohttp's messages may hold the URL, and so the token: say what it was, redacted,
            # and do not chain the original (a logged traceback would print it).
            described = self._redact(f"{type(error).__name__}: {error}")
            _LOG.info("Zalo %s: %s", method, described)
            raise ZaloRetryLater(method, described) from None
        return self._result(method, status, raw, headers)

    def _result(self, method: str, status: int, raw: bytes, headers: Mapping[str, str]) -> Any:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # A proxy's error page, a truncated answer: nothing the platform said.
            _LOG.info("Zalo %s: HTTP %s without the platform's JSON", method, status)
            if 400 <= status < 500 and status not in (408, 429):
                raise _classified(method, status, f"HTTP {status}", None)
            raise ZaloRetryLater(method, f"HTTP {status} without a JSON answer", status=status)
        if body.get("ok") is True and status < 300:
            _LOG.debug("Zalo %s: ok", method)
            return body.get("result")
        code = body.get("error_code")
        code = code if isinstance(code, int) and code >= 400 else status
        if code < 400:
            code = 500  # "not ok" with a success status: an error that says nothing about itself
        description = self._redact(str(body.get("description") or f"HTTP {status}"))
        # An idle long poll answers 408 every poll: nothing worth an INFO line.
        _LOG.log(logging.DEBUG if code == 408 else logging.INFO, "Zalo %s: error %s %s", method, code, description)
        raise _classified(method, code, description, _retry_hint(body, headers))

    # ------------------------------------------------------------------ methods

    async def get_me(self) -> ZaloBotInfo:
        """``getMe``: the bot's id and account, and whether it may join groups."""
        result = _mapping(await self.call("getMe"), "getMe")
        return ZaloBotInfo(
            id=str(result.get("id", "")),
            account_name=str(result.get("account_name", "")),
            account_type=str(result.get("account_type", "")),
            can_join_groups=bool(result.get("can_join_groups", False)),
        )

    async def get_updates(self, *, timeout: int = 30) -> dict[str, Any] | None:
        """``getUpdates``: wait up to ``timeout`` seconds for one event; None when none came.

        The platform answers an idle long poll with 408, which is "nothing new" here.
        There is no offset: an event handed out is not handed out again, so the caller
        stores it before anything else (and dedupes by ``message_id``).
        """
        read = timeout + self.timeouts.poll_grace
        try:
            result = await self.call("getUpdates", {"timeout": str(timeout)}, read_timeout=read)
        except ZaloError as error:
            if error.status == 408:
                return None
            raise
        if not result:
            return None
        if not isinstance(result, dict):
            raise ZaloRetryLater("getUpdates", f"unexpected result of type {type(result).__name__}")
        return result

    async def set_webhook(self, url: str, secret_token: str) -> ZaloWebhookInfo:
        """``setWebhook``: the platform POSTs events to ``url`` with the secret in a header.

        ``secret_token`` must be 8 to 256 characters (refused here otherwise).
        """
        if not MIN_SECRET_LENGTH <= len(secret_token) <= MAX_SECRET_LENGTH:
            raise ZaloRefused("setWebhook", f"secret_token must be {MIN_SECRET_LENGTH}-{MAX_SECRET_LENGTH} characters")
        if not url.startswith(("https://", "http://")):
            raise ZaloRefused("setWebhook", "the webhook URL must be an absolute HTTPS URL")
        return _webhook_info(await self.call("setWebhook", {"url": url, "secret_token": secret_token}), "setWebhook")

    async def delete_webhook(self) -> ZaloWebhookInfo:
        """``deleteWebhook``: back to ``getUpdates`` (polling and the webhook exclude each other)."""
        return _webhook_info(await self.call("deleteWebhook"), "deleteWebhook")

    async def get_webhook_info(self) -> ZaloWebhookInfo:
        """``getWebhookInfo``: the webhook URL the platform holds (empty when none)."""
        return _webhook_info(await self.call("getWebhookInfo"), "getWebhookInfo")

    async def send_message(self, chat_id: str, text: str) -> list[SentMessage]:
        """``sendMessage``: one message, or several when the text is over 2.000 units.

        A longer text is split at line breaks (:func:`split_text`) and the parts are
        sent in order; if one fails, its error's ``sent`` lists those delivered before.
        """
        if not text.strip():
            raise ZaloRefused("sendMessage", "the text is empty")
        sent: list[SentMessage] = []
        for part in split_text(text):
            try:
                result = await self.call("sendMessage", {"chat_id": chat_id, "text": part})
            except ZaloError as error:
                raise error.with_sent(tuple(sent)) from None
            sent.append(_sent(result))
        return sent

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> SentMessage:
        """``sendPhoto``: a picture by its URL (the platform fetches it), with an optional caption."""
        if not photo_url.startswith(("https://", "http://")):
            raise ZaloRefused("sendPhoto", "the photo must be an HTTP(S) URL")
        if text_length(caption) > MAX_CAPTION_LENGTH:
            raise ZaloRefused("sendPhoto", f"the caption is over {MAX_CAPTION_LENGTH} characters")
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        return _sent(await self.call("sendPhoto", params, read_timeout=self.timeouts.photo))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """``sendChatAction``: show "typing..." for a moment."""
        if action not in CHAT_ACTIONS:
            raise ZaloRefused("sendChatAction", f"unknown action {action!r}")
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


def _classified(method: str, status: int, description: str, retry_after: float | None) -> ZaloError:
    """The error class a sender acts on, by the platform's code."""
    if status == 429 or status >= 500 or status == 408:
        return ZaloRetryLater(method, description, status=status, retry_after=retry_after)
    if status == 403:
        return ZaloBlocked(method, description, status=status)
    if status == 401:
        return ZaloUnauthorized(method, description, status=status)
    return ZaloRefused(method, description, status=status)


def _mapping(result: Any, method: str) -> Mapping[str, Any]:
    if not isinstance(result, Mapping):
        raise ZaloRetryLater(method, f"unexpected result of type {type(result).__name__}")
    return result


def _webhook_info(result: Any, method: str) -> ZaloWebhookInfo:
    # Some answers carry no result at all ({"ok": true}); read that as "no URL known".
    mapping = _mapping(result, method) if result is not None else {}
    updated_at = mapping.get("updated_at")
    return ZaloWebhookInfo(url=str(mapping.get("url") or ""),
                           updated_at=updated_at if isinstance(updated_at, int) else None)


def _sent(result: Any) -> SentMessage:
    mapping = result if isinstance(result, Mapping) else {}
    date = mapping.get("date")
    return SentMessage(message_id=str(mapping.get("message_id", "")), date=date if isinstance(date, int) else None)
