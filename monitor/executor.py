"""Where a crawl runs: the *crawl executor* interface, and its local implementation.

The daemon hands queued crawl runs to an executor by id and never waits on a crawl itself:

    executor.submit(run_id, county)   → False when the executor is full, shut down or the county is busy
    executor.running()                → {run_id: RunningCrawl}
    await executor.cancel(run_id)     → stop one crawl (its run is marked failed)
    await executor.shutdown(grace)    → no new crawls; running ones finish or are stopped

`LocalProcessExecutor` runs each crawl as a child process (`python -m monitor.crawljob RUN_ID`,
which crawls with Scrapy in that process and then runs the monitor pipeline), at most
`max_concurrent` at a time, each stopped after `time_limit` seconds. The child is the leader of
its own process group, so stopping it stops whatever it started too; the child stops itself when
the daemon dies (see monitor.crawljob). A distributed executor (workers reading a queue) keeps the
same interface, so the scheduler does not change: `monitor.cluster.CeleryExecutor` (`executor =
"celery"` in [daemon], or `nianbao daemon --executor celery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# (run_id, reason, requeue) → marks a run that did not finish by itself; runs in a thread.
MarkFailed = Callable[[int, str, bool], None]
NOT_QUEUED = 3  # monitor.crawljob's exit status when the run was not queued any more
OnFinished = Callable[["CrawlOutcome"], Awaitable[None] | None]


@dataclass(slots=True)
class RunningCrawl:
    run_id: int
    county: str
    started: float  # time.monotonic()
    pid: int | None = None


@dataclass(slots=True)
class CrawlOutcome:
    run_id: int
    county: str
    returncode: int | None
    summary: dict[str, Any] = field(default_factory=dict)
    stopped: str | None = None  # why the executor stopped it: "time limit", "shutdown", "cancelled"
    seconds: float = 0.0
    pid: int | None = None  # the child's pid (its process group's id)


class CrawlExecutor(ABC):
    """Runs crawl runs that already exist in the database (status `queued`).

    The base keeps the running crawls (`_running`) and the submit guard; an implementation starts
    the crawl in `_start` and takes it out of `_running` when it ends."""

    max_concurrent: int = 1
    _closed: bool = False

    def __init__(self, on_finished: OnFinished | None = None) -> None:
        self.on_finished = on_finished
        self._running: dict[int, RunningCrawl] = {}
        self._closed = False
        self.finished: list[CrawlOutcome] = []  # the last outcomes, for /healthz
        self.started_total = 0

    def submit(self, run_id: int, county: str, trigger: str | None = None) -> bool:
        """Start the run; False (and nothing started) when full, shut down or the county is busy.
        `trigger` (the run's) lets a distributed executor put manual recrawls ahead."""
        if self._closed or run_id in self._running or self.busy(county) or self.free() == 0:
            return False
        crawl = self._running[run_id] = RunningCrawl(run_id, county, time.monotonic())
        try:
            self._start(crawl, trigger)
        except BaseException:
            self._running.pop(run_id, None)
            raise
        self.started_total += 1
        return True

    @abstractmethod
    def _start(self, crawl: RunningCrawl, trigger: str | None) -> None:
        """Start `crawl`, already in `_running` (on the event loop's thread); raising takes it out."""

    def running(self) -> dict[int, RunningCrawl]:
        return dict(self._running)

    @abstractmethod
    async def cancel(self, run_id: int, reason: str = "cancelled") -> bool: ...

    @abstractmethod
    async def shutdown(self, grace: float) -> None: ...

    def free(self) -> int:
        return max(0, self.max_concurrent - len(self.running()))

    def busy(self, county: str) -> bool:
        return any(r.county == county for r in self.running().values())

    async def _report(self, outcome: CrawlOutcome) -> None:
        """A crawl ended: keep its outcome (the last 20, for /healthz) and tell `on_finished`."""
        self.finished = (self.finished + [outcome])[-20:]
        if self.on_finished is None:
            return
        try:
            result = self.on_finished(outcome)
            if asyncio.iscoroutine(result):
                await result
        except Exception:  # noqa: BLE001
            log.exception("on_finished failed", extra={"run_id": outcome.run_id})


class LocalProcessExecutor(CrawlExecutor):
    def __init__(self, *, max_concurrent: int = 2, time_limit: float = 3600.0,
                 env: Mapping[str, str] | None = None, mark_failed: MarkFailed | None = None,
                 on_finished: OnFinished | None = None, python: str | None = None,
                 module: str = "monitor.crawljob", stop_wait: float = 5.0) -> None:
        super().__init__(on_finished)
        self.max_concurrent = max(1, int(max_concurrent))
        self.time_limit = float(time_limit)
        self.env = dict(os.environ if env is None else env)
        self.mark_failed = mark_failed
        self.python = python or sys.executable
        self.module = module
        self.stop_wait = stop_wait
        self._tasks: dict[int, asyncio.Task[CrawlOutcome]] = {}
        self._procs: dict[int, asyncio.subprocess.Process] = {}
        self._stop_reason: dict[int, str] = {}

    def _start(self, crawl: RunningCrawl, trigger: str | None) -> None:
        self._tasks[crawl.run_id] = asyncio.get_running_loop().create_task(
            self._run(crawl.run_id, crawl.county), name=f"crawl-{crawl.run_id}")

    async def _run(self, run_id: int, county: str) -> CrawlOutcome:
        started = time.monotonic()
        outcome = CrawlOutcome(run_id, county, None)
        try:
            proc = await asyncio.create_subprocess_exec(
                self.python, "-m", self.module, str(run_id), stdout=asyncio.subprocess.PIPE,
                stdin=asyncio.subprocess.DEVNULL, env=self.env, start_new_session=True)
            self._procs[run_id] = proc
            self._running[run_id].pid = outcome.pid = proc.pid
            log.info("crawl started", extra={"run_id": run_id, "county": county, "pid": proc.pid})
            try:
                outcome.summary = await asyncio.wait_for(self._read_summary(proc), self.time_limit)
            except TimeoutError:
                self._stop_reason.setdefault(run_id, "time limit")
                await self._stop(proc)
            outcome.returncode = await proc.wait()
        except Exception as exc:  # noqa: BLE001 - a crawl that cannot start is a failed run, not a dead daemon
            log.exception("crawl could not run", extra={"run_id": run_id, "county": county})
            outcome.summary = {"error": str(exc)}
        finally:
            self._procs.pop(run_id, None)
        outcome.stopped = self._stop_reason.pop(run_id, None)
        outcome.seconds = time.monotonic() - started
        if outcome.returncode not in (0, NOT_QUEUED) and self.mark_failed is not None:
            reason = (f"crawl stopped: {outcome.stopped}" if outcome.stopped
                      else f"crawl process exited with {outcome.returncode}")
            try:
                await asyncio.to_thread(self.mark_failed, run_id, reason, outcome.stopped == "shutdown")
            except Exception:  # noqa: BLE001
                log.exception("could not mark the run failed", extra={"run_id": run_id})
        self._running.pop(run_id, None)
        self._tasks.pop(run_id, None)
        log.info("crawl finished", extra={"run_id": run_id, "county": county, "exit": outcome.returncode,
                                          "status": outcome.summary.get("status"), "stopped": outcome.stopped,
                                          "seconds": round(outcome.seconds, 2)})
        await self._report(outcome)
        return outcome

    @staticmethod
    async def _read_summary(proc: asyncio.subprocess.Process) -> dict[str, Any]:
        """The child's last JSON line on stdout (its summary)."""
        summary: dict[str, Any] = {}
        assert proc.stdout is not None
        async for raw in proc.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(raw)
                if isinstance(event, dict) and event.get("event") == "summary":
                    summary = event
        await proc.wait()
        return summary

    async def _stop(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM to the child's process group, SIGKILL after `stop_wait` seconds."""
        for sig, wait in ((signal.SIGTERM, self.stop_wait), (signal.SIGKILL, None)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            if wait is None:
                break
            try:
                await asyncio.wait_for(proc.wait(), wait)
                break
            except TimeoutError:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the grandchildren, if the child left any

    async def cancel(self, run_id: int, reason: str = "cancelled") -> bool:
        proc = self._procs.get(run_id)
        task = self._tasks.get(run_id)
        if proc is None or task is None:
            return False
        self._stop_reason[run_id] = reason
        await self._stop(proc)
        await asyncio.gather(task, return_exceptions=True)
        return True

    async def shutdown(self, grace: float) -> None:
        """No new crawls; the running ones get `grace` seconds to finish, then are stopped (their
        runs marked failed and queued again, so that the next start crawls them)."""
        self._closed = True
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace)
        if pending:
            await asyncio.gather(*(self.cancel(rid, "shutdown") for rid in list(self._procs)),
                                 return_exceptions=True)
            await asyncio.gather(*pending, return_exceptions=True)


__all__ = ["CrawlExecutor", "LocalProcessExecutor", "RunningCrawl", "CrawlOutcome"]
