"""Run crawls in a child process (Scrapy's reactor starts once per process).

Parent side: `crawl_county(profile, …)` creates the crawl run in storage, runs the child and returns
a `CrawlResult` (run id, status, stats); `run_crawls(jobs, …)` runs several counties' jobs in one
child (benchmarks). Child side: `python -m crawler.runner JOB.json RESULT.json` — one Scrapy
crawler per (county, flavour), at most `max_parallel` at a time, each county's run finished in
storage (`finish_crawl_run`) as soon as its crawlers are done; progress as JSON lines on stdout.

Run status (DESIGN.md): `ok` — everything read; `partial` — some pages read, some blocked,
failed (after retries) or redirected off the portal; `blocked` — nothing read and the portal
answered with challenges, WAF, captcha, maintenance pages or a robots.txt ban (CRAWL-001, never "no
report"); `failed` — nothing read for other reasons (timeouts, 5xx, DNS, a crash of the child, or
a portal that moved to a host the profile does not list: the error says where to). A run that
reached one of its bounds (list pages, depth, time per portal, run time: crawler/limits.py) is
`partial` with the bound named.

The child never outlives its parent: it watches its stdin, a pipe only the parent holds, and when
the parent is gone (even SIGKILLed) it marks its runs failed, removes its job folder and exits. The
job file holds no database URL (passwords stay out of files): the child reads it from the
environment (`NIANBAO_CRAWL_DB_URL`).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.stats import blocked as blocked_kinds
from crawler.stats import pages, stat
from storage.repo import jsonable

log = logging.getLogger(__name__)

ProgressFn = Callable[[dict[str, Any]], None]

# Every crawl has a run time limit (seconds): each Scrapy crawler closes after it (CLOSESPIDER_TIMEOUT,
# the run is partial), and the child is killed RUN_GRACE seconds later if it is still there.
RUN_TIME_LIMIT = 3 * 3600
RUN_GRACE = 300
DB_URL_ENV = "NIANBAO_CRAWL_DB_URL"
JOB_PREFIX = "nianbao-crawl-"

# Raw Scrapy stats kept in the run's stats besides our own nianbao/* keys.
_KEEP_PREFIXES = ("nianbao/", "downloader/request_count", "downloader/response_count",
                  "downloader/response_status_count/", "downloader/exception_type_count/", "retry/",
                  "robotstxt/", "item_scraped_count", "elapsed_time_seconds", "finish_reason", "offsite/",
                  "httperror/")


@dataclass(slots=True)
class CountyJob:
    profile: dict[str, Any]
    run_id: int
    years: list[int] | None = None
    full: bool = False


@dataclass(slots=True)
class CrawlResult:
    run_id: int
    county_code: str
    status: str
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


# --- profiles as plain dicts -------------------------------------------------------------------

def profile_dict(profile: Any) -> dict[str, Any]:
    """The docs/CONTRACTS.md TOML shape from a dict, a TOML path or a loaded profile object
    (monitor.profiles.CountyProfile: code, name, bodies, portals as dataclasses)."""
    if isinstance(profile, dict):
        return profile
    if isinstance(profile, str | Path):
        import tomllib

        return tomllib.loads(Path(profile).read_text("utf-8"))
    if is_dataclass(profile):
        raw = asdict(profile)  # type: ignore[arg-type]
        county = {k: raw.get(k) for k in ("code", "name", "province", "city", "note")}
        return {"county": county, "bodies": raw.get("bodies", []), "portals": raw.get("portals", [])}
    raise TypeError(f"not a county profile: {profile!r}")


# --- stats → status ----------------------------------------------------------------------------

def merge_stats(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stats in parts:
        for key, value in stats.items():
            if not key.startswith(_KEEP_PREFIXES):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | list):
                out[key] = jsonable(value)
            elif isinstance(value, list):
                out[key] = sorted(set(out.get(key, [])) | set(value))
            else:
                out[key] = out.get(key, 0) + value
    return out


def summarize(stats: dict[str, Any]) -> dict[str, Any]:
    """The run's stats: raw `nianbao/*` keys plus the summary the CLI and the rules read."""

    def n(key: str) -> int:
        return stat(stats, key)

    blocked = blocked_kinds(stats)
    failed = {k.split("/", 2)[2]: n(k) for k in stats if k.startswith("nianbao/failed/") and n(k)}
    summary = {
        "requests": n("downloader/request_count"),
        "pages": pages(stats),
        "list_pages": n("nianbao/list_pages"),
        "report_links": n("nianbao/report_links"),
        "fetched": n("nianbao/documents/fetched"),
        "not_modified": n("nianbao/documents/not_modified") + n("nianbao/list_not_modified"),
        "skipped_known": n("nianbao/documents/skipped_known"),
        "new": n("nianbao/documents/new"),
        "changed": n("nianbao/documents/changed"),
        "unchanged": n("nianbao/documents/unchanged"),
        "reports": {s: n(f"nianbao/reports/{s}") for s in ("new", "changed", "unchanged")},
        "blocked": sum(blocked.values()),
        "blocked_kinds": blocked,
        "failed": n("nianbao/failed_requests"),
        "failed_reasons": failed,
        "retries": n("retry/count"),
        "empty_lists": list(stats.get("nianbao/empty_lists") or []),
        "moved": list(stats.get("nianbao/moved") or []),
        "too_large": list(stats.get("nianbao/too_large") or []),
        "limits": list(stats.get("nianbao/limits") or []),
        "store_errors": n("nianbao/store_errors"),
    }
    return {**stats, **summary}


