"""`python -m bot run` hands the send-rate setting to the application it builds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import bot.running
from bot.cli import main
from bot.settings import get_settings


class Built(Exception):
    """Stops `run` once the application would be built."""


@pytest.mark.parametrize(("setting", "passed"), [("0", None), ("12", 12), (None, 30)])
def test_the_send_rate_setting_reaches_the_application(
        setting: str | None, passed: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def build_parts(**kwargs: Any) -> None:
        seen.update(kwargs)
        raise Built

    monkeypatch.setattr(bot.running, "build_parts", build_parts)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    if setting is None:
        monkeypatch.delenv("TELEGRAM_MESSAGES_PER_SECOND", raising=False)
    else:
        monkeypatch.setenv("TELEGRAM_MESSAGES_PER_SECOND", setting)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout is read
    get_settings.cache_clear()
    try:
        with pytest.raises(Built):
            main(["run"])
    finally:
        get_settings.cache_clear()
    assert seen["messages_per_second"] == passed


def test_the_outbox_lease_setting_reaches_the_sender(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def build_parts(**kwargs: Any) -> None:
        seen.update(kwargs)
        raise Built

    monkeypatch.setattr(bot.running, "build_parts", build_parts)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("OUTBOX_LEASE_SECONDS", "7.5")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        with pytest.raises(Built):
            main(["run"])
    finally:
        get_settings.cache_clear()
    assert seen["sender"].lease == dt.timedelta(seconds=7.5)


def test_the_pages_check_initdata_with_every_telegram_bots_token(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """TELEGRAM_BOT_TOKEN and TELEGRAM_BOT_TOKENS: the Mini App of each bot is checked with its own token."""
    from bot.web.setup import web_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:FIRST")
    monkeypatch.setenv("TELEGRAM_BOT_TOKENS", "654321:SECOND,123456:FIRST")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://thidua.example.vn")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        pages = web_settings(get_settings())
    finally:
        get_settings.cache_clear()
    assert pages is not None
    assert pages.telegram_tokens == ("123456:FIRST", "654321:SECOND")
