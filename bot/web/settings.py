"""What the web pages need from the settings (bot/web/setup.py makes it from bot/settings.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.web.auth import Signer


@dataclass(frozen=True)
class WebSettings:
    """What the pages need: the secret, the Telegram bots' tokens for initData, the limits."""

    signer: Signer
    base_url: str
    # Every Telegram bot of the deployment offers the Mini App; its initData is signed with
    # the token of the bot it was opened from, so each is tried (a deployment has a few).
    telegram_tokens: tuple[str, ...] = ()
    init_data_max_age: dt.timedelta = dt.timedelta(hours=1)
    link_ttl: dt.timedelta = dt.timedelta(days=3)
    requests_per_minute: int = 120
    upload_max_bytes: int = 10 * 1024 * 1024
    upload_dir: Path = Path("./data/web-uploads")
    upload_types: frozenset[str] = field(default_factory=lambda: frozenset(
        {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png"}))
