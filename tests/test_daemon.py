"""`nianbao daemon` as a process: one per database, SIGKILL/SIGTERM/SIGHUP, /healthz and /metrics.

The daemon runs in a child process against the portal simulator (127.0.0.1), both on the same
accelerated clock (here at rate 1 from a fixed date, so that no scheduled job fires during a test
unless the test wants it)."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from aiohttp import web
from sqlalchemy import select, text

from monitor.clock import SHANGHAI, AcceleratedClock
from storage.models import Alert, CrawlRun
from tests.daemonworld import DaemonWorld, process_group_alive
from tests.fakebotapi import FakeBotAPI

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


def jobs(dw: DaemonWorld) -> dict[str, tuple[Any, ...]]:
    """The job store's rows: id → (next run time, function, arguments, trigger)."""
    out = {}
    with dw.session_factory()() as s:
        for job_id, next_run, state in s.execute(text("SELECT id, next_run_time, job_state FROM apscheduler_jobs")):
            job = pickle.loads(state)
            out[job_id] = (next_run, job["func"], job["args"], str(job["trigger"]))
    return out


class HoldingBotAPI(FakeBotAPI):
    """The fake Bot API, accepting the first `accept` sendMessage calls and then holding the others
    unanswered while `hold` is set: a held call whose client went away (the daemon was killed) is
    dropped, never accepted — the message did not reach Telegram."""

    def __init__(self, accept: int) -> None:
        super().__init__()
        self.accept = accept
        self.hold = threading.Event()
        self.hold.set()
        self.held = 0  # calls waiting now
        self.dropped = 0

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"].lower() == "sendmessage" and self.hold.is_set():
            with self._lock:
                admit = self.accept > 0
                self.accept -= admit
                self.held += not admit
            if not admit:
                try:
                    while self.hold.is_set():
                        if request.transport is None or request.transport.is_closing():
                            self.dropped += 1
                            return web.Response(status=499)
                        await asyncio.sleep(0.05)
                finally:
                    self.held -= 1
        return await super()._handle(request)


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


CHATS = [5001 + i for i in range(8)]
FINDINGS = ["表三合计与分项之和不符（测试甲）", "表四复议结果合计不符（测试乙）"]


def write_findings(dw: DaemonWorld) -> None:
    """Two findings of the county, written with their alerts by the daemon's own hook (one
    transaction): an alert for each finding and each of the chats subscribed to the county."""
    from notifier import service
    from notifier.outbox import hook
    from storage import repo
    from storage.models import Finding

    with dw.session_factory()() as s, s.begin():
        for chat in CHATS:
            service.subscribe(s, "telegram", str(chat), county="990301")
    with dw.session_factory()() as s, s.begin():
        events = repo.sync_findings(s, [
            {"fingerprint": f"kill-{i}", "rule_id": "ARITH-003", "severity": "error", "scope": "doc",
             "county_code": "990301", "entity_id": None, "year": 2025, "message": msg, "details": {}}
            for i, msg in enumerate(FINDINGS)], Finding.county_code == "990301", now=dw.clock.now())
        hook(dw.clock)(s, events)


def alert_states(dw: DaemonWorld) -> set[str]:
    with dw.session_factory()() as s:
        return set(s.scalars(select(Alert.status)))


