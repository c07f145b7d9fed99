"""The README's main job (the demo) and the console channel, as a newcomer runs them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from sqlmodel import col, select

from fakes.demo import play_seed_year
from storage.db import make_engine, session_scope
from storage.models import AuditLog
from tests.factories import ROOT, SEED_BLOC


async def test_demo_plays_the_whole_seed_year_through_the_bot(tmp_path: Path) -> None:
    output = io.StringIO()
    status = await play_seed_year(tmp_path / "demo.db", Console(file=output, width=160))
    text = output.getvalue()
    assert status == 0
    for name in ("Trần Thị Mai", "Vũ Thị Lan", "Mai Thị Hương"):
        assert f"👤 {name}: /start" in text
    assert "30.544 hộ = 102,0% kế hoạch" in text
    assert text.count("Đã nộp báo cáo") == 7
    ranking = text[text.index("Xếp hạng"):]
    first, second = ranking.index("Sở Thông tin và Truyền thông"), ranking.index("Sở Công thương")
    assert first < second < ranking.index("Sở Xây dựng")
    assert "Cờ thi đua" in ranking and "chờ suy tôn" not in ranking and "Bằng khen" in ranking
    assert "Đã sửa I.2" in text and "Chưa có văn bản tham mưu kèm theo" in text
    assert "Đồng ý: 7 · Không đồng ý: 0" in text
    assert "Sở Xây dựng trúng cử Khối trưởng năm 2019" in text
    assert "Sở Công thương trúng cử Khối phó năm 2019" in text
    assert "Năm 2019: Khối trưởng Sở Xây dựng, Khối phó Sở Công thương" in text


def test_shell_reports_in_the_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/shell.db"}
    subprocess.run([sys.executable, "-m", "bot", "init", str(SEED_BLOC)], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    typed = "abc\n30.544\n#1\n/status\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell", "--officer", "tttt-tdkt", "--now", "2019-01-05T10:00"],
        env=env, input=typed, capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )
    out = result.stdout
    assert "Mục 1/9" in out and "không đọc được số" in out
    assert "30.544 hộ = 102,0% kế hoạch" in out and "#1 ✅ Đúng, lưu" in out
    assert "Mục 2/9" in out and "đã nhập 1/9 mục" in out


def test_the_shell_acts_as_the_console_in_the_audit_trail(database_url: str) -> None:
    """Issue 16: what the shell does is the console's, not the officer's; `--allow-ballots` is itself audited."""
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "bot", "init", str(SEED_BLOC)], env=env, check=True,
                   capture_output=True, cwd=ROOT)
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
