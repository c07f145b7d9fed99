"""The one settings class: every variable is documented in `.env.example`."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings, read from the environment and `.env`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///./data/khoithidua.db"
    # Required by `python -m bot run` only; the demo and the CLI work without it.
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    bot_username: str | None = None
    # The HTTP client for Bot API requests: aiohttp (bot/transport.py) or httpx
    # (python-telegram-bot's default).
    telegram_http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"  # noqa: S104 (a webhook server listens on all interfaces)
    webhook_port: int = 8443
    # The HTTP server (webhooks, /healthz) listens on this port in polling mode too when set.
    http_port: int | None = None
    # Messages a second the bot sends, all processes together (Telegram allows about 30);
    # 0 lifts the limit (for measuring against a fake server only).
    telegram_rate_limit: float = Field(default=30.0, ge=0)
    invite_ttl_days: int = Field(default=30, ge=1, le=365)
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
