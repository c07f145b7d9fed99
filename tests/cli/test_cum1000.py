"""The 1.000-point example bloc, loaded and ranked through the operator's command line.

A second bloc, different from the seed in every rule the configuration allows,
must run with no code change: `init`, `results import`, `ranking`.

Expected totals, worked out by hand from examples/cum-1000*.yaml
(achievement = actual / target × 100; lower-is-better: (2 × target − actual) / target × 100,
floored at 0; target 0 and lower-is-better: 100 when the actual is 0, else 0).
I.1 proportional, max 300 (3 points per %), over-plan 2 points per % above 100, cap 20;
two indicators are a weighted mean of their points and of their over-plan bonus.
I.2 threshold, max 150. I.3 stepped, max 150, 15 points off per 5 % (or part) short.
Bonus capped at 50, deductions at 30.

CTHUE  CT-1 17.280/16.000 = 108 % → 300, over 8 × 2 = 16 (weight 2)
       CT-2 lower (10 − 4,5)/5 = 110 % → 300, over 10 × 2 = 20 → cap 20 (weight 1)
       I.1 = 300; over-plan (2 × 16 + 20)/3 = 17,333 → 17,33
       CT-3 99,2/99 = 100,2 % → 150;  CT-4 100 % → 150;  I = 600
       II = 96 + 95 = 191;  III = 49 + 48 + 47,5 = 144,5
       bonus 17,33 + 25 + 15 = 57,33 → capped 50;  deductions 5
       total 600 + 191 + 144,5 + 50 − 5 = 980,50 (98,05 %)
STC    TC-1 19.240/18.500 = 104 % → 300, over 8 (weight 2)
       TC-2 96,9/95 = 102 % → 300, over 4 (weight 1)
       I.1 = 300; over-plan (2 × 8 + 4)/3 = 6,667 → 6,67
       TC-3 target 0, actual 0 → 100 % → 150;  TC-4 92 % → 150 − 15 × ceil(8/5) = 120
       I = 570;  II = 95 + 96,5 = 191,5;  III = 48 + 47,5 + 46 = 141,5
       bonus 6,67 + 20 + 10 = 36,67;  deductions 0
       total 570 + 191,5 + 141,5 + 36,67 = 939,67 (93,967 %)
KBNN   KB-1 98/98 = 100 % → 300 (weight 2);  KB-2 1.200/1.250 = 96 % → 288 (weight 1)
       I.1 = (2 × 300 + 288)/3 = 296
       KB-3 target 0, actual 0 → 150;  KB-4 lower (4 − 2,2)/2 = 90 % → 150 − 15 × 2 = 120
       I = 566;  II = 94 + 95 = 189;  III = 47 + 47 + 46 = 140;  bonus 10
       total 566 + 189 + 140 + 10 = 905,00 (90,5 %)
NHNN   NH-1 14,7/14 = 105 % → 300, over 10;  NH-2 lower (4 − 2,1)/2 = 95 % → 285 (weights 1, 1)
       I.1 = (300 + 285)/2 = 292,5; over-plan 10/2 = 5
       NH-3 24/24 → 150;  NH-4 88 % → 150 − 15 × ceil(12/5) = 105
       I = 547,5;  II = 93 + 92 = 185;  III = 49 + 48 + 48 = 145
       bonus 5 + 10 + 12,5 = 27,5
       total 547,5 + 185 + 145 + 27,5 = 905,00 (90,5 %): equal to KBNN;
       tie_breaks start with section:II, 189 > 185, so KBNN is 3rd and NHNN 4th
       (by bonus, the next key, NHNN would have won).
SKHDT  KH-1 1.620/1.800 = 90 % → 270 (weight 3);  KH-2 86.700/85.000 = 102 % → 300, over 4
       I.1 = (3 × 270 + 300)/4 = 277,5; over-plan 4/4 = 1
       KH-3 target 0, actual 3 → 0 %: threshold → 0
       KH-4 lower (20 − 13)/10 = 70 % → 150 − 15 × ceil(30/5) = 60
       I = 337,5;  II = 85 + 82,5 = 167,5;  III = 44 + 42 + 40 = 126
       bonus 1;  deductions 10 + 25 = 35 → capped 30
       total 337,5 + 167,5 + 126 + 1 − 30 = 602,00 (60,2 %)

Awards: 1 flag at ≥ 90 % (CTHUE, pending the acclaim vote: the command line has
none), 3 certificates at ≥ 85 % for the next three (STC, KBNN, NHNN); SKHDT none.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import bot.settings
from bot.cli import main
from tests.factories import ROOT

BLOC_FILE = ROOT / "examples" / "cum-1000.yaml"
RESULTS_FILE = ROOT / "examples" / "cum-1000-results.yaml"

# unit → (total, section I, section II, section III, bonus, deductions)
EXPECTED = {
    "CTHUE": ("980.50", "600.00", "191.00", "144.50", "50", "5.00"),
    "STC": ("939.67", "570.00", "191.50", "141.50", "36.67", "0.00"),
    "KBNN": ("905.00", "566.00", "189.00", "140.00", "10.00", "0.00"),
    "NHNN": ("905.00", "547.50", "185.00", "145.00", "27.50", "0.00"),
    "SKHDT": ("602.00", "337.50", "167.50", "126.00", "1.00", "30"),
}
EXPECTED_BANDS = {
    "CTHUE": "Hoàn thành xuất sắc nhiệm vụ",
    "STC": "Hoàn thành tốt nhiệm vụ",
    "KBNN": "Hoàn thành tốt nhiệm vụ",
    "NHNN": "Hoàn thành tốt nhiệm vụ",
    "SKHDT": "Chưa hoàn thành nhiệm vụ",
}


def _run(
    argv: list[str], *, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> tuple[int, str]:
    """Run one CLI command on the test's database; its exit status and what it printed."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/t.db")
    bot.settings.get_settings.cache_clear()
    status = main(argv)
    return status, capsys.readouterr().out


