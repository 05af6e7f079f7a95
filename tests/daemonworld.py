"""A daemon process on a simulated world, for the daemon's tests and bench/soak.py.

`DaemonWorld(tmp, clock)` holds the simulator (a real HTTP server on 127.0.0.1 whose clock is the
daemon's accelerated clock), the county profiles, `nianbao.toml`, and starts `nianbao daemon`
processes on them (`start()` → `DaemonProc`), with their log (one line per event) in a file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import tomli_w

from crawler.sim.server import SimServer
from crawler.sim.world import SimWorld
from monitor.clock import AcceleratedClock

ROOT = Path(__file__).resolve().parents[1]
FAST_CRAWL = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1}


class DaemonProc:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log
        self.port: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def lines(self) -> list[str]:
        return self.log.read_text("utf-8", "replace").splitlines() if self.log.exists() else []

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.lines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def wait_for(self, pattern: str, timeout: float = 120.0, count: int = 1) -> re.Match[str]:
        """The `count`-th log line matching `pattern` (a regular expression)."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            found = [m for m in (rx.search(line) for line in self.lines()) if m]
            if len(found) >= count:
                return found[count - 1]
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}) before {pattern!r}:\n"
                                     + "\n".join(self.lines()[-30:]))
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in the daemon's log:\n" + "\n".join(self.lines()[-30:]))
            time.sleep(0.1)

    def started(self, timeout: float = 120.0) -> DaemonProc:
        m = self.wait_for(r'"message": "daemon started".*', timeout)
        event = json.loads(m.string)
        if event.get("http"):
            self.port = int(str(event["http"]).rsplit(":", 1)[1])
        return self

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 120.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


class DaemonWorld:
    def __init__(self, root: Path, clock: AcceleratedClock, *, database_url: str | None = None, seed: int = 1) -> None:
        self.root = root
        self.clock = clock
        self.world = SimWorld(seed=seed, clock=clock)  # type: ignore[arg-type]
        self.server = SimServer(self.world, log_requests=False)
        self.counties_dir = root / "counties"
        self.data_dir = root / "data"
        self.counties_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite+pysqlite:///{self.data_dir / 'nianbao.db'}"
        self.config = root / "nianbao.toml"
        self.procs: list[DaemonProc] = []
        self.settings: dict[str, Any] = {
            "schedule": {"misfire_grace_seconds": 86400},
            "daemon": {"http": "127.0.0.1:0", "poll_seconds": 0.3, "outbox_seconds": 0.5,
                       "stop_grace_seconds": 5, "crawl_settings": FAST_CRAWL},
        }

    def __enter__(self) -> DaemonWorld:
        self.server.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        for p in self.procs:
            p.kill()
        self.server.stop()

    def write_profile(self, code: str) -> Path:
        profile = self.world.profile(code, self.server.base_url(code))
        path = self.counties_dir / f"{code}.toml"
        path.write_text(tomli_w.dumps(profile), encoding="utf-8")
        return path

    def write_config(self, **sections: dict[str, Any]) -> None:
        for name, values in sections.items():
            self.settings.setdefault(name, {}).update(values)
        self.config.write_text(tomli_w.dumps(self.settings), encoding="utf-8")

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
        env.update({"PYTHONPATH": str(ROOT), "NIANBAO_DATABASE_URL": self.database_url,
                    "NIANBAO_DATA_DIR": str(self.data_dir), "NIANBAO_COUNTIES_DIR": str(self.counties_dir),
                    "NIANBAO_CLOCK": self.clock.to_env(), "PYTHONUNBUFFERED": "1"})
        env.update(extra)
        return env

    def start(self, *args: str, name: str = "daemon", env: dict[str, str] | None = None) -> DaemonProc:
        if not self.config.exists():
            self.write_config()
        log = self.root / f"{name}-{len(self.procs)}.log"
        out = open(log, "wb")  # noqa: SIM115 - the child holds it
        proc = subprocess.Popen([sys.executable, "-c", "from monitor.cli import main; main()", "daemon",
                                 "--config", str(self.config), "--log-format", "json", *args],
                                stdout=out, stderr=subprocess.STDOUT, env=env or self.env(), cwd=self.root)
        out.close()
        p = DaemonProc(proc, log)
        self.procs.append(p)
        return p

    def session_factory(self) -> Any:
        from storage.db import make_engine, session_factory

        self._engine = getattr(self, "_engine", None) or make_engine(self.database_url)
        return session_factory(self._engine)

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "from monitor.cli import main; main()", *args],
                              env=self.env(NIANBAO_CONFIG=str(self.config)), cwd=self.root, capture_output=True,
                              text=True, timeout=timeout)


def process_group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies waiting for a reaper do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
