"""One daemon per database: a PostgreSQL advisory lock, or a lock file beside the SQLite file.

`acquire(database_url)` returns a held lock (release it with `.release()`) or raises
`DaemonRunning` with a message naming the other holder. The PostgreSQL lock lives as long as its
connection, so a daemon killed with SIGKILL releases it with its connection; the lock file is
`flock`ed, which the kernel releases when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from monitor.errors import NianbaoError

APP_NAME = "nianbao-daemon"


class DaemonRunning(NianbaoError):
    """Another daemon already serves this database."""


def _key(database: str, schema: str) -> int:
    digest = hashlib.sha256(f"{APP_NAME}:{database}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PgAdvisoryLock:
    def __init__(self, url: str) -> None:
        u = make_url(url)
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        self.engine = create_engine(u, poolclass=NullPool,
                                    connect_args={"application_name": f"{APP_NAME} pid={os.getpid()}"})
        self.conn: Any = None
        self.key = 0

    def acquire(self) -> PgAdvisoryLock:
        conn = self.engine.connect()
        database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
        self.key = _key(database, schema)
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        conn.commit()
        if not got:
            holder = conn.execute(text(
                "SELECT a.application_name, a.client_addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND "
                "((l.classid::bigint << 32) | l.objid::bigint) = (:k)::bigint"), {"k": self.key}).first()
            conn.close()
            self.engine.dispose()
            who = f"（{holder[0]}{' @ ' + str(holder[1]) if holder and holder[1] else ''}）" if holder else ""
            raise DaemonRunning(f"另一个 nianbao daemon 已在使用这个数据库{who}；一个数据库只能运行一个守护进程",
                                source=f"PostgreSQL {database} schema {schema}")
        self.conn = conn
        return self

    def alive(self) -> bool:
        try:
            self.conn.execute(text("SELECT 1"))
            self.conn.commit()
            return True
        except Exception:  # noqa: BLE001
            return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self.conn.commit()
            except Exception:  # noqa: BLE001 - a lost connection has released it already
                pass
            self.conn.close()
            self.conn = None
        self.engine.dispose()


class FileLock:
    """`<database file>.daemon.lock`, holding the daemon's pid."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".daemon.lock")
        self.fd: int | None = None

    def acquire(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise DaemonRunning(f"另一个 nianbao daemon 已在使用这个数据库（进程 {pid or '?'}）；"
                                "一个数据库只能运行一个守护进程", source=str(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        os.fsync(fd)
        self.fd = fd
        return self

    def alive(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None


def database_lock(database_url: str) -> PgAdvisoryLock | FileLock:
    u = make_url(database_url)
    backend = u.get_backend_name()
    if backend == "postgresql":
        return PgAdvisoryLock(database_url)
    if backend == "sqlite" and u.database and u.database != ":memory:":
        return FileLock(Path(u.database).resolve())
    raise NianbaoError(f"the daemon needs PostgreSQL or a SQLite file, not {database_url!r}")


def acquire(database_url: str) -> PgAdvisoryLock | FileLock:
    return database_lock(database_url).acquire()


def daemon_running(database_url: str) -> bool:
    """Whether a daemon holds the database now (tries the lock and lets it go at once)."""
    try:
        acquire(database_url).release()
    except DaemonRunning:
        return True
    return False


__all__ = ["DaemonRunning", "acquire", "daemon_running", "database_lock"]
