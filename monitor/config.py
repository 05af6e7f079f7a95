"""Configuration: one typed `Settings` object (pydantic-settings), read once and passed to every job.

Sources, later ones winning: defaults < `nianbao.toml` < `NIANBAO_*` environment variables.
The file is `$NIANBAO_CONFIG`, else `./nianbao.toml` (absent is fine: defaults apply). Nested
values come from the environment with `__` between the parts (`NIANBAO_SCHEDULE__SWEEP_TIME=08:30`,
`NIANBAO_NOTIFY__MAX_ATTEMPTS=8`); lists as JSON or comma separated (`NIANBAO_TELEGRAM__ADMIN_CHAT_IDS=5,6`).

```toml
database_url = "sqlite+pysqlite:///data/nianbao.db"  # default: nianbao.db in data_dir
data_dir = "data"                # blobs under data_dir/blobs; relative to this file's folder
counties_dir = "counties"
user_agent_contact = "https://example.org/nianbao"   # put in the crawler's User-Agent

# the rule policy (`Settings.policy`): every path that runs rules reads these three
reminder_days = 14               # TIME-005, unless a county profile says otherwise
similarity_threshold = 0.5       # YOY-003 / TEXT-003
crawl_failure_threshold = 2      # CRAWL-002: failed scheduled runs in a row

[telegram]                       # the bot; its token is NEVER here (see below)
admin_chat_ids = [123456789]     # may /recrawl any county, receive crawl-health alerts
county_admins = { "370830" = [987654321] }
# api_url = "http://127.0.0.1:8081/bot"   # a local Bot API server instead of Telegram's
# rate = 29                      # messages/s the sender allows itself (Telegram's limit is 30)
# webhook = { url = "https://bot.example.org/tg", listen = "127.0.0.1", port = 8443 }

[channels]
console = true
apprise = ["mailto://user:pass@example.org"]          # apprise URLs (kept out of logs)

[schedule]                       # times in `timezone`
timezone = "Asia/Shanghai"
season_start = "01-01"           # reports are due in this window: crawl every day
season_end = "04-30"
crawl_in_season = "daily"        # daily | weekly
crawl_off_season = "weekly"
crawl_time = "02:00"
weekly_day = "mon"
sweep_time = "09:00"             # the deadline sweep
digest_time = "09:00"            # daily digests; weekly ones on weekly_day

[limits]
download_max_bytes = 67108864    # one page or attachment (the crawler and `check`)
crawl_timeout_seconds = 3600     # a crawl child running longer is killed (its run: failed)
stale_run_minutes = 180          # a `running` run older than this, whose process is gone, is failed

[notify]
max_attempts = 5
backoff_seconds = 60             # first retry; doubles each attempt up to max_backoff_seconds
max_backoff_seconds = 3600

[health]                         # operators hear of the service's trouble (notifier/health.py)
crawl_alert_threshold = 3        # CRAWL-001/002 reach operators after this many failed/blocked crawls in a row
                                 # (a county profile's [health] crawl_alert_threshold overrides it)
reminder_hours = 24              # an open crawl problem is repeated to operators this often (with its days)
quiet_hours = 72                 # a portal failing again within this after its 恢复 is not alerted again
heartbeat_time = "08:30"         # the daily heartbeat to operators; /healthz fails after 2 days without one
operators = ["console:-"]        # besides role=operator subscribers and telegram.admin_chat_ids

[daemon]                         # `nianbao daemon` (monitor/daemon.py)
http = "127.0.0.1:8787"          # /healthz and /metrics; "" switches the server off
max_concurrent_crawls = 2        # crawl child processes at once
crawl_window_hours = 24          # crawls spread from crawl_time over this many hours (by county code)
housekeeping_time = "03:30"      # old crawl runs and unreferenced blobs
keep_runs_days = 400
stop_grace_seconds = 30          # SIGTERM: running crawls get this long, then are stopped and re-queued
poll_seconds = 2                 # how often the queue of crawl requests is read
outbox_seconds = 5               # how often the alert outbox is drained
crawl_settings = {}              # Scrapy settings for the crawl children (the demo turns politeness off)
executor = "local"               # local: crawl children of the daemon; celery: jobs for `nianbao worker`

[celery]                         # `nianbao worker` and the daemon's celery executor (monitor/cluster.py)
broker_url = "redis://127.0.0.1:6379/0"    # or "amqp://guest:guest@127.0.0.1:5672//"
result_backend = ""              # default: the broker when it is Redis, else rpc://
queue = "nianbao.crawl"          # scheduled crawls
priority_queue = "nianbao.recrawl"   # manual recrawls, taken before the schedule's
concurrency = 1                  # crawls at once per worker process
time_limit_seconds = 3600        # a crawl child running longer is stopped, its run failed
visibility_timeout_seconds = 4500    # Redis: a dead worker's job is delivered again after this
lease_seconds = 30               # a job's lease in Redis (renewed while it runs)
max_in_flight = 500              # jobs the daemon keeps in the broker at once
metrics = ""                     # HOST:PORT of the worker's /metrics

[politeness]                     # per portal host, the whole cluster (crawler/politeness.py)
redis_url = ""                   # "" off; e.g. "redis://127.0.0.1:6379/1"
rate = 1.0                       # requests/s per host
burst = 2
concurrency = 2                  # requests in flight per host
block_backoff_seconds = 600      # after a block answer nobody asks that host for this long
```

Secrets only from the environment or a file (`ENV_SECRETS`): each from `NIANBAO_<NAME>`, else
from the file `NIANBAO_<NAME>_FILE` names — the bot token (`BOT_TOKEN` → `telegram.token`) and the
web pages' tokens (`WEB_TOKEN` → `web.token`, `WEB_ADMIN_TOKEN` → `web.admin_token`); a `token`,
`secret` or `password` key anywhere in the TOML file is refused. Secrets are `SecretStr`: `repr()`,
`str()` and logs show `**********`.

Errors (unreadable file, unknown key, a value of the wrong type or out of range) are one
`ConfigError` line naming the setting and what is wrong.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from monitor.errors import ConfigError

log = logging.getLogger(__name__)

ENV_PREFIX = "NIANBAO_"
SECRET_KEYS = ("token", "secret", "password")
_MMDD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The secrets, each read from NIANBAO_<NAME> or the file NIANBAO_<NAME>_FILE names (`env_secret`):
# (NAME, where it goes in Settings, what it is called in messages)
ENV_SECRETS: tuple[tuple[str, tuple[str, str], str], ...] = (
    ("BOT_TOKEN", ("telegram", "token"), "bot token"),
    ("WEB_TOKEN", ("web", "token"), "web token"),
    ("WEB_ADMIN_TOKEN", ("web", "admin_token"), "web admin token"),
)


@dataclass(frozen=True, slots=True)
class Policy:
    """The configured values the rules read. Every path that runs rules (ingest, crawl → process_run,
    sweep, revalidate, status, export) receives one of these instead of loose keyword arguments."""

    reminder_days: int = 14
    similarity_threshold: float = 0.5
    crawl_failure_threshold: int = 2


DEFAULT_POLICY = Policy()


def _split_list(value: Any) -> Any:
    """A list from the environment: JSON (`[1, 2]`) or comma separated (`1,2`)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                return value
        return [x.strip() for x in text.split(",") if x.strip()]
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Webhook(_Section):
    url: str
    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)


