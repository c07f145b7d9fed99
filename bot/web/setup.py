"""The web pages from the settings: what the HTTP server serves, what the chat offers.

The pages are served when PUBLIC_BASE_URL is set and the process runs its HTTP
server (`--webhook`, or HTTP_PORT when polling). Telegram opens a `web_app`
button only at an https address: at an http one (a test bench) Telegram
officers get a personal link as well, like Zalo's.
"""

from __future__ import annotations

import datetime as dt

from bot.settings import Settings, telegram_tokens
from bot.web.auth import PageAddresses, Signer, derived_web_secret
from bot.web.settings import WebSettings
from handlers.flow import WebOffer


def web_settings(settings: Settings) -> WebSettings | None:
    """The pages' settings, or None when no public address is set."""
    base = settings.public_base_url
    if not base:
        return None
    # The Mini App's initData is signed with the token of the bot it was opened from.
    tokens = telegram_tokens(settings)
    secret = settings.web_secret.get_secret_value().encode() if settings.web_secret \
        else derived_web_secret(tokens[0] if tokens else "")
    return WebSettings(
        signer=Signer(secret), base_url=base, telegram_tokens=tuple(tokens),
        init_data_max_age=dt.timedelta(seconds=settings.web_init_data_max_age_seconds),
        link_ttl=dt.timedelta(hours=settings.web_link_ttl_hours),
        requests_per_minute=settings.web_requests_per_minute,
        upload_max_bytes=settings.web_upload_max_mb * 1024 * 1024, upload_dir=settings.web_upload_dir)


def web_offer(settings: WebSettings, *, min_items: int) -> WebOffer:
    """What the chat offers: the Mini App on Telegram at an https address, else personal links."""
    mini_app = frozenset({"telegram"}) if settings.base_url.startswith("https://") else frozenset[str]()
    return WebOffer(min_items=min_items, link_ttl=settings.link_ttl, mini_app_channels=mini_app)


def page_addresses(settings: WebSettings) -> PageAddresses:
    """The pages' addresses, for the channels that render a web page option."""
    return PageAddresses(settings.base_url, settings.signer)
