"""Crawls spread over worker machines on Celery: `nianbao worker`, and the daemon's `CeleryExecutor`.

    daemon (schedule, queued runs) ──send_task──▶ broker (Redis / RabbitMQ) ──▶ nianbao worker × N
         ▲                                                                        │ one job = one run:
         └──────────── result backend: {run_id, status, summary} ◀────────────────┘ crawl child + processing

A job is one queued crawl run (`nianbao.crawl_run(run_id)`, task id `crawl-<run_id>@<celery.queue>`).
The worker runs `python -m monitor.crawljob RUN_ID` as a child process (its own process group; it
kills itself when the worker dies), which crawls the county and processes the run into PostgreSQL,
and hands back the child's summary.

At least once, without harm:
- `acks_late` + `reject_on_worker_lost`, prefetch 1: a job is acknowledged when it ends; a job
  whose worker died is delivered again (Redis: after `visibility_timeout_seconds`; RabbitMQ: when
  the worker's connection drops; a warm shutdown gives its unstarted jobs back at once).
- a lease in Redis (`nianbao:lease:<queue>:run:<id>`, SET NX, renewed while the job runs) lets one delivery
  of a run work at a time; another delivery of a run whose lease is held is retried a lease's time
  later (then it answers the finished run's summary, or takes the run of a dead worker).
- a delivery that finds its run `running` without a lease (its worker died) queues it again and
  crawls it; one that finds it finished answers its stored summary. The database's one-running-run-
  per-county index keeps two crawls of a county apart whatever happens; documents are keyed by URL
  and content hash, so a crawl done again stores nothing twice.

Queues (`route`): on Redis scheduled crawls go to `celery.queue`, manual recrawls to
`celery.priority_queue`, which workers always read first (`queue_order_strategy=priority`). RabbitMQ
hands out a worker's queues in turn, so there both go to `celery.queue`, declared with
x-max-priority, and a manual recrawl's message has priority 9 (a scheduled one 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from monitor.executor import NOT_QUEUED, CrawlExecutor, CrawlOutcome, MarkFailed, OnFinished, RunningCrawl

log = logging.getLogger(__name__)

TASK = "nianbao.crawl_run"
LEASE = "nianbao:lease:{}:run:{}"  # (celery.queue, run id): clusters sharing a Redis stay apart
MANUAL_TRIGGERS_EXCLUDED = ("schedule",)  # every other trigger is someone waiting: the priority queue


def task_id(run_id: int, namespace: str) -> str:
    """The job's task id: `crawl-<run_id>@<celery.queue>` (run ids start at 1 in every database:
    clusters sharing a Redis keep their results apart by their queue's name, as their leases)."""
    return f"crawl-{run_id}@{namespace}"


def is_amqp(url: str) -> bool:
    return url.startswith(("amqp://", "amqps://", "pyamqp://"))


def route(settings: Any, trigger: str | None) -> tuple[str, int | None]:
    """(queue, message priority) of a run's job. Redis: manual recrawls go to the priority queue,
    which a worker polls first (`queue_order_strategy = priority`). RabbitMQ delivers from a
    worker's queues in turn, whatever their order, so there every job goes to `celery.queue`
    (declared with x-max-priority) and a manual recrawl carries priority 9, a scheduled crawl 0."""
    c = settings.celery
    manual = trigger is not None and trigger not in MANUAL_TRIGGERS_EXCLUDED
    if is_amqp(c.broker_url):
        return c.queue, (9 if manual else 0)
    return (c.priority_queue if manual else c.queue), None


def make_app(settings: Any, *, polling: bool = False) -> Any:
    """The Celery app of these settings (broker, result backend, queues, at-least-once options).
    `polling`: the daemon's app, which reads results by polling; on Redis its sends subscribe to
    no result channel (nothing would read them)."""
    from celery import Celery
    from kombu import Queue

    c = settings.celery
    backend = c.result_backend or (c.broker_url if c.broker_url.startswith(("redis://", "rediss://")) else "rpc://")
    app = Celery("nianbao", broker=c.broker_url, backend=backend, set_as_current=False)
    if polling and backend.startswith(("redis://", "rediss://")):
        app.backend_cls = _polling_redis_backend()
    qargs = {"x-max-priority": 10} if is_amqp(c.broker_url) else {}
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_track_started=True, result_expires=c.result_expires_seconds, result_extended=True,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_queues=[Queue(c.priority_queue, routing_key=c.priority_queue, queue_arguments=qargs),
                     Queue(c.queue, routing_key=c.queue, queue_arguments=qargs)],
        task_default_queue=c.queue, broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": c.visibility_timeout_seconds,
                                  "queue_order_strategy": "priority"},
        result_backend_transport_options={"visibility_timeout": c.visibility_timeout_seconds},
        worker_hijack_root_logger=False, worker_send_task_events=True, task_send_sent_event=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    app.nianbao_settings = settings  # type: ignore[attr-defined]
    app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)(crawl_run_task)
    return app