def run_status(stats: dict[str, Any]) -> tuple[str, str | None]:
    """ok | partial | blocked | failed, with a short error for the run row."""
    s = summarize(stats) if "pages" not in stats else stats
    read, blocked, failed = s["pages"], s["blocked"], s["failed"]
    moved = s.get("moved") or []
    kinds = ", ".join(f"{k}×{v}" for k, v in sorted(s["blocked_kinds"].items()))
    reasons = ", ".join(f"{k}×{v}" for k, v in sorted(s["failed_reasons"].items()))
    moved_note = (f"moved off the portal's hosts (update the county profile): {'; '.join(moved[:3])}"
                  + (f" and {len(moved) - 3} more" if len(moved) > 3 else "")) if moved else ""
    limits = s.get("limits") or []
    limits_note = f"limit reached: {'; '.join(limits)}" if limits else ""
    if read == 0:
        if blocked:
            return "blocked", f"blocked: {kinds}"
        if moved:
            return "failed", moved_note
        if reasons or limits:
            return "failed", "; ".join(p for p in (f"failed: {reasons}" if reasons else "", limits_note) if p)
        return "failed", "no page could be read"
    # A batch that could not be stored lost documents and the links seen with them: never a clean
    # run (and so no YOY-005 vanish check on it, which would take the lost links for removed reports).
    lost = s.get("store_errors", 0)
    lost_note = f"{lost} batch(es) of fetched documents could not be stored" if lost else ""
    if blocked or failed or moved or lost or limits:
        parts = [p for p in (f"blocked: {kinds}" if blocked else "", f"failed: {reasons}" if failed else "",
                             moved_note, lost_note, limits_note) if p]
        return "partial", "; ".join(parts)
    return "ok", None


# --- parent side -------------------------------------------------------------------------------

def crawl_county(profile: Any, *, db_url: str, data_dir: str | Path, trigger: str = "cli",
                 requested_by: str | None = None, years: Iterable[int] | None = None, full: bool = False,
                 contact_url: str | None = None, polite: bool = True,
                 settings: dict[str, Any] | None = None, on_progress: ProgressFn | None = None,
                 timeout: float | None = None, log_level: str = "WARNING", run_id: int | None = None,
                 now: datetime | None = None, time_limit: float | None = None,
                 in_process: bool = False) -> CrawlResult:
    """Crawl the county in a child process and return the result: a new run, or the queued run
    `run_id` (a /recrawl request). The run is `running` under this process's host and pid while
    the child works; `storage.repo.CountyBusy` when another run of the county is running.
    `time_limit` (seconds, default RUN_TIME_LIMIT) ends the crawl as partial; `timeout` kills the
    child (default: the time limit and RUN_GRACE). `in_process`: see run_crawls."""
    import socket

    from storage.db import make_engine, session_factory
    from storage.repo import create_crawl_run, ensure_county, start_crawl_run

    prof = profile_dict(profile)
    county = prof["county"]
    owner = {"host": socket.gethostname(), "pid": os.getpid()}
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s, s.begin():
            ensure_county(s, str(county["code"]), county.get("name"), province=county.get("province"),
                          city=county.get("city"))
            if run_id is None:
                run_id = create_crawl_run(s, str(county["code"]), trigger, requested_by, now=now, **owner).id
            else:
                start_crawl_run(s, run_id, now, **owner)
    finally:
        engine.dispose()
    job = CountyJob(prof, run_id, sorted(years) if years else None, full)
    return run_crawls([job], db_url=db_url, data_dir=data_dir, contact_url=contact_url, polite=polite,
                      settings=settings, on_progress=on_progress, timeout=timeout, log_level=log_level,
                      time_limit=time_limit, in_process=in_process)[0]


