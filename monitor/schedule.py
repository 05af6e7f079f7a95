"""When the daemon does what: per-county crawl cadence, the deadline sweep, digests, housekeeping,
the operators' daily heartbeat.

Pure computation (no database, no scheduler running): the daemon turns `planned_jobs()` into
APScheduler jobs. The times come from `[schedule]` and `[daemon]` in nianbao.toml (see
monitor/config.py). Defaults follow the law's calendar: the reports of year N are due by the end of
January (bodies) and March (county governments) of N+1, so counties are crawled daily from
1 January to 30 April and weekly (on `weekly_day`) otherwise. Each county's time of day is
`crawl_time` plus an offset within `crawl_window_hours` taken from a stable hash of its code, so
2,800 counties spread over the day instead of all starting at once, and a county keeps its slot
from one restart to the next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from monitor.clock import SHANGHAI

DAY = 86400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hhmm(value: str) -> time:
    hour, minute = (int(x) for x in str(value).split(":"))
    return time(hour, minute)


@dataclass(frozen=True)
class ScheduleConfig:
    """The daemon's view of the settings: `[schedule]`, `[daemon]` and the crawl time limit."""

    season: tuple[str, str] = ("01-01", "04-30")
    in_season: str = "daily"
    off_season: str = "weekly"
    crawl_time: str = "02:00"
    crawl_window_hours: float = 24.0
    weekly_day: str = "mon"
    sweep: str = "09:00"
    digest: str = "09:00"
    housekeeping: str = "03:30"
    heartbeat: str = "08:30"
    keep_runs_days: int = 400
    misfire_grace_seconds: int = 3600
    max_concurrent_crawls: int = 2
    crawl_time_limit_seconds: float = 3600
    poll_seconds: float = 2.0
    outbox_seconds: float = 5.0
    stop_grace_seconds: float = 30.0
    http: str = "127.0.0.1:8787"
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_settings(cls, settings: Any) -> ScheduleConfig:
        sch, dm = settings.schedule, settings.daemon
        limit = getattr(settings.limits, "crawl_timeout_seconds", None)
        return cls(season=(sch.season_start, sch.season_end), in_season=sch.crawl_in_season,
                   off_season=sch.crawl_off_season, crawl_time=sch.crawl_time,
                   crawl_window_hours=dm.crawl_window_hours, weekly_day=sch.weekly_day, sweep=sch.sweep_time,
                   digest=sch.digest_time, housekeeping=dm.housekeeping_time, keep_runs_days=dm.keep_runs_days,
                   misfire_grace_seconds=sch.misfire_grace_seconds, max_concurrent_crawls=dm.max_concurrent_crawls,
                   crawl_time_limit_seconds=float(limit or 3600), poll_seconds=dm.poll_seconds,
                   outbox_seconds=dm.outbox_seconds, stop_grace_seconds=dm.stop_grace_seconds, http=dm.http,
                   timezone=sch.timezone,
                   heartbeat=getattr(getattr(settings, "health", None), "heartbeat_time", "08:30"))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def county_hash(code: str) -> int:
    """A stable (across processes and Python versions) hash of a county code."""
    return int.from_bytes(hashlib.sha256(str(code).encode()).digest()[:8], "big")


def county_offset(code: str, window_hours: float = 24.0) -> int:
    """Seconds after the crawl time at which the county is crawled (whole minutes in the window)."""
    minutes = max(1, int(window_hours * 60))
    return (county_hash(code) % minutes) * 60


def in_season(day: date, season: tuple[str, str]) -> bool:
    key, (start, end) = day.strftime("%m-%d"), season
    if start <= end:
        return start <= key <= end
    return key >= start or key <= end  # a season over the new year (e.g. 12-01 … 04-30)