class TelegramSettings(_Section):
    token: SecretStr | None = None
    admin_chat_ids: Annotated[tuple[int, ...], NoDecode] = ()
    # county code → chat ids of that county's admins (may /recrawl it, receive its health alerts)
    county_admins: dict[str, tuple[int, ...]] = Field(default_factory=dict)
    webhook: Webhook | None = None
    # The Bot API's base URL ending in /bot (default: Telegram's own); tests point it at a local server.
    api_url: str | None = None
    rate: float = Field(29.0, ge=0, le=30)  # messages/s the sender allows itself (Telegram: 30)
    group_per_minute: float = Field(20.0, ge=0, le=20)  # per group chat (Telegram: 20)

    _list = field_validator("admin_chat_ids", mode="before")(_split_list)

    def admins_of(self, county_code: str) -> tuple[int, ...]:
        return tuple(dict.fromkeys((*self.admin_chat_ids, *self.county_admins.get(county_code, ()))))


class WebSettings(_Section):
    """The status web pages' tokens (monitor.web.access), only from the environment (`ENV_SECRETS`)."""

    token: SecretStr | None = None  # read access for clients not on loopback
    admin_token: SecretStr | None = None  # the recrawl action (on loopback too)


class ChannelSettings(_Section):
    console: bool = True
    apprise: Annotated[tuple[SecretStr, ...], NoDecode] = ()

    _list = field_validator("apprise", mode="before")(_split_list)


