"""Crawls on Celery workers (monitor/cluster.py) with the real Redis and PostgreSQL on 127.0.0.1
and two `nianbao worker` processes: every report found once, per-host politeness for the whole
cluster, manual recrawls first, a SIGKILLed worker's job finished by the other one without
duplicates and without two crawls of a county at once. Under CI=true a missing Redis or PostgreSQL
fails these tests; elsewhere they are skipped."""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.clusterworld import ClusterWorld, max_in_window, max_overlap, redis_ok
from tests.conftest import PG_URL
from tests.daemonworld import process_group_alive

REDIS_URL = os.environ.get("NIANBAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.postgres


def _missing(what: str, reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required when CI=true: {reason}")
    pytest.skip(f"{what} not reachable: {reason}")


@pytest.fixture
def redis_url() -> str:
    why = redis_ok(REDIS_URL)
    if why is not None:
        _missing("Redis", why)
    return REDIS_URL


@pytest.fixture
def pg_url() -> Iterator[str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(raw, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        _missing("PostgreSQL", str(exc).strip())
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


class CrawlSampler:
    """Samples the crawl children (`python -m monitor.crawljob RUN_ID`, each the leader of its own
    process group) of the world's workers every few ms: the most that ran at once for one run id.
    Only children of those workers count: other test runs on the machine start crawl children with
    the same run ids in schemas of their own. (A fork of a crawl child before its exec, the Scrapy
    grandchild starting, shares the command line for a moment; its parent is not a worker.)"""

    def __init__(self, cw: ClusterWorld) -> None:
        self.cw = cw
        self.most: Counter[int] = Counter()
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CrawlSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            workers = {w.pid for w in list(self.cw.workers)}
            now: Counter[int] = Counter()
            for d in Path("/proc").glob("[0-9]*"):
                try:
                    cmd = (d / "cmdline").read_bytes().split(b"\0")
                    stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                pid = int(d.name)
                if stat[0] != "Z" and (int(stat[1]) in workers or pid in self.seen) and int(stat[2]) == pid \
                        and b"monitor.crawljob" in cmd and len(cmd) > 3 and cmd[3].isdigit():
                    self.seen.add(pid)  # still counted when its worker is killed (reparented)
                    now[int(cmd[3])] += 1
            for run_id, n in now.items():
                self.most[run_id] = max(self.most[run_id], n)


def check_store(cw: ClusterWorld) -> None:
    """Every expected report stored once: one document per URL, one version per report, no
    finding twice."""
    from storage.db import make_engine, session_factory
    from storage.models import Document, Entity, Finding, Report, ReportVersion

    engine = make_engine(cw.database_url)
    try:
        with session_factory(engine)() as s:
            urls = Counter(s.scalars(select(Document.url)))
            assert urls and max(urls.values()) == 1, [u for u, n in urls.items() if n > 1]
            expected = {(code, r["body"], r["year"]) for code in cw.codes for r in cw.world.expected_reports(code)}
            stored = set(s.execute(select(Entity.county_code, Entity.name, Report.year)
                                   .join(Report, Report.entity_id == Entity.id)))
            assert stored == expected
            versions = Counter(s.scalars(select(ReportVersion.report_id)))
            assert len(versions) == len(expected) and max(versions.values()) == 1
            findings = Counter(s.execute(select(Finding.rule_id, Finding.county_code, Finding.entity_id,
                                                Finding.year, Finding.report_version_id, Finding.message)))
            assert not [f for f, n in findings.items() if n > 1]
            assert s.scalar(select(func.count()).select_from(Document)) == len(expected)
    finally:
        engine.dispose()


def test_forty_counties_on_two_workers(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    """40 counties through two workers (two crawls each): all reports once, manual recrawls taken
    before the schedule's, and the per-host limits (all counties are on the host 127.0.0.1) hold
    for the cluster: ≤ 2 requests in flight, ≤ rate + burst a second."""
    rate, burst, cap = 30.0, 3, 2
    with ClusterWorld(tmp_path, 40, database_url=pg_url, redis_url=redis_url, bodies=2, years=(2025,),
                      politeness={"rate": rate, "burst": burst, "concurrency": cap, "block_backoff_seconds": 0}) as cw:
        for code in cw.codes:
            cw.world.set_fault(code, "slow", delay=0.3)
        cw.prepare()
        runs = cw.queue_runs(cw.codes[:-2]) + cw.queue_runs(cw.codes[-2:], trigger="chat")
        workers = []

        def start() -> None:  # once every job waits in the broker
            for name in ("w1", "w2"):
                workers.append(cw.start_worker(name, concurrency=2))

        with CrawlSampler(cw) as sampler:
            outcomes = cw.crawl(runs, on_submitted=start)
        assert sorted(o.run_id for o in outcomes) == sorted(r[0] for r in runs)
        assert {o.summary["status"] for o in outcomes} == {"ok"}, [o.summary for o in outcomes]
        assert len({o.summary["worker_pid"] for o in outcomes}) == 2  # both workers crawled
        assert max(sampler.most.values()) == 1
        check_store(cw)

        from storage.db import make_engine, session_factory
        from storage.models import CrawlRun

        engine = make_engine(cw.database_url)
        with session_factory(engine)() as s:
            order = [r.county_code for r in s.scalars(select(CrawlRun).order_by(CrawlRun.started_at))]
        engine.dispose()
        assert set(cw.codes[-2:]) <= set(order[:4]), order[:6]  # 4 crawls start at once

        records = [r for r in cw.server.request_log]
        assert len(records) > 2 * len(cw.codes)
        assert max_overlap(records) <= cap
        assert max_in_window(records, 1.0) <= rate + burst
        for w in workers:
            assert w.stop() == 0


def test_a_killed_worker_s_job_finishes_on_the_other(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    """The worker crawling county A is SIGKILLed once A's portal has answered a request (the
    marker): its crawl child dies with it, the job is delivered again (visibility timeout) to the
    other worker, which crawls A; nothing is stored twice, no run had two crawls at once."""
    with ClusterWorld(tmp_path, 4, database_url=pg_url, redis_url=redis_url, bodies=3, years=(2024, 2025),
                      celery={"visibility_timeout_seconds": 12, "lease_seconds": 3}) as cw:
        victim = cw.codes[0]
        cw.world.set_fault(victim, "slow", delay=0.4)
        cw.prepare()
        runs = cw.queue_runs(cw.codes)
        victim_run = runs[0][0]
        w1 = cw.start_worker("w1")
        w1.wait_ready()
        killed: dict[str, int] = {}

        def kill_on_marker() -> None:
            # the victim's job goes to w1 alone (w2 starts later); kill w1 once A's portal answered
            killed.update(cw.kill_mid_crawl(w1, victim, victim_run), worker=w1.pid)
            cw.start_worker("w2")

        with CrawlSampler(cw) as sampler:
            outcomes = cw.crawl(runs[:1], on_submitted=kill_on_marker)
            outcomes += cw.crawl(runs[1:])
        by_run = {o.run_id: o.summary for o in outcomes}
        assert {s["status"] for s in by_run.values()} == {"ok"}, by_run
        assert by_run[victim_run]["worker_pid"] != killed["worker"]
        assert not process_group_alive(killed["child"])  # the killed worker's crawl child is gone
        assert len(cw.server.records(victim)) > killed["requests"]  # crawled again after the kill
        assert max(sampler.most.values()) == 1
        check_store(cw)
        w2_log = cw.workers[-1].text()
        assert "run left running by a lost worker" in w2_log


def test_blocked_host_backs_off_for_every_worker(redis_url: str) -> None:
    """Two limiters (two workers) on one Redis: a block seen by one stops the other; the cap and
    the rate are shared."""
    import redis

    from crawler.politeness import HostLimiter

    prefix = f"t{uuid.uuid4().hex[:8]}:"
    a, b = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    try:
        la = HostLimiter(a, rate=1000, burst=10, concurrency=2, block_backoff=5, prefix=prefix)
        lb = HostLimiter(b, rate=1000, burst=10, concurrency=2, block_backoff=5, prefix=prefix)
        assert la.try_acquire("x.gov.cn", "a1") == 0 and lb.try_acquire("x.gov.cn", "b1") == 0
        assert lb.try_acquire("x.gov.cn", "b2") > 0  # the cap: 2 in flight over both
        la.release("x.gov.cn", "a1")
        assert lb.try_acquire("x.gov.cn", "b2") == 0
        la.release("x.gov.cn", "b1"), lb.release("x.gov.cn", "b2")
        la.block("x.gov.cn")
        assert lb.try_acquire("x.gov.cn", "b3") > 4000  # ms: the other worker waits the back-off
        assert lb.try_acquire("y.gov.cn", "b4") == 0  # other hosts go on
        slow_a = HostLimiter(a, rate=1, burst=1, concurrency=0, prefix=prefix)
        slow_b = HostLimiter(b, rate=1, burst=1, concurrency=0, prefix=prefix)
        assert slow_a.try_acquire("z.gov.cn", "a") == 0
        assert 0 < slow_b.try_acquire("z.gov.cn", "b") <= 1000  # the bucket is shared
    finally:
        for key in a.scan_iter(f"{prefix}*"):
            a.delete(key)
        a.close(), b.close()


def test_the_time_limit_stops_the_crawl_child(tmp_path: Path) -> None:
    from monitor.cluster import run_child
    from monitor.config import Settings

    settings = Settings(data_dir=tmp_path, counties_dir=tmp_path)
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    code, summary, stopped, pid = run_child(7, settings, time_limit=2, stop_wait=1, module="tests.slowcrawl")
    assert stopped == "time limit" and code != 0 and summary == {}
    assert not process_group_alive(pid)
    code, summary, stopped, _ = run_child(0, settings, time_limit=30, module="tests.slowcrawl")
    assert (code, stopped, summary["pages"]) == (0, None, 3)


def test_results_and_queues_of_the_celery_settings(redis_url: str) -> None:
    """Manual triggers go to the priority queue, which the worker reads first."""
    from monitor.cluster import make_app
    from monitor.config import Settings

    s = Settings(celery={"broker_url": redis_url})
    app = make_app(s)
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert [q.name for q in app.conf.task_queues] == ["nianbao.recrawl", "nianbao.crawl"]
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"


def test_the_executor_reads_results_by_polling(redis_url: str) -> None:
    """The daemon's executor on Redis: scheduled and manual jobs land in their queues, a stored
    result (success or the job's exception) is read by polling, handed to on_finished and forgotten,
    another cluster's result for the same run id is not taken for ours, and no send subscribed to a
    result channel (nothing would read it)."""
    import asyncio

    import redis

    from monitor.cluster import CeleryExecutor, make_app
    from monitor.config import Settings
    from tests.clusterworld import celery_section, cleanup_redis

    ns = f"t{uuid.uuid4().hex[:10]}"
    settings = Settings(celery=celery_section(ns, redis_url))
    client = redis.Redis.from_url(redis_url)
    outcomes: list = []

    async def main() -> None:
        ex = CeleryExecutor(settings, on_finished=outcomes.append, poll_seconds=0.05)
        assert ex.submit(1, "990001", "schedule") and ex.submit(2, "990002", "chat")
        assert (client.llen(f"{ns}.crawl"), client.llen(f"{ns}.recrawl")) == (1, 1)
        worker_side = make_app(settings).backend
        # another cluster (or test run) on this Redis finishing its own run 1: not ours
        worker_side.store_result(f"crawl-1@{ns}x.crawl", {"run_id": 1, "status": "failed"}, "SUCCESS")
        await asyncio.sleep(0.3)
        assert outcomes == []
        worker_side.store_result(f"crawl-1@{ns}.crawl", {"run_id": 1, "county": "990001", "status": "ok", "pages": 4}, "SUCCESS")
        worker_side.store_result(f"crawl-2@{ns}.crawl", RuntimeError("boom"), "FAILURE")
        for _ in range(200):
            if len(outcomes) == 2:
                break
            await asyncio.sleep(0.05)
        subscribed = await asyncio.get_running_loop().run_in_executor(
            ex._io, lambda: ex.app.backend.result_consumer._pubsub)
        await ex.shutdown(0)
        assert subscribed is None
        assert ex.running() == {}

    try:
        asyncio.run(main())
        by_run = {o.run_id: o for o in outcomes}
        assert by_run[1].summary["pages"] == 4 and by_run[1].returncode == 0
        assert by_run[2].summary["status"] == "failed" and "boom" in by_run[2].summary["error"]
        assert by_run[2].returncode == 1 and by_run[2].county == "990002"
        assert not client.exists(f"celery-task-meta-crawl-1@{ns}.crawl", f"celery-task-meta-crawl-2@{ns}.crawl")
    finally:
        cleanup_redis(redis_url, ns)
        client.delete(f"celery-task-meta-crawl-1@{ns}x.crawl")
        client.close()
