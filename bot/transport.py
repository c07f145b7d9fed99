"""The bot's HTTP client for the Bot API: python-telegram-bot's request interface over aiohttp.

python-telegram-bot talks HTTP through a replaceable `BaseRequest`; its default
is httpx. Measured against the fake Bot API server (`docs/performance.md`), one
request through httpx/httpcore costs about three times the CPU of one through
aiohttp's client, and in the chat benchmark the HTTP client was the largest
single cost of the bot's process. aiohttp is already a dependency (the fake
server, PTB's webhook extras). Everything else stays python-telegram-bot's:
retries on 429 (AIORateLimiter), status codes to exceptions, JSON decoding.
`TELEGRAM_HTTP_CLIENT=httpx` switches back to python-telegram-bot's own.

Timeouts map onto aiohttp's: connect (waiting for a pooled connection plus
connecting) = pool + connect timeout; read = the time between two reads of the
socket. aiohttp has no separate write timeout; a stalled upload ends by the
read timeout of the answer.
"""

from __future__ import annotations

from typing import Final

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest", "DEFAULT_POOL_SIZE"]

DEFAULT_POOL_SIZE: Final = 64


def _seconds(value: object, default: float | None) -> float | None:
    """A timeout given per call, or the default when the call left it to us."""
    if value is None or isinstance(value, int | float):
        return value
    return default  # python-telegram-bot's DEFAULT_NONE: not given


class AiohttpRequest(BaseRequest):
    """Sends Bot API requests with one pooled aiohttp session."""

    def __init__(
        self,
        *,
        connection_pool_size: int = DEFAULT_POOL_SIZE,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (python-telegram-bot adds the long-poll time to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (in the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One request; transport failures become python-telegram-bot's TimedOut/NetworkError."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = _seconds(read_timeout, self._read_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        waiting = None if connect is None or pool is None else connect + pool
        timeout = aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=connect,
                                        sock_read=read)
        body: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime_type) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime_type)
                body = form
            else:
                body = request_data.json_parameters
        try:
            async with session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
