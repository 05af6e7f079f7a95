"""`nianbao daemon`: one asyncio process that runs nianbao for months.

    Daemon.run()
     ├── lock            one daemon per database (monitor.daemonlock)
     ├── reaper          runs left `running` by a dead daemon → failed, and queued again
     ├── scheduler       APScheduler 3.x AsyncIOScheduler, jobs in a SQLAlchemyJobStore in the same
     │                   database (coalesce, misfire grace): per-county crawl cadence (queues a
     │                   CrawlRun), the deadline sweep, digests, housekeeping, the operators'
     │                   heartbeat — monitor.schedule
     ├── dispatcher      queued CrawlRuns (schedule, `nianbao recrawl`, the bot's /recrawl) → the
     │                   crawl executor (monitor.executor: child processes, cap, time limit)
     ├── sender          crawl-health escalation (notifier.health), then drains the alert outbox
     │                   (a coroutine made by `sender_factory`)
     ├── operators       start/stop, job failures and the heartbeat sent to operators at once
     ├── bot             the Telegram bot (an object with async start()/stop(), made by `bot_factory`)
     └── http            /healthz, /metrics (Prometheus) on 127.0.0.1; the web UI mounted beside them

Signals: SIGTERM/SIGINT stop (no new crawls; running ones get the grace period, then are stopped,
marked failed and queued again; the outbox is drained once more); SIGHUP reloads nianbao.toml and
the county profiles and re-plans the jobs. Blocking work (database, sweep, housekeeping) runs in
threads, crawls and their parsing in child processes: the event loop never waits on them.

Stored jobs are the module-level `job_*` coroutines below, referenced by import path; they act on
the daemon running in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete, func, select

from monitor.clock import CLOCK_ENV, SHANGHAI, Clock, SystemClock, clock_rate
from monitor.executor import CrawlExecutor, CrawlOutcome, LocalProcessExecutor
from monitor.schedule import ScheduleConfig, planned_jobs

log = logging.getLogger(__name__)

SenderFactory = Callable[["Daemon"], Callable[..., Awaitable[Any]]]
BotFactory = Callable[["Daemon"], Any]
RunListener = Callable[[str, dict[str, Any]], Awaitable[None] | None]

_CURRENT: Daemon | None = None


# --- stored jobs (referenced by "monitor.daemon:job_…" in the job store) ------------------------

def _stored_job(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """A job interrupted by the daemon's shutdown ends quietly (its next run comes after restart)."""
    import functools

    @functools.wraps(fn)
    async def run(*args: Any) -> None:
        try:
            await fn(*args)
        except asyncio.CancelledError:
            log.info("job interrupted by shutdown", extra={"job": fn.__name__})

    return run


def _daemon() -> Daemon | None:
    if _CURRENT is None:
        log.warning("scheduled job fired with no daemon running in this process")
    return _CURRENT


@_stored_job
async def job_queue_crawl(county_code: str) -> None:
    """The county's scheduled crawl: a queued CrawlRun (joins one already queued)."""
    if (d := _daemon()) is not None:
        await d.queue_crawl(county_code, trigger="schedule", requested_by="schedule")


@_stored_job
async def job_sweep() -> None:
    if (d := _daemon()) is not None:
        await d.sweep()


@_stored_job
async def job_digest() -> None:
    if (d := _daemon()) is not None:
        await d.digest()


@_stored_job
async def job_housekeeping() -> None:
    if (d := _daemon()) is not None:
        await d.housekeeping()


@_stored_job
async def job_heartbeat() -> None:
    """The operators' daily heartbeat (notifier.health)."""
    if (d := _daemon()) is not None:
        await d.heartbeat()


# --- waiting without losing a cancellation ---------------------------------------------------------