class ScheduleSettings(_Section):
    timezone: str = "Asia/Shanghai"
    season_start: str = "01-01"
    season_end: str = "04-30"
    crawl_in_season: Literal["daily", "weekly"] = "daily"
    crawl_off_season: Literal["daily", "weekly"] = "weekly"
    crawl_time: str = "02:00"
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    sweep_time: str = "09:00"
    digest_time: str = "09:00"
    misfire_grace_seconds: int = Field(3600, ge=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("season_start", "season_end")
    @classmethod
    def _mmdd(cls, v: str) -> str:
        if not _MMDD.match(v):
            raise ValueError(f"must be MM-DD, got {v!r}")
        return v

    @field_validator("crawl_time", "sweep_time", "digest_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"must be HH:MM, got {v!r}")
        return v

    def in_season(self, mmdd: str) -> bool:
        """Whether a calendar day ("MM-DD") lies in the reporting season (inclusive)."""
        if self.season_start <= self.season_end:
            return self.season_start <= mmdd <= self.season_end
        return mmdd >= self.season_start or mmdd <= self.season_end


class LimitSettings(_Section):
    download_max_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    crawl_timeout_seconds: float | None = Field(None, gt=0)
    stale_run_minutes: int = Field(180, ge=1)


class NotifySettings(_Section):
    max_attempts: int = Field(5, ge=1)
    backoff_seconds: float = Field(60, gt=0)
    max_backoff_seconds: float = Field(3600, gt=0)


class HealthSettings(_Section):
    """Who hears of the service's own trouble, and when (notifier.health)."""

    crawl_alert_threshold: int = Field(3, ge=1, le=100)  # failed/blocked crawls in a row before the alert
    reminder_hours: float = Field(24, gt=0)  # an open crawl problem is repeated to operators this often
    quiet_hours: float = Field(72, ge=0)  # after a recovery, the portal failing again is not alerted within this
    heartbeat_time: str = "08:30"  # the daily heartbeat to operators (in schedule.timezone)
    # operators besides role=operator subscribers and telegram.admin_chat_ids: "console:-",
    # "telegram:123456", "apprise:mailto://…" (apprise URLs are kept out of logs)
    operators: Annotated[tuple[str, ...], NoDecode] = ()

    _list = field_validator("operators", mode="before")(_split_list)

    @field_validator("heartbeat_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"must be HH:MM, got {v!r}")
        return v

    @field_validator("operators")
    @classmethod
    def _operators(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for item in v:
            channel, sep, address = str(item).partition(":")
            if not sep or channel not in ("console", "telegram", "apprise") or not address:
                raise ValueError(f"an operator is CHANNEL:ADDRESS (console, telegram, apprise), got {item!r}")
        return v


class DaemonSettings(_Section):
    http: str = "127.0.0.1:8787"
    max_concurrent_crawls: int = Field(2, ge=1, le=64)
    crawl_window_hours: float = Field(24, gt=0, le=24)
    housekeeping_time: str = "03:30"
    keep_runs_days: int = Field(400, ge=1)
    stop_grace_seconds: float = Field(30, ge=0)
    poll_seconds: float = Field(2, gt=0)
    outbox_seconds: float = Field(5, gt=0)
    crawl_settings: dict[str, Any] = Field(default_factory=dict)
    executor: Literal["local", "celery"] = "local"  # celery: crawls go to `nianbao worker`s ([celery])

    @field_validator("housekeeping_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"must be HH:MM, got {v!r}")
        return v

    @field_validator("http")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not re.fullmatch(r"[\w.:\[\]-]+:\d{1,5}", v):
            raise ValueError(f"must be HOST:PORT or empty, got {v!r}")
        return v


class CelerySettings(_Section):
    """The broker and the workers of `nianbao worker` (monitor/cluster.py)."""

    broker_url: str = "redis://127.0.0.1:6379/0"  # or amqp://guest:guest@127.0.0.1:5672//
    result_backend: str = ""  # default: the broker when it is Redis, else rpc://
    queue: str = "nianbao.crawl"  # scheduled crawls
    priority_queue: str = "nianbao.recrawl"  # manual recrawls, always taken first
    concurrency: int = Field(1, ge=1, le=64)  # crawls at once per worker process
    time_limit_seconds: float = Field(3600, gt=0)  # a crawl child running longer is stopped
    # Redis: an unacknowledged job is delivered again after this long (a worker died); keep it
    # above the time limit (a live crawl's job delivered twice is ignored by its lease anyway)
    visibility_timeout_seconds: float = Field(4500, gt=0)
    lease_seconds: float = Field(30, ge=2)  # a job's lease in Redis, renewed while it runs
    max_in_flight: int = Field(500, ge=1)  # jobs the daemon keeps in the broker at once
    metrics: str = ""  # HOST:PORT of the worker's /metrics; "" off
    result_expires_seconds: int = Field(86400, ge=60)

    @field_validator("metrics")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not re.fullmatch(r"[\w.:\[\]-]+:\d{1,5}", v):
            raise ValueError(f"must be HOST:PORT or empty, got {v!r}")
        return v


class PolitenessSettings(_Section):
    """Per portal host, for every crawl that shares this Redis (crawler/politeness.py)."""

    redis_url: str = ""  # "" off: each crawl process is polite on its own (Scrapy's delay)
    rate: float = Field(1.0, gt=0)  # requests per second per host
    burst: int = Field(2, ge=1)
    concurrency: int = Field(2, ge=0)  # requests in flight per host; 0: no cap
    lease_seconds: float = Field(120, gt=0)
    block_backoff_seconds: float = Field(600, ge=0)
    prefix: str = "nianbao:polite:"  # Redis key prefix


class Settings(BaseSettings):
    """Everything configurable, typed. `policy` is the part the rules read."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid",
                                      frozen=True, validate_default=True)

    data_dir: Path = Path("data")
    database_url: str = ""
    counties_dir: Path = Path("counties")
    user_agent_contact: str | None = None
    reminder_days: int = Field(14, ge=0, le=366)
    similarity_threshold: float = Field(0.5, ge=0, le=1, allow_inf_nan=False)
    crawl_failure_threshold: int = Field(2, ge=1)
    telegram: TelegramSettings = TelegramSettings()
    web: WebSettings = WebSettings()
    channels: ChannelSettings = ChannelSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    limits: LimitSettings = LimitSettings()
    notify: NotifySettings = NotifySettings()
    health: HealthSettings = HealthSettings()
    daemon: DaemonSettings = DaemonSettings()
    celery: CelerySettings = CelerySettings()
    politeness: PolitenessSettings = PolitenessSettings()
    source: Path | None = None  # the file read, if any

    @field_validator("data_dir", "counties_dir", mode="before")
    @classmethod
    def _path(cls, v: Any) -> Any:
        if not isinstance(v, str | Path) or str(v) == "":
            raise ValueError(f"must be a path (a string), got {v!r}")
        return v

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite+pysqlite:///{self.data_dir / 'nianbao.db'}")
        return self

    @property
    def policy(self) -> Policy:
        return Policy(reminder_days=self.reminder_days, similarity_threshold=self.similarity_threshold,
                      crawl_failure_threshold=self.crawl_failure_threshold)

    @property
    def admin_chat_ids(self) -> tuple[int, ...]:
        return self.telegram.admin_chat_ids

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    def engine(self) -> Any:
        from storage.db import make_engine

        return make_engine(self.database_url)

    def blob_store(self) -> Any:
        from storage.blobs import BlobStore

        return BlobStore(self.blobs_dir)

    def redacted_url(self) -> str:
        """The database URL without its password (for messages)."""
        return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", self.database_url)


class _Env(EnvSettingsSource):
    """NIANBAO_* variables from a given mapping (os.environ unless a test passes one)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._env, self.case_sensitive, True, self.env_parse_none_str)


def _secret_keys(raw: Mapping[str, Any], path: str = "") -> list[str]:
    found = []
    for key, value in raw.items():
        where = f"{path}{key}"
        if any(s in key.lower() for s in SECRET_KEYS):
            found.append(where)
        if isinstance(value, Mapping):
            found.extend(_secret_keys(value, where + "."))
    return found


def env_secret(env: Mapping[str, str], name: str, what: str) -> str | None:
    """The secret in `NIANBAO_<name>`, else in the file `NIANBAO_<name>_FILE` names (stripped);
    None when neither gives one. `what` names it in the error for an unreadable file."""
    value = env.get(f"{ENV_PREFIX}{name}") or None
    path = env.get(f"{ENV_PREFIX}{name}_FILE")
    if value is None and path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"cannot read the {what} file ({ENV_PREFIX}{name}_FILE): {exc.strerror}",
                              source=path) from None
    return value


def _env_secrets(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The secrets the environment gives, nested as in `Settings` ({"telegram": {"token": …}})."""
    found: dict[str, dict[str, str]] = {}
    for name, (section, key), what in ENV_SECRETS:
        value = env_secret(env, name, what)
        if value is not None:
            found.setdefault(section, {})[key] = value
    return found


def _secret_hint(where: str) -> str:
    """What to set instead of the secret found at `where` in the TOML file."""
    names = [name for name, path, _ in ENV_SECRETS if ".".join(path) == where] or [n for n, _, _ in ENV_SECRETS]
    return " or ".join(f"{ENV_PREFIX}{n} (or {ENV_PREFIX}{n}_FILE)" for n in names)


def _one_line(exc: ValidationError) -> str:
    """The first validation error as one line: `setting: what is wrong (got value)`."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or "settings"
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        section = Settings if "." not in loc else None
        known = ", ".join(sorted(set(section.model_fields) - {"source"})) if section else ""
        return f"unknown setting {loc}" + (f"; known: {known}" if known else "")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{loc} must be an integer, got {value!r}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{loc} must be a finite number, got {value!r}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    msg = msg[:1].lower() + msg[1:]
    return f"{loc}: {msg}" + ("" if "got " in msg else f", got {value!r}")


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the configuration once: the TOML file (if any), then the environment over it."""
    env = os.environ if env is None else env
    if path is None:
        path = env.get(f"{ENV_PREFIX}CONFIG") or ("nianbao.toml" if Path("nianbao.toml").is_file() else None)
    raw: dict[str, Any] = {}
    source: Path | None = None
    if path is not None:
        source = Path(path)
        try:
            raw = tomllib.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("configuration file not found", source=str(source)) from None
        except OSError as exc:
            raise ConfigError(f"cannot read the configuration file: {exc.strerror}", source=str(source)) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"invalid TOML: {exc}", source=str(source)) from None
    src = str(source or "environment")
    secrets = _secret_keys(raw)
    if secrets:
        raise ConfigError(f"secret {secrets[0]!r} must not be in the configuration file; set "
                          f"{_secret_hint(secrets[0])}", source=src)
    if "source" in raw:
        raise ConfigError("unknown setting source", source=src)
    if source is not None and isinstance(raw.get("data_dir"), str) and not Path(raw["data_dir"]).is_absolute():
        raw["data_dir"] = str(source.parent / raw["data_dir"])  # relative to the file, not the cwd
    extra: dict[str, Any] = {"source": source, **_env_secrets(env)}
    legacy_admins = env.get(f"{ENV_PREFIX}ADMIN_CHAT_IDS")
    if legacy_admins:  # the short name the README always gave
        extra.setdefault("telegram", {})["admin_chat_ids"] = legacy_admins

    class _Loaded(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls: type[BaseSettings], *args: Any, **kwargs: Any,
                                       ) -> tuple[Any, ...]:
            return (InitSettingsSource(settings_cls, extra), _Env(settings_cls, env),
                    InitSettingsSource(settings_cls, raw))

    try:
        loaded = _Loaded()
    except ValidationError as exc:
        raise ConfigError(_one_line(exc), source=src) from None
    except Exception as exc:  # pydantic-settings' own parse errors (a bad JSON list in a variable)
        raise ConfigError(str(exc).splitlines()[0], source=src) from None
    settings = Settings.model_construct(**{k: getattr(loaded, k) for k in Settings.model_fields})
    log.debug("configuration loaded", extra={"source": src})
    return settings


__all__ = ["Settings", "Policy", "DEFAULT_POLICY", "load_config", "TelegramSettings", "WebSettings",
           "ChannelSettings", "ENV_SECRETS", "env_secret",
           "ScheduleSettings", "LimitSettings", "NotifySettings", "HealthSettings", "DaemonSettings", "WEEKDAYS"]
