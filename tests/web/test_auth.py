"""The pages' signatures on their own: initData as the Bot API documents it, links, cookies, CSRF, the counter."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlencode

from bot.web.auth import RequestCounter, Signer, check_init_data, sign_init_data

TOKEN = "123456:ABC-def"  # noqa: S105 (a made-up bot token)
NOW = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _init_data(**fields: str) -> str:
    user = json.dumps({"id": 42, "first_name": "Mai", "language_code": "vi"})
    return sign_init_data({"auth_date": str(int(NOW.timestamp()) - 30), "user": user, **fields}, TOKEN)


def test_init_data_is_checked_as_the_bot_api_documents_it() -> None:
    # Computed here independently: secret = HMAC_SHA256(key="WebAppData", msg=token), then the
    # hex HMAC of the sorted "key=value" lines under it.
    fields = {"auth_date": str(int(NOW.timestamp())), "query_id": "AAH",
              "user": json.dumps({"id": 42}), "signature": "xyz"}
    lines = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    signed = urlencode({**fields, "hash": hmac.new(secret, lines.encode(), hashlib.sha256).hexdigest()})
    user = check_init_data(signed, TOKEN, now=NOW, max_age=HOUR)
    assert user is not None and user.id == "42"


def test_init_data_forged_changed_stale_or_from_the_future_is_refused() -> None:
    good = _init_data()
    assert check_init_data(good, TOKEN, now=NOW, max_age=HOUR) is not None
    assert check_init_data(good, "654321:other", now=NOW, max_age=HOUR) is None
    changed = urlencode([(key, value.replace('"id": 42', '"id": 43')) for key, value in parse_qsl(good)])
    assert check_init_data(changed, TOKEN, now=NOW, max_age=HOUR) is None
    assert check_init_data(good, TOKEN, now=NOW + 2 * HOUR, max_age=HOUR) is None
    assert check_init_data(good, TOKEN, now=NOW - dt.timedelta(minutes=5), max_age=HOUR) is None
    for bad in ("", "hash=", "a=%zz", "hash=00&auth_date=1"):
        assert check_init_data(bad, TOKEN, now=NOW, max_age=HOUR) is None


def test_a_links_token_is_not_a_session_and_expires() -> None:
    signer = Signer(b"k" * 32)
    token = signer.token("link", 7, NOW + HOUR)
    assert signer.check("link", token, NOW) == 7
    assert signer.check("session", token, NOW) is None  # a link is not a cookie
    assert signer.check("link", token, NOW + 2 * HOUR) is None
    assert Signer(b"j" * 32).check("link", token, NOW) is None
    widened = token.replace(f".{int((NOW + HOUR).timestamp())}.", f".{int((NOW + 9 * HOUR).timestamp())}.")
    assert signer.check("link", widened, NOW) is None
    assert signer.check("link", "8" + token, NOW) is None
    assert signer.csrf_ok("link:7", signer.csrf("link:7"))
    assert not signer.csrf_ok("link:8", signer.csrf("link:7"))
    assert not signer.csrf_ok("link:7", None)


def test_the_request_counter_allows_a_minute_at_a_time() -> None:
    counter = RequestCounter(per_minute=2)
    assert [counter.allow("a", 60.0), counter.allow("a", 61.0), counter.allow("a", 62.0)] == [True, True, False]
    assert counter.allow("b", 62.0)  # per person
    assert counter.allow("a", 120.0)  # the next minute
