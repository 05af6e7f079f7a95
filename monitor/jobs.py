"""The services the CLI, the bot, the daemon and the workers all call: plain module-level functions
taking ids and the settings, so APScheduler can store them by reference (`"monitor.jobs:sweep"`,
arguments only ids and the settings).

    crawl_county(code, settings, trigger=…, requested_by=…)   crawl a county, then process_run
    run_queued(run_id, settings)                              the same for a queued run (/recrawl)
    process_run(run_id, settings)                             ingest what a run fetched, then rules
    sweep(year | None, settings)                              deadline rules + crawl health
    revalidate(settings, county_code=None)                    re-run every rule on stored documents
    reap_stale_runs(settings)                                 fail `running` runs whose process died

Every job takes `clock=` (default: the system clock) and `on_events=` (the finding-events hook of
docs/CONTRACTS.md, called inside the transaction that changed the findings). One crawl per
county at a time: a second one raises `CrawlInProgress` (the database's partial unique index
decides, also between processes); a queued run whose county is busy stays queued.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.clock import Clock, SystemClock
from monitor.config import Settings
from monitor.errors import NianbaoError, ProfileError

log = logging.getLogger(__name__)


class CrawlInProgress(NianbaoError):
    """A crawl of the county is already running."""


@dataclass(slots=True)
class CrawlOutcome:
    """A crawl and what processing it found: `crawl` is the runner's `CrawlResult` (run id, status,
    stats, error), `run` the pipeline's `RunOutcome` (ingest outcomes, events)."""

    crawl: Any
    run: Any


def _clock(clock: Clock | None) -> Clock:
    return clock or SystemClock()


def _open(settings: Settings) -> tuple[Any, Any]:
    from storage.db import session_factory

    engine = settings.engine()
    return engine, session_factory(engine)


def find_profile(county: str, profile_dir: Path) -> Any:
    """The profile of `county` (6-digit code, name, or a path to a TOML file)."""
    from monitor.profiles import load_profile, load_profiles

    if county.endswith(".toml") or Path(county).is_file():
        return load_profile(county)
    if not profile_dir.is_dir():
        raise ProfileError("county profile directory not found", source=str(profile_dir))

    def pick(profiles: list[Any]) -> Any:
        return next((p for p in profiles if county in (p.code, p.name)), None)

    # the files that mention the county; all of them only when none matched (a name written with
    # TOML escapes is not in its file's text as such)
    found = pick(load_profiles(profile_dir, mentioning=county)) or pick(load_profiles(profile_dir))
    if found is None:
        raise ProfileError(f"no county profile with code or name {county!r}", source=str(profile_dir))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie answers kill(0) too: the crawl of a killed daemon, exited, not yet reaped by init
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def reap_stale_runs(settings: Settings, *, county_codes: Iterable[str] | None = None,
                    clock: Clock | None = None) -> list[int]:
    """Mark failed the `running` runs left by a dead process: on this host, those whose process is
    gone; anywhere, those started more than `limits.stale_run_minutes` ago. Returns their ids."""
    from sqlalchemy import select

    from storage.models import CrawlRun
    from storage.repo import finish_crawl_run

    now = _clock(clock).now()
    cutoff = now - timedelta(minutes=settings.limits.stale_run_minutes)
    host = socket.gethostname()
    engine, sf = _open(settings)
    reaped = []
    try:
        with sf() as s, s.begin():
            q = select(CrawlRun).where(CrawlRun.status == "running")
            if county_codes is not None:
                q = q.where(CrawlRun.county_code.in_(list(county_codes)))
            for run in s.scalars(q):
                dead = run.host == host and run.pid is not None and not _alive(run.pid)
                old = run.started_at is not None and run.started_at < cutoff
                if dead or old:
                    why = (f"the process running it ({run.host}:{run.pid}) is gone" if dead
                           else f"still running after {settings.limits.stale_run_minutes} minutes")
                    finish_crawl_run(s, run.id, "failed", run.stats or {}, f"stale run: {why}", now=now)
                    reaped.append(run.id)
    finally:
        engine.dispose()
    if reaped:
        log.warning("stale crawl runs failed", extra={"run_ids": reaped})
    return reaped


