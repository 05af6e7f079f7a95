"""A Celery cluster on a simulated nation, for tests/test_cluster.py and bench/cluster.py.

`ClusterWorld(root, n_counties, database_url, redis_url)` holds the simulator (real HTTP on
127.0.0.1, with its request log), the county profiles and `nianbao.toml` (queues and Redis key
prefixes of its own, so runs sharing one Redis stay apart), starts `nianbao worker` processes
(`start_worker()`), queues runs and sends them through the daemon's `CeleryExecutor` (`crawl()`).
`broker_url` (default: Redis) may be RabbitMQ's amqp://; its queues and exchanges are deleted at
the end. The leases then live in `redis_url` (as `politeness.redis_url`, with limits far above
what a test asks unless `politeness` is given).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from crawler.sim.server import LogRecord, SimServer
from crawler.sim.world import SimWorld
from monitor.clock import SHANGHAI, AcceleratedClock

ROOT = Path(__file__).resolve().parents[1]
FAST_CRAWL = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1, "ROBOTSTXT_OBEY": False,
              "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "RETRY_BACKOFF_BASE": 0.05, "RETRY_BACKOFF_MAX": 0.2}


def amqp_ok(url: str) -> str | None:
    """None when the AMQP broker at `url` accepts a connection, else why not."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc) or type(exc).__name__


def redis_ok(url: str) -> str | None:
    """None when Redis answers PING at `url`, else why not."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)


class WorkerProc:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path, name: str) -> None:
        self.proc, self.log, self.name = proc, log, name

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while "ready." not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.name} did not start:\n{self.text()[-3000:]}")
            time.sleep(0.1)

    def stop(self, timeout: float = 120.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start_worker(root: Path, config: Path, env: dict[str, str], name: str, concurrency: int = 1) -> WorkerProc:
    """`nianbao worker --config CONFIG -n NAME -c CONCURRENCY`, its output in ROOT/<node>.log."""
    log = root / f"{name.split('@')[0]}.log"
    out = open(log, "wb")  # noqa: SIM115 - the child holds it
    proc = subprocess.Popen([sys.executable, "-c", "from monitor.cli import main; main()", "worker",
                             "--config", str(config), "-n", name, "-c", str(concurrency)],
                            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    out.close()
    return WorkerProc(proc, log, name.split("@")[0])


def celery_section(ns: str, broker_url: str, **extra: Any) -> dict[str, Any]:
    """A `[celery]` of queues of its own (`<ns>.crawl`, `<ns>.recrawl`), so that runs sharing one
    broker stay apart; short leases for tests."""
    return {"broker_url": broker_url, "queue": f"{ns}.crawl", "priority_queue": f"{ns}.recrawl",
            "visibility_timeout_seconds": 600, "lease_seconds": 3, **extra}


def cleanup_redis(redis_url: str, ns: str) -> None:
    """The keys of the namespace `ns`: queues, leases, politeness."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for pattern in (f"{ns}*", f"nianbao:lease:{ns}*", f"*{ns}.crawl*", f"*{ns}.recrawl*"):
        for key in client.scan_iter(pattern):
            client.delete(key)
    client.close()