async def wake_or_timeout(event: asyncio.Event, seconds: float) -> None:
    """Wait until `event` is set or `seconds` have passed. Not `asyncio.wait_for(event.wait())`:
    before Python 3.12 it returns normally when its task is cancelled just as the event is set
    (bpo-42130), and a `while True` loop around it then runs on after the shutdown cancelled it."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()


async def bounded(step: str, aw: Awaitable[Any], seconds: float) -> Any:
    """Await `aw` for at most `seconds`, then log and go on: the step is cancelled but not waited
    for, so that one that ignores its cancellation cannot hold the steps after it. Errors are
    logged, not raised (a shutdown step must not stop the others)."""
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        log.error("shutdown step did not finish in time", extra={"step": step, "seconds": seconds})
        return None
    if task.cancelled():
        return None
    if task.exception() is not None:
        log.error("shutdown step failed", extra={"step": step}, exc_info=task.exception())
        return None
    return task.result()


# --- the scheduler on the daemon's clock ---------------------------------------------------------

def _install_clock(clock: Clock) -> None:
    """Make APScheduler read `clock`. APScheduler 3.x reads the time with `datetime.now(tz)` in its
    scheduler and executor modules; the daemon's process holds one scheduler, so those two module
    names are pointed at a datetime whose now() is the clock. With the system clock nothing changes.
    """
    import apscheduler.executors.base as executors_base
    import apscheduler.schedulers.base as schedulers_base

    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            now = clock.now()
            return now.astimezone(tz) if tz is not None else now.astimezone().replace(tzinfo=None)

    for module in (schedulers_base, executors_base):
        module.datetime = ClockDatetime  # type: ignore[attr-defined]


class ClockedScheduler(AsyncIOScheduler):
    """An AsyncIOScheduler whose time is the daemon's clock (accelerated in demos and tests): it
    reads the clock for due jobs and sleeps the clock's time divided by its rate."""

    def __init__(self, clock: Clock, **kwargs: Any) -> None:
        self.clock = clock
        self.rate = clock_rate(clock)
        super().__init__(**kwargs)

    def start(self, paused: bool = False) -> None:
        if not isinstance(self.clock, SystemClock):
            _install_clock(self.clock)
        super().start(paused)

    def _start_timer(self, wait_seconds: float | None) -> None:
        super()._start_timer(None if wait_seconds is None else wait_seconds / self.rate)


# --- service functions the jobs call (blocking; run in threads) ----------------------------------

def requeue_stale_runs(settings: Any, clock: Clock) -> list[tuple[int, int]]:
    """Runs left `running` by a dead process (monitor.jobs.reap_stale_runs: failed) are queued
    again. Returns (failed run id, queued run id) pairs. This sweep is the one owner of a dead
    daemon's runs: its crawl processes (monitor.crawljob, crawling in process) only stop their
    process group when they see the daemon gone, and leave their runs to it."""
    from monitor.jobs import reap_stale_runs
    from monitor.status import request_recrawl
    from storage.db import session_factory
    from storage.models import CrawlRun
    from storage.repo import finish_crawl_run

    out = []
    reaped = reap_stale_runs(settings, clock=clock)
    if not reaped:
        return out
    engine = settings.engine()
    try:
        with session_factory(engine)() as s, s.begin():
            for run in s.scalars(select(CrawlRun).where(CrawlRun.id.in_(reaped))):
                note = f"{run.error}; the daemon stopped during the crawl, queued again" if run.error else None
                finish_crawl_run(s, run.id, "failed", run.stats or {}, note, now=run.finished_at)
                queued, _ = request_recrawl(s, run.county_code, run.requested_by or "daemon", trigger=run.trigger)
                out.append((run.id, queued.id))
    finally:
        engine.dispose()
    return out


def mark_failed(sf: Any, clock: Clock, run_id: int, reason: str, requeue: bool) -> int | None:
    """A run its crawl did not finish. Stopped by a shutdown (`requeue`): queued again as it is, so
    that the next start crawls it and a restart never counts as a failed crawl (CRAWL-002);
    otherwise (time limit, a crash of the child): failed. Returns the id when it was queued again."""
    from storage.models import CrawlRun
    from storage.repo import finish_crawl_run

    with sf() as s, s.begin():
        run = s.get(CrawlRun, run_id)
        if run is None or run.status not in ("queued", "running"):
            return None
        if requeue:
            run.status, run.started_at, run.error = "queued", None, f"{reason}; queued again"
            for attr in ("host", "pid"):
                if hasattr(run, attr):
                    setattr(run, attr, None)
            return run.id
        finish_crawl_run(s, run_id, "failed", run.stats or {}, reason, now=clock.now())
    return None


def housekeep(sf: Any, blobs_root: Path, clock: Clock, keep_runs_days: int,
              blob_min_age: timedelta = timedelta(days=1)) -> dict[str, int]:
    """Delete finished crawl runs older than `keep_runs_days` that nothing refers to (the latest
    run of each county is always kept), and blob files that no document names (older than
    `blob_min_age`, so that a blob written just before its row is never taken)."""
    from storage.models import CrawlRun, Document, SeenUrl

    cutoff = clock.now() - timedelta(days=keep_runs_days)
    with sf() as s, s.begin():
        latest = select(func.max(CrawlRun.id)).group_by(CrawlRun.county_code)
        used = (select(Document.crawl_run_id).where(Document.crawl_run_id.is_not(None))
                .union(select(SeenUrl.first_run_id).where(SeenUrl.first_run_id.is_not(None)),
                       select(SeenUrl.last_run_id).where(SeenUrl.last_run_id.is_not(None))))
        runs = s.execute(delete(CrawlRun).where(
            CrawlRun.finished_at.is_not(None), CrawlRun.finished_at < cutoff,
            CrawlRun.status.not_in(("queued", "running")), CrawlRun.id.not_in(latest),
            CrawlRun.id.not_in(used))).rowcount or 0
        known = set(s.scalars(select(Document.sha256)))
    removed = 0
    limit = time.time() - blob_min_age.total_seconds()
    if blobs_root.is_dir():
        for sub in blobs_root.iterdir():
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for path in sub.iterdir():
                if sub.name + path.name in known or path.name.startswith(".tmp-"):
                    continue
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < limit:
                        path.unlink()
                        removed += 1
    return {"runs": runs, "blobs": removed}


