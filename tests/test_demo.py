"""`nianbao demo` end to end: simulator, crawl child, checks, status and console alerts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

NIANBAO = [sys.executable, "-c", "from monitor.cli import main; main()"]


def test_demo_crawls_checks_and_alerts(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("NIANBAO_DATABASE_URL", None)
    out = subprocess.run([*NIANBAO, "demo", "--data-dir", str(tmp_path / "demo")], capture_output=True,
                         text=True, timeout=600, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "Traceback" not in text + out.stderr
    # the console channel's messages: a title per county, then one head line per alert
    alerts, county = [], None
    for ln in text.splitlines():
        if m := re.match(r"年报监测 · (\S+?)（(\d{6})）", ln):
            county = m.group(1)
        elif m := re.match(r"\S+ (?:错误|警告|提示)：([A-Z]+-\d{3}) ?(.*)", ln):
            alerts.append((county, m.group(1), m.group(2)))
    rules = {rule for _c, rule, _who in alerts}
    # the body that never published, the report with broken arithmetic, the blocked portal
    assert {"TIME-004", "ARITH-003", "CRAWL-001"} <= rules
    assert any("东关街道办事处" in who and rule == "TIME-004" for _c, rule, who in alerts)
    # a blocked county is never "missing"
    assert ("石门县", "CRAWL-001") in {(c, r) for c, r, _w in alerts}
    assert not any(c == "石门县" and rule == "TIME-004" for c, rule, _w in alerts)
    assert (tmp_path / "demo" / "counties" / "990101.toml").is_file()


def test_samples_are_checked(tmp_path: Path) -> None:
    out = subprocess.run([*NIANBAO, "demo", "--samples-only", str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    files = sorted(p for p in tmp_path.iterdir() if p.is_file())
    assert {p.suffix for p in files} >= {".docx", ".html", ".pdf", ".txt"}
    check = subprocess.run([*NIANBAO, "check", "--json", *map(str, files)], capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stdout
