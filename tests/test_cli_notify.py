"""`nianbao subscribe`, `nianbao notify` and `nianbao channels` as a user runs them (child processes),
and the bot token kept out of the logs of a failing run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakebotapi import FakeBotAPI
from tests.test_cli_store import ROOT, nianbao

PROFILE = """\
[county]
code = "370828"
name = "金乡县"
province = "山东省"
city = "济宁市"

[[bodies]]
name = "金乡县教育局"
kind = "department"
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "counties").mkdir()
    (tmp_path / "counties" / "jinxiang.toml").write_text(PROFILE, encoding="utf-8")
    e = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    e.update(NIANBAO_DATA_DIR=str(tmp_path / "data"), NIANBAO_DATABASE_URL=f"sqlite+pysqlite:///{tmp_path / 'n.db'}",
             NIANBAO_COUNTIES_DIR=str(tmp_path / "counties"), PYTHONPATH=str(ROOT), COLUMNS="200")
    assert nianbao(e, "init", cwd=tmp_path).returncode == 0
    return e


def _ingest_broken(env: dict[str, str], tmp_path: Path) -> None:
    from crawler.sim.reportgen import make_spec, render

    f = tmp_path / "r.html"
    f.write_bytes(render(make_spec(3, entity="金乡县教育局", year=2023, variants=["broken_arith:ARITH-003"]), "html"))
    r = nianbao(env, "ingest", str(f), "--county", "370828", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_subscribe_ingest_notify_on_the_console(env: dict[str, str], tmp_path: Path) -> None:
    r = nianbao(env, "subscribe", "add", "-", "--channel", "console", "--county", "金相县", cwd=tmp_path)
    assert r.returncode == 2 and "没有找到县“金相县”" in r.stderr and "金乡县（370828）" in r.stderr
    r = nianbao(env, "subscribe", "add", "-", "--channel", "console", "--county", "金乡", cwd=tmp_path)
    assert r.returncode == 0 and "金乡县（370828）" in r.stdout
    r = nianbao(env, "subscribe", "add", "wecombot://SECRETKEY123", "--channel", "apprise", "--county", "370828",
                cwd=tmp_path)
    assert r.returncode == 0 and "SECRETKEY123" not in r.stdout
    _ingest_broken(env, tmp_path)
    r = nianbao(env, "subscribe", "remove", "2", cwd=tmp_path)  # the robot: no network in tests
    assert r.returncode == 0 and "已停用" in r.stdout
    listing = nianbao(env, "subscribe", "list", cwd=tmp_path).stdout
    assert "[1] console -" in listing and "（已停用）" in listing and "SECRETKEY123" not in listing
    r = nianbao(env, "notify", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "年报监测 · 金乡县（370828）" in r.stdout and "ARITH-003" in r.stdout and "已发送 1 条消息" in r.stdout
    r = nianbao(env, "notify", cwd=tmp_path)
    assert "已发送 0 条消息" in r.stdout and "ARITH-003" not in r.stdout


def test_channels_are_listed(env: dict[str, str], tmp_path: Path) -> None:
    out = nianbao(env, "channels", cwd=tmp_path).stdout
    assert [line.split()[0] for line in out.splitlines()] == ["apprise", "console", "telegram"]


def test_token_never_in_the_logs_of_a_failing_run(env: dict[str, str], tmp_path: Path) -> None:
    with FakeBotAPI() as server:
        server.fail_next(1000, 502)
        token = server.token
        e = {**env, "NIANBAO_BOT_TOKEN": token, "NIANBAO_TELEGRAM__API_URL": server.base_url}
        assert nianbao(e, "subscribe", "add", "1001", "--county", "370828", cwd=tmp_path).returncode == 0
        _ingest_broken(e, tmp_path)
        r = nianbao(e, "--debug", "notify", cwd=tmp_path)
        assert server.calls, "the sender did reach the server"
    logs = r.stdout + r.stderr
    assert "Bad Gateway" in logs and "已发送 0 条消息" in r.stdout and "稍后重试 0" not in r.stdout
    assert token not in logs and token.split(":")[1] not in logs
    # and with the server gone (connection refused), the error paths too
    e["NIANBAO_TELEGRAM__API_URL"] = "http://127.0.0.1:9/bot"
    r = nianbao(e, "--debug", "notify", "--retry-failed", cwd=tmp_path)
    logs = r.stdout + r.stderr
    assert token not in logs and token.split(":")[1] not in logs


def test_recrawl_of_an_unknown_county_names_the_closest(env: dict[str, str], tmp_path: Path) -> None:
    r = nianbao(env, "recrawl", "金相县", cwd=tmp_path)
    assert r.returncode == 2 and "金乡县（370828）" in r.stderr
    r = nianbao(env, "recrawl", cwd=tmp_path)  # nothing queued
    assert r.returncode == 0 and "已运行 0 个排队的抓取" in r.stdout


def test_bot_without_token_is_one_clear_line(env: dict[str, str], tmp_path: Path) -> None:
    r = nianbao(env, "bot", cwd=tmp_path)
    assert r.returncode == 2 and "NIANBAO_BOT_TOKEN" in r.stderr and len(r.stderr.strip().splitlines()) == 1

