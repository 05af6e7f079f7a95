"""`nianbao demo` end to end: simulator, crawl child, checks, status and console alerts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

NIANBAO = [sys.executable, "-c", "from monitor.cli import main; main()"]


def test_demo_runs_the_daemon_through_a_season_and_alerts(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("NIANBAO_DATABASE_URL", None)
    out = subprocess.run([*NIANBAO, "demo", "--data-dir", str(tmp_path / "demo")], capture_output=True,
                         text=True, timeout=600, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "Traceback" not in text + out.stderr
    heads = [ln for ln in text.splitlines() if re.match(r"^\S+ (错误|警告|提示)：[A-Z]+-\d{3}", ln)]
    rules = {re.search(r"[A-Z]+-\d{3}", ln).group(0) for ln in heads}  # type: ignore[union-attr]
    # the body that never published, the report with broken arithmetic, the late one, the blocked portal
    assert {"TIME-004", "ARITH-003", "TIME-003", "CRAWL-001"} <= rules
    assert any("TIME-004 东关街道办事处 2025年度" in ln for ln in heads)
    assert any("TIME-003 云溪县教育局 2025年度" in ln for ln in heads)
    # a blocked county is never "missing"; it recovers after its week
    assert not any("TIME-004 石门县" in ln for ln in heads)
    assert "石门县门户恢复正常" in text and "已恢复：CRAWL-001" in text
    # the admin's recrawl is crawled
    m = re.search(r"管理员请求重新抓取 云溪县（#(\d+)", text)
    assert m is not None and re.search(rf"抓取 云溪县 #{m.group(1)}：完成", text)
    assert "年报公开情况" in text  # the status grid at the end
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