class CountyCadence(BaseTrigger):
    """APScheduler trigger: the county's crawl times — daily or weekly (on `weekly_day`) in the
    season and outside it, at `crawl_time` plus the county's offset. Picklable (the job store
    keeps it)."""

    def __init__(self, code: str, season: tuple[str, str] = ("01-01", "04-30"), in_season: str = "daily",
                 off_season: str = "weekly", crawl_time: str = "02:00", window_hours: float = 24.0,
                 weekly_day: str = "mon", timezone: str = "Asia/Shanghai") -> None:
        self.code = str(code)
        self.season = (str(season[0]), str(season[1]))
        self.in_season = in_season
        self.off_season = off_season
        self.crawl_time = crawl_time
        self.window_hours = float(window_hours)
        self.weekly_day = weekly_day
        self.timezone = timezone

    def fires_on(self, day: date) -> bool:
        mode = self.in_season if in_season(day, self.season) else self.off_season
        return mode == "daily" or day.weekday() == WEEKDAYS.index(self.weekly_day)

    def fire_time(self, day: date) -> datetime:
        start = datetime.combine(day, _hhmm(self.crawl_time), ZoneInfo(self.timezone))
        return start + timedelta(seconds=county_offset(self.code, self.window_hours))

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        after = previous_fire_time + timedelta(microseconds=1) if previous_fire_time else now
        day = after.astimezone(ZoneInfo(self.timezone)).date() - timedelta(days=1)  # a slot may pass midnight
        for i in range(16):
            d = day + timedelta(days=i)
            if self.fires_on(d) and (at := self.fire_time(d)) >= after:
                return at
        raise AssertionError("no fire time within two weeks")  # unreachable: weekly fires every 7 days

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CountyCadence) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(tuple(sorted(vars(self).items())))

    def __repr__(self) -> str:
        return (f"<CountyCadence code={self.code} season={self.season[0]}..{self.season[1]} "
                f"{self.in_season}/{self.off_season} at={self.crawl_time}+{county_offset(self.code, self.window_hours) // 60}min "
                f"weekly={self.weekly_day} {self.timezone}>")


@dataclass(frozen=True)
class PlannedJob:
    id: str
    func: str  # "module:function", so that the job store keeps a reference, not code
    trigger: Any
    args: tuple[Any, ...] = ()

    def same_as(self, job: Any) -> bool:
        """Whether an existing APScheduler job already is this one (then it is left alone, with its
        next run time: replacing it would drop a run missed while the daemon was down)."""
        return (job.func_ref == self.func and tuple(job.args) == tuple(self.args)
                and repr(job.trigger) == repr(self.trigger))


def _cron(at: str, tz: str, **extra: Any) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    t = _hhmm(at)
    return CronTrigger(hour=t.hour, minute=t.minute, timezone=ZoneInfo(tz), **extra)


JOBS_MODULE = "monitor.daemon"


def cadence(code: str, cfg: ScheduleConfig) -> CountyCadence:
    return CountyCadence(code, cfg.season, cfg.in_season, cfg.off_season, cfg.crawl_time, cfg.crawl_window_hours,
                         cfg.weekly_day, cfg.timezone)


def planned_jobs(cfg: ScheduleConfig, county_codes: Iterable[str]) -> list[PlannedJob]:
    """Every scheduled job of the daemon for these counties."""
    jobs = [
        PlannedJob("sweep", f"{JOBS_MODULE}:job_sweep", _cron(cfg.sweep, cfg.timezone)),
        PlannedJob("digest", f"{JOBS_MODULE}:job_digest", _cron(cfg.digest, cfg.timezone)),
        PlannedJob("housekeeping", f"{JOBS_MODULE}:job_housekeeping",
                   _cron(cfg.housekeeping, cfg.timezone)),
        PlannedJob("heartbeat", f"{JOBS_MODULE}:job_heartbeat", _cron(cfg.heartbeat, cfg.timezone)),
    ]
    for code in sorted(set(county_codes)):
        jobs.append(PlannedJob(f"crawl:{code}", f"{JOBS_MODULE}:job_queue_crawl",
                               cadence(code, cfg), (code,)))
    return jobs


def crawl_times(code: str, cfg: ScheduleConfig, start: datetime, end: datetime) -> list[datetime]:
    """The county's crawl times in [start, end) (for `nianbao daemon --plan` and tests)."""
    trig = cadence(code, cfg)
    out: list[datetime] = []
    at = trig.get_next_fire_time(None, start)
    while at is not None and at < end:
        out.append(at)
        at = trig.get_next_fire_time(at, at)
    return out


__all__ = ["ScheduleConfig", "CountyCadence", "PlannedJob", "planned_jobs", "county_offset", "county_hash",
           "in_season", "crawl_times", "cadence", "SHANGHAI"]