def test_the_1000_point_bloc_ranks_through_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def run(*argv: str) -> tuple[int, str]:
        return _run(list(argv), monkeypatch=monkeypatch, capsys=capsys, tmp_path=tmp_path)

    status, out = run("init", str(BLOC_FILE))
    assert status == 0, out
    assert "Đã nạp khối C1000: 5 đơn vị" in out
    status, out = run("init", str(BLOC_FILE))
    assert status == 0, out
    assert "không có gì thay đổi" in out
    status, out = run("results", "import", str(RESULTS_FILE))
    assert status == 0, out
    assert "Đã nhập kết quả của 5 đơn vị" in out

    status, out = run("ranking", "--bloc", "C1000", "--format", "json")
    assert status == 0, out
    report: dict[str, Any] = json.loads(out)
    assert report["bloc"] == "C1000"
    assert report["year"] == 2025
    assert report["period"] == "year-end"
    assert Decimal(report["standard_score"]) == Decimal(1000)
    rows = report["ranking"]
    assert len(rows) == 5

    assert [row["unit_code"] for row in rows] == ["CTHUE", "STC", "KBNN", "NHNN", "SKHDT"]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 5]
    for row in rows:
        total = Decimal(row["total"])
        assert Decimal(0) <= total <= Decimal(1000)
        assert Decimal(row["percent_of_standard"]) == total / 10
        assert row["status"] == "submitted"
        expected = EXPECTED[row["unit_code"]]
        found = (row["total"], row["sections"]["I"], row["sections"]["II"],
                 row["sections"]["III"], row["bonus"], row["deductions"])
        assert tuple(Decimal(value) for value in found) == tuple(
            Decimal(value) for value in expected
        ), row["unit_code"]
        assert row["total"] == expected[0], row["unit_code"]
        assert row["band"] == EXPECTED_BANDS[row["unit_code"]], row["unit_code"]

    awards = {row["unit_code"]: row["award"] for row in rows}
    # No acclaim vote has been held: the flag is proposed pending the acclaim.
    assert awards["CTHUE"] == "flag-pending-acclaim"
    assert [code for code, award in awards.items() if award == "merit"] == ["STC", "KBNN", "NHNN"]
    assert awards["SKHDT"] is None
