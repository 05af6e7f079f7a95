"""`nianbao demo` end to end: simulator, crawl child, checks, status and console alerts."""

from __future__ import annotations

import os
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
    alerts = [ln for ln in text.splitlines() if ln.startswith("【")]
    rules = {ln[1:ln.index("】")] for ln in alerts}
    # the body that never published, the report with broken arithmetic, the blocked portal
    assert {"TIME-004", "ARITH-003", "CRAWL-001"} <= rules
    assert any("东关街道办事处" in ln and "TIME-004" in ln for ln in alerts)
    # a blocked county is never "missing"
    assert not any("石门县" in ln and "TIME-004" in ln for ln in alerts)
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
