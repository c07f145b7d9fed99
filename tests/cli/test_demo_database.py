"""After `python -m bot demo`, the README's commands read the demo's database."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from fakes.demo import play_seed_year
from tests.factories import ROOT


async def test_the_readme_tells_how_to_look_at_the_demos_database(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "export DATABASE_URL=sqlite:///data/demo.db" in readme
    commands = re.findall(r"^\.venv/bin/python -m bot (ranking|votes|export) (.*?)(?:\s+#.*)?$", readme, re.M)
    assert [name for name, _ in commands] == ["ranking", "votes", "export"]
    (tmp_path / "data").mkdir()
    assert await play_seed_year(tmp_path / "data" / "demo.db", Console(file=io.StringIO(), width=160)) == 0
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
