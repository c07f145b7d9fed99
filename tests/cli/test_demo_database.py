"""The README's first steps as a newcomer types them: `python -m bot demo`, then the commands that read its database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.factories import ROOT


def test_the_demo_command_fits_the_terminal_and_the_readme_reads_its_database(tmp_path: Path) -> None:
    """One run of the demo command serves both checks (it used to be played twice, once per test)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^python3 .*&& \.venv/bin/python -m bot demo$", readme, re.M), "the quick start's demo"
    assert "export DATABASE_URL=sqlite:///data/demo.db" in readme
    commands = re.findall(r"^\.venv/bin/python -m bot (ranking|votes|export) (.*?)(?:\s+#.*)?$", readme, re.M)
    assert [name for name, _ in commands] == ["ranking", "votes", "export"]
    # The demo as the README runs it (its database in data/demo.db of the working folder), in an 80-column terminal.
    demo = subprocess.run([sys.executable, "-m", "bot", "demo"], env={**os.environ, "COLUMNS": "80"},
                          capture_output=True, text=True, cwd=tmp_path, timeout=300, check=True)
    assert max(len(line) for line in demo.stdout.splitlines()) <= 80
    assert "Năm 2019: Khối trưởng Sở Xây dựng" in demo.stdout and "INFO" not in demo.stderr
    assert (tmp_path / "data" / "demo.db").is_file()
    env = {**os.environ, "DATABASE_URL": "sqlite:///data/demo.db"}
    outputs = {}
    for name, arguments in commands:
        done = subprocess.run([sys.executable, "-m", "bot", name, *arguments.split()], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs[name] = done.stdout
    assert "Sở Thông tin và Truyền thông" in outputs["ranking"] and "Bằng khen" in outputs["ranking"]
    assert "Sở Xây dựng" in outputs["votes"] and "Asia/Ho_Chi_Minh" in outputs["votes"]
    assert sorted(path.suffix for path in (tmp_path / "giay-to").iterdir()) == [".docx", ".xlsx"]