def _polling_redis_backend() -> type:
    from celery.backends.redis import RedisBackend

    class PollingRedisBackend(RedisBackend):
        """Celery's Redis result backend without its pub/sub subscription per sent task."""

        def __init__(self, app: Any, url: str | None = None, **kwargs: Any) -> None:
            super().__init__(app=app, url=url or app.conf.result_backend, **kwargs)

        def on_task_call(self, producer: Any, task_id: str) -> None:
            return None

    return PollingRedisBackend


# ------------------------------------------------------------------------------------- worker side
class Lease:
    """A run's lease in Redis: held by one delivery, renewed by a thread while the job runs."""

    def __init__(self, url: str, run_id: int, seconds: float, namespace: str = "nianbao.crawl") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.key = LEASE.format(namespace, run_id)
        self.value = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.ms = int(seconds * 1000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        if not self.client.set(self.key, self.value, nx=True, px=self.ms):
            return False
        self._thread = threading.Thread(target=self._renew, name=f"lease-{self.key}", daemon=True)
        self._thread.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.ms / 3000):
            with contextlib.suppress(Exception):
                self.client.set(self.key, self.value, xx=True, px=self.ms)

    def release(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            if self.client.get(self.key) == self.value.encode():
                self.client.delete(self.key)
        self.client.close()

    def holder(self) -> str | None:
        v = self.client.get(self.key)
        return v.decode() if v else None


def _lease_url(settings: Any) -> str:
    c = settings.celery
    if c.broker_url.startswith(("redis://", "rediss://")):
        return c.broker_url
    if settings.politeness.redis_url:
        return settings.politeness.redis_url
    if c.result_backend.startswith(("redis://", "rediss://")):
        return c.result_backend
    raise RuntimeError("the job leases need Redis: set celery.broker_url, celery.result_backend or "
                       "politeness.redis_url to a redis:// URL")


def _stored_summary(settings: Any, run_id: int) -> dict[str, Any] | None:
    """(status, summary) of a run from the database: None when it does not exist."""
    from storage.db import session_factory
    from storage.models import CrawlRun

    engine = settings.engine()
    try:
        with session_factory(engine)() as s:
            run = s.get(CrawlRun, run_id)
            if run is None:
                return None
            st = run.stats or {}
            return {"run_id": run.id, "county": run.county_code, "status": run.status, "error": run.error,
                    "pages": st.get("pages", 0), "blocked": st.get("blocked", 0), "failed": st.get("failed", 0)}
    finally:
        engine.dispose()


def _mark(settings: Any, run_id: int, reason: str, requeue: bool) -> None:
    from monitor.clock import clock_from_env
    from monitor.daemon import mark_failed
    from storage.db import session_factory

    engine = settings.engine()
    try:
        mark_failed(session_factory(engine), clock_from_env(), run_id, reason, requeue)
    finally:
        engine.dispose()


def _child_env(settings: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"NIANBAO_DATABASE_URL": settings.database_url,
                "NIANBAO_DATA_DIR": str(Path(settings.data_dir).resolve()),
                "NIANBAO_COUNTIES_DIR": str(Path(settings.counties_dir).resolve())})
    if settings.source is not None:
        env["NIANBAO_CONFIG"] = str(Path(settings.source).resolve())
    return env


def run_child(run_id: int, settings: Any, *, time_limit: float, stop_wait: float = 5.0,
              module: str = "monitor.crawljob") -> tuple[int | None, dict[str, Any], str | None, int]:
    """Run the crawl child; (exit status, its summary, why it was stopped, pid)."""
    proc = subprocess.Popen([sys.executable, "-m", module, str(run_id)], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=_child_env(settings), start_new_session=True)
    summary: dict[str, Any] = {}
    stopped: str | None = None

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(raw)
                if isinstance(event, dict) and event.get("event") == "summary":
                    summary.update(event)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(time_limit)
    except subprocess.TimeoutExpired:
        stopped = "time limit"
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(stop_wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    reader.join(5)
    return proc.returncode, summary, stopped, proc.pid


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.jobs = Counter("nianbao_worker_jobs", "Crawl jobs ended, by status", ["status"])
        self.seconds = Histogram("nianbao_worker_job_seconds", "Crawl job duration",
                                 buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200))
        self.running = Gauge("nianbao_worker_jobs_running", "Crawl jobs running now")
        self.redelivered = Counter("nianbao_worker_redelivered", "Jobs delivered again whose run was left "
                                   "running by a dead worker")
        self.ignored = Counter("nianbao_worker_duplicates", "Deliveries ignored: another holds the run's lease")
        self.pages = Counter("nianbao_worker_pages", "Pages fetched")