class ClusterWorld:
    def __init__(self, root: Path, n_counties: int, *, database_url: str, redis_url: str,
                 bodies: int = 3, years: tuple[int, ...] = (2024, 2025), seed: int = 3,
                 politeness: dict[str, Any] | None = None, celery: dict[str, Any] | None = None,
                 crawl: dict[str, Any] | None = None, broker_url: str | None = None) -> None:
        self.root = root
        self.clock = AcceleratedClock(datetime(2026, 4, 20, 10, 0, tzinfo=SHANGHAI), 1.0)
        self.world = SimWorld.nation(n_counties, bodies_per_county=bodies, years=years, seed=seed,
                                     clock=self.clock)  # type: ignore[arg-type]
        self.codes = sorted(self.world.counties)
        self.server = SimServer(self.world, log_requests=True)
        self.counties_dir, self.data_dir = root / "counties", root / "data"
        self.counties_dir.mkdir(parents=True, exist_ok=True)
        self.database_url, self.redis_url = database_url, redis_url
        self.broker_url = broker_url or redis_url
        self.ns = f"t{uuid.uuid4().hex[:10]}"
        self.config = root / "nianbao.toml"
        self.settings_dict: dict[str, Any] = {
            "daemon": {"crawl_settings": {**FAST_CRAWL, **(crawl or {})}, "executor": "celery"},
            "celery": celery_section(self.ns, self.broker_url, **(celery or {})),
        }
        if politeness is None and not self.broker_url.startswith(("redis://", "rediss://")):
            politeness = {"rate": 10000.0, "burst": 1000, "concurrency": 1000, "block_backoff_seconds": 0}
        if politeness is not None:
            self.settings_dict["politeness"] = {"redis_url": redis_url, "prefix": f"{self.ns}:polite:", **politeness}
        self.workers: list[WorkerProc] = []

    def __enter__(self) -> ClusterWorld:
        self.server.start()
        for code in self.codes:
            profile = self.world.profile(code, self.server.base_url(code))
            (self.counties_dir / f"{code}.toml").write_text(tomli_w.dumps(profile), encoding="utf-8")
        self.config.write_text(tomli_w.dumps(self.settings_dict), encoding="utf-8")
        return self

    def __exit__(self, *exc: Any) -> None:
        for w in self.workers:
            w.kill()
        self.server.stop()
        self.cleanup_redis()
        if self.broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
            self.cleanup_amqp()

    def cleanup_amqp(self) -> None:
        """This world's queues and exchanges (durable: they outlive the workers)."""
        from kombu import Connection

        with Connection(self.broker_url, connect_timeout=3) as conn:
            for name in (f"{self.ns}.crawl", f"{self.ns}.recrawl"):
                for delete in ("queue_delete", "exchange_delete"):
                    channel = conn.channel()  # a failed delete closes its channel
                    try:
                        getattr(channel, delete)(name)
                    except Exception:  # noqa: BLE001
                        pass
                    finally:
                        try:
                            channel.close()
                        except Exception:  # noqa: BLE001
                            pass

    def cleanup_redis(self) -> None:
        cleanup_redis(self.redis_url, self.ns)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
        env.update({"PYTHONPATH": str(ROOT), "NIANBAO_CONFIG": str(self.config),
                    "NIANBAO_DATABASE_URL": self.database_url, "NIANBAO_DATA_DIR": str(self.data_dir),
                    "NIANBAO_COUNTIES_DIR": str(self.counties_dir), "NIANBAO_CLOCK": self.clock.to_env(),
                    "PYTHONUNBUFFERED": "1"})
        env.update(extra)
        return env

    def settings(self) -> Any:
        from monitor.config import load_config

        saved = dict(os.environ)
        try:
            os.environ.update(self.env())
            return load_config(self.config)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start_worker(self, name: str, concurrency: int = 1) -> WorkerProc:
        w = start_worker(self.root, self.config, self.env(), f"{name}@{self.ns}", concurrency)
        self.workers.append(w)
        return w

    def prepare(self) -> None:
        """Schema and county rows (what the daemon does at its start)."""
        from monitor.profiles import load_profiles, sync_profiles
        from storage.db import make_engine, session_factory, upgrade

        engine = make_engine(self.database_url)
        try:
            upgrade(engine)
            with session_factory(engine)() as s, s.begin():
                sync_profiles(s, load_profiles(self.counties_dir))
        finally:
            engine.dispose()

    def queue_runs(self, codes: list[str], trigger: str = "schedule") -> list[tuple[int, str, str]]:
        from monitor.status import request_recrawl
        from storage.db import make_engine, session_factory

        engine = make_engine(self.database_url)
        out = []
        try:
            with session_factory(engine)() as s, s.begin():
                for code in codes:
                    run, _ = request_recrawl(s, code, "cluster-test", trigger=trigger)
                    out.append((run.id, code, trigger))
        finally:
            engine.dispose()
        return out

    def kill_mid_crawl(self, worker: WorkerProc, county: str, run_id: int) -> dict[str, Any]:
        """The marker of the kill tests: once `county`'s portal has answered a request and run
        `run_id` is running with its crawl process known, SIGKILL `worker`. Returns the crawl
        process's pid (`child`), when the worker died (`at`, monotonic) and how many requests the
        portal had answered (`requests`)."""
        from storage.db import make_engine, session_factory
        from storage.models import CrawlRun

        while not self.server.records(county):
            time.sleep(0.02)
        engine = make_engine(self.database_url)
        try:
            with session_factory(engine)() as s:
                while True:
                    run = s.get(CrawlRun, run_id)
                    if run is not None and run.status == "running" and run.pid:
                        break
                    s.expire_all()
                    time.sleep(0.05)
                child = run.pid
        finally:
            engine.dispose()
        os.kill(worker.pid, signal.SIGKILL)
        worker.proc.wait()
        return {"child": child, "at": time.monotonic(), "requests": len(self.server.records(county))}

    def crawl(self, runs: list[tuple[int, str, str]], *, on_submitted: Any = None, poll: float = 0.2,
              timeout: float = 1800.0) -> list[Any]:
        """Send the runs through the daemon's CeleryExecutor, as the daemon does: no more than its
        `max_in_flight` jobs in the broker at once, the next ones as results come back; the outcomes
        as they come back (an AssertionError when not all came back within `timeout` seconds)."""
        from monitor.cluster import CeleryExecutor

        settings = self.settings()
        outcomes: list[Any] = []
        pending = list(reversed(runs))

        async def main() -> None:
            ex = CeleryExecutor(settings, on_finished=outcomes.append, poll_seconds=poll)

            def fill() -> None:
                while pending and ex.free() > 0:
                    assert ex.submit(*pending.pop())

            fill()
            if on_submitted is not None:
                await asyncio.to_thread(on_submitted)
            deadline = time.monotonic() + timeout
            while len(outcomes) < len(runs):
                if time.monotonic() > deadline:
                    await ex.shutdown(0)
                    raise AssertionError(f"{len(outcomes)} of {len(runs)} jobs came back in {timeout} s:\n"
                                         + "\n".join(w.text()[-2000:] for w in self.workers))
                await asyncio.sleep(poll)
                fill()
            await ex.shutdown(0)

        asyncio.run(main())
        return outcomes


def max_overlap(records: list[LogRecord]) -> int:
    """The most requests in flight at one instant (a record is in flight from `at` to `at + delay`)."""
    events = sorted([(r.at, 1) for r in records] + [(r.at + r.delay, -1) for r in records],
                    key=lambda e: (e[0], e[1]))
    best = cur = 0
    for _t, d in events:
        cur += d
        best = max(best, cur)
    return best


def max_in_window(records: list[LogRecord], window: float) -> int:
    """The most requests answered in any `window` seconds."""
    times = sorted(r.at for r in records)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best
