"""The README's main job (the demo) and the console channel, as a newcomer runs them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import col, select

from bot.cli import main
from bot.settings import get_settings
from fakes.demo import play_seed_year
from storage.db import make_engine, session_scope
from storage.models import AuditLog
from tests.factories import ROOT, SEED_BLOC


@pytest.mark.parametrize("channel", ["mixed", "telegram", "zalo"])
async def test_demo_tells_the_seed_year_in_order_on_each_channel(tmp_path: Path, channel: str) -> None:
    output = io.StringIO()
    status = await play_seed_year(tmp_path / "demo.db", Console(file=output, width=80), channel)
    text = output.getvalue()
    assert status == 0
    assert max(len(line) for line in text.splitlines()) <= 80, "the chronicle fits an 80-column terminal"
    for name in ("Trần Thị Mai", "Vũ Thị Lan", "Mai Thị Hương"):
        assert f"👤 {name} (" in text and "/start" in text
    on = {"mixed": ("Telegram)", "Zalo)"), "telegram": ("Telegram)",), "zalo": ("Zalo)",)}[channel]
    for shown in on:
        assert shown in text
    if channel == "mixed":
        assert "(Sở TT&TT, Zalo)" in text and "(Sở CT, Telegram)" in text
        assert "Các đơn vị dùng Telegram: Sở CT, Sở GTVT, Sở TN&MT." in text
    if channel != "telegram":
        assert "(chọn “✅ Đúng, lưu”)" in text, "a Zalo officer types the number of the option"
        assert "đã tải thử qua đường liên kết" in text and " KB" in text, "Zalo's file links download"
    if channel != "zalo":
        assert "bấm “✅ Đúng, lưu”" in text, "a Telegram officer presses the button"
        assert "[✅ Đúng, lưu]" in text, "the buttons under a message are shown"
    if channel == "telegram":
        flat = " ".join(text.split())
        assert "📎 tệp K3-2018-year-end-bang-tong-hop-diem.xlsx, " in flat and " KB" in flat, "files: name, size"
    assert "30.544 hộ = 102,0% kế hoạch" in text
    assert "👤 Nguyễn Văn Thành (Sở TT&TT, " in text and ", trong nhóm: /bind" in text, "who wrote in the group"
    # One chronicle in the order things happened: the deputy accepts the leader's report, then the
    # leader publishes, then the votes; every day has its heading.
    accepted = text.index("đã được Sở Giao thông – Vận tải chấp nhận")
    published = text.index(": /publish")
    assert accepted < published < text.index("Kết quả phiếu suy tôn") < text.index("Kết quả phiếu bầu Khối phó")
    assert text.index("Thứ tư, 02/01/2019") < text.index("Thứ sáu, 11/01/2019") < text.index("Thứ năm, 24/01/2019")
    assert text.count("Đã nộp báo cáo") >= 7
    assert "Lựa chọn của đơn vị" in text and "Đã ghi nhận phiếu" in text, "voters' taps show the reply"
    ranking = text[text.index("Kết quả xếp hạng năm 2018"):]
    first, second = ranking.index("Sở TT&TT"), ranking.index("Sở CT")
    assert first < second < ranking.index("Sở XD")
    assert "Cờ thi đua" in ranking and "chờ suy tôn" not in ranking and "Bằng khen" in ranking
    assert "Đã sửa I.2" in text and "Chưa có văn bản tham mưu kèm theo" in text
    assert "Đồng ý: 7 · Không đồng ý: 0" in text
    assert "Sở Xây dựng trúng cử Khối trưởng năm 2019" in text
    assert "Năm 2019: Khối trưởng Sở Xây dựng, Khối phó Sở Công thương; do các đơn vị bầu" in text
    assert "qua chat (phiếu kín)" in text and "hội nghị" not in text
    assert "14 người tham gia" in text and "giây." in text.splitlines()[-1]
    assert "people" not in text and "chat turns" not in text


# The demo command itself (`python -m bot demo`, as the README runs it): tests/cli/test_demo_database.py.


def _init(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m bot init` with the seed bloc, in this process (the shell below is the real process)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert main(["init", str(SEED_BLOC)]) == 0
    finally:
        get_settings.cache_clear()


def test_shell_reports_in_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/shell.db"}
    _init(env["DATABASE_URL"], monkeypatch)
    typed = "abc\n30.544\n#1\n/status\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell", "--officer", "tttt-tdkt", "--now", "2019-01-05T10:00"],
        env=env, input=typed, capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )
    out = result.stdout
    assert "Mục 1/9" in out and "không đọc được số" in out
    assert "30.544 hộ = 102,0% kế hoạch" in out and "#1 ✅ Đúng, lưu" in out
    assert "Mục 2/9" in out and "đã nhập 1/9 mục" in out


def test_the_shell_acts_as_the_console_in_the_audit_trail(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: what the shell does is the console's, not the officer's; `--allow-ballots` is itself audited."""
    env = {**os.environ, "DATABASE_URL": database_url}
    _init(database_url, monkeypatch)
    for flags in ([], ["--allow-ballots"]):
        subprocess.run(
            [sys.executable, "-m", "bot", "shell", "--officer", "tttt-tdkt", "--now", "2019-01-05T10:00", *flags],
            env=env, input="30.544\n#1\n/quit\n", capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            rows = session.exec(select(AuditLog.actor, AuditLog.action)
                                .where(col(AuditLog.actor).not_like("cli:%"))).all()
    finally:
        engine.dispose()
    actors = {actor for actor, _action in rows}
    assert actors == {"console:tttt-tdkt"}, rows
    assert [action for _actor, action in rows].count("console.allow_ballots") == 1
