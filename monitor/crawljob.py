"""The crawl child of the local crawl executor: `python -m monitor.crawljob RUN_ID`.

Runs one queued crawl run: marks it running, crawls the county's portals (Scrapy, in this very
process: crawler.runner.run_crawls(in_process=True) — this process exists for one crawl, so it
needs no Scrapy child of its own), runs the monitor pipeline on what it fetched, and prints one JSON line
`{"event": "summary", ...}` on stdout. Settings come from the environment (`NIANBAO_CONFIG`,
`NIANBAO_*`), the clock from `NIANBAO_CLOCK`. Exit status 0 when the run was crawled (whatever
its status), 3 when the run was not queued (someone else took it), 1 on an error (the run is
marked failed).

The executor makes this process the leader of a new process group; a watchdog thread kills the
group when the daemon that started it is gone, so that
a SIGKILLed daemon leaves no crawl behind that would finish a run the next daemon re-queued.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

log = logging.getLogger("monitor.crawljob")


def watch_parent(interval: float = 0.5) -> None:
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                try:
                    os.killpg(os.getpgrp(), signal.SIGKILL)
                finally:
                    os._exit(137)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def alert_events(clock: Any) -> Any:
    """The finding-events hook that writes the alert outbox in the same transaction."""
    from notifier.outbox import hook

    return hook(clock)


def run_queued(run_id: int, settings: Any, clock: Any) -> dict[str, Any] | None:
    """Crawl and process the queued run (monitor.jobs.run_queued, alerts written with the findings);
    None when it is not queued any more or its county is being crawled by another process."""
    from monitor.jobs import CrawlInProgress
    from monitor.jobs import run_queued as crawl_queued
    from storage.db import session_factory
    from storage.models import CrawlRun

    engine = settings.engine()
    try:
        with session_factory(engine)() as s:
            run = s.get(CrawlRun, run_id)
            if run is None or run.status != "queued":
                return None
    finally:
        engine.dispose()
    try:
        out = crawl_queued(run_id, settings, clock=clock, on_events=alert_events(clock),
                           crawl_overrides=dict(settings.daemon.crawl_settings) or None, in_process=True)
    except CrawlInProgress as exc:
        log.info("queued run waits", extra={"run_id": run_id, "reason": str(exc)})
        return None
    result, st = out.crawl, out.crawl.stats
    return {"run_id": run_id, "county": result.county_code, "status": result.status, "error": result.error,
            "pages": st.get("pages", 0), "blocked": st.get("blocked", 0), "failed": st.get("failed", 0),
            "documents": {k: st.get(k, 0) for k in ("new", "changed", "unchanged")},
            "ingested": len(out.run.outcomes), "findings": sum(len(o.findings) for o in out.run.outcomes)}


def main(argv: list[str] | None = None) -> int:
    from monitor.clock import clock_from_env
    from monitor.config import load_config

    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m monitor.crawljob RUN_ID", file=sys.stderr)
        return 2
    run_id = int(argv[0])
    if os.getpgrp() == os.getpid():
        watch_parent()
    settings = load_config()
    clock = clock_from_env()
    try:
        summary = run_queued(run_id, settings, clock)
    except Exception as exc:
        log.exception("crawl failed", extra={"run_id": run_id})
        print(json.dumps({"event": "summary", "run_id": run_id, "status": "failed", "error": str(exc)[:500]},
                         ensure_ascii=False), flush=True)
        return 1
    if summary is None:
        print(json.dumps({"event": "summary", "run_id": run_id, "status": "not_queued"}), flush=True)
        return 3
    print(json.dumps({"event": "summary", **summary}, ensure_ascii=False, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
