"""`nianbao review` through the real entry point, in-process: list with evidence, confirm, dismiss
(reason required), reopen, audit, the summary as CSV and XLSX, and `nianbao export` carrying the
same evidence and review state."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from monitor.cli import main

FIX = Path(__file__).parent / "fixtures" / "review"


@pytest.fixture
def county_profile() -> str:
    """汶上县 with the one body the review fixtures report for."""
    return """\
[county]
code = "370830"
name = "汶上县"
province = "山东省"
city = "济宁市"

[[bodies]]
name = "白沙乡人民政府"
kind = "township"
"""


@pytest.fixture
def run(cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]):
    for key in [k for k in os.environ if k.startswith("NIANBAO_")]:
        monkeypatch.delenv(key)
    for key, value in cli_env.items():
        if key.startswith("NIANBAO_") or key == "COLUMNS":
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)

    def nianbao(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["nianbao", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return nianbao


def test_review_commands(run, tmp_path: Path) -> None:
    assert run("init")[0] == 0
    code, out, err = run("ingest", str(FIX / "arith_2022.txt"), "--county", "370830",
                         "--published-at", "2023-01-18")
    assert code == 0, err
    code, out, err = run("review", "list", "--county", "370830", "--json")
    rows = json.loads(out)
    arith = next(r for r in rows if r["rule"] == "ARITH-001" and "“自然人”列" in r["evidence"][0])
    assert all(r["state"] == "open" for r in rows)
    assert arith["evidence"][1:4] == ["左边：16 + 1 = 17", "右边：15 + 1 = 16", "相差：1"]
    fid = str(arith["id"])

    code, out, err = run("review", "dismiss", fid)
    assert code == 2 and "--reason" in err
    code, out, err = run("review", "dismiss", fid, "--reason", "  ", "--by", "王科长")
    assert code == 2 and "须说明原因" in err and "Traceback" not in err
    code, out, err = run("review", "dismiss", fid, "--reason", "印刷错误，已核实", "--by", "王科长")
    assert code == 0 and f"问题 {fid} 已标记为“已排除”" in out and "左边：16 + 1 = 17" in out
    code, out, err = run("review", "list", "--state", "dismissed")
    assert code == 0 and f"#{fid} [已排除] ARITH-001" in out and "印刷错误，已核实" in out
    assert "ARITH-006" not in out
    assert run("review", "reopen", fid, "--by", "李")[0] == 0
    assert run("review", "confirm", fid, "--by", "李")[0] == 0
    code, out, err = run("review", "list", "--state", "wrong")
    assert code == 2 and "状态应为" in err
    code, out, err = run("review", "audit", "--county", "370830")
    lines = out.strip().splitlines()
    assert [line.split("：")[-1].split()[:3] for line in lines] == [
        ["open", "→", "dismissed"], ["dismissed", "→", "open"], ["open", "→", "confirmed"]]
    assert "王科长" in lines[0] and "印刷错误，已核实" in lines[0]
    code, out, err = run("review", "show", fid)
    assert code == 0 and "[已确认]" in out and out.count("→") == 3

    code, out, err = run("review", "summary", "--year", "2022")
    assert code == 0, err
    header, row = out.strip().splitlines()[:2]
    assert header.startswith("县代码,县,年度,应公开单位数,已公开,按时公开,逾期公开,未公开")
    assert row.startswith("370830,汶上县,2022,1,1,1,0,0")
    xlsx = tmp_path / "s.xlsx"
    code, out, err = run("review", "summary", "--year", "2022", "--format", "xlsx", "--out", str(xlsx))
    assert code == 0 and xlsx.exists()
    code, out, err = run("review", "summary", "--year", "2022", "--format", "pdf")
    assert code == 2 and "csv 或 xlsx" in err

    out_json = tmp_path / "e.json"
    assert run("export", "--format", "json", "--out", str(out_json))[0] == 0
    found = json.loads(out_json.read_text("utf-8"))["findings"]
    mine = next(f for f in found if str(f["id"]) == fid)
    assert mine["review"] == "confirmed" and mine["evidence"].split("\n")[1] == "左边：16 + 1 = 17"