def test_sigkill_during_a_crawl_and_a_drain_requeues_the_run_and_loses_no_alert(tmp_path: Path, db_url: str) -> None:
    """The daemon is SIGKILLed while a crawl runs and while its sender waits on Telegram for most
    of the pending alerts. On restart: the run is failed and queued again, the jobs (with their
    next run times) are those of before, and every alert arrives — at least once, with at most
    one duplicate per kill."""
    with HoldingBotAPI(accept=3) as api, DaemonWorld(tmp_path, AcceleratedClock(START, 1.0), database_url=db_url) as dw:
        dw.world.add_county("990301", "丙县", "trs", BODIES, [2025])
        dw.world.populate("990301", [2025])
        dw.write_profile("990301")
        quiet_schedule(dw)
        dw.write_config(telegram={"api_url": api.base_url})
        env = dw.env(NIANBAO_BOT_TOKEN=api.token)
        try:
            dw.world.set_fault("990301", "slow", delay=30)  # the crawl is still running when the daemon dies
            d1 = dw.start(env=env).started()
            out = dw.cli("recrawl", "990301")
            assert out.returncode == 0 and "守护进程正在运行，将在几秒内开始抓取" in out.stdout, out.stdout + out.stderr
            crawl = json.loads(d1.wait_for(r'"message": "crawl started"').string)
            wait_running(dw, crawl["run_id"])

            write_findings(dw)
            api.wait_messages(3, timeout=60)  # three chats told; the other five wait on Telegram
            deadline = time.monotonic() + 8  # well within the channel's 10 s read timeout
            while api.held < len(CHATS) - 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert api.held == len(CHATS) - 3, f"{api.held} sends in flight"
            before = jobs(dw)
            assert set(before) == {"sweep", "digest", "housekeeping", "heartbeat", "crawl:990301"}
            with dw.session_factory()() as s:
                alerts = {a.id: a.status for a in s.scalars(select(Alert))}
            assert len(alerts) == len(CHATS) * len(FINDINGS) and set(alerts.values()) <= {"pending", "sent"}

            d1.kill()  # SIGKILL: no clean-up in the daemon
            kills = 1
            assert wait_gone(crawl["pid"]), "the crawl child outlived its daemon"
            assert [(r.id, r.status) for r in runs(dw)] == [(crawl["run_id"], "running")]
            deadline = time.monotonic() + 10
            while api.dropped < len(CHATS) - 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert (api.dropped, len(api.messages())) == (len(CHATS) - 3, 3)  # the held ones never arrived

            api.hold.clear()
            dw.world.set_fault("990301", None)
            d2 = dw.start(env=env).started()
            deadline = time.monotonic() + 60
            while len({m.chat_id for m in api.messages()}) < len(CHATS) and time.monotonic() < deadline:
                time.sleep(0.2)
            told = Counter((m.chat_id, f) for m in api.messages() for f in FINDINGS if f in m.text)
            missing = [(c, f) for c in CHATS for f in FINDINGS if not told[(c, f)]]
            duplicates = sum(n - 1 for n in told.values())
            assert missing == [], f"alerts lost: {missing}"
            assert duplicates <= kills * len(FINDINGS), told
            while alert_states(dw) != {"sent"} and time.monotonic() < deadline:  # the answers committed
                time.sleep(0.2)
            assert alert_states(dw) == {"sent"}

            d2.wait_for(r'"message": "crawl finished".*"status": "ok"')
            first, second = runs(dw)
            assert (first.id, first.status) == (crawl["run_id"], "failed")
            # failed by the next start's stale-run sweep ("… is gone", its one owner), queued again once
            assert "queued again" in (first.error or "")
            assert "is gone" in (first.error or "")
            assert (second.status, second.trigger, second.requested_by) == ("ok", "cli", first.requested_by)
            assert jobs(dw) == before  # the same jobs, triggers and next run times

            code, body = d2.get("/healthz")
            health = json.loads(body)
            assert code == 200 and health["status"] == "ok" and health["jobs"] == 5 and health["heartbeat"]["ok"]
            code, metrics = d2.get("/metrics")
            assert code == 200
            assert 'nianbao_crawl_runs{status="failed"} 1.0' in metrics
            assert 'nianbao_crawl_runs{status="ok"} 1.0' in metrics
            assert 'nianbao_crawls_total{status="ok"} 1.0' in metrics
            assert "nianbao_oldest_pending_alert_seconds 0.0" in metrics
            assert d2.stop() == 0
        finally:
            api.hold.clear()


def test_a_crawl_process_exited_but_not_yet_reaped_counts_as_gone() -> None:
    """The crawl child of a SIGKILLed daemon is re-parented to init, which may reap it only later:
    the restarted daemon's stale-run sweep must not take the zombie for a running crawl."""
    from monitor.jobs import _alive

    child = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert not _alive(child.pid)
        assert _alive(os.getpid())
    finally:
        child.wait()
    assert not _alive(child.pid)


def test_a_run_due_while_the_daemon_was_killed_runs_once_after_the_restart(tmp_path: Path) -> None:
    """The stored next run times are what the restart goes by: a sweep due while the daemon was
    down runs once when it comes back (coalesced, within the misfire grace), and the job moves on
    to the next day; a daemon that planned its jobs afresh would skip it."""
    clock = AcceleratedClock(START, 60.0)  # a wall second is a minute
    with DaemonWorld(tmp_path, clock) as dw:
        dw.world.add_county("990301", "丙县", "trs", BODIES, [2025])
        dw.write_profile("990301")
        dw.write_config(schedule={"crawl_time": "20:00", "sweep_time": "10:30"}, daemon={"crawl_window_hours": 1})
        d1 = dw.start().started()
        before = jobs(dw)
        due = datetime(2027, 1, 10, 10, 30, tzinfo=SHANGHAI)
        assert clock.now() < due - timedelta(minutes=5), "the daemon took too long to start"
        d1.kill()
        assert not any(e.get("message") == "deadline sweep done" for e in d1.events())
        while clock.now() < due + timedelta(minutes=5):
            time.sleep(0.2)
        d2 = dw.start().started()
        d2.wait_for(r'"message": "deadline sweep done"')
        after = jobs(dw)
        assert after["sweep"][0] != before["sweep"][0] and after["sweep"][1:] == before["sweep"][1:]
        assert {k: v for k, v in after.items() if k != "sweep"} == {k: v for k, v in before.items() if k != "sweep"}
        assert d2.stop() == 0
        assert sum(e.get("message") == "deadline sweep done" for e in d2.events()) == 1
        with dw.session_factory()() as s:
            nxt = s.scalar(text("SELECT next_run_time FROM apscheduler_jobs WHERE id = 'sweep'"))
        assert datetime.fromtimestamp(nxt, SHANGHAI) == due + timedelta(days=1)


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


