"""The operator's web-link and web-revoke commands; `run` hands the web offer to the application."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

import bot.running
from bot.cli import main
from bot.settings import get_settings
from bot.web.auth import Signer, derived_web_secret
from storage.models import AuditLog, WebLink
from tests.factories import SEED_BLOC


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `python -m bot ARGS` in-process against the test database; returns (status, out)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://forms.example")
    monkeypatch.delenv("WEB_SECRET", raising=False)

    def run(*args: str) -> tuple[int, str]:
        get_settings.cache_clear()
        capsys.readouterr()
        status = main(list(args))
        return status, capsys.readouterr().out

    yield run
    get_settings.cache_clear()


def _links(database_url: str) -> list[WebLink]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(WebLink).order_by(WebLink.id)))  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_a_link_is_issued_signed_and_revoked(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("init", str(SEED_BLOC))[0] == 0
    status, out = cli("web-link", "--officer", "tttt-tdkt")
    assert status == 0 and "Trần Thị Mai" in out
    url = next(line for line in out.split() if line.startswith("https://forms.example/web/l/"))
    (link,) = _links(database_url)
    token = url.rsplit("/", 1)[1]
    signer = Signer(derived_web_secret("123456:TEST-TOKEN"))
    now = dt.datetime.now(dt.UTC)
    assert signer.check("link", token, now) == link.id  # signed with the key every replica derives
    assert link.revoked_at is None and link.expires_at.replace(tzinfo=dt.UTC) > now + dt.timedelta(hours=71)
    cli("web-link", "--officer", "tttt-tdkt")

    status, out = cli("web-revoke", "--officer", "tttt-tdkt", "--link", str(link.id))
    assert status == 0 and "Đã thu hồi 1 đường dẫn" in out
    first, second = _links(database_url)
    assert first.revoked_at is not None and second.revoked_at is None
    status, out = cli("web-revoke", "--officer", "tttt-tdkt")
    assert status == 0 and "Đã thu hồi 1 đường dẫn" in out
    assert all(link.revoked_at is not None for link in _links(database_url))
    engine = create_engine(database_url)
    with Session(engine) as session:
        actions = list(session.exec(select(AuditLog.action, AuditLog.actor).where(
            AuditLog.action.in_(["web_link_issued", "web_link_revoked"]))))  # type: ignore[attr-defined]
    engine.dispose()
    assert sorted(actions) == [("web_link_issued", "cli:web-link")] * 2 + [("web_link_revoked", "cli:web-revoke")] * 2


def test_refused_without_an_address_or_for_an_unknown_officer(cli, database_url: str,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("init", str(SEED_BLOC))[0] == 0
    assert cli("web-link", "--officer", "nobody")[0] == 2
    monkeypatch.setenv("PUBLIC_BASE_URL", "")
    status, out = cli("web-link", "--officer", "tttt-tdkt")
    assert status == 2 and "PUBLIC_BASE_URL" in out
    assert _links(database_url) == []


class Built(Exception):
    """Stops `run` once the application would be built."""


@pytest.mark.parametrize(("base", "http_port", "mini_app"), [
    ("https://forms.example", "8080", {"telegram"}), ("http://10.0.0.5:8080", "8080", set()), ("", "8080", None),
    ("https://forms.example", None, None)])
def test_run_offers_the_form_where_the_pages_are_served(base: str, http_port: str | None, mini_app: set[str] | None,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def build_application(**kwargs: Any) -> None:
        seen.update(kwargs)
        raise Built

    monkeypatch.setattr(bot.running, "build_parts", build_application)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    monkeypatch.setenv("WEB_FORM_MIN_ITEMS", "20")
    if http_port is None:
        monkeypatch.delenv("HTTP_PORT", raising=False)
    else:
        monkeypatch.setenv("HTTP_PORT", http_port)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        with pytest.raises(Built):
            main(["run"])
    finally:
        get_settings.cache_clear()
    offer = seen["web"]
    if mini_app is None:
        assert offer is None
    else:
        assert offer.min_items == 20 and set(offer.mini_app_channels) == mini_app


def test_a_board_link_is_issued_signed_and_revoked(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from storage.models import BoardLink

    status, out = cli("board-link", "--name", "Nguyễn Văn Bình")
    assert status == 0 and "Nguyễn Văn Bình" in out
    url = next(line for line in out.split() if line.startswith("https://forms.example/web/b/"))
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            (link,) = session.exec(select(BoardLink)).all()
            signer = Signer(derived_web_secret("123456:TEST-TOKEN"))
            now = dt.datetime.now(dt.UTC)
            assert signer.check("board", url.rsplit("/", 1)[1], now) == link.id
            assert signer.check("link", url.rsplit("/", 1)[1], now) is None  # not an officer's link
            assert link.expires_at.replace(tzinfo=dt.UTC) > now + dt.timedelta(days=89)
        assert cli("board-link", "--name", "Nguyễn Văn Bình", "--revoke") == (0, "Đã thu hồi 1 đường dẫn của "
                                                                                "Nguyễn Văn Bình.\n")
        with Session(engine) as session:
            (link,) = session.exec(select(BoardLink)).all()
            assert link.revoked_at is not None
            actions = [(row.action, row.actor, row.target) for row in session.exec(
                select(AuditLog).where(AuditLog.action.startswith("board_link")).order_by(AuditLog.id))]  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    assert actions == [("board_link_issued", "cli:board-link", "board:Nguyễn Văn Bình"),
                       ("board_link_revoked", "cli:board-link", "board:Nguyễn Văn Bình")]
    assert cli("board-link", "--name", "   ")[0] == 2


def test_a_board_link_issued_in_english_opens_the_overview_in_english(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from storage.models import BoardLink

    status, out = cli("board-link", "--name", "Jane Doe", "--lang", "en")
    assert status == 0 and "Personal link of Jane Doe" in out and "opens in English" in out
    status, out = cli("board-link", "--name", "Nguyễn Văn Bình")
    assert status == 0 and "Đường dẫn riêng của Nguyễn Văn Bình" in out
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            languages = {link.name: link.language for link in session.exec(select(BoardLink))}
    finally:
        engine.dispose()
    assert languages == {"Jane Doe": "en", "Nguyễn Văn Bình": "vi"}
    revoked = cli("board-link", "--name", "Jane Doe", "--revoke", "--lang", "en")
    assert revoked == (0, "Revoked 1 link(s) of Jane Doe.\n")
