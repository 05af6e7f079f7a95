"""Engines, sessions and migrations.

SQLite: WAL journal, a busy timeout and foreign keys on every connection; every transaction starts
with `BEGIN IMMEDIATE`, so two processes (the daemon and a crawl child) queue for the write lock
instead of failing halfway through a transaction. PostgreSQL: plain psycopg 3.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000


def sqlite_url(path: str | Path) -> str:
    return f"sqlite+pysqlite:///{Path(path)}"


class DatabaseError(Exception):
    """The database URL cannot be used (malformed, bad port, no driver for its scheme)."""


def _redact(url: str) -> str:
    import re

    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; `DatabaseError` (one line, password hidden) when the URL is unusable."""
    try:
        return _make_engine(url, **kwargs)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(f"invalid database URL {_redact(url)!r}: {str(exc).splitlines()[0]}") from None
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        scheme = url.split(":", 1)[0]
        raise DatabaseError(f"no database driver for {scheme!r} ({str(exc).splitlines()[0]}); nianbao supports "
                            "sqlite:// and postgresql+psycopg://") from None


def _make_engine(url: str, **kwargs: Any) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic), creating the database file if needed."""
    from alembic import command

    if isinstance(url_or_engine, str):
        engine = make_engine(url_or_engine)
        own = True
    else:
        engine, own = url_or_engine, False
    try:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        if own:
            engine.dispose()
    log.info("schema upgraded", extra={"revision": revision})


# The newest migration (storage/migrations/versions); tests/test_storage.py checks that it is
# Alembic's head. ensure_schema() compares it with the database's version row instead of loading
# the migration scripts, which costs ~0.15 s of CPU in a fresh process — every crawl process's.
SCHEMA_HEAD = "0007_seen_pending"


def ensure_schema(engine: Engine) -> None:
    """`upgrade(engine)` unless the database is at SCHEMA_HEAD already."""
    if current_revision(engine) != SCHEMA_HEAD:
        upgrade(engine)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
