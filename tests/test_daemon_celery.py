"""End to end on Celery: `nianbao daemon --executor celery` (a process, PostgreSQL, Redis as the
broker), two `nianbao worker` processes and the portal simulator. The scheduled crawls and two
manual recrawls (an admin's /recrawl through the fake Telegram Bot API, `nianbao recrawl --wait`)
are jobs the workers run; their results come back to the daemon, and each requester hears the
summary. Under CI=true a missing Redis or PostgreSQL fails the test; elsewhere it is skipped."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.clock import SHANGHAI, AcceleratedClock
from storage.models import CrawlRun, Document
from tests.clusterworld import celery_section, cleanup_redis, start_worker
from tests.daemonworld import DaemonWorld
from tests.fakebotapi import FakeBotAPI
from tests.test_cluster import pg_url, redis_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.postgres

ADMIN = 2002
BODIES = [("甲镇人民政府", "township"), ("乙街道办事处", "street")]
# 20:00 on the daemon's clock at ×4, 40 s of wall time after the start: the two counties' scheduled
# crawls fall in the window 20:00–20:03 (1.8 simulated minutes, ~27 s of wall time)
START = datetime(2027, 1, 10, 19, 57, 20, tzinfo=SHANGHAI)


def runs(dw: DaemonWorld) -> list[CrawlRun]:
    with dw.session_factory()() as s:
        return list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def wait_runs(dw: DaemonWorld, done: int, timeout: float, what: str) -> list[CrawlRun]:
    deadline = time.monotonic() + timeout
    while True:
        rs = runs(dw)
        if sum(r.status not in ("queued", "running") for r in rs) >= done:
            return rs
        assert time.monotonic() < deadline, f"{what}: {[(r.id, r.trigger, r.status) for r in rs]}"
        time.sleep(0.3)


def test_the_daemon_on_celery_crawls_on_workers_and_answers_the_requesters(
        tmp_path: Path, pg_url: str, redis_url: str) -> None:  # noqa: F811
    ns = f"t{uuid.uuid4().hex[:10]}"
    clock = AcceleratedClock(START, 4.0)
    with FakeBotAPI() as api, DaemonWorld(tmp_path, clock, database_url=pg_url) as dw:
        codes = ["990501", "990502"]
        for code, name in zip(codes, ("东县", "西县"), strict=True):
            dw.world.add_county(code, name, "trs", BODIES, [2025])
            dw.world.populate(code, [2025])
            dw.write_profile(code)
        dw.write_config(schedule={"crawl_time": "20:00"}, daemon={"crawl_window_hours": 0.05},
                        telegram={"api_url": api.base_url, "admin_chat_ids": [ADMIN]},
                        celery=celery_section(ns, redis_url))
        workers = [start_worker(tmp_path, dw.config, dw.env(NIANBAO_CONFIG=str(dw.config)), f"{n}@{ns}")
                   for n in ("w1", "w2")]
        try:
            d = dw.start("--executor", "celery", env=dw.env(NIANBAO_BOT_TOKEN=api.token)).started()
            for w in workers:
                w.wait_ready()

            scheduled = wait_runs(dw, 2, 180, "the scheduled crawls did not finish")
            assert sorted((r.county_code, r.trigger, r.status) for r in scheduled) == \
                [(c, "schedule", "ok") for c in codes]

            api.push_command(f"/recrawl {codes[0]}", chat_id=ADMIN)
            done = None
            deadline = time.monotonic() + 180
            while done is None and time.monotonic() < deadline:
                done = next((m for m in api.messages(ADMIN) if "抓取完成" in m.text), None)
                time.sleep(0.3)
            assert done is not None, [m.text for m in api.messages(ADMIN)]
            assert "成功" in done.text and "东县" in done.text

            out = dw.cli("recrawl", codes[1], "--wait", timeout=180)
            assert out.returncode == 0, out.stdout + out.stderr
            assert re.search(r"抓取 #\d+（990502）：完成", out.stdout), out.stdout

            all_runs = runs(dw)
            assert [(r.county_code, r.trigger, r.status) for r in all_runs[2:]] == \
                [(codes[0], "chat", "ok"), (codes[1], "cli", "ok")]
            # every run was a job of a worker, which handed its result back to the daemon
            d.wait_for(r'"message": "crawl finished"', timeout=60, count=len(all_runs))
            ran = Counter(int(m) for w in workers
                          for m in re.findall(r"nianbao\.crawl_run\[crawl-(\d+)@[\w.]+\] succeeded", w.text()))
            assert ran == Counter({r.id: 1 for r in all_runs})
            assert all(sum(f"crawl-{r.id}@{ns}.crawl]" in w.text() for w in workers) == 1 for r in all_runs)
            events = d.events()
            finished = [e for e in events if e.get("message") == "crawl finished"]
            assert sorted(e["run_id"] for e in finished) == [r.id for r in all_runs], finished
            assert {e["worker_pid"] for e in finished} <= {w.pid for w in workers}
            assert not [e for e in events if e.get("message") == "crawl started"]  # no local crawl child
            status, body = d.get("/healthz")
            assert status == 200 and json.loads(body)["crawls_running"] == []
            with dw.session_factory()() as s:
                urls = Counter(s.scalars(select(Document.url)))
            assert urls and max(urls.values()) == 1
            assert d.stop() == 0
            for w in workers:
                assert w.stop() == 0
        finally:
            for w in workers:
                w.kill()
            cleanup_redis(redis_url, ns)
