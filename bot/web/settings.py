"""What the web pages need from the settings (bot/web/setup.py makes it from bot/settings.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.web.auth import Signer


@dataclass(frozen=True)
class WebSettings:
    """What the pages need: the secret, the bot token for initData, the limits."""

    signer: Signer
    base_url: str
    telegram_token: str | None = None
    init_data_max_age: dt.timedelta = dt.timedelta(hours=1)
    link_ttl: dt.timedelta = dt.timedelta(days=3)
    requests_per_minute: int = 120
    upload_max_bytes: int = 10 * 1024 * 1024
    upload_dir: Path = Path("./data/web-uploads")
    upload_types: frozenset[str] = field(default_factory=lambda: frozenset(
        {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png"}))
