"""`nianbao daemon` as a process: one per database, SIGKILL/SIGTERM/SIGHUP, /healthz and /metrics.

The daemon runs in a child process against the portal simulator (127.0.0.1), both on the same
accelerated clock (here at rate 1 from a fixed date, so that no scheduled job fires during a test
unless the test wants it)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from monitor.clock import SHANGHAI, AcceleratedClock
from storage.models import CrawlRun
from tests.daemonworld import DaemonWorld, process_group_alive

BODIES = [("甲镇人民政府", "township"), ("乙街道办事处", "street")]
START = datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI)


def quiet_schedule(dw: DaemonWorld) -> None:
    """Crawls between 20:00 and 21:00, sweep and digest at 09:00: nothing fires near 10:00."""
    dw.write_config(schedule={"crawl_time": "20:00"}, daemon={"crawl_window_hours": 1})


@pytest.fixture
def dw(tmp_path: Path) -> Iterator[DaemonWorld]:
    with DaemonWorld(tmp_path, AcceleratedClock(START, 1.0)) as w:
        w.world.add_county("990301", "丙县", "trs", BODIES, [2025])
        w.world.populate("990301", [2025])
        w.write_profile("990301")
        quiet_schedule(w)
        yield w


def jobs(dw: DaemonWorld) -> dict[str, float]:
    with dw.session_factory()() as s:
        return {r[0]: r[1] for r in s.execute(text("SELECT id, next_run_time FROM apscheduler_jobs"))}


def runs(dw: DaemonWorld) -> list[CrawlRun]:
    with dw.session_factory()() as s:
        return list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def wait_running(dw: DaemonWorld, run_id: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not any(r.id == run_id and r.status == "running" for r in runs(dw)):
        assert time.monotonic() < deadline, f"run {run_id} never started"
        time.sleep(0.2)
    time.sleep(2)  # the Scrapy grandchild starts and waits on the slow portal


def wait_gone(pgid: int, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while process_group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_sigkill_during_a_crawl_fails_and_requeues_the_run_on_restart(dw: DaemonWorld) -> None:
    dw.world.set_fault("990301", "slow", delay=30)  # the crawl is still running when the daemon dies
    d1 = dw.start().started()
    out = dw.cli("recrawl", "990301")
    assert out.returncode == 0 and "守护进程正在运行，将在几秒内开始抓取" in out.stdout, out.stdout + out.stderr
    crawl = json.loads(d1.wait_for(r'"message": "crawl started"').string)
    wait_running(dw, crawl["run_id"])
    before = jobs(dw)
    assert set(before) == {"sweep", "digest", "housekeeping", "heartbeat", "crawl:990301"}

    d1.kill()  # SIGKILL: no clean-up in the daemon
    assert wait_gone(crawl["pid"]), "the crawl child outlived its daemon"
    assert [(r.id, r.status) for r in runs(dw)] == [(crawl["run_id"], "running")]

    dw.world.set_fault("990301", None)
    d2 = dw.start().started()
    d2.wait_for(r'"message": "crawl finished".*"status": "ok"')
    first, second = runs(dw)
    assert (first.id, first.status) == (crawl["run_id"], "failed")
    assert "queued again" in (first.error or "") and "is gone" in (first.error or "")
    assert (second.status, second.trigger, second.requested_by) == ("ok", "cli", first.requested_by)
    assert jobs(dw) == before  # the same jobs with the same next run times

    code, body = d2.get("/healthz")
    health = json.loads(body)
    assert code == 200 and health["status"] == "ok" and health["jobs"] == 5 and health["heartbeat"]["ok"] is True
    code, metrics = d2.get("/metrics")
    assert code == 200
    assert 'nianbao_crawl_runs{status="failed"} 1.0' in metrics
    assert 'nianbao_crawl_runs{status="ok"} 1.0' in metrics
    assert 'nianbao_crawls_total{status="ok"} 1.0' in metrics
    assert "nianbao_oldest_pending_alert_seconds 0.0" in metrics
    assert d2.stop() == 0


def test_sigterm_stops_a_running_crawl_after_the_grace_period_and_queues_it_again(dw: DaemonWorld) -> None:
    dw.write_config(daemon={"stop_grace_seconds": 1})
    dw.world.set_fault("990301", "slow", delay=60)
    d = dw.start().started()
    dw.cli("recrawl", "990301")
    crawl = json.loads(d.wait_for(r'"message": "crawl started"').string)
    wait_running(dw, crawl["run_id"])
    assert d.stop() == 0
    assert not process_group_alive(crawl["pid"])
    stopped = json.loads(d.wait_for(r'"message": "crawl finished"').string)
    assert stopped["stopped"] == "shutdown"
    [run] = runs(dw)  # queued again as it is: the next start crawls it, and no failed crawl is counted
    assert (run.id, run.status, run.trigger, run.started_at) == (crawl["run_id"], "queued", "cli", None)
    assert run.error == "crawl stopped: shutdown; queued again"
    assert d.wait_for(r'"message": "daemon stopped"')


def test_sigterm_with_nothing_running_stops_at_once(dw: DaemonWorld) -> None:
    d = dw.start().started()
    assert d.stop() == 0
    names = [e["message"] for e in d.events()]
    assert names.index("stopping") < names.index("daemon stopped")
    assert runs(dw) == []


def test_sighup_reloads_profiles_and_plans_their_jobs(dw: DaemonWorld) -> None:
    d = dw.start().started()
    dw.world.add_county("990302", "丁县", "hanweb", BODIES, [2025])
    dw.write_profile("990302")
    before = jobs(dw)
    d.signal(signal.SIGHUP)
    d.wait_for(r'"message": "configuration reloaded".*"counties": 2')
    after = jobs(dw)
    assert set(after) - set(before) == {"crawl:990302"}
    assert {k: v for k, v in after.items() if k in before} == before  # the others keep their times
    (dw.counties_dir / "990302.toml").write_text("[county]\ncode = 'broken", encoding="utf-8")
    d.signal(signal.SIGHUP)
    d.wait_for(r'"message": "reload: county profiles not loaded; jobs unchanged"')
    assert jobs(dw) == after and d.proc.poll() is None
    assert d.stop() == 0


def test_a_second_daemon_on_the_same_database_refuses_to_start(tmp_path: Path, db_url: str) -> None:
    with DaemonWorld(tmp_path, AcceleratedClock(START, 1.0), database_url=db_url) as w:
        quiet_schedule(w)
        first = w.start().started()
        second = w.start()
        assert second.proc.wait(120) == 2
        assert "另一个 nianbao daemon 已在使用这个数据库" in "\n".join(second.lines())
        assert first.proc.poll() is None
        assert first.stop() == 0
        third = w.start().started()  # the lock went with the first daemon
        assert third.stop() == 0