# --- metrics -----------------------------------------------------------------------------------

class _DbCollector:
    """Prometheus gauges read from the database at each scrape."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        from storage.models import Alert, CrawlRun, Finding

        runs = GaugeMetricFamily("nianbao_crawl_runs", "Crawl runs in the database by status", labels=["status"])
        findings = GaugeMetricFamily("nianbao_findings_open", "Open findings by rule", labels=["rule"])
        alerts = GaugeMetricFamily("nianbao_alerts", "Alerts in the outbox by status", labels=["status"])
        oldest = GaugeMetricFamily("nianbao_oldest_pending_alert_seconds",
                                   "Age of the oldest pending alert (0 when none)")
        d = self.daemon
        with d.sf() as s:
            for status, n in s.execute(select(CrawlRun.status, func.count()).group_by(CrawlRun.status)):
                runs.add_metric([status], n)
            for rule, n in s.execute(select(Finding.rule_id, func.count())
                                     .where(Finding.resolved_at.is_(None)).group_by(Finding.rule_id)):
                findings.add_metric([rule], n)
            for status, n in s.execute(select(Alert.status, func.count()).group_by(Alert.status)):
                alerts.add_metric([status], n)
            first = s.scalar(select(func.min(Alert.created_at)).where(Alert.status == "pending"))
        age = max(0.0, (d.clock.now() - first).total_seconds()) if first is not None else 0.0
        oldest.add_metric([], age)
        yield from (runs, findings, alerts, oldest)


class Metrics:
    def __init__(self, daemon: Daemon) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self.crawls = Counter("nianbao_crawls", "Crawls finished by this daemon, by run status", ["status"], registry=r)
        self.pages = Counter("nianbao_crawl_pages", "Pages read by this daemon's crawls", registry=r)
        self.blocked = Counter("nianbao_crawl_blocked", "Requests answered with a block (challenge, WAF)",
                               registry=r)
        self.running = Gauge("nianbao_crawls_running", "Crawls running now", registry=r)
        self.running.set_function(lambda: len(daemon.executor.running()) if daemon.executor else 0)
        self.jobs = Gauge("nianbao_scheduler_jobs", "Jobs in the scheduler", registry=r)
        self.jobs.set_function(lambda: len(daemon.scheduler.get_jobs()) if daemon.scheduler else 0)
        self.lag = Histogram("nianbao_job_lag_seconds", "Wall-clock delay between a job's due time and its start",
                             ["job"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60), registry=r)
        self.missed = Counter("nianbao_jobs_missed", "Job runs missed beyond the misfire grace time", registry=r)
        self.job_errors = Counter("nianbao_job_errors", "Jobs that raised", registry=r)
        r.register(_DbCollector(daemon))  # type: ignore[arg-type]


# --- logging -----------------------------------------------------------------------------------

_STD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName",
                                                                           "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"time": datetime.fromtimestamp(record.created).astimezone().isoformat(),
                               "level": record.levelname.lower(), "logger": record.name,
                               "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger message key=value…` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STD_ATTRS and not k.startswith("_"))
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {record.getMessage()}"
        line = f"{line} {extra}" if extra else line
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return line


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    import sys

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler.executors", "uvicorn.access", "httpx", "telegram.ext"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def sd_notify(message: str) -> None:
    """Tell systemd (Type=notify) READY=1 / RELOADING=1 / STOPPING=1; nothing outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)


# --- the daemon --------------------------------------------------------------------------------