def test_sigterm_as_the_dispatcher_and_the_sender_are_woken_stops_at_once(tmp_path: Path) -> None:
    """A crawl that finishes (or a recrawl asked for) wakes the dispatcher and the sender; when that
    falls on the shutdown's cancellation of their loops, the loops must still end: the shutdown
    goes on to the crawls and the last outbox drain instead of waiting for its time cap."""
    from monitor.config import load_config
    from monitor.daemon import Daemon

    cfg = tmp_path / "nianbao.toml"
    cfg.write_text(tomli_w.dumps({
        "data_dir": str(tmp_path / "data"), "counties_dir": str(tmp_path / "counties"),
        "database_url": f"sqlite+pysqlite:///{tmp_path / 'nianbao.db'}", "channels": {"console": False},
        "daemon": {"http": "", "poll_seconds": 30, "outbox_seconds": 30, "stop_grace_seconds": 1}}), "utf-8")
    (tmp_path / "data").mkdir()
    d = Daemon(load_config(cfg, env={}), config_path=cfg, bot_factory=lambda _d: None, http="")
    drains: list[float] = []

    def sender_factory(_d: Daemon) -> Any:
        async def send(digest: bool = False) -> None:
            drains.append(time.monotonic())
        return send

    d.sender_factory = sender_factory

    async def scenario() -> tuple[int, float]:
        task = asyncio.create_task(d.run())
        while d.scheduler is None or not d.scheduler.running or len(drains) < 1:
            await asyncio.sleep(0.05)
            assert not task.done(), task
        await asyncio.sleep(0.5)  # both loops wait for their next wake-up
        shutdown = d.scheduler.shutdown

        def wake_then_shutdown(wait: bool = True) -> None:  # called right before the loops are cancelled
            d._wake_dispatch.set()  # as by a crawl finishing at that moment
            d._wake_sender.set()
            shutdown(wait)

        d.scheduler.shutdown = wake_then_shutdown  # type: ignore[method-assign]
        t0 = time.monotonic()
        d.request_stop()
        done, _ = await asyncio.wait({task}, timeout=20)
        assert done, "the daemon did not stop within 20 s"
        return task.result(), time.monotonic() - t0

    rc, seconds = asyncio.run(scenario())
    assert rc == 0 and seconds < 5, seconds
    assert len(drains) >= 2 and drains[-1] - drains[0] > 0  # the last drain ran


def test_sigterm_while_a_chat_waits_for_its_recrawl_stops_the_bot_at_once(tmp_path: Path) -> None:
    """An admin's /recrawl leaves a task that tells the chat when the run starts and ends; a
    SIGTERM during that crawl queues the run again, so the task would wait for hours: the bot's
    stop ends it instead of waiting for it."""
    with FakeBotAPI() as api, DaemonWorld(tmp_path, AcceleratedClock(START, 1.0)) as dw:
        dw.world.add_county("990301", "丙县", "trs", BODIES, [2025])
        dw.world.populate("990301", [2025])
        dw.write_profile("990301")
        quiet_schedule(dw)
        dw.write_config(telegram={"api_url": api.base_url, "admin_chat_ids": [2002]},
                        daemon={"stop_grace_seconds": 1})
        dw.world.set_fault("990301", "slow", delay=60)
        d = dw.start(env=dw.env(NIANBAO_BOT_TOKEN=api.token)).started()
        api.push_command("/recrawl 990301", chat_id=2002)
        crawl = json.loads(d.wait_for(r'"message": "crawl started"').string)
        wait_running(dw, crawl["run_id"])
        t0 = time.monotonic()
        assert d.stop() == 0
        seconds = time.monotonic() - t0
        slow = [e for e in d.events() if "did not finish in time" in e.get("message", "")]
        assert slow == [] and seconds < 20, (seconds, slow)
