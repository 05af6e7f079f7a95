"""When the daemon does what: per-county crawl cadence, the deadline sweep, digests, housekeeping.

Pure computation (no database, no scheduler running): the daemon turns `planned_jobs()` into
APScheduler jobs. Defaults follow the law's calendar: the reports of year N are due by the end of
January (bodies) and March (county governments) of N+1, so counties are crawled daily from
1 January to 30 April and weekly otherwise. Each county's crawl time of day (and its weekday off
season) comes from a stable hash of its code, so 2,800 counties spread over the day instead of all
starting at 00:00, and a county keeps its slot from one restart to the next.

`[schedule]` in nianbao.toml (every key optional):

```toml
[schedule]
season = ["01-01", "04-30"]      # MM-DD, inclusive, Asia/Shanghai
season_every_days = 1            # crawl cadence in the season
off_season_every_days = 7        # … and outside it
sweep = "09:00"                  # the daily deadline sweep
digest = "18:00"                 # daily digests (subscribers who chose them)
housekeeping = "03:30"           # old runs, unreferenced blobs
keep_runs_days = 400
misfire_grace_seconds = 21600    # a run missed by less than this still runs (once: coalesced)
max_concurrent_crawls = 2
crawl_time_limit_seconds = 3600
poll_seconds = 2                 # how often the queue of crawl requests is read
outbox_seconds = 5               # how often the alert outbox is drained
stop_grace_seconds = 30          # SIGTERM: running crawls get this long to finish
http = "127.0.0.1:8787"          # /healthz and /metrics; "" switches the server off
```
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from monitor.clock import SHANGHAI
from monitor.errors import ConfigError

DAY = 86400


def _mmdd(value: str, key: str) -> tuple[int, int]:
    try:
        month, day = (int(x) for x in str(value).split("-"))
        date(2024, month, day)  # a leap year accepts 02-29
    except ValueError:
        raise ConfigError(f"[schedule] {key}: expected MM-DD, got {value!r}") from None
    return month, day


def _hhmm(value: str, key: str) -> time:
    try:
        hour, minute = (int(x) for x in str(value).split(":"))
        return time(hour, minute)
    except ValueError:
        raise ConfigError(f"[schedule] {key}: expected HH:MM, got {value!r}") from None


@dataclass(frozen=True)
class ScheduleConfig:
    season: tuple[str, str] = ("01-01", "04-30")
    season_every_days: int = 1
    off_season_every_days: int = 7
    sweep: str = "09:00"
    digest: str = "18:00"
    housekeeping: str = "03:30"
    keep_runs_days: int = 400
    misfire_grace_seconds: int = 6 * 3600
    max_concurrent_crawls: int = 2
    crawl_time_limit_seconds: float = 3600
    poll_seconds: float = 2.0
    outbox_seconds: float = 5.0
    stop_grace_seconds: float = 30.0
    http: str = "127.0.0.1:8787"
    timezone: str = "Asia/Shanghai"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> ScheduleConfig:
        """From `settings.schedule`: a mapping, or an object with these attributes."""
        raw = getattr(settings, "schedule", None) or {}
        if not isinstance(raw, Mapping):
            raw = raw.model_dump() if hasattr(raw, "model_dump") else vars(raw)
        names = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in raw.items() if k in names and v is not None}
        if "season" in values:
            values["season"] = tuple(values["season"])
        cfg = cls(**values, extra={k: v for k, v in raw.items() if k not in names})
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if len(self.season) != 2:
            raise ConfigError("[schedule] season: expected [\"MM-DD\", \"MM-DD\"]")
        _mmdd(self.season[0], "season")
        _mmdd(self.season[1], "season")
        for key in ("sweep", "digest", "housekeeping"):
            _hhmm(getattr(self, key), key)
        for key in ("season_every_days", "off_season_every_days", "max_concurrent_crawls", "keep_runs_days"):
            if int(getattr(self, key)) < 1:
                raise ConfigError(f"[schedule] {key} must be ≥ 1")
        if min(self.crawl_time_limit_seconds, self.poll_seconds, self.outbox_seconds) <= 0 or self.misfire_grace_seconds < 0:
            raise ConfigError("[schedule] time limits must be positive")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def county_hash(code: str) -> int:
    """A stable (across processes and Python versions) hash of a county code."""
    return int.from_bytes(hashlib.sha256(str(code).encode()).digest()[:8], "big")


def county_offset(code: str) -> int:
    """Seconds after midnight at which the county is crawled (whole minutes)."""
    return (county_hash(code) % (DAY // 60)) * 60


def in_season(day: date, season: tuple[str, str]) -> bool:
    start, end = _mmdd(season[0], "season"), _mmdd(season[1], "season")
    key = (day.month, day.day)
    if start <= end:
        return start <= key <= end
    return key >= start or key <= end  # a season over the new year (e.g. 12-01 … 04-30)


class CountyCadence(BaseTrigger):
    """APScheduler trigger: the county's crawl times — every `dense` days in the season, every
    `sparse` days outside it, at the county's own time of day. Picklable (the job store keeps it).
    """

    def __init__(self, code: str, season: tuple[str, str] = ("01-01", "04-30"), dense: int = 1,
                 sparse: int = 7, timezone: str = "Asia/Shanghai") -> None:
        self.code = str(code)
        self.season = (str(season[0]), str(season[1]))
        self.dense = int(dense)
        self.sparse = int(sparse)
        self.timezone = timezone

    def fires_on(self, day: date) -> bool:
        every = self.dense if in_season(day, self.season) else self.sparse
        return (day.toordinal() + county_hash(self.code)) % every == 0

    def fire_time(self, day: date) -> datetime:
        tz = ZoneInfo(self.timezone)
        return datetime.combine(day, time(0), tz) + timedelta(seconds=county_offset(self.code))

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        after = previous_fire_time + timedelta(microseconds=1) if previous_fire_time else now
        day = after.astimezone(ZoneInfo(self.timezone)).date()
        for i in range(max(self.dense, self.sparse) + 2):
            d = day + timedelta(days=i)
            if self.fires_on(d):
                at = self.fire_time(d)
                if at >= after:
                    return at
        raise AssertionError("no fire time within a cadence period")  # unreachable

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CountyCadence) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((self.code, self.season, self.dense, self.sparse, self.timezone))

    def __repr__(self) -> str:
        return (f"<CountyCadence code={self.code} season={self.season[0]}..{self.season[1]} "
                f"every={self.dense}/{self.sparse}d at={county_offset(self.code) // 60}min {self.timezone}>")


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


def _cron(at: str, key: str, tz: str, **extra: Any) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    t = _hhmm(at, key)
    return CronTrigger(hour=t.hour, minute=t.minute, timezone=ZoneInfo(tz), **extra)


JOBS_MODULE = "monitor.daemon"


def planned_jobs(cfg: ScheduleConfig, county_codes: Iterable[str]) -> list[PlannedJob]:
    """Every scheduled job of the daemon for these counties."""
    jobs = [
        PlannedJob("sweep", f"{JOBS_MODULE}:job_sweep", _cron(cfg.sweep, "sweep", cfg.timezone)),
        PlannedJob("digest", f"{JOBS_MODULE}:job_digest", _cron(cfg.digest, "digest", cfg.timezone)),
        PlannedJob("housekeeping", f"{JOBS_MODULE}:job_housekeeping",
                   _cron(cfg.housekeeping, "housekeeping", cfg.timezone)),
    ]
    for code in sorted(set(county_codes)):
        jobs.append(PlannedJob(f"crawl:{code}", f"{JOBS_MODULE}:job_queue_crawl",
                               CountyCadence(code, cfg.season, cfg.season_every_days,
                                             cfg.off_season_every_days, cfg.timezone), (code,)))
    return jobs


def crawl_times(code: str, cfg: ScheduleConfig, start: datetime, end: datetime) -> list[datetime]:
    """The county's crawl times in [start, end) (for `nianbao daemon --plan` and tests)."""
    trig = CountyCadence(code, cfg.season, cfg.season_every_days, cfg.off_season_every_days, cfg.timezone)
    out: list[datetime] = []
    at = trig.get_next_fire_time(None, start)
    while at is not None and at < end:
        out.append(at)
        at = trig.get_next_fire_time(at, at)
    return out


__all__ = ["ScheduleConfig", "CountyCadence", "PlannedJob", "planned_jobs", "county_offset", "county_hash",
           "in_season", "crawl_times", "SHANGHAI"]
