"""Every command turns a database or driver error into one line (exit 2); `--debug` is a real
option; bad choices are refused by the parser."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from monitor.cli import main

BAD_URLS = {
    "unreachable": ("postgresql+psycopg://nobody@127.0.0.1:1/none", "Connection refused"),
    "malformed": ("not a url", "invalid database URL"),
    "port": ("postgresql://u@127.0.0.1:abc/db", "invalid database URL"),
    "driver": ("mysql://u@127.0.0.1/db", "no database driver for 'mysql'"),
}
COMMANDS = [["init"], ["ingest", "REPORT", "--county", "370830"], ["status"], ["status", "370830"],
            ["findings"], ["revalidate"], ["export", "--format", "json"], ["crawl", "370830"]]
PROFILE = '[county]\ncode = "370830"\nname = "汶上县"\n\n[[portals]]\nflavour = "generic"\nstart_urls = ["http://127.0.0.1:9/"]\n'


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["nianbao", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return int(info.value.code or 0), capsys.readouterr().err


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "counties").mkdir()
    (tmp_path / "counties" / "370830.toml").write_text(PROFILE, encoding="utf-8")
    (tmp_path / "r.txt").write_text("报告", encoding="utf-8")
    for key in [k for k in list(__import__("os").environ) if k.startswith("NIANBAO_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NIANBAO_COUNTIES_DIR", str(tmp_path / "counties"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("kind", sorted(BAD_URLS))
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0] + ("-" + c[1] if c[1:2] == ["370830"] else ""))
def test_database_errors_are_one_line(env: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], command: list[str], kind: str) -> None:
    url, expected = BAD_URLS[kind]
    monkeypatch.setenv("NIANBAO_DATABASE_URL", url)
    code, err = run(monkeypatch, capsys, *[str(env / "r.txt") if a == "REPORT" else a for a in command])
    assert code == 2, err
    assert err.startswith("错误: ") and len(err.strip().splitlines()) == 1, err
    assert expected in err and "Traceback" not in err


def test_debug_is_an_option_shown_by_help_and_shows_the_traceback(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from typer.testing import CliRunner

    from monitor.cli import app

    assert "--debug" in CliRunner().invoke(app, ["--help"]).output
    monkeypatch.setenv("NIANBAO_DATABASE_URL", BAD_URLS["malformed"][0])
    monkeypatch.setattr(sys, "argv", ["nianbao", "status", "--debug"])
    with pytest.raises(Exception, match="invalid database URL"):
        main()


@pytest.mark.parametrize("args", [["check", "--min-severity", "bogus", "x.txt"],
                                  ["findings", "--severity", "fatal"]])
def test_bad_choices_are_refused(args: list[str]) -> None:
    from typer.testing import CliRunner

    from monitor.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and args[2] in result.output
