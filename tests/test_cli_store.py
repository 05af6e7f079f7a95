"""The store commands through the real `nianbao` entry point (init, ingest, status, findings,
revalidate, export) and the configuration they read."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.sim.reportgen import make_spec, render
from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigError

ROOT = Path(__file__).parents[1]


def nianbao(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real entry point in a child process (exit codes and stderr as a user sees them)."""
    return subprocess.run([sys.executable, "-c", "from monitor.cli import main; main()", *args],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_store_commands_end_to_end(cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """In-process, through `main()` (the entry point's error handling included)."""
    for key in [k for k in os.environ if k.startswith("NIANBAO_")]:
        monkeypatch.delenv(key)
    for key, value in cli_env.items():
        if key.startswith("NIANBAO_") or key == "COLUMNS":
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)

    def nianbao(_env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        monkeypatch.setattr(sys, "argv", ["nianbao", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    r = nianbao(cli_env, "status", cwd=tmp_path)
    assert r.returncode == 2 and "nianbao init" in r.stderr and "Traceback" not in r.stderr

    r = nianbao(cli_env, "init", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "1 个县、2 个主体" in r.stdout

    spec = make_spec(5, entity="刘楼镇人民政府", year=2021, variants=["no_period"])
    report = tmp_path / "liulou-2021.txt"
    report.write_bytes(render(spec, "txt-cells"))
    r = nianbao(cli_env, "ingest", str(report), "--county", "370830", "--published-at", "2022-01-20", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "刘楼镇人民政府 2021年度 新版本" in r.stdout and "STRUCT-005" in r.stdout
    assert list((tmp_path / "data" / "blobs").rglob("*"))

    r = nianbao(cli_env, "status", "370830", "--year", "2021", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    liulou = next(line for line in r.stdout.splitlines() if "刘楼镇人民政府" in line)
    assert "按时" in liulou

    r = nianbao(cli_env, "findings", "--open", "--severity", "warning", "--json", cwd=tmp_path)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert "STRUCT-005" in {x["rule"] for x in rows}
    assert all(x["severity"] in ("warning", "error") and x["resolved_at"] is None for x in rows)

    r = nianbao(cli_env, "revalidate", cwd=tmp_path)
    assert r.returncode == 0 and "1 份报告" in r.stdout

    out = tmp_path / "export.json"
    assert nianbao(cli_env, "export", "--format", "json", "--out", str(out), cwd=tmp_path).returncode == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    cell = next(x for x in data["reports"] if x["entity"] == "刘楼镇人民政府" and x["year"] == 2021)
    assert (cell["state"], cell["published"], cell["published_source"]) == ("on_time", "2022-01-20", "manual")
    assert any(f["rule"] == "STRUCT-005" for f in data["findings"])

    r = nianbao(cli_env, "export", "--format", "csv", "--what", "findings", cwd=tmp_path)
    assert "STRUCT-005" in {row["rule"] for row in csv.DictReader(io.StringIO(r.stdout))}

    xlsx = tmp_path / "export.xlsx"
    assert nianbao(cli_env, "export", "--format", "xlsx", "--out", str(xlsx), cwd=tmp_path).returncode == 0
    from openpyxl import load_workbook

    assert load_workbook(xlsx).sheetnames == ["报告", "问题"]


ERRORS = [
    ("status", "999999"),
    ("ingest", "nope.txt", "--county", "370830"),
    ("ingest", "x", "--county", "370830", "--published-at", "20.1.2022"),
    ("export", "--format", "pdf"),
]


def test_errors_are_one_clear_line_and_exit_2(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert nianbao(cli_env, "init", cwd=tmp_path).returncode == 0
    for args in ERRORS:
        r = nianbao(cli_env, *args, cwd=tmp_path)
        assert r.returncode == 2, args
        assert r.stderr.startswith("错误: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_config_file_and_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "nianbao.toml"
    cfg.write_text('data_dir = "d"\nreminder_days = 7\n[telegram]\nadmin_chat_ids = [1, 2]\n'
                   '[schedule]\nsweep_time = "07:00"\n', encoding="utf-8")
    s = load_config(cfg, env={})
    assert s.data_dir == tmp_path / "d" and s.admin_chat_ids == (1, 2) and s.reminder_days == 7
    assert s.database_url == f"sqlite+pysqlite:///{tmp_path / 'd' / 'nianbao.db'}"
    assert s.schedule.sweep_time == "07:00" and s.schedule.crawl_in_season == "daily"
    assert s.health.crawl_alert_threshold == 3 and s.policy.reminder_days == 7
    token = tmp_path / "token"
    token.write_text("123:SECRET\n")
    s = load_config(cfg, env={"NIANBAO_ADMIN_CHAT_IDS": "5,6", "NIANBAO_DATABASE_URL": "postgresql://x/y",
                              "NIANBAO_BOT_TOKEN_FILE": str(token), "NIANBAO_SCHEDULE__SWEEP_TIME": "08:30",
                              "NIANBAO_CHANNELS__APPRISE": "mailto://u:PASSWORD@example.org"})
    assert s.admin_chat_ids == (5, 6) and s.database_url == "postgresql://x/y"
    assert s.schedule.sweep_time == "08:30"
    assert s.telegram.token is not None and s.telegram.token.get_secret_value() == "123:SECRET"
    assert "SECRET" not in repr(s) and "SECRET" not in str(s) and "PASSWORD" not in repr(s)
    s = load_config(cfg, env={"NIANBAO_BOT_TOKEN": "9:ENVSECRET"})
    assert s.telegram.token is not None and s.telegram.token.get_secret_value() == "9:ENVSECRET"


@pytest.mark.parametrize(("text", "message"), [
    ('bot_token = "1:x"\n', "must not be in the configuration file"),
    ('[telegram]\ntoken = "1:x"\n', "'telegram.token' must not be in the configuration file; set NIANBAO_BOT_TOKEN"),
    ('[web]\nadmin_token = "x"\n', "'web.admin_token' must not be in the configuration file; set "
                                   "NIANBAO_WEB_ADMIN_TOKEN (or NIANBAO_WEB_ADMIN_TOKEN_FILE)"),
    ('reminder_day = 3\n', "unknown setting reminder_day"),
    ('[schedule]\ncrawl = "daily"\n', "unknown setting schedule.crawl"),
    ('reminder_days = "soon"\n', "reminder_days must be an integer"),
    ('data_dir = \n', "invalid TOML"),
    ('counties_dir = ["a"]\n', "counties_dir: must be a path"),
    ('similarity_threshold = "nan"\n', "similarity_threshold must be a finite number"),
    ('similarity_threshold = 1.5\n', "similarity_threshold: input should be less than or equal to 1"),
    ('crawl_failure_threshold = 0\n', "crawl_failure_threshold: input should be greater than or equal to 1"),
    ('[schedule]\nsweep_time = "25:00"\n', "schedule.sweep_time: must be HH:MM"),
    ('[schedule]\ntimezone = "Mars/Olympus"\n', "schedule.timezone: unknown time zone"),
])
def test_bad_configuration_is_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "nianbao.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        load_config(cfg, env={})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("text", "key", "value"), [
    ("reminder_days = 0\n", "reminder_days", 0),
    ("similarity_threshold = 0\n", "similarity_threshold", 0.0),
    ("similarity_threshold = 1\n", "similarity_threshold", 1.0),
])
def test_zero_is_a_value_not_a_default(tmp_path: Path, text: str, key: str, value: float) -> None:
    cfg = tmp_path / "nianbao.toml"
    cfg.write_text(text, encoding="utf-8")
    assert getattr(load_config(cfg, env={}).policy, key) == value
    assert getattr(load_config(None, env={f"NIANBAO_{key.upper()}": str(value)}).policy, key) == value


def test_environment_errors_are_one_line() -> None:
    with pytest.raises(ConfigError, match="reminder_days must be an integer"):
        load_config(None, env={"NIANBAO_REMINDER_DAYS": "x"})
    with pytest.raises(ConfigError, match="telegram.admin_chat_ids must be an integer"):
        load_config(None, env={"NIANBAO_ADMIN_CHAT_IDS": "a,b"})