_metrics: _Metrics | None = None
_metrics_lock = threading.Lock()


def metrics() -> _Metrics:
    """The worker's metrics, made once (jobs run on several threads)."""
    global _metrics
    with _metrics_lock:
        if _metrics is None:
            _metrics = _Metrics()
        return _metrics


def crawl_run_task(task: Any, run_id: int) -> dict[str, Any]:
    """The job: crawl and process the queued run `run_id`; returns its summary."""
    from celery.exceptions import Ignore

    settings = task.app.nianbao_settings
    m = metrics()
    lease = Lease(_lease_url(settings), run_id, settings.celery.lease_seconds, settings.celery.queue)
    if not lease.acquire():
        # another delivery holds the run (alive, or dead and its lease not yet expired): ask again
        # after a lease's time; by then it is finished (its summary is answered) or free
        log.info("run is being crawled by another delivery", extra={"run_id": run_id, "holder": lease.holder()})
        m.ignored.inc()
        lease.client.close()
        c = settings.celery
        if task.request.retries >= int(c.time_limit_seconds / c.lease_seconds) + 10:
            raise Ignore()
        raise task.retry(countdown=c.lease_seconds, max_retries=None)
    started = time.monotonic()
    m.running.inc()
    try:
        stored = _stored_summary(settings, run_id)
        if stored is None:
            m.jobs.labels("missing").inc()
            return {"run_id": run_id, "status": "missing", "error": f"no crawl run {run_id}"}
        if stored["status"] == "running":  # we hold the lease: whoever ran it is gone
            log.warning("run left running by a lost worker: queued again", extra={"run_id": run_id})
            m.redelivered.inc()
            _mark(settings, run_id, "worker lost", True)
        elif stored["status"] != "queued":  # done already (its acknowledgement was lost)
            m.jobs.labels(stored["status"]).inc()
            return {**stored, "worker": socket.gethostname(), "delivered_again": True}
        child_started = time.monotonic()
        code, summary, stopped, _pid = run_child(run_id, settings, time_limit=settings.celery.time_limit_seconds)
        crawl_seconds = time.monotonic() - child_started
        if code not in (0, NOT_QUEUED):
            reason = f"crawl stopped: {stopped}" if stopped else f"crawl process exited with {code}"
            _mark(settings, run_id, reason, False)
            summary = {**(_stored_summary(settings, run_id) or {}), "status": "failed", "error": reason}
        elif code == NOT_QUEUED:
            summary = {**(_stored_summary(settings, run_id) or {}), **summary, "delivered_again": True}
            summary["status"] = (_stored_summary(settings, run_id) or {}).get("status", "not_queued")
        summary.pop("event", None)
        summary.update({"run_id": run_id, "worker": socket.gethostname(), "worker_pid": os.getpid(),
                        "seconds": round(time.monotonic() - started, 3), "crawl_seconds": round(crawl_seconds, 3)})
        m.jobs.labels(str(summary.get("status"))).inc()
        m.pages.inc(int(summary.get("pages") or 0))
        return summary
    finally:
        m.running.dec()
        m.seconds.observe(time.monotonic() - started)
        lease.release()


def worker_main(settings: Any, *, concurrency: int | None = None, hostname: str | None = None,
                loglevel: str = "INFO", queues: list[str] | None = None) -> None:
    """`nianbao worker`: a Celery worker (threads pool: each thread waits on one crawl child).
    SIGTERM is Celery's warm shutdown: no new jobs, running crawls finish."""
    c = settings.celery
    try:
        _lease_url(settings)
    except RuntimeError as exc:  # every job would fail: refuse to start
        raise SystemExit(f"nianbao worker: {exc}") from None
    app = make_app(settings)
    if c.metrics:
        from prometheus_client import start_http_server

        host, port = c.metrics.rsplit(":", 1)
        metrics()
        start_http_server(int(port), addr=host)
        log.info("worker metrics", extra={"url": f"http://{c.metrics}/metrics"})
    argv = ["worker", "--pool", "threads", "--concurrency", str(concurrency or c.concurrency),
            "--queues", ",".join(queues or [c.priority_queue, c.queue]), "--loglevel", loglevel,
            "--without-gossip", "--without-mingle", "-E"]
    if hostname:
        argv += ["--hostname", hostname]
    app.worker_main(argv)


