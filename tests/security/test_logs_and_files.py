"""Issue 16: logs with timestamps and context that never print a secret; configuration files that cannot
silently change a bloc."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from bot.logs import configure_logging, set_log_context
from bot.settings import get_settings
from storage.db import make_engine, session_scope
from storage.models import AuditLog, Bloc, YearRoles
from tests.conftest import EXAMPLES

TOKEN = "123456789:AAHfakeFAKEfakeFAKEfakeFAKEfake0123"


def test_a_log_line_has_a_time_the_chat_and_officer_and_no_token(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[TOKEN])
    set_log_context(chat=900, officer="tttt-head")
    try:
        logging.getLogger("telegram.ext").info("POST https://api.telegram.org/bot%s/getMe 404", TOKEN)
        try:
            raise RuntimeError(f"rejected https://example.invalid/bot{TOKEN}/getMe and /start Zx9_invitecode12")
        except RuntimeError:
            logging.getLogger("telegram.ext").exception("getMe failed")
        logging.getLogger("x").debug("not shown at INFO")
    finally:
        set_log_context()
    err = capsys.readouterr().err
    assert TOKEN not in err and "AAHfake" not in err and "Zx9_invitecode12" not in err
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO telegram\.ext \[chat=900 officer=tttt-head\] "
                     r"POST https://api\.telegram\.org/bot\[REDACTED\]/getMe 404$", err, re.MULTILINE)
    assert "ERROR telegram.ext" in err and "Traceback" in err and "/start [REDACTED]" in err
    assert "not shown at INFO" not in err


def test_log_level_is_applied(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING")
    logging.getLogger("bot").info("quiet")
    logging.getLogger("bot").warning("loud")
    err = capsys.readouterr().err
    configure_logging("INFO")
    assert "loud" in err and "quiet" not in err
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        configure_logging("CHATTY")


@pytest.fixture
def init(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """`python -m bot init FILE` in-process; returns (status, out)."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(path: Path) -> tuple[int, str]:
        get_settings.cache_clear()
        capsys.readouterr()
        status = main(["init", str(path)])
        return status, capsys.readouterr().out

    yield run
    get_settings.cache_clear()


def _state(database_url: str) -> tuple[str, int, list[tuple[int, int, int]]]:
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            bloc = session.exec(select(Bloc)).one()
            audits = len(list(session.exec(select(AuditLog))))
            roles = [(r.year, r.leader_unit_id, r.deputy_unit_id) for r in session.exec(select(YearRoles))]
            return bloc.config_hash, audits, roles
    finally:
        engine.dispose()


def test_a_repeated_key_is_refused_and_changes_nothing(init, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed = (EXAMPLES / "khoi3-2018.yaml").read_text(encoding="utf-8")
    assert init(EXAMPLES / "khoi3-2018.yaml")[0] == 0
    before = _state(database_url)
    leader = tmp_path / "leader.yaml"
    leader.write_text(seed.replace("  leader: STTTT\n", "  leader: STTTT\n  leader: SXD\n"), encoding="utf-8")
    status, out = init(leader)
    assert status == 2 and "given twice" in out and "line 38, column 3: roles.leader:" in out, out
    assert str(leader) in out
    twice = tmp_path / "bloc.yaml"
    twice.write_text(seed + "\nbloc:\n  code: KTD3\n  timezone: UTC\n", encoding="utf-8")
    status, out = init(twice)
    assert status == 2 and "bloc: the key 'bloc' is given twice" in out, out
    unit = tmp_path / "unit.yaml"
    unit.write_text(seed.replace("{code: SCT,", "{code: SCT, code: SXD,", 1), encoding="utf-8")
    status, out = init(unit)
    assert status == 2 and "line 14, column 17: units[2].code: the key 'code' is given twice" in out, out
    assert _state(database_url) == before, "an invalid file changes nothing, audit included"


def test_hostile_files_end_in_one_line_not_a_traceback(init, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    nested = tmp_path / "nested.yaml"
    nested.write_text("[" * 100_000, encoding="utf-8")
    status, out = init(nested)
    assert status == 2 and "Traceback" not in out and len(out.strip().splitlines()) == 1, out
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"#" * (9 * 1024 * 1024))
    status, out = init(huge)
    assert status == 2 and "larger than 8 MB" in out, out
    status, out = init(Path("/dev/zero"))  # endless: read no further than the cap
    assert status == 2 and "larger than 8 MB" in out and len(out.strip().splitlines()) == 1, out
    deep = tmp_path / "deep.yaml"
    deep.write_text("a:\n" + "".join(" " * depth + "- \n" for depth in range(1, 20_000)), encoding="utf-8")
    status, out = init(deep)
    assert status == 2 and "Traceback" not in out and len(out.strip().splitlines()) == 1, out


def test_names_and_figures_have_maxima(init, database_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A bloc name of 30 MB (here 201 characters, the file cap stops larger ones) and a 60-digit actual
    in a results file are refused the same way on both backends (PostgreSQL printed SQL before)."""
    seed = (EXAMPLES / "khoi3-2018.yaml").read_text(encoding="utf-8")
    assert init(EXAMPLES / "khoi3-2018.yaml")[0] == 0
    before = _state(database_url)
    named = tmp_path / "named.yaml"
    name = next(line for line in seed.splitlines() if line.startswith("  name: "))
    named.write_text(seed.replace(name, "  name: " + "K" * 201, 1), encoding="utf-8")
    status, out = init(named)
    assert status == 2 and "bloc.name: String should have at most 200 characters" in out, out
    results = tmp_path / "results.yaml"
    text = (EXAMPLES / "khoi3-2018-results.yaml").read_text(encoding="utf-8")
    figure = re.search(r"TT-1: ([0-9.]+)", text)
    assert figure is not None
    results.write_text(text.replace(figure.group(0), "TT-1: " + "9" * 60, 1), encoding="utf-8")
    capsys.readouterr()
    status = main(["results", "import", str(results)])
    out = capsys.readouterr().out
    assert status == 2 and "indicators.TT-1" in out and "at most 15 digits" in out, out
    assert "SELECT" not in out and "INSERT" not in out and "Traceback" not in out
    assert _state(database_url) == before