def crawl_county(code: str, settings: Settings, *, trigger: str = "schedule", requested_by: str | None = None,
                 run_id: int | None = None, profile: Any = None, years: list[int] | None = None,
                 full: bool = False, clock: Clock | None = None, crawl_overrides: dict[str, Any] | None = None,
                 on_progress: Any = None, on_events: Any = None, time_limit: float | None = None,
                 in_process: bool = False) -> CrawlOutcome:
    """Crawl the county in a child process (a new run, or the queued run `run_id`), then process
    the run. `profile` defaults to the county's file in `settings.counties_dir`; `time_limit`
    (seconds) ends the crawl as partial (default `crawler.runner.RUN_TIME_LIMIT`); `in_process`
    crawls in this process, once per process (crawler.runner.run_crawls: monitor.crawljob)."""
    from crawler import runner
    from monitor.profiles import sync_profiles
    from storage.db import ensure_schema
    from storage.repo import CountyBusy

    clock = _clock(clock)
    if profile is None:
        profile = find_profile(code, settings.counties_dir)
    engine, sf = _open(settings)
    try:
        ensure_schema(engine)
        with sf() as s, s.begin():
            sync_profiles(s, [profile])
    finally:
        engine.dispose()
    reap_stale_runs(settings, county_codes=[profile.code], clock=clock)
    from crawler.politeness import scrapy_settings

    overrides = {"DOWNLOAD_MAXSIZE": settings.limits.download_max_bytes, **scrapy_settings(settings.politeness),
                 **(crawl_overrides or {})}
    try:
        result = runner.crawl_county(profile, db_url=settings.database_url, data_dir=settings.data_dir,
                                     trigger=trigger, requested_by=requested_by, run_id=run_id, years=years,
                                     full=full, contact_url=settings.user_agent_contact, settings=overrides,
                                     on_progress=on_progress, timeout=settings.limits.crawl_timeout_seconds,
                                     now=clock.now(), time_limit=time_limit, in_process=in_process)
    except CountyBusy as exc:
        raise CrawlInProgress(f"县 {profile.code} 正在抓取（第 {exc.run_id} 次抓取尚未结束），请稍后再试") from None
    return CrawlOutcome(crawl=result, run=process_run(result.run_id, settings, clock=clock, on_events=on_events))


def run_queued(run_id: int, settings: Settings, *, clock: Clock | None = None, on_events: Any = None,
               crawl_overrides: dict[str, Any] | None = None, in_process: bool = False) -> CrawlOutcome:
    """Crawl a queued run (a /recrawl request), keeping its trigger and requester."""
    from storage.models import CrawlRun

    engine, sf = _open(settings)
    try:
        with sf() as s:
            run = s.get(CrawlRun, run_id)
            if run is None:
                raise NianbaoError(f"no crawl run {run_id}")
            if run.status != "queued":
                raise NianbaoError(f"crawl run {run_id} is {run.status}, not queued")
            code, trigger, requested_by = run.county_code, run.trigger, run.requested_by
    finally:
        engine.dispose()
    return crawl_county(code, settings, trigger=trigger, requested_by=requested_by, run_id=run_id,
                        clock=clock, on_events=on_events, crawl_overrides=crawl_overrides, in_process=in_process)


def run_all_queued(settings: Settings, *, clock: Clock | None = None, on_events: Any = None) -> list[int]:
    """Every queued run, oldest first (the daemon's poll); a busy county's request stays queued."""
    from storage.repo import queued_runs

    engine, sf = _open(settings)
    try:
        with sf() as s:
            ids = [r.id for r in queued_runs(s)]
    finally:
        engine.dispose()
    done = []
    for run_id in ids:
        try:
            run_queued(run_id, settings, clock=clock, on_events=on_events)
            done.append(run_id)
        except CrawlInProgress as exc:
            log.info("queued run waits", extra={"run_id": run_id, "reason": str(exc)})
    return done


def process_run(run_id: int, settings: Settings, *, clock: Clock | None = None, on_events: Any = None) -> Any:
    """Ingest what a crawl run fetched, then YOY-005 (ok runs only), deadlines and crawl health."""
    from monitor import pipeline

    engine, sf = _open(settings)
    try:
        return pipeline.process_run(sf, settings.blob_store(), run_id, _clock(clock), policy=settings.policy,
                                    on_events=on_events)
    finally:
        engine.dispose()


def sweep(year: int | None, settings: Settings, *, county_codes: list[str] | None = None,
          clock: Clock | None = None, on_events: Any = None) -> Any:
    """The deadline sweep of a report year (default: the one whose deadlines fall this year)."""
    from monitor import deadlines

    clock = _clock(clock)
    engine, sf = _open(settings)
    try:
        return deadlines.sweep(sf, clock, deadlines.season_year(clock) if year is None else year, county_codes,
                               policy=settings.policy, on_events=on_events)
    finally:
        engine.dispose()


def revalidate(settings: Settings, *, county_code: str | None = None, clock: Clock | None = None,
               on_events: Any = None) -> int:
    """Re-run extraction, parsing and every rule on the stored documents. Returns the number of
    reports re-checked."""
    from monitor import pipeline

    engine, sf = _open(settings)
    try:
        return pipeline.revalidate(sf, settings.blob_store(), _clock(clock), county_code=county_code,
                                   policy=settings.policy, on_events=on_events)
    finally:
        engine.dispose()


def ingest_file(data: bytes, settings: Settings, *, county_code: str, filename: str | None = None,
                entity: str | None = None, year: int | None = None, published_at: str | None = None,
                clock: Clock | None = None, on_events: Any = None) -> Any:
    """A report received by hand (`nianbao ingest`), stored and checked, then the county's sweep."""
    from monitor.pipeline import ingest_bytes

    engine, sf = _open(settings)
    try:
        return ingest_bytes(sf, settings.blob_store(), data, county_code=county_code, filename=filename,
                            entity=entity, year=year, published_at=published_at, clock=_clock(clock),
                            policy=settings.policy, on_events=on_events)
    finally:
        engine.dispose()


__all__ = ["crawl_county", "run_queued", "run_all_queued", "process_run", "sweep", "revalidate",
           "ingest_file", "reap_stale_runs", "find_profile", "CrawlInProgress", "CrawlOutcome"]
