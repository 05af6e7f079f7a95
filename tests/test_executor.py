"""The local crawl executor: a cap on concurrent crawls, one per county, the time limit stops the
whole process group (the child and what it started) and marks the run."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from monitor.executor import CrawlOutcome, LocalProcessExecutor
from tests.daemonworld import process_group_alive

ROOT = Path(__file__).resolve().parents[1]


def executor(**kw: object) -> tuple[LocalProcessExecutor, list[tuple[int, str, bool]], list[CrawlOutcome]]:
    marked: list[tuple[int, str, bool]] = []
    finished: list[CrawlOutcome] = []
    ex = LocalProcessExecutor(module="tests.slowcrawl", env={**os.environ, "PYTHONPATH": str(ROOT)},
                              python=sys.executable, stop_wait=1.0,
                              mark_failed=lambda rid, why, requeue: marked.append((rid, why, requeue)),
                              on_finished=finished.append, **kw)  # type: ignore[arg-type]
    return ex, marked, finished


def test_cap_and_one_crawl_per_county() -> None:
    async def main() -> None:
        ex, _marked, _finished = executor(max_concurrent=2, time_limit=60)
        assert ex.submit(1, "990001") and not ex.submit(2, "990001")  # the county is busy
        assert ex.submit(3, "990002") and not ex.submit(4, "990003")  # the cap
        assert sorted(ex.running()) == [1, 3] and ex.free() == 0
        await ex.shutdown(0)
        assert ex.running() == {} and not ex.submit(5, "990004")

    asyncio.run(main())


def test_time_limit_stops_the_process_group_and_marks_the_run() -> None:
    async def main() -> None:
        ex, marked, finished = executor(max_concurrent=1, time_limit=3)
        assert ex.submit(7, "990001")
        while not finished:
            await asyncio.sleep(0.1)
        out = finished[0]
        assert (out.run_id, out.stopped) == (7, "time limit") and out.returncode != 0
        assert marked == [(7, "crawl stopped: time limit", False)]
        assert out.pid and not process_group_alive(out.pid)  # the child and its grandchild

    asyncio.run(main())


def test_a_finished_crawl_hands_back_its_summary() -> None:
    async def main() -> None:
        ex, marked, finished = executor()
        assert ex.submit(0, "990001")
        while not finished:
            await asyncio.sleep(0.1)
        assert finished[0].summary["pages"] == 3 and finished[0].returncode == 0 and marked == []

    asyncio.run(main())


def test_the_base_class_guards_submit_for_every_executor() -> None:
    """The guard (shut down, already running, county busy, full) lives in CrawlExecutor; a start
    that raises leaves nothing running."""
    from monitor.executor import CrawlExecutor, RunningCrawl

    class Recording(CrawlExecutor):
        def __init__(self) -> None:
            super().__init__()
            self.max_concurrent = 2
            self.started: list[tuple[int, str | None]] = []

        def _start(self, crawl: RunningCrawl, trigger: str | None) -> None:
            if crawl.county == "broken":
                raise RuntimeError("broker away")
            self.started.append((crawl.run_id, trigger))

        async def cancel(self, run_id: int, reason: str = "cancelled") -> bool:
            return self._running.pop(run_id, None) is not None

        async def shutdown(self, grace: float) -> None:
            self._closed = True

    async def main() -> None:
        ex = Recording()
        try:
            ex.submit(9, "broken")
            raise AssertionError("the start's error must reach the caller")
        except RuntimeError:
            pass
        assert ex.running() == {} and ex.started_total == 0
        assert ex.submit(1, "990001", "chat") and not ex.submit(1, "990002") and not ex.submit(2, "990001")
        assert ex.submit(3, "990003") and not ex.submit(4, "990004")  # full
        assert ex.started == [(1, "chat"), (3, None)] and ex.started_total == 2 and ex.free() == 0
        await ex.cancel(1)
        assert ex.busy("990003") and not ex.busy("990001") and ex.free() == 1
        await ex.shutdown(0)
        assert not ex.submit(5, "990005") and ex.started_total == 2

    asyncio.run(main())
