"""The crawl child of the local crawl executor: `python -m monitor.crawljob RUN_ID`.

Runs one queued crawl run: marks it running, crawls the county's portals (the Scrapy child of
crawler/runner.py), runs the monitor pipeline on what it fetched, and prints one JSON line
`{"event": "summary", ...}` on stdout. Settings come from the environment (`NIANBAO_CONFIG`,
`NIANBAO_*`), the clock from `NIANBAO_CLOCK`. Exit status 0 when the run was crawled (whatever
its status), 3 when the run was not queued (someone else took it), 1 on an error (the run is
marked failed).

The executor makes this process the leader of a new process group; a watchdog thread kills the
group (this process and the Scrapy grandchild) when the daemon that started it is gone, so that
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


def crawl_settings_overrides(settings: Any) -> dict[str, Any] | None:
    return dict(settings.daemon.crawl_settings) or None


def run_queued(run_id: int, settings: Any, clock: Any) -> dict[str, Any] | None:
    """Crawl and process the queued run; None when it is not queued any more."""
    from crawler.runner import CountyJob, profile_dict, run_crawls
    from monitor.pipeline import process_run
    from monitor.profiles import load_profiles
    from storage.db import session_factory
    from storage.models import CrawlRun
    from storage.repo import finish_crawl_run, start_crawl_run

    engine = settings.engine()
    sf = session_factory(engine)
    try:
        with sf() as s, s.begin():
            run = s.get(CrawlRun, run_id)
            if run is None or run.status != "queued":
                return None
            code = run.county_code
            start_crawl_run(s, run_id, now=clock.now())
        profile = next((p for p in load_profiles(settings.counties_dir) if p.code == code), None)
        if profile is None:
            with sf() as s, s.begin():
                finish_crawl_run(s, run_id, "failed", {}, f"no county profile for {code} in {settings.counties_dir}",
                                 now=clock.now())
            return {"run_id": run_id, "county": code, "status": "failed", "error": "no county profile"}
        result = run_crawls([CountyJob(profile_dict(profile), run_id)], db_url=settings.database_url,
                            data_dir=settings.data_dir, contact_url=settings.user_agent_contact,
                            settings=crawl_settings_overrides(settings))[0]
        outcome = process_run(sf, settings.blob_store(), run_id, clock, policy=settings.policy)
        st = result.stats
        return {"run_id": run_id, "county": code, "status": result.status, "error": result.error,
                "pages": st.get("pages", 0), "blocked": st.get("blocked", 0), "failed": st.get("failed", 0),
                "documents": {k: st.get(k, 0) for k in ("new", "changed", "unchanged")},
                "ingested": len(outcome.outcomes),
                "findings": sum(len(o.findings) for o in outcome.outcomes)}
    finally:
        engine.dispose()


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
