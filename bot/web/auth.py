"""Who is asking: Telegram's Mini App `initData`, or a personal link's session cookie.

`initData` is checked on every request as the Bot API documents it: the
data-check string (every field but `hash`, sorted, `key=value` lines) signed
with HMAC-SHA256 under the key HMAC-SHA256("WebAppData", bot token), and its
`auth_date` no older than a setting. A personal link (for Zalo or a browser)
is `<link id>.<expiry>.<signature>` under the server's secret; it names a
`web_link` row that may be revoked (storage/web.py). Opening it sets a session
cookie signed the same way, naming the same row, so revoking the row ends the
session on its next request. The CSRF token is an HMAC of the person's key:
a page carries it, every POST must send it back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from handlers.chat import WebPage

SESSION_COOKIE = "ktd_session"
INIT_DATA_HEADER = "X-Telegram-Init-Data"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class TelegramUser:
    """The Telegram user an `initData` vouches for."""

    id: str
    language_code: str | None
    auth_date: int


def check_init_data(init_data: str, bot_token: str, *, now: dt.datetime, max_age: dt.timedelta) -> TelegramUser | None:
    """The user of a Mini App's `initData` when its hash is the bot's and it is fresh enough; else None."""
    try:
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        return None
    given = fields.pop("hash", "")
    if not given:
        return None
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return None
    auth_date = fields.get("auth_date", "")
    if not auth_date.isdigit():
        return None
    age = now.timestamp() - int(auth_date)
    if age > max_age.total_seconds() or age < -60:  # a minute of clock skew
        return None
    try:
        user = json.loads(fields.get("user", ""))
        user_id = str(int(user["id"]))
    except (ValueError, KeyError, TypeError):
        return None
    language = user.get("language_code")
    return TelegramUser(id=user_id, language_code=language if isinstance(language, str) else None,
                        auth_date=int(auth_date))


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """`initData` as Telegram makes it (for the tests, the screenshots and the fake server)."""
    from urllib.parse import urlencode

    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return urlencode({**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()})


@dataclass(frozen=True)
class Signer:
    """Signs and checks the personal links, the session cookie and the CSRF tokens under one secret."""

    secret: bytes

    def _mac(self, purpose: str, body: str) -> str:
        return hmac.new(self.secret, f"{purpose}\n{body}".encode(), hashlib.sha256).hexdigest()[:32]

    def token(self, purpose: str, link_id: int, expires_at: dt.datetime) -> str:
        """`<link id>.<expiry>.<signature>` for `purpose` ("link" or "session")."""
        body = f"{link_id}.{int(expires_at.timestamp())}"
        return f"{body}.{self._mac(purpose, body)}"

    def check(self, purpose: str, token: str, now: dt.datetime) -> int | None:
        """The link id a token names, if it is ours, for this purpose, and not expired."""
        parts = token.split(".")
        if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()) or len(parts[0]) > 12:
            return None
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(parts[2].encode(), self._mac(purpose, body).encode()):
            return None
        if int(parts[1]) <= now.timestamp():
            return None
        return int(parts[0])

    def csrf(self, person: str) -> str:
        """The CSRF token of a person's pages (`person` is :attr:`Principal.key`)."""
        return self._mac("csrf", person)

    def csrf_ok(self, person: str, given: str | None) -> bool:
        """Whether a change carries the person's CSRF token."""
        return bool(given) and hmac.compare_digest((given or "").encode(), self.csrf(person).encode())


def derived_web_secret(*material: str) -> bytes:
    """The web pages' key, derived from secrets the replicas share (the bot tokens)."""
    return hashlib.sha256("\n".join(("web-pages", *material)).encode()).digest()


@dataclass
class RequestCounter:
    """At most `per_minute` requests a person in each minute, counted in this process.

    In-process is enough: it guards the database from one person's runaway
    script or a stuck button, not a budget shared by the replicas. With N
    replicas behind the balancer a person gets at most N times the limit,
    still bounded; a count in the database would cost a write per request.
    """

    per_minute: int
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict)

    def allow(self, person: str, now: float | None = None) -> bool:
        """Count one request of `person`; False when over the limit this minute."""
        minute = int((time.time() if now is None else now) // 60)
        start, count = self._windows.get(person, (minute, 0))
        if start != minute:
            start, count = minute, 0
        if len(self._windows) > 50_000:  # forget last minute's people
            self._windows = {key: value for key, value in self._windows.items() if value[0] == minute}
        self._windows[person] = (start, count + 1)
        return count + 1 <= self.per_minute


@dataclass(frozen=True)
class PageAddresses:
    """The addresses of the web pages, for the channels that render an option's `WebPage`."""

    base_url: str
    signer: Signer

    def url(self, page: WebPage) -> str:
        """The page's address; a personal link's signed address when the option carries one."""
        base = self.base_url.rstrip("/")
        if page.link is not None:
            expires = dt.datetime.fromtimestamp(page.expires, dt.UTC)
            return f"{base}/web/l/{self.signer.token('link', page.link, expires)}"
        return f"{base}{page.path}"
