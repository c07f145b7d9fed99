"""The one settings class: every variable is documented in `.env.example`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.sealing import new_ballot_secret


class Settings(BaseSettings):
    """Runtime settings, read from the environment and `.env`."""

    # An empty variable (`HTTP_PORT=` as in .env.example) means its default.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    database_url: str = "sqlite:///./data/khoithidua.db"
    # Required by `python -m bot run` only; the demo and the CLI work without it.
    telegram_bot_token: SecretStr | None = None
    # Several Telegram bots in one deployment (one per province, say): their tokens, separated
    # by commas; TELEGRAM_BOT_TOKEN, when set too, is one more. Which bot serves which bloc:
    # the bloc file's `bots` (docs/configuration.md).
    telegram_bot_tokens: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    bot_username: str | None = None
    # The HTTP client for Bot API requests: aiohttp (bot/transport.py) or httpx
    # (python-telegram-bot's default).
    telegram_http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    # The bot's send rate, counted in the database for every process together (Telegram
    # allows about 30 a second per bot); 0 lifts the limit (for measuring against a fake server).
    telegram_messages_per_second: int = Field(default=30, ge=0)
    # How long a process holds the head of a chat's outbox while sending it; when the
    # process dies, another one sends it after this long. Longer than the slowest send.
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"  # noqa: S104 (a webhook server listens on all interfaces)
    webhook_port: int = 8443
    # The HTTP server (webhooks, /healthz, file links) listens on this port in polling mode too when set.
    http_port: int | None = None
    # Zalo (optional): a bot made in Zalo Bot Creator; polling unless ZALO_WEBHOOK_SECRET is set with --webhook.
    zalo_bot_token: SecretStr | None = None
    zalo_bot_tokens: SecretStr | None = None  # several Zalo bots (one per bloc, say), separated by commas
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_secret: SecretStr | None = None
    # Outbound Zalo messages a month the bot may send (the free plan: about 3000); the leader
    # unit is told once at 80 %. 0: no budget watched. `python -m bot usage` shows the counts.
    zalo_monthly_budget: int = 3000
    # The public address of the HTTP server, for download links sent where documents cannot be (Zalo).
    public_base_url: str | None = None
    # The web pages (bot/web/), served by the HTTP server at PUBLIC_BASE_URL: the report form.
    # The key of their links, cookies and CSRF tokens; unset: derived from the bot tokens.
    web_secret: SecretStr | None = Field(default=None, min_length=32)
    # How old a Telegram Mini App's initData may be (its auth_date), in seconds.
    web_init_data_max_age_seconds: int = Field(default=3600, ge=60)
    # How long a personal link (for Zalo or a browser) works, in hours.
    web_link_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    # /report offers the form when the unit's sheet has more items than this.
    web_form_min_items: int = Field(default=12, ge=0)
    # Requests a person may make in a minute (counted per process).
    web_requests_per_minute: int = Field(default=120, ge=1)
    # Evidence uploaded on the page: at most this size, kept in this folder.
    web_upload_max_mb: int = Field(default=10, ge=1, le=50)
    web_upload_dir: Path = Path("./data/web-uploads")
    invite_ttl_days: int = Field(default=30, ge=1, le=365)
    log_level: str = "INFO"
    # The secret that seals secret ballots (storage/sealing.py). Never stored in the database.
    # Unset: the command line keeps one in `ballot_secret_file`, created on first use.
    ballot_secret: SecretStr | None = Field(default=None, min_length=32)
    ballot_secret_file: Path = Path("./data/ballot-secret")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def ballot_secret(settings: Settings) -> str:
    """The ballot secret: the setting, else the key file's (created, readable by its owner only)."""
    if settings.ballot_secret is not None:
        return settings.ballot_secret.get_secret_value()
    path = settings.ballot_secret_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(new_ballot_secret() + "\n")
    return path.read_text(encoding="ascii").strip()


def _tokens(*settings: SecretStr | None) -> list[str]:
    found: list[str] = []
    for setting in settings:
        for token in (setting.get_secret_value() if setting is not None else "").split(","):
            if token.strip() and token.strip() not in found:
                found.append(token.strip())
    return found


def telegram_tokens(settings: Settings) -> list[str]:
    """Every Telegram bot token of the deployment, TELEGRAM_BOT_TOKEN first, each once."""
    return _tokens(settings.telegram_bot_token, settings.telegram_bot_tokens)


def zalo_tokens(settings: Settings) -> list[str]:
    """Every Zalo bot token of the deployment, ZALO_BOT_TOKEN first, each once."""
    return _tokens(settings.zalo_bot_token, settings.zalo_bot_tokens)
