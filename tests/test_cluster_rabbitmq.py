"""Crawls on Celery workers with RabbitMQ as the broker (amqp:// on 127.0.0.1:5672; results by
make_app's default for it, rpc://; the leases and politeness in Redis) and two `nianbao worker`
processes: jobs crawl and their results come back, manual recrawls are taken before the scheduled
ones that waited longer (one x-max-priority queue, message priority), and a SIGKILLed worker's job
is delivered again at once (late acknowledgement; no visibility timeout on RabbitMQ) to the other
worker, with nothing stored twice. Under CI=true a missing RabbitMQ, Redis or PostgreSQL fails
these tests; elsewhere they are skipped."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.clusterworld import ClusterWorld, amqp_ok
from tests.daemonworld import process_group_alive
from tests.test_cluster import CrawlSampler, _missing, check_store, pg_url, redis_url  # noqa: F401 - fixtures

AMQP_URL = os.environ.get("NIANBAO_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")

pytestmark = pytest.mark.postgres


@pytest.fixture
def amqp_url() -> str:
    why = amqp_ok(AMQP_URL)
    if why is not None:
        _missing("RabbitMQ", why)
    return AMQP_URL


def started_order(cw: ClusterWorld) -> list[tuple[str, str]]:
    from storage.db import make_engine, session_factory
    from storage.models import CrawlRun

    engine = make_engine(cw.database_url)
    try:
        with session_factory(engine)() as s:
            return [(r.county_code, r.trigger) for r in s.scalars(select(CrawlRun).order_by(CrawlRun.started_at))]
    finally:
        engine.dispose()


def test_rabbitmq_runs_jobs_and_takes_manual_recrawls_first(tmp_path: Path, pg_url: str, redis_url: str,  # noqa: F811
                                                            amqp_url: str) -> None:
    """Four scheduled crawls are sent before two manual ones; then two workers start: the manual
    ones are the first two crawls (on RabbitMQ two queues would be served in turn: the manual jobs
    share the scheduled jobs' queue and carry priority 9). Every result comes back through rpc://."""
    from monitor.cluster import make_app

    with ClusterWorld(tmp_path, 6, database_url=pg_url, redis_url=redis_url, bodies=1, years=(2025,),
                      broker_url=amqp_url) as cw:
        assert make_app(cw.settings()).conf.result_backend == "rpc://"
        for code in cw.codes:
            cw.world.set_fault(code, "slow", delay=0.5)
        cw.prepare()
        runs = cw.queue_runs(cw.codes[:4]) + cw.queue_runs(cw.codes[4:], trigger="chat")
        workers = []

        def start() -> None:  # once every job waits in the broker
            for name in ("w1", "w2"):
                workers.append(cw.start_worker(name))

        with CrawlSampler(cw) as sampler:
            outcomes = cw.crawl(runs, on_submitted=start, timeout=600)
        assert sorted(o.run_id for o in outcomes) == sorted(r[0] for r in runs)
        assert {o.summary["status"] for o in outcomes} == {"ok"}, [o.summary for o in outcomes]
        assert {o.summary["county"] for o in outcomes} == set(cw.codes)
        assert len({o.summary["worker_pid"] for o in outcomes}) == 2  # both workers crawled
        order = started_order(cw)
        assert {t for _c, t in order[:2]} == {"chat"} and {c for c, _t in order[:2]} == set(cw.codes[4:]), order
        assert max(sampler.most.values()) == 1
        check_store(cw)
        for w in workers:
            assert w.stop() == 0


def test_rabbitmq_delivers_a_killed_worker_s_job_again(tmp_path: Path, pg_url: str, redis_url: str,  # noqa: F811
                                                       amqp_url: str) -> None:
    """The worker crawling county A is SIGKILLed mid-crawl: RabbitMQ gives its unacknowledged job
    to the other worker when the connection drops (the visibility timeout, 600 s here, plays no
    part), which finds the run left running, queues it again and crawls A; nothing stored twice, no
    run crawled twice at once."""
    with ClusterWorld(tmp_path, 2, database_url=pg_url, redis_url=redis_url, bodies=2, years=(2024, 2025),
                      broker_url=amqp_url, celery={"visibility_timeout_seconds": 600, "lease_seconds": 3}) as cw:
        victim = cw.codes[0]
        cw.world.set_fault(victim, "slow", delay=0.4)
        cw.prepare()
        runs = cw.queue_runs(cw.codes)
        victim_run = runs[0][0]
        w1 = cw.start_worker("w1")
        w1.wait_ready()
        w2 = cw.start_worker("w2")
        killed: dict[str, float] = {}

        def kill_on_marker() -> None:
            # w2 is still starting: the victim's job is w1's; kill w1 once A's portal answered and
            # the run is running
            killed.update(cw.kill_mid_crawl(w1, victim, victim_run))

        with CrawlSampler(cw) as sampler:
            outcomes = cw.crawl(runs[:1], on_submitted=kill_on_marker, timeout=300)
            finished = time.monotonic()
            outcomes += cw.crawl(runs[1:], timeout=300)
        by_run = {o.run_id: o.summary for o in outcomes}
        assert {s["status"] for s in by_run.values()} == {"ok"}, by_run
        assert by_run[victim_run]["worker_pid"] == w2.pid
        assert finished - killed["at"] < 120  # delivered again at once, not after the 600 s timeout
        assert not process_group_alive(int(killed["child"]))  # the killed worker's crawl child is gone
        assert len(cw.server.records(victim)) > killed["requests"]  # crawled again after the kill
        assert max(sampler.most.values()) == 1
        check_store(cw)
        assert "run left running by a lost worker" in w2.text()
        assert w2.stop() == 0
