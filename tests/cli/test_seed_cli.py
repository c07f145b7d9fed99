"""The operator's command line on the seed bloc, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.settings import get_settings
from tests.factories import SEED_BLOC, SEED_RESULTS


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `python -m bot ARGS` in-process against the test database; returns (status, out)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BOT_USERNAME", "khoithidua_bot")

    def run(*args: str) -> tuple[int, str]:
        get_settings.cache_clear()
        capsys.readouterr()
        status = main(list(args))
        return status, capsys.readouterr().out

    yield run
    get_settings.cache_clear()


def test_seed_ranking_json(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init", str(SEED_BLOC))[0] == 0
    assert cli("results", "import", str(SEED_RESULTS))[0] == 0
    status, out = cli("ranking", "--format", "json")
    assert status == 0
    ranking = json.loads(out)["ranking"]
    assert [row["unit_code"] for row in ranking][:2] == ["STTTT", "SCT"]
    assert ranking[0]["unit_name"] == "Sở Thông tin và Truyền thông"
    assert ranking[0]["award"] == "flag-pending-acclaim"
    assert ranking[1]["award"] == "merit"
    assert [row["award"] for row in ranking[2:]] == [None] * 5
    assert [row["rank"] for row in ranking] == list(range(1, 8))
    bands = [row["band"] for row in ranking]
    assert bands.count("Xuất sắc") == 3 and bands.count("Tốt") == 3 and bands.count("Khá") == 1
    for row in ranking:
        assert set(row) >= {"rank", "unit_code", "unit_name", "total", "percent_of_standard",
                            "band", "award", "sections"}
        assert set(row["sections"]) == {"I", "II", "III"}


def test_init_twice_changes_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init", str(SEED_BLOC))[0] == 0
    status, out = cli("init", str(SEED_BLOC))
    assert status == 0 and "không có gì thay đổi" in out


def test_ranking_table_is_readable(cli) -> None:  # type: ignore[no-untyped-def]
    cli("init", str(SEED_BLOC))
    cli("results", "import", str(SEED_RESULTS))
    status, out = cli("ranking", "--bloc", "K3", "--year", "2018")
    assert status == 0
    assert "Sở Thông tin và Truyền thông" in out and "Cờ thi đua (chờ suy tôn)" in out


def test_invites_are_single_codes_with_links(cli) -> None:  # type: ignore[no-untyped-def]
    cli("init", str(SEED_BLOC))
    status, out = cli("invites", "--bloc", "K3")
    assert status == 0
    assert out.count("https://t.me/khoithidua_bot?start=") == 14


def test_invites_again_keep_the_codes_handed_out_and_one_officer_can_get_a_new_one(
    cli, database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    """Running `invites` again revokes nothing; `--officer` replaces one code, which then says so."""
    from handlers.dispatch import Conversation
    from storage.db import make_engine
    from tests.chat.driver import Clock, Person

    cli("init", str(SEED_BLOC))
    _, first = cli("invites", "--bloc", "K3")
    codes = re.findall(r"start=([\w-]+)", first)
    assert len(codes) == 14
    status, again = cli("invites", "--bloc", "K3")
    assert status == 0 and "start=" not in again
    assert again.count("chờ dùng mã") == 14 and "Không cấp mã mới" in again
    status, one = cli("invites", "--bloc", "K3", "--officer", "tttt-tdkt")
    assert status == 0 and one.count("start=") == 1 and "đã được thay" in one
    assert cli("invites", "--officer", "nobody")[0] == 2
    engine = make_engine(database_url)
    try:
        conversation = Conversation(engine, clock=Clock(dt.datetime.now(dt.UTC)))
        old_code = codes[sorted_officers().index("tttt-tdkt")]
        person = Person(conversation, 9001)
        assert "đã được thay bằng một mã mới" in person.command("start", old_code).replies[0].text
        other = Person(conversation, 9002)
        assert "Kính chào" in other.command("start", codes[sorted_officers().index("xd-head")]).replies[0].text
    finally:
        engine.dispose()
    _, after = cli("invites", "--bloc", "K3")
    assert "đã liên kết (telegram)" in after


def sorted_officers() -> list[str]:
    """The seed's officer codes in the order `invites` prints them (unit code, officer code)."""
    from tests.factories import seed_bloc

    config = seed_bloc()
    units = {unit.code: unit.code for unit in config.units}
    return [officer.code for officer in sorted(config.officers, key=lambda o: (units[o.unit], o.code))]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda text: text.replace("  - {code: SXD", "  - {code: STTTT", 1), "units[1]: duplicate code 'STTTT'"),
        (lambda text: text.replace("max: 30\n", "max: 35\n", 1), "sum to 105"),
        (lambda text: text.replace("target: 29.945", "target: -5", 1), "indicators[0].target"),
        (lambda text: text.replace("unit: SXD, role: unit_head", "unit: SXX, role: unit_head", 1),
         "officers[2].unit: unknown unit 'SXX'"),
        (lambda text: text.replace("criterion: I.1, text: \"Tỷ lệ đô thị", "criterion: I.9, text: \"Tỷ lệ đô thị", 1),
         "indicators[3].criterion: unknown criterion 'I.9'"),
        (lambda text: text.replace("target: 29.945", "target: ba mươi", 1), "indicators[0].target"),
        (lambda text: text + "\n  bad: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_bloc_files_name_the_place_and_change_nothing(
    cli, tmp_path: Path, edit, expected: str  # type: ignore[no-untyped-def]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(edit(SEED_BLOC.read_text(encoding="utf-8")), encoding="utf-8")
    status, out = cli("init", str(bad))
    assert status == 2
    assert str(bad) in out and expected in out.replace("\n", " ") or expected in out, out
    status, out = cli("ranking", "--format", "json")
    assert status == 2 and "no bloc" in out or "bloc" in out


def test_bad_results_value_is_reported(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("init", str(SEED_BLOC))
    bad = tmp_path / "results.yaml"
    bad.write_text(SEED_RESULTS.read_text(encoding="utf-8").replace("TT-1: 30.544", 'TT-1: "30,544"'),
                   encoding="utf-8")
    status, out = cli("results", "import", str(bad))
    assert status == 2
    assert "results[0].indicators.TT-1" in out and "may be read as 30544" in out
    status, out = cli("ranking", "--format", "json")
    assert all(row["total"] == "0" or row["total"].startswith("0") for row in json.loads(out)["ranking"])


def test_the_command_line_speaks_vietnamese_by_default_and_english_with_lang(cli) -> None:  # type: ignore[no-untyped-def]
    status, out = cli("init", str(SEED_BLOC))
    assert status == 0 and "Đã nạp khối K3: 7 đơn vị" in out and "Loaded" not in out
    status, out = cli("--lang", "en", "init", str(SEED_BLOC))
    assert status == 0 and "Bloc K3 is already as the file says; nothing changed." in out
    status, out = cli("results", "import", str(SEED_RESULTS), "--lang", "en")
    assert status == 0 and "Imported the results of 7 units" in out
    status, out = cli("ranking", "--bloc", "K3", "--lang", "en")
    assert status == 0 and "year-end review 2018" in out and "Emulation flag" in out
    assert "Xếp loại" not in out and "Band" in out
    status, out = cli("ranking", "--bloc", "NOPE")
    assert status == 2 and "Không có khối NOPE" in out
    status, out = cli("ranking", "--bloc", "K3", "--year", "2030", "--lang", "en")
    assert status == 2 and "Bloc K3 has no year-end review in 2030." in out
    status, out = cli("votes", "--bloc", "K3")
    assert status == 0 and "Năm 2018 không có phiếu nào." in out and "No ballot" not in out
    status, out = cli("invites", "--bloc", "NOPE", "--lang", "en")
    assert status == 2 and "There is no bloc NOPE" in out


def test_times_are_in_the_blocs_time_zone_as_the_chat_writes_them(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from handlers.i18n import format_moment
    from storage.db import make_engine, session_scope
    from storage.models import AuditLog, Invite

    cli("init", str(SEED_BLOC))
    status, invites = cli("invites", "--bloc", "K3")
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            expires = session.exec(select(Invite.expires_at)).first()
            first = session.exec(select(AuditLog).order_by(AuditLog.id)).first()  # type: ignore[arg-type]
            assert expires is not None and first is not None
            at = first.at
    finally:
        engine.dispose()
    assert status == 0 and format_moment(expires, "Asia/Ho_Chi_Minh", "vi") in invites
    assert not re.search(r"\d{4}-\d{2}-\d{2}", invites)
    status, audit = cli("audit", "--bloc", "K3")
    local = at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert status == 0 and "Asia/Ho_Chi_Minh" in audit
    assert local.strftime("%d/%m/%Y %H:%M:%S") in audit and "UTC" not in audit


def test_a_percent_of_the_standard_is_rounded_the_same_everywhere(cli) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from rules.numbers import format_quantity, format_standard_percent

    cli("init", str(SEED_BLOC))
    cli("results", "import", str(SEED_RESULTS))
    _, table = cli("ranking", "--bloc", "K3")
    _, raw = cli("ranking", "--bloc", "K3", "--format", "json")
    for row in json.loads(raw)["ranking"]:
        shown = format_standard_percent(Decimal(row["percent_of_standard"]))
        assert re.fullmatch(r"\d+,\d\d%", shown) and shown in table
    assert format_quantity(Decimal("31.5"), "%") == "31,5%" and format_quantity(Decimal(30544), "hộ") == "30.544 hộ"


def test_init_rehearse_moves_the_year_to_now_and_says_so(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from storage.db import make_engine, session_scope
    from storage.models import Period

    before = dt.datetime.now(dt.UTC)
    status, out = cli("init", str(SEED_BLOC), "--rehearse")
    assert status == 0 and "DIỄN TẬP" in out and "Đã nạp khối K3" in out
    assert "ngoài năm" not in out  # moved dates are not warned about
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            periods = {period.kind: period for period in session.exec(select(Period))}
    finally:
        engine.dispose()
    year_end = periods["year-end"]
    assert year_end.reporting_opens <= before < year_end.reporting_deadline
    assert year_end.reporting_deadline - year_end.reporting_opens == dt.timedelta(days=40, hours=9)
    assert year_end.votes_opens is not None and year_end.votes_opens > year_end.reporting_deadline
    status, invites = cli("invites", "--bloc", "K3")
    assert status == 0 and invites.startswith("⚠️ DIỄN TẬP: khối K3")
    status, english = cli("invites", "--bloc", "K3", "--lang", "en")
    assert english.startswith("⚠️ REHEARSAL: bloc K3")


def test_init_warns_when_a_periods_dates_lie_outside_its_year(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    status, out = cli("init", str(SEED_BLOC))
    assert status == 0 and "ngoài năm" not in out  # the seed's year-end review runs into 2019: fine
    moved = tmp_path / "khoi3-2026-dates.yaml"
    moved.write_text(SEED_BLOC.read_text(encoding="utf-8").replace("2019-01-", "2026-01-"), encoding="utf-8")
    status, out = cli("init", str(moved))
    assert status == 0
    flat = " ".join(out.split())
    assert "⚠️ Kỳ tổng kết năm 2018: mốc review.deadline là 17:00 ngày 20/01/2026, nằm ngoài năm 2018." in flat
    assert "init --rehearse" in flat