# ------------------------------------------------------------------------------------- daemon side
class CeleryExecutor(CrawlExecutor):
    """The daemon's executor when crawls run on workers: `submit` sends the job (see `route`), a
    poll reads the results and calls `on_finished` with the summary.

    Every call to Celery (send, read a result, forget, revoke) runs on one thread of the executor's
    own: Celery's result backends are per thread (rpc:// replies go to the sending thread's queue)
    and their consumers are not safe across threads. Results are read by polling the backend's
    stored state (one MGET on Redis), never by `AsyncResult.get`: waiting on Redis's pub/sub from
    the daemon's threads could leave a finished job unread for good, its county busy."""

    def __init__(self, settings: Any, *, on_finished: OnFinished | None = None,
                 mark_failed: MarkFailed | None = None, poll_seconds: float = 1.0, app: Any = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        super().__init__(on_finished)
        self.settings = settings
        self.app = app or make_app(settings, polling=True)
        self.max_concurrent = settings.celery.max_in_flight
        self.mark_failed = mark_failed
        self.poll_seconds = poll_seconds
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="celery-client")
        self._sent: set[int] = set()
        self._poller: asyncio.Task[None] | None = None

    def _start(self, crawl: RunningCrawl, trigger: str | None) -> None:
        queue, priority = route(self.settings, trigger)
        # blocks the loop for the send, as a send from the loop's thread would
        self._io.submit(self.app.send_task, TASK, args=[crawl.run_id],
                        task_id=task_id(crawl.run_id, self.settings.celery.queue), queue=queue,
                        routing_key=queue, priority=priority).result(60)
        self._sent.add(crawl.run_id)
        log.info("crawl sent", extra={"run_id": crawl.run_id, "county": crawl.county, "queue": queue,
                                      "priority": priority})
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll(), name="celery-results")

    def _read(self, run_ids: list[int]) -> dict[int, dict[str, Any]]:
        """(on the Celery thread) The finished jobs' stored states among `run_ids`, forgotten."""
        from celery import states

        backend = self.app.backend
        ids = [task_id(r, self.settings.celery.queue) for r in run_ids]
        if hasattr(backend, "mget") and hasattr(backend, "get_key_for_task"):  # key-value stores: one read
            values = backend.mget([backend.get_key_for_task(t) for t in ids])
            metas = [backend.decode_result(v) if v else None for v in values]
        else:  # rpc:// and others
            metas = [backend.get_task_meta(t) for t in ids]
        done = {}
        for run_id, tid, meta in zip(run_ids, ids, metas, strict=True):
            if meta and meta.get("status") in states.READY_STATES:
                done[run_id] = meta
                with contextlib.suppress(Exception):  # rpc:// keeps nothing to forget
                    backend.forget(tid)
        return done

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while self._sent and not self._closed:
            try:
                done = await loop.run_in_executor(self._io, self._read, sorted(self._sent))
            except Exception:  # noqa: BLE001 - the backend may be away for a moment
                log.exception("reading the jobs' results failed")
                done = {}
            for run_id, meta in done.items():
                await self._finish(run_id, meta)
            await asyncio.sleep(self.poll_seconds)

    async def _finish(self, run_id: int, meta: dict[str, Any]) -> None:
        crawl = self._running.pop(run_id, None)
        self._sent.discard(run_id)
        value = meta.get("result")
        if not isinstance(value, dict):  # the job raised, or was revoked: its exception
            value = {"run_id": run_id, "status": "failed", "error": f"{meta.get('status')}: {value}"[:500]}
        outcome = CrawlOutcome(run_id, crawl.county if crawl else str(value.get("county", "")),
                               0 if value.get("status") != "failed" else 1, summary=value,
                               seconds=time.monotonic() - crawl.started if crawl else 0.0)
        log.info("crawl finished", extra={"run_id": run_id, "county": outcome.county, "status": value.get("status"),
                                          "worker": value.get("worker"), "worker_pid": value.get("worker_pid"),
                                          "seconds": round(outcome.seconds, 2)})
        await self._report(outcome)

    async def cancel(self, run_id: int, reason: str = "cancelled") -> bool:
        if run_id not in self._sent:
            return False
        self._sent.discard(run_id)
        tid = task_id(run_id, self.settings.celery.queue)
        await asyncio.get_running_loop().run_in_executor(self._io, self.app.control.revoke, tid)
        self._running.pop(run_id, None)
        if self.mark_failed is not None:
            await asyncio.to_thread(self.mark_failed, run_id, f"crawl stopped: {reason}", False)
        return True

    async def shutdown(self, grace: float) -> None:
        """The jobs stay with the broker and the workers: a daemon's restart loses none."""
        self._closed = True
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(BaseException):
                await self._poller
        self._io.shutdown(wait=False)


__all__ = ["make_app", "route", "worker_main", "CeleryExecutor", "crawl_run_task", "run_child", "task_id", "Lease"]