def run_crawls(jobs: list[CountyJob], *, db_url: str, data_dir: str | Path, contact_url: str | None = None,
               polite: bool = True, settings: dict[str, Any] | None = None, max_parallel: int = 8,
               on_progress: ProgressFn | None = None, timeout: float | None = None,
               log_level: str = "WARNING", python: str | None = None,
               info: dict[str, Any] | None = None, time_limit: float | None = None,
               in_process: bool = False) -> list[CrawlResult]:
    """Crawl every job's county in ONE child process; runs must exist (status running).
    `info`, when given, receives the child's `peak_rss_kb`, `seconds` and `cpu_seconds`.

    `in_process=True` crawls in this process instead — for a process that exists to run one crawl
    (monitor.crawljob, which the daemon's executors start and stop as a process group): it saves a
    second interpreter and its imports, a third of a small county's CPU. Scrapy's reactor runs once
    per process, so this works once per process; progress lines go to stdout (`on_progress` is not
    called) and `timeout` is the caller's (it stops the process)."""
    data_dir = Path(data_dir)
    limit = float(time_limit or RUN_TIME_LIMIT)
    settings = {"CLOSESPIDER_TIMEOUT": limit, **(settings or {})}
    if timeout is None:
        timeout = limit + RUN_GRACE
    spec = {
        "data_dir": str(data_dir), "contact_url": contact_url, "polite": polite,
        "settings": settings, "max_parallel": max_parallel, "log_level": log_level,
        "jobs": [jsonable(asdict(j)) for j in jobs],
    }
    if in_process:
        return _crawl_in_process(spec, jobs, db_url, info)
    sweep_job_folders()
    with tempfile.TemporaryDirectory(prefix=JOB_PREFIX) as tmp:
        job_path, result_path, err_path = (Path(tmp) / n for n in ("job.json", "result.json", "stderr.log"))
        (Path(tmp) / "parent.pid").write_text(str(os.getpid()), "ascii")
        job_path.write_text(json.dumps(spec, ensure_ascii=False), "utf-8")
        with open(err_path, "wb") as err:
            # stdin: a pipe only this process holds; its end tells the child the parent is gone
            proc = subprocess.Popen([python or sys.executable, "-m", "crawler.runner", str(job_path),
                                     str(result_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1", DB_URL_ENV: db_url})
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            try:
                assert proc.stdout is not None
                for raw in proc.stdout:
                    _progress_line(raw, on_progress)
                code = proc.wait()
            except BaseException:  # Ctrl-C or an error here: the child must not crawl on alone
                proc.kill()
                proc.wait()
                for job in jobs:
                    _finish_failed_quietly(db_url, job, "crawl interrupted")
                raise
            finally:
                timer.cancel()
                if proc.stdin is not None:
                    proc.stdin.close()
        results = _read_results(result_path, info)
        stderr_tail = err_path.read_bytes()[-4000:].decode("utf-8", "replace")
    if code != 0:
        log.error("crawl child failed", extra={"exit": code, "stderr": stderr_tail[-1000:]})
    return _every_job_answered(jobs, results, db_url, f"crawl child exited with {code}: {stderr_tail[-500:]}".strip())


def _every_job_answered(jobs: list[CountyJob], results: dict[int, CrawlResult], db_url: str,
                        error: str) -> list[CrawlResult]:
    """One result per job, in the jobs' order: a job the crawl left without a result is failed
    with `error` (stored, so its run does not stay `running`)."""
    out: list[CrawlResult] = []
    for job in jobs:
        r = results.get(job.run_id)
        if r is None:
            r = CrawlResult(job.run_id, str(job.profile["county"]["code"]), "failed", {}, error)
            _finish_failed(db_url, r)
        out.append(r)
    return out


_crawled_in_process = False


def _freeze_startup_objects() -> None:
    """Move everything alive once the crawl is set up (modules, classes, settings: several hundred
    thousand objects) out of the garbage collector's sight: each full collection during the crawl
    would walk them all again, for nothing (measured: 0.5 s of a 13 s crawl of 100 counties)."""
    import gc

    gc.collect()
    gc.freeze()


def _crawl_in_process(spec: dict[str, Any], jobs: list[CountyJob], db_url: str,
                      info: dict[str, Any] | None) -> list[CrawlResult]:
    global _crawled_in_process
    import resource

    if _crawled_in_process:
        raise RuntimeError("a process crawls in process once (Scrapy's reactor does not restart)")
    _crawled_in_process = True
    started, cpu = time.monotonic(), time.process_time()
    try:
        child = _Child(spec, db_url=db_url)
        _freeze_startup_objects()
        child.run()
    except BaseException:
        for job in jobs:
            _finish_failed_quietly(db_url, job, "crawl interrupted")
        raise
    if info is not None:
        info.update({"peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                     "seconds": time.monotonic() - started, "cpu_seconds": time.process_time() - cpu})
    # a job without a result: the reactor stopped before its run finished
    return _every_job_answered(jobs, {r.run_id: r for r in child.results}, db_url, "the crawl did not finish")


def sweep_job_folders(root: Path | None = None) -> list[Path]:
    """Remove the job folders of crawls whose parent process is gone (killed together with its
    child, so neither could clean up); returns what was removed."""
    removed: list[Path] = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{JOB_PREFIX}*"):
        try:
            pid = int((folder / "parent.pid").read_text("ascii"))
        except (OSError, ValueError):
            continue  # not ours, or still being created
        if pid != os.getpid() and not _process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _progress_line(raw: bytes, on_progress: ProgressFn | None) -> None:
    if on_progress is None:
        return
    try:
        event = json.loads(raw)
    except ValueError:
        return
    if isinstance(event, dict):
        on_progress(event)


def _read_results(path: Path, info: dict[str, Any] | None = None) -> dict[int, CrawlResult]:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if info is not None:
        info.update({k: raw.get(k) for k in ("peak_rss_kb", "seconds", "cpu_seconds")})
    return {int(r["run_id"]): CrawlResult(int(r["run_id"]), r["county_code"], r["status"], r["stats"],
                                          r.get("error")) for r in raw.get("results", [])}


def _finish_failed_quietly(db_url: str, job: CountyJob, error: str) -> None:
    try:
        _finish_failed(db_url, CrawlResult(job.run_id, str(job.profile["county"]["code"]), "failed", {}, error))
    except Exception:  # noqa: BLE001 - best effort while the crawl is being torn down
        log.exception("crawl run not marked failed", extra={"run_id": job.run_id})


def _finish_failed(db_url: str, result: CrawlResult) -> None:
    from storage.db import make_engine, session_factory
    from storage.models import CrawlRun
    from storage.repo import finish_crawl_run

    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s, s.begin():
            run = s.get(CrawlRun, result.run_id)
            if run is not None and run.status in ("queued", "running"):
                finish_crawl_run(s, result.run_id, "failed", result.stats, result.error, now=_clock_now())
    finally:
        engine.dispose()


def _clock_now() -> datetime:
    """Now on the clock this process was given (`NIANBAO_CLOCK`: the daemon's accelerated clock in
    demos and tests), so that a run's end and its start are on the same clock."""
    from monitor.clock import clock_from_env

    return clock_from_env().now()


# --- child side --------------------------------------------------------------------------------

_IMMUTABLE = (str, bytes, int, float, bool, type(None), frozenset)


def _settings_class() -> type:
    """Scrapy's Settings with a copy that keeps Settings.copy()'s meaning (a deep copy, same values
    and priorities, nothing shared that could be changed) at a tenth of its cost: every Crawler
    copies the child's settings, and copy.deepcopy walks each of several hundred SettingsAttribute
    objects through the generic pickling protocol. Values that cannot change (strings, numbers,
    tuples of them) are shared; nested settings are copied the same way; anything else is deep-copied."""
    import copy

    from scrapy.settings import BaseSettings, Settings, SettingsAttribute

    def copy_value(value: Any, memo: dict[int, Any]) -> Any:
        if isinstance(value, _IMMUTABLE):
            return value
        if isinstance(value, tuple) and all(isinstance(v, _IMMUTABLE) for v in value):
            return value
        if isinstance(value, BaseSettings):
            return copy_settings(value, memo)
        return copy.deepcopy(value, memo)

    def copy_settings(settings: BaseSettings, memo: dict[int, Any]) -> BaseSettings:
        new = type(settings).__new__(type(settings))
        new.__dict__.update(settings.__dict__)  # frozen and whatever Scrapy adds; attributes below
        new.frozen = False
        attributes = {}
        for name, attr in settings.attributes.items():
            clone = SettingsAttribute.__new__(SettingsAttribute)
            clone.__dict__.update(attr.__dict__)
            clone.value = copy_value(attr.value, memo)
            attributes[name] = clone
        new.attributes = attributes
        return new

    class CrawlerSettings(Settings):
        def __deepcopy__(self, memo: dict[int, Any]) -> CrawlerSettings:
            return copy_settings(self, memo)  # type: ignore[return-value]

    return CrawlerSettings

class _Child:
    """Everything the child process does: crawlers, stats, finishing runs."""

    def __init__(self, spec: dict[str, Any], db_url: str | None = None) -> None:
        from scrapy.crawler import AsyncCrawlerProcess

        from crawler.pipelines import share_engines
        from crawler.settings import crawl_settings

        self.spec = spec
        self.db_url = db_url or os.environ[DB_URL_ENV]
        self.crawl_settings = crawl_settings
        base = _settings_class()()
        base.setmodule("crawler.settings", priority="project")
        base.set("LOG_LEVEL", spec.get("log_level", "WARNING"), priority="cmdline")
        self.base = base
        self.process = AsyncCrawlerProcess(base)
        share_engines()  # one engine for this child's crawlers and its own database work
        self.quiet_root_logger(base.get("LOG_LEVEL"))
        self.shared_settings: dict[bool, Any] = {}
        self.data_dir = Path(spec["data_dir"])
        self.queue: list[tuple[Any, dict[str, Any], int]] = []
        self.pending: dict[int, int] = {}
        self.parts: dict[int, list[dict[str, Any]]] = {}
        self.errors: dict[int, list[str]] = {}
        self.states: dict[int, Any] = {}
        self.known: dict[int, dict[str, Any]] = {}
        self.codes: dict[int, str] = {}
        self.results: list[CrawlResult] = []
        self.running = 0
        self.max_parallel = max(1, int(spec.get("max_parallel", 8)))
        self._engine: Any = None
        # Database work of the runner itself (known documents, finishing runs) happens on this
        # thread: with SQLite every transaction waits for the write lock (BEGIN IMMEDIATE), and the
        # reactor must not wait with it while other counties are being crawled.
        self.db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nianbao-runner-db")
        self.prefetched: dict[int, Future[tuple[dict[str, Any], Any]]] = {}
        self.finishing: list[Future[None]] = []

    @staticmethod
    def quiet_root_logger(level: str | int) -> None:
        """Scrapy sets the root logger to NOTSET whenever it (re)installs its handler (the process,
        and every Crawler), so each debug call of Scrapy and Twisted builds a LogRecord that the
        handler then drops — dozens per request. The handler's own level is the one that counts;
        giving it to the root logger too drops those calls where they are made. Scrapy resets the
        root again as each crawler opens, so the `scrapy` and `twisted` loggers get it as well
        (Scrapy leaves their levels alone): its "Crawled (200)" and "Scraped from" debug lines,
        two per request, are then never built."""
        logging.root.setLevel(level)
        for name in ("scrapy", "twisted"):
            logging.getLogger(name).setLevel(level)

    def session_factory(self) -> Any:
        from crawler.pipelines import shared_engine
        from storage.db import session_factory

        if self._engine is None:
            self._engine = shared_engine(self.db_url)
        return session_factory(self._engine)

    def plan(self) -> None:
        """One entry per (county, flavour); the county's known documents are loaded when its first
        crawler starts, not all at once."""
        for raw in self.spec["jobs"]:
            prof, run_id = raw["profile"], int(raw["run_id"])
            code = str(prof["county"]["code"])
            self.codes[run_id] = code
            groups: dict[str, list[dict[str, Any]]] = {}
            for portal in prof.get("portals", []):
                groups.setdefault(portal["flavour"], []).append(portal)
            self.pending[run_id] = len(groups)
            self.parts[run_id] = []
            if not groups:
                self.errors.setdefault(run_id, []).append("the profile has no [[portals]]")
            for flavour, portals in groups.items():
                kwargs = {"county": prof["county"], "portals": portals, "bodies": prof.get("bodies", []),
                          "years": raw.get("years"), "full": bool(raw.get("full"))}
                self.queue.append((flavour, kwargs, run_id))

    def run(self) -> None:
        self.plan()
        for run_id, n in list(self.pending.items()):
            if n == 0:
                self.finish(run_id)
        self.queue.reverse()
        for _ in range(min(self.max_parallel, len(self.queue))):
            self.launch_next()
        self.process.start(install_signal_handlers=False)
        for fut in self.finishing:
            fut.result()
        self.db.shutdown(wait=True)
        from crawler.pipelines import dispose_shared_engines

        dispose_shared_engines()

    def prefetch(self) -> None:
        """Start loading the known documents and the crawl memory of the next counties in the
        queue (a few ahead)."""
        from crawler.state import CrawlState
        from storage.repo import known_documents

        def load(code: str) -> tuple[dict[str, Any], Any]:
            with self.session_factory()() as s:
                return known_documents(s, code), CrawlState.load(s, code)

        ahead = 0
        for _flavour, _kwargs, run_id in reversed(self.queue):
            if ahead >= self.max_parallel:
                break
            ahead += 1
            if run_id not in self.prefetched and run_id not in self.known:
                self.prefetched[run_id] = self.db.submit(load, self.codes[run_id])

    def settings_for(self, obey_robots: bool) -> Any:
        """The settings every crawler of this child shares but for the run's own keys (they differ
        only by robots.txt obedience): built once each, copied by each Crawler."""
        if obey_robots not in self.shared_settings:
            settings = self.base.copy()
            settings.setdict(self.crawl_settings(
                contact_url=self.spec.get("contact_url"), obey_robots=obey_robots,
                polite=bool(self.spec.get("polite", True)), overrides=self.spec.get("settings")),
                priority="cmdline")
            self.shared_settings[obey_robots] = settings
        return self.shared_settings[obey_robots]

    def launch_next(self) -> None:
        from scrapy.crawler import Crawler

        from crawler.spiders import spider_for

        if not self.queue:
            return
        self.prefetch()
        flavour, kwargs, run_id = self.queue.pop()
        try:
            if run_id not in self.states:
                self.known[run_id], self.states[run_id] = self.prefetched.pop(run_id).result()
            state = self.states[run_id]
            portals = kwargs["portals"]
            # Crawler() copies the settings it is given (a deep copy, the costliest part of starting
            # a crawler): the run's own values go into that copy, not into yet another one.
            crawler = Crawler(spider_for(flavour),
                              self.settings_for(all(p.get("obey_robots", True) for p in portals)))
            self.quiet_root_logger(crawler.settings.get("LOG_LEVEL"))
            crawler.settings.setdict({"NIANBAO_DB_URL": self.db_url,
                                      "NIANBAO_BLOB_DIR": str(self.data_dir / "blobs"),
                                      "NIANBAO_RUN_ID": run_id, "NIANBAO_PROGRESS": True},
                                     priority="cmdline")
            task = self.process.crawl(crawler, known=self.known[run_id], state=state, **kwargs)
        except Exception as exc:  # a bad profile or database must not take the other counties down
            log.exception("crawler could not start", extra={"run_id": run_id, "flavour": flavour})
            self.errors.setdefault(run_id, []).append(f"{flavour}: {type(exc).__name__}: {exc}")
            self.crawler_done(run_id, None)
            return
        self.running += 1
        task.add_done_callback(lambda t, c=crawler, r=run_id: self.task_done(t, c, r))

    def task_done(self, task: Any, crawler: Any, run_id: int) -> None:
        self.running -= 1
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.errors.setdefault(run_id, []).append(f"{type(exc).__name__}: {exc}")
        self.crawler_done(run_id, crawler)
        self.launch_next()

    def crawler_done(self, run_id: int, crawler: Any) -> None:
        if crawler is not None and getattr(crawler, "stats", None) is not None:
            try:
                self.parts[run_id].append(dict(crawler.stats.get_stats()))
            except Exception:  # noqa: BLE001 - stats of a crawler that never opened
                pass
        self.pending[run_id] -= 1
        if self.pending[run_id] <= 0:
            self.finish(run_id)

    def finish(self, run_id: int) -> None:
        from crawler.pipelines import emit_progress

        stats = summarize(merge_stats(self.parts.pop(run_id, [])))
        status, error = run_status(stats)
        errors = self.errors.pop(run_id, [])
        if errors:
            error = "; ".join([*errors, *([error] if error else [])])[:2000]
            if status == "ok":
                status = "partial"
        state = self.states.pop(run_id, None)
        self.known.pop(run_id, None)
        result = CrawlResult(run_id, self.codes[run_id], status, jsonable(stats), error)
        self.finishing.append(self.db.submit(self.store_finish, result, state))
        self.results.append(result)
        emit_progress(run_id, stats)
        sys.stdout.write(json.dumps({"event": "finished", "run_id": run_id, "status": status}) + "\n")
        sys.stdout.flush()

    def store_finish(self, result: CrawlResult, state: Any) -> None:
        """The run's row and the county's crawl memory, in one transaction (runner-db thread)."""
        from storage.repo import finish_crawl_run

        try:
            with self.session_factory()() as s, s.begin():
                if state is not None:
                    state.save(s, self.codes[result.run_id], _clock_now())
                finish_crawl_run(s, result.run_id, result.status, result.stats, result.error, now=_clock_now())
        except Exception:
            log.exception("crawl run not finished in storage", extra={"run_id": result.run_id})


# The error a crawl child writes on its runs when its parent (`nianbao crawl`, a benchmark) died.
PARENT_ENDED = "the crawl's parent process ended"


def watch_parent(job_dir: Path, run_ids: list[int], *, stream: Any = None, grace: float = 10.0) -> threading.Thread:
    """A daemon thread that waits for the end of `stream` (stdin: a pipe only the parent writes)
    and then ends this process: the parent is gone, nobody will read the result. On its way out it
    marks the runs failed (at most `grace` seconds) and removes the job folder."""
    # The raw descriptor, not sys.stdin's buffered reader: a daemon thread blocked inside a buffered
    # read makes the interpreter abort at exit ("_enter_buffered_busy"), failing a finished crawl.
    read = stream.read if stream is not None else functools.partial(os.read, sys.stdin.fileno())

    def watch() -> None:
        try:
            while read(65536):
                pass
        except (OSError, ValueError):
            pass
        log.warning("parent process gone: crawl child exits", extra={"runs": run_ids})
        threading.Timer(grace, os._exit, (3,)).start()
        try:
            from storage.db import make_engine, session_factory
            from storage.models import CrawlRun
            from storage.repo import finish_crawl_run

            engine = make_engine(os.environ[DB_URL_ENV])
            with session_factory(engine)() as s, s.begin():
                for run_id in run_ids:
                    run = s.get(CrawlRun, run_id)
                    if run is not None and run.status in ("queued", "running"):
                        finish_crawl_run(s, run_id, "failed", {}, PARENT_ENDED)
        except Exception:  # noqa: BLE001 - the stale-run sweep of the next start catches it
            log.exception("runs not marked failed", extra={"runs": run_ids})
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)
            os._exit(3)

    thread = threading.Thread(target=watch, name="nianbao-parent-watch", daemon=True)
    thread.start()
    return thread


def child_main(job_path: str, result_path: str) -> int:
    import resource

    spec = json.loads(Path(job_path).read_text("utf-8"))
    watch_parent(Path(job_path).parent, [int(j["run_id"]) for j in spec["jobs"]])
    started = time.monotonic()
    child = _Child(spec)
    _freeze_startup_objects()
    child.run()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = {"results": [asdict(r) for r in child.results], "peak_rss_kb": usage.ru_maxrss,
           "seconds": time.monotonic() - started, "cpu_seconds": usage.ru_utime + usage.ru_stime}
    tmp = Path(result_path).with_suffix(".tmp")
    tmp.write_text(json.dumps(jsonable(out), ensure_ascii=False), "utf-8")
    os.replace(tmp, result_path)
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], sys.argv[2]))