class Daemon:
    def __init__(self, settings: Any, *, clock: Clock | None = None, config_path: str | Path | None = None,
                 executor: CrawlExecutor | None = None, sender_factory: SenderFactory | None = None,
                 bot_factory: BotFactory | None = None, web_app_factory: Callable[[Any, Clock], Any] | None = None,
                 http: str | None = None, load_settings: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.config_path = Path(config_path).resolve() if config_path else None
        self.cfg = ScheduleConfig.from_settings(settings)
        self.http = self.cfg.http if http is None else http
        self._executor_given = executor
        self.executor: CrawlExecutor | None = executor
        self.sender_factory = notifier_sender if sender_factory is None else sender_factory
        self.bot_factory = telegram_bot if bot_factory is None else bot_factory
        self.web_app_factory = web_app_factory
        self.load_settings = load_settings
        self.scheduler: ClockedScheduler | None = None
        self.metrics: Metrics | None = None
        self.run_listeners: list[RunListener] = []
        self.lag_samples: deque[float] = deque(maxlen=5000)
        self.started_at = time.time()
        self.http_port: int | None = None
        self._stop = asyncio.Event()
        self._wake_dispatch = asyncio.Event()
        self._wake_sender = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._lock: Any = None
        self._engine: Any = None
        self.sf: Any = None
        self._sender: Callable[..., Awaitable[Any]] | None = None
        self._bot: Any = None
        self._uvicorn: Any = None
        self.last_tick = time.time()
        self.notices: Any = None  # notifier.health.OperatorNotices: heartbeat, start/stop, job failures
        self.last_heartbeat: datetime | None = None  # on the daemon's clock (the start until the first)
        self.heartbeat_period = timedelta(days=1)
        self._notice_tasks: set[asyncio.Task[Any]] = set()

    # ---------------------------------------------------------------- lifecycle
    async def run(self) -> int:
        """Run until SIGTERM/SIGINT (or `request_stop()`); 0 on a clean stop."""
        global _CURRENT
        from monitor.daemonlock import acquire

        if hasattr(self.clock, "to_env"):  # this process's own writes (storage.repo) on the same clock
            os.environ[CLOCK_ENV] = self.clock.to_env()  # type: ignore[attr-defined]

        self._lock = await asyncio.to_thread(acquire, self.settings.database_url)
        _CURRENT = self
        loop = asyncio.get_running_loop()
        try:
            await self._open()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
            log.info("daemon started", extra={"pid": os.getpid(), "database": _safe_url(self.settings.database_url),
                                              "jobs": len(self.scheduler.get_jobs()) if self.scheduler else 0,
                                              "http": f"{self.http_host}:{self.http_port}" if self.http_port else None,
                                              "clock_rate": clock_rate(self.clock)})
            sd_notify("READY=1")
            await self._stop.wait()
            sd_notify("STOPPING=1")
            logging.getLogger("apscheduler.executors.default").setLevel(logging.CRITICAL)  # cancelled jobs
            close = asyncio.create_task(self._close(), name="close")
            done, _ = await asyncio.wait({close}, timeout=self.cfg.stop_grace_seconds + 30)
            if not done:
                log.error("shutdown steps did not finish in time; stopping anyway",
                          extra={"stack": "".join(f"{f}" for f in close.get_stack(limit=20))})
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(sig)
            for engine in (self._engine, getattr(self, "_jobs_engine", None)):
                if engine is not None:
                    engine.dispose()
            self._lock.release()
            _CURRENT = None
        log.info("daemon stopped")
        return 0

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info("stopping", extra={"grace_seconds": self.cfg.stop_grace_seconds})
        self._stop.set()

    async def _open(self) -> None:
        from storage.db import session_factory, upgrade

        self._engine = self.settings.engine()
        await asyncio.to_thread(upgrade, self._engine)
        self.sf = session_factory(self._engine)
        codes = await asyncio.to_thread(self._sync_profiles)
        reaped = await asyncio.to_thread(requeue_stale_runs, self.settings, self.clock)
        for old, new in reaped:
            log.warning("run left running by a stopped daemon: failed and queued again",
                        extra={"run_id": old, "queued_run_id": new})
        if self.executor is None:
            self.executor = self._celery_executor() if self.settings.daemon.executor == "celery" \
                else self._local_executor()
        self.metrics = Metrics(self)
        self.scheduler = self._make_scheduler()
        self.scheduler.start()
        self._plan(codes)
        await asyncio.to_thread(self._sync_operators)
        self.last_heartbeat = self.clock.now()
        if self.sender_factory is not None:
            self._sender = self.sender_factory(self)
            self.notices = self._operator_notices()
        if self.bot_factory is not None:
            self._bot = self.bot_factory(self)
            if self._bot is not None:
                await self._bot.start()
        self._tasks = [asyncio.create_task(self._dispatch_loop(), name="dispatcher"),
                       asyncio.create_task(self._sender_loop(), name="sender")]
        if self.http:
            await self._start_http()
        await self.notify_operators(f"年报监测已启动（{_local(self.clock.now())}）\n"
                                    f"进程 {os.getpid()}，{len(codes)} 个县，"
                                    f"{len(self.scheduler.get_jobs())} 个计划任务")

    def _sync_operators(self) -> None:
        from notifier.health import sync_operators

        with self.sf() as s, s.begin():
            sync_operators(s, self.settings)

    def _operator_notices(self) -> Any:
        from notifier.channels import build_channels
        from notifier.health import OperatorNotices

        try:
            return OperatorNotices(self.sf, build_channels(self.settings))
        except Exception:  # noqa: BLE001 - a channel that cannot be built must not stop the daemon
            log.exception("operator notices are off: the channels could not be built")
            return None

    async def notify_operators(self, text: str, timeout: float = 30) -> int:
        """A message to every operator, at once (not through the outbox); 0 when none got it."""
        if self.notices is None:
            return 0
        try:
            return await asyncio.wait_for(self.notices.send(text), timeout)
        except Exception:  # noqa: BLE001
            log.exception("operator notice failed")
            return 0

    async def _close(self) -> None:
        """The shutdown's steps, most needed first, each with its own time bound (`bounded`): the
        loops end, running crawls finish or are stopped and their runs queued again, the outbox is
        drained once more, then the bot and the http server stop. Threads still busy with a sweep
        or a database call are not waited for: the process exits with os._exit after run()."""
        assert self.scheduler is not None and self.executor is not None
        await bounded("operator notice", self.notify_operators(
            f"年报监测正在停止（{_local(self.clock.now())}）\n"
            f"进程 {os.getpid()}，运行中的抓取 {len(self.executor.running())} 个（停止后重新排队）", timeout=10), 11)
        self.scheduler.shutdown(wait=False)
        for task in self._tasks:
            task.cancel()
        await bounded("dispatcher and sender", asyncio.gather(*self._tasks, return_exceptions=True), 5)
        await bounded("crawls", self.executor.shutdown(self.cfg.stop_grace_seconds), self.cfg.stop_grace_seconds + 15)
        if self._sender is not None:
            await bounded("last outbox drain", self._sender(), 10)
        if self._bot is not None:
            await bounded("bot", self._bot.stop(), 10)
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
            await bounded("http", self._http_task, 5)

    def _local_executor(self) -> LocalProcessExecutor:
        return LocalProcessExecutor(max_concurrent=self.cfg.max_concurrent_crawls,
                                    time_limit=self.cfg.crawl_time_limit_seconds, env=self._child_env(),
                                    mark_failed=lambda rid, why, requeue: mark_failed(self.sf, self.clock, rid, why,
                                                                                      requeue) and None,
                                    on_finished=self._on_crawl_finished)

    def _celery_executor(self) -> CrawlExecutor:
        from monitor.cluster import CeleryExecutor

        return CeleryExecutor(self.settings, on_finished=self._on_crawl_finished,
                              mark_failed=lambda rid, why, requeue: mark_failed(self.sf, self.clock, rid, why,
                                                                                requeue) and None)

    def _child_env(self) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        env.update({"NIANBAO_DATABASE_URL": s.database_url, "NIANBAO_DATA_DIR": str(Path(s.data_dir).resolve()),
                    "NIANBAO_COUNTIES_DIR": str(Path(s.counties_dir).resolve())})
        if self.config_path is not None:
            env["NIANBAO_CONFIG"] = str(self.config_path)
        if hasattr(self.clock, "to_env"):
            env[CLOCK_ENV] = self.clock.to_env()  # type: ignore[attr-defined]
        return env

    def _make_scheduler(self) -> ClockedScheduler:
        from apscheduler.executors.asyncio import AsyncIOExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        scheduler = ClockedScheduler(
            self.clock, jobstores={"default": SQLAlchemyJobStore(engine=self._jobstore_engine(),
                                                                 tablename="apscheduler_jobs")},
            executors={"default": AsyncIOExecutor()}, timezone=SHANGHAI,
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(self.cfg.misfire_grace_seconds)})
        scheduler.add_listener(self._on_job_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        return scheduler

    def _jobstore_engine(self) -> Any:
        """The job store's engine. APScheduler 3.x reads its store on the event loop's thread; on
        SQLite the project's engine begins every transaction with BEGIN IMMEDIATE (it waits for the
        write lock, which a crawl child may hold), so the job store gets an engine of its own whose
        reads take no lock (WAL) and whose short writes wait at most a few seconds."""
        from sqlalchemy import create_engine

        if self._engine.dialect.name != "sqlite":
            return self._engine
        self._jobs_engine = create_engine(self._engine.url, connect_args={"timeout": 5})
        return self._jobs_engine

    def _on_job_event(self, event: Any) -> None:
        assert self.metrics is not None
        self.last_tick = time.time()
        if event.code == EVENT_JOB_SUBMITTED:
            due = max(event.scheduled_run_times)
            lag = max(0.0, (self.clock.now() - due).total_seconds()) / clock_rate(self.clock)
            self.lag_samples.append(lag)
            self.metrics.lag.labels(event.job_id.split(":")[0]).observe(lag)
        elif event.code == EVENT_JOB_MISSED:
            self.metrics.missed.inc()
            log.warning("job run missed", extra={"job": event.job_id})
        elif event.code == EVENT_JOB_ERROR:
            self.metrics.job_errors.inc()
            log.error("job failed", extra={"job": event.job_id, "error": repr(event.exception)})
            task = asyncio.get_running_loop().create_task(self.notify_operators(
                f"年报监测任务失败：{event.job_id}（{_local(self.clock.now())}）\n{str(event.exception)[:500]}"))
            self._notice_tasks.add(task)
            task.add_done_callback(self._notice_tasks.discard)

    def _sync_profiles(self) -> list[str]:
        from monitor.profiles import load_profiles, sync_profiles

        counties_dir = Path(self.settings.counties_dir)
        profiles = load_profiles(counties_dir) if counties_dir.is_dir() else []
        with self.sf() as s, s.begin():
            sync_profiles(s, profiles)
        return [p.code for p in profiles if p.portals]

    def _plan(self, codes: list[str]) -> dict[str, int]:
        """Add the planned jobs the scheduler lacks or has with another trigger; remove the county
        jobs of counties gone from the profiles. Jobs that did not change keep their next run
        time, so runs missed while the daemon was down still run (once: coalesced)."""
        assert self.scheduler is not None
        planned = {j.id: j for j in planned_jobs(self.cfg, codes)}
        added = kept = removed = 0
        for job in self.scheduler.get_jobs():
            if job.id not in planned:
                self.scheduler.remove_job(job.id)
                removed += 1
        for pj in planned.values():
            current = self.scheduler.get_job(pj.id)
            if current is not None and pj.same_as(current):
                kept += 1
                continue
            self.scheduler.add_job(pj.func, trigger=pj.trigger, args=pj.args, id=pj.id, name=pj.id,
                                   replace_existing=True)
            added += 1
        log.info("jobs planned", extra={"added": added, "kept": kept, "removed": removed})
        return {"added": added, "kept": kept, "removed": removed}

    async def reload(self) -> None:
        """SIGHUP: read the configuration and the county profiles again and re-plan the jobs."""
        from monitor.config import load_config

        sd_notify("RELOADING=1")
        try:
            settings = self.load_settings() if self.load_settings else load_config(self.config_path)
            cfg = ScheduleConfig.from_settings(settings)
        except Exception as exc:  # noqa: BLE001 - a bad edit must not stop a running daemon
            log.error("reload refused: the configuration is invalid; keeping the running one",
                      extra={"error": str(exc)})
            sd_notify("READY=1")
            return
        self.settings, self.cfg = settings, cfg
        try:
            codes = await asyncio.to_thread(self._sync_profiles)
        except Exception as exc:  # noqa: BLE001
            log.error("reload: county profiles not loaded; jobs unchanged", extra={"error": str(exc)})
            sd_notify("READY=1")
            return
        if isinstance(self.executor, LocalProcessExecutor) and self._executor_given is None:
            self.executor.env = self._child_env()
            self.executor.max_concurrent = cfg.max_concurrent_crawls
            self.executor.time_limit = cfg.crawl_time_limit_seconds
        assert self.scheduler is not None
        self.scheduler._job_defaults["misfire_grace_time"] = int(cfg.misfire_grace_seconds)
        self._plan(codes)
        log.info("configuration reloaded", extra={"counties": len(codes)})
        sd_notify("READY=1")
        self._wake_dispatch.set()

    # ---------------------------------------------------------------- crawls
    async def queue_crawl(self, code: str, *, trigger: str, requested_by: str) -> tuple[int, bool]:
        from monitor.status import request_recrawl

        def queue() -> tuple[int, bool]:
            with self.sf() as s, s.begin():
                run, created = request_recrawl(s, code, requested_by, trigger=trigger)
                return run.id, created

        run_id, created = await asyncio.to_thread(queue)
        self._wake_dispatch.set()
        return run_id, created

    def _queued(self) -> list[tuple[int, str, str, str | None]]:
        from storage.models import CrawlRun

        with self.sf() as s:
            return [(r.id, r.county_code, r.trigger, r.requested_by) for r in s.execute(
                select(CrawlRun.id, CrawlRun.county_code, CrawlRun.trigger, CrawlRun.requested_by)
                .where(CrawlRun.status == "queued").order_by(CrawlRun.queued_at, CrawlRun.id).limit(200))]

    async def dispatch_once(self) -> int:
        """Hand queued runs to the executor while it has room; returns how many started."""
        assert self.executor is not None
        if self.executor.free() == 0:
            return 0
        started = 0
        for run_id, code, trigger, by in await asyncio.to_thread(self._queued):
            if self.executor.free() == 0 or self._stop.is_set():
                break
            if self.executor.busy(code) or run_id in self.executor.running():
                continue
            if self.executor.submit(run_id, code, trigger):
                started += 1
                await self._emit("started", {"run_id": run_id, "county": code, "trigger": trigger,
                                             "requested_by": by})
        return started

    async def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            self.last_tick = time.time()
            try:
                await self.dispatch_once()
            except Exception:  # noqa: BLE001 - the database may be away for a moment
                log.exception("dispatching queued crawls failed")
            self._wake_dispatch.clear()
            await wake_or_timeout(self._wake_dispatch, self.cfg.poll_seconds)

    async def _on_crawl_finished(self, outcome: CrawlOutcome) -> None:
        assert self.metrics is not None
        s = outcome.summary
        status = s.get("status") or ("failed" if outcome.returncode else "unknown")
        self.metrics.crawls.labels(status).inc()
        self.metrics.pages.inc(int(s.get("pages") or 0))
        self.metrics.blocked.inc(int(s.get("blocked") or 0))
        await self._emit("finished", {"run_id": outcome.run_id, "county": outcome.county, "status": status,
                                      "summary": s, "stopped": outcome.stopped})
        self._wake_sender.set()
        self._wake_dispatch.set()

    async def _emit(self, event: str, data: dict[str, Any]) -> None:
        for listener in list(self.run_listeners):
            try:
                result = listener(event, data)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:  # noqa: BLE001
                log.exception("run listener failed", extra={"event": event})

    # ---------------------------------------------------------------- other jobs
    async def sweep(self) -> None:
        from monitor.crawljob import alert_events
        from monitor.jobs import sweep

        result = await asyncio.to_thread(sweep, None, self.settings, clock=self.clock,
                                         on_events=alert_events(self.clock))
        log.info("deadline sweep done", extra={"new": result.new, "resolved": result.resolved})
        self._wake_sender.set()

    async def digest(self) -> None:
        """Digest subscribers' alerts, one message each (notifier.outbox, digest=True)."""
        if self._sender is not None:
            await self._sender(digest=True)  # type: ignore[call-arg]

    async def heartbeat(self) -> None:
        """The daily heartbeat to operators: what was done in the last day, and what waits."""
        from notifier.health import heartbeat, heartbeat_text

        def build() -> str:
            with self.sf() as s:
                return heartbeat_text(heartbeat(s, self.clock.now(), self.heartbeat_period))

        text = await asyncio.to_thread(build)
        self.last_heartbeat = self.clock.now()
        delivered = await self.notify_operators(text)
        log.info("heartbeat", extra={"operators": delivered})

    async def housekeeping(self) -> None:
        result = await asyncio.to_thread(housekeep, self.sf, Path(self.settings.data_dir) / "blobs", self.clock,
                                         self.cfg.keep_runs_days)
        log.info("housekeeping done", extra=result)

    async def _sender_loop(self) -> None:
        if self._sender is None:
            return
        from notifier.health import HealthPolicy, escalate_once

        while not self._stop.is_set():
            try:
                await asyncio.to_thread(escalate_once, self.sf, self.clock, HealthPolicy.from_settings(self.settings))
                await self._sender()
            except Exception:  # noqa: BLE001
                log.exception("outbox drain failed")
            self._wake_sender.clear()
            await wake_or_timeout(self._wake_sender, self.cfg.outbox_seconds)

    # ---------------------------------------------------------------- http
    @property
    def http_host(self) -> str:
        return self.http.rsplit(":", 1)[0] if self.http else ""

    def health(self) -> tuple[int, dict[str, Any]]:
        lags = sorted(self.lag_samples)

        def q(p: float) -> float | None:
            return round(lags[min(len(lags) - 1, int(p * len(lags)))], 4) if lags else None

        scheduler_ok = bool(self.scheduler and self.scheduler.running)
        beat_age = (self.clock.now() - self.last_heartbeat).total_seconds() if self.last_heartbeat else None
        # silence from the heartbeat is itself the alarm: none for two periods → failing
        beat_ok = beat_age is None or beat_age <= 2 * self.heartbeat_period.total_seconds()
        body = {
            "status": "ok" if scheduler_ok and beat_ok and self._lock is not None and self._lock.alive()
            else "failing",
            "heartbeat": {"last": self.last_heartbeat.isoformat() if self.last_heartbeat else None,
                          "age_seconds": round(beat_age, 1) if beat_age is not None else None, "ok": beat_ok},
            "pid": os.getpid(), "uptime_seconds": round(time.time() - self.started_at, 1),
            "now": self.clock.now().isoformat(), "scheduler_running": scheduler_ok,
            "jobs": len(self.scheduler.get_jobs()) if self.scheduler else 0,
            "crawls_running": sorted(self.executor.running()) if self.executor else [],
            "crawls_started": getattr(self.executor, "started_total", None),
            "job_lag_seconds": {"n": len(lags), "p50": q(0.5), "p99": q(0.99), "max": lags[-1] if lags else None},
        }
        return (200 if body["status"] == "ok" else 503), body

    def http_app(self) -> Any:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Mount, Route

        async def healthz(_request: Request) -> Response:
            code, body = self.health()
            return JSONResponse(body, status_code=code)

        async def metrics(_request: Request) -> Response:
            assert self.metrics is not None
            data = await asyncio.to_thread(generate_latest, self.metrics.registry)
            return Response(data, media_type=CONTENT_TYPE_LATEST)

        routes: list[Any] = [Route("/healthz", healthz), Route("/metrics", metrics)]
        factory = self.web_app_factory or _find_web_app()
        if factory is not None:
            routes.append(Mount("/", app=factory(self.settings, self.clock)))
        return Starlette(routes=routes)

    async def _start_http(self) -> None:
        import uvicorn

        host, _, port = self.http.rpartition(":")
        if host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("the http server listens beyond loopback", extra={"host": host})
        config = uvicorn.Config(self.http_app(), host=host, port=int(port), log_config=None, access_log=False,
                                lifespan="off")
        self._uvicorn = uvicorn.Server(config)
        self._uvicorn.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._http_task = asyncio.create_task(self._uvicorn.serve(), name="http")
        while not self._uvicorn.started:
            if self._http_task.done():
                self._http_task.result()
                raise RuntimeError(f"http server on {self.http} did not start")
            await asyncio.sleep(0.02)
        self.http_port = self._uvicorn.servers[0].sockets[0].getsockname()[1]


# --- the notifier's parts in the daemon -----------------------------------------------------------

def _telegram_api_url(settings: Any) -> str | None:
    return getattr(getattr(settings, "telegram", None), "api_url", None) or None


def notifier_sender(daemon: Daemon) -> Callable[[], Awaitable[Any]]:
    """The outbox sender: every due alert to its channel (console always; Telegram with a token)."""
    from notifier.channels import build_channels
    from notifier.outbox import drain_async

    channels = build_channels(daemon.settings)

    async def send(digest: bool = False) -> Any:
        stats = await drain_async(daemon.sf, channels, daemon.clock, digest=digest)
        if getattr(stats, "alerts_sent", 0) or getattr(stats, "failed", 0):
            log.info("outbox drained", extra={k: getattr(stats, k) for k in ("messages", "alerts_sent", "retried",
                                                                            "failed", "dropped")})
        return stats

    return send


class TelegramBot:
    """The PTB Application of notifier.bot, long polling in the daemon's event loop."""

    def __init__(self, daemon: Daemon) -> None:
        from notifier.bot import build_application

        self.app = build_application(daemon.settings, daemon.sf, clock=daemon.clock,
                                     base_url=_telegram_api_url(daemon.settings),
                                     watch_interval=daemon.cfg.poll_seconds)

    async def start(self) -> None:
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(drop_pending_updates=False, poll_interval=0.0, timeout=10)

    async def stop(self) -> None:
        assert self.app.updater is not None
        if self.app.updater.running:
            await self.app.updater.stop()
        # Application.stop() waits for the tasks the bot made: a /recrawl's watch of its run
        # (notifier.bot, named "watch-run-…") waits for the run's end for hours, and the shutdown
        # has just queued that run again
        for task in asyncio.all_tasks():
            if task.get_name().startswith("watch-run-"):
                task.cancel()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()


def telegram_bot(daemon: Daemon) -> TelegramBot | None:
    """The bot when a token is configured (NIANBAO_BOT_TOKEN / NIANBAO_BOT_TOKEN_FILE), else None."""
    if getattr(getattr(daemon.settings, "telegram", None), "token", None) is None:
        log.info("no bot token: the Telegram bot is off")
        return None
    return TelegramBot(daemon)


def _find_web_app() -> Callable[[Any, Clock], Any] | None:
    """The web UI's `create_app(settings, clock)`, when the project has one (monitor.web)."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("monitor.web") is None:
        return None
    return getattr(importlib.import_module("monitor.web"), "create_app", None)


def _local(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


__all__ = ["Daemon", "ClockedScheduler", "requeue_stale_runs", "mark_failed", "housekeep", "setup_logging",
           "JsonFormatter", "job_queue_crawl", "job_sweep", "job_digest", "job_housekeeping", "job_heartbeat"]
