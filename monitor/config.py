"""Configuration: `nianbao.toml`, overridden by `NIANBAO_*` environment variables.

Where the file is: `$NIANBAO_CONFIG`, else `./nianbao.toml` (absent is fine: defaults apply).

```toml
database_url = "sqlite+pysqlite:///data/nianbao.db"  # default: nianbao.db in data_dir
data_dir = "data"                # blobs under data_dir/blobs
counties_dir = "counties"
admin_chat_ids = [123456789]
user_agent_contact = "https://example.org/nianbao"   # put in the crawler's User-Agent
reminder_days = 14               # TIME-005, unless a profile says otherwise
crawl_failure_threshold = 2      # CRAWL-002: failed scheduled runs in a row
similarity_threshold = 0.5       # YOY-003 / TEXT-003

[schedule]                       # free-form, read by the daemon
crawl = "daily"
sweep = "07:00"

[channels.telegram]              # free-form per channel; the bot token is NOT here
enabled = true
```

Environment overrides: `NIANBAO_DATABASE_URL`, `NIANBAO_DATA_DIR`, `NIANBAO_COUNTIES_DIR`,
`NIANBAO_ADMIN_CHAT_IDS` (comma separated), `NIANBAO_USER_AGENT_CONTACT`, `NIANBAO_REMINDER_DAYS`,
`NIANBAO_CRAWL_FAILURE_THRESHOLD`, `NIANBAO_SIMILARITY_THRESHOLD`. Secrets only from the
environment or a file: `NIANBAO_BOT_TOKEN` or `NIANBAO_BOT_TOKEN_FILE`; a `bot_token` key in the
TOML file is refused. The token is kept out of `repr()` so it is never logged by accident.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

log = logging.getLogger(__name__)

ENV_PREFIX = "NIANBAO_"
SECRET_KEYS = ("bot_token", "token", "secret", "password")


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    counties_dir: Path = Path("counties")
    admin_chat_ids: tuple[int, ...] = ()
    channels: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] = field(default_factory=dict)
    user_agent_contact: str | None = None
    reminder_days: int = 14
    crawl_failure_threshold: int = 2
    similarity_threshold: float = 0.5
    bot_token: str | None = field(default=None, repr=False)
    source: Path | None = None  # the file read, if any

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    def engine(self) -> Any:
        from storage.db import make_engine

        return make_engine(self.database_url)

    def blob_store(self) -> Any:
        from storage.blobs import BlobStore

        return BlobStore(self.blobs_dir)


def _int(value: Any, key: str, source: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be an integer, got {value!r}", source=source) from None


def _float(value: Any, key: str, source: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a number, got {value!r}", source=source) from None


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
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
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", source=str(source)) from None
    src = str(source or "environment")
    for key in raw:
        if any(s in key.lower() for s in SECRET_KEYS):
            raise ConfigError(f"secret {key!r} must not be in the configuration file; set "
                              f"{ENV_PREFIX}BOT_TOKEN or {ENV_PREFIX}BOT_TOKEN_FILE", source=src)
    known = {"data_dir", "database_url", "counties_dir", "admin_chat_ids", "channels", "schedule",
             "user_agent_contact", "reminder_days", "crawl_failure_threshold", "similarity_threshold"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                          source=src)

    def pick(key: str) -> Any:
        value = env.get(ENV_PREFIX + key.upper())
        return value if value not in (None, "") else raw.get(key)

    base = source.parent if source else Path(".")
    data_dir = Path(pick("data_dir") or "data")
    if not data_dir.is_absolute() and source is not None and "data_dir" in raw \
            and not env.get(f"{ENV_PREFIX}DATA_DIR"):
        data_dir = base / data_dir
    counties_dir = Path(pick("counties_dir") or "counties")
    database_url = pick("database_url") or f"sqlite+pysqlite:///{data_dir / 'nianbao.db'}"

    admin = pick("admin_chat_ids") or ()
    if isinstance(admin, str):
        admin = [a for a in (x.strip() for x in admin.split(",")) if a]
    if not isinstance(admin, list | tuple):
        raise ConfigError("admin_chat_ids must be a list of integers", source=src)
    admin_ids = tuple(_int(a, "admin_chat_ids", src) for a in admin)

    for key in ("channels", "schedule"):
        if not isinstance(raw.get(key, {}), dict):
            raise ConfigError(f"[{key}] must be a table", source=src)

    token = env.get(f"{ENV_PREFIX}BOT_TOKEN") or None
    token_file = env.get(f"{ENV_PREFIX}BOT_TOKEN_FILE")
    if token is None and token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"cannot read the bot token file: {exc.strerror}",
                              source=token_file) from None

    settings = Settings(
        data_dir=data_dir, database_url=str(database_url), counties_dir=counties_dir,
        admin_chat_ids=admin_ids, channels=dict(raw.get("channels", {})),
        schedule=dict(raw.get("schedule", {})),
        user_agent_contact=pick("user_agent_contact"),
        reminder_days=_int(pick("reminder_days") or 14, "reminder_days", src),
        crawl_failure_threshold=_int(pick("crawl_failure_threshold") or 2, "crawl_failure_threshold", src),
        similarity_threshold=_float(pick("similarity_threshold") or 0.5, "similarity_threshold", src),
        bot_token=token, source=source,
    )
    if settings.crawl_failure_threshold < 1 or settings.reminder_days < 0:
        raise ConfigError("crawl_failure_threshold must be ≥ 1 and reminder_days ≥ 0", source=src)
    log.debug("configuration loaded", extra={"source": src})
    return settings


__all__ = ["Settings", "load_config"]
