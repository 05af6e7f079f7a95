"""The service layer (monitor.jobs): one settings object reaches every path, one crawl per county,
queued runs, stale runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import select

from crawler.sim.server import SimServer
from crawler.sim.world import SimWorld
from monitor import jobs
from monitor.clock import SHANGHAI, FixedClock
from monitor.config import load_config
from monitor.status import county_status, overview, report_rows
from storage import repo
from storage.db import session_factory
from storage.models import Finding

BODIES = [("模拟县人民政府办公室", "county_gov"), ("刘楼镇人民政府", "township"), ("白沙乡人民政府", "township")]
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0}


def _settings(tmp_path: Path, db_url: str, **values: object):
    cfg = tmp_path / "nianbao.toml"
    cfg.write_text(tomli_w.dumps({"data_dir": str(tmp_path / "data"), "counties_dir": str(tmp_path / "counties"),
                                  "database_url": db_url, **values}), "utf-8")
    return load_config(cfg, env={})


def _open(settings, code: str, rule: str) -> list[Finding]:
    engine = settings.engine()
    try:
        with session_factory(engine)() as s:
            return list(s.scalars(select(Finding).where(Finding.county_code == code, Finding.rule_id == rule,
                                                        Finding.resolved_at.is_(None))))
    finally:
        engine.dispose()


def _world(code: str) -> SimWorld:
    world = SimWorld(7, FixedClock(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)))
    world.add_county(code, "模拟县", "generic", BODIES, [2025], page_size=20, distractors=False)
    world.populate(code, published_at_fn=lambda body, year: datetime(2026, 1, 10, 9, tzinfo=SHANGHAI))
    return world


def test_every_configured_value_reaches_every_path(tmp_path: Path, db_url: str) -> None:
    """reminder_days, similarity_threshold and crawl_failure_threshold from nianbao.toml, with
    values the defaults would decide otherwise, through crawl → process_run, sweep, revalidate,
    status and export."""
    code = "990031"
    custom = _settings(tmp_path, db_url, reminder_days=60, similarity_threshold=0.05, crawl_failure_threshold=1)
    default = _settings(tmp_path, db_url)
    world = _world(code)
    (tmp_path / "counties").mkdir()
    clock = FixedClock(datetime(2027, 1, 10, 10, tzinfo=SHANGHAI))  # 2026 reports due 01-31: 21 days left
    with SimServer(world) as server:
        (tmp_path / "counties" / f"{code}.toml").write_bytes(tomli_w.dumps(world.profile(code, server.base_url(code))).encode())
        out = jobs.crawl_county(code, custom, trigger="cli", clock=clock, crawl_overrides=FAST)
    assert out.crawl.status == "ok" and len(out.run.outcomes) == 3
    # crawl → pipeline: similarity_threshold (TEXT-003 between bodies of the same year)
    assert _open(custom, code, "TEXT-003")
    # crawl → process_run → deadlines: reminder_days (21 days before the townships' 2026 due date;
    # the county government's, 03-31, is 80 days away)
    assert len(_open(custom, code, "TIME-005")) == 2
    # revalidate: the default threshold resolves TEXT-003, the configured one brings it back
    jobs.revalidate(default, clock=clock)
    assert _open(custom, code, "TEXT-003") == []
    jobs.revalidate(custom, clock=clock)
    # back again: the pairs found at the crawl are reopened (occurrence 2); revalidating every
    # report at once may also find a pair the crawl's order did not compare yet (occurrence 1)
    assert 2 in {f.occurrence for f in _open(custom, code, "TEXT-003")}
    # sweep: reminder_days, and crawl_failure_threshold (one failed scheduled run is enough)
    jobs.sweep(2026, default, clock=clock)
    assert _open(custom, code, "TIME-005") == []
    engine = custom.engine()
    try:
        with session_factory(engine)() as s, s.begin():
            run = repo.create_crawl_run(s, code, "schedule", now=clock.now())
            repo.finish_crawl_run(s, run.id, "failed", {}, "timeout", now=clock.now())
    finally:
        engine.dispose()
    jobs.sweep(None, default, clock=clock)
    assert _open(custom, code, "CRAWL-002") == []
    events = jobs.sweep(2026, custom, clock=clock).events
    assert len(_open(custom, code, "TIME-005")) == 2 and _open(custom, code, "CRAWL-002")
    assert {(e.rule_id, e.kind) for e in events} == {("TIME-005", "reopened"), ("CRAWL-002", "opened")}
    # status and export (the read side): the reminder window
    engine = custom.engine()
    try:
        with session_factory(engine)() as s:
            for policy, state in ((custom.policy, "reminder"), (default.policy, "not_due")):
                st = county_status(s, code, clock, [2026], policy=policy)
                assert sorted(b.cells[2026].state for b in st.bodies) == sorted([state, state, "not_due"])
                rows = report_rows(s, clock, county=code, years=[2026], policy=policy)
                assert sorted(r["state"] for r in rows) == sorted([state, state, "not_due"])
                assert overview(s, clock, 2026, policy=policy)[0][state] >= 2
    finally:
        engine.dispose()


def test_a_lost_write_makes_a_partial_run_and_no_vanish_check(tmp_path: Path, db_url: str) -> None:
    """A batch that fails to store (here: the blob store is unusable) must not leave an `ok` run
    whose vanish check takes the lost links for removed reports (false YOY-005)."""
    code = "990032"
    settings = _settings(tmp_path, db_url)
    world = _world(code)
    (tmp_path / "counties").mkdir()
    clock = FixedClock(datetime(2026, 4, 2, 10, tzinfo=SHANGHAI))
    with SimServer(world) as server:
        (tmp_path / "counties" / f"{code}.toml").write_bytes(tomli_w.dumps(world.profile(code, server.base_url(code))).encode())
        first = jobs.crawl_county(code, settings, clock=clock, crawl_overrides=FAST)
        assert first.crawl.status == "ok" and len(first.run.outcomes) == 3
        for body, _kind in BODIES:
            world.edit(code, body, 2025)  # every report changes: the next crawl fetches them again
        blobs = settings.blobs_dir
        blobs.rename(tmp_path / "blobs-aside")
        blobs.write_bytes(b"not a directory")  # every blob write fails, even as root
        second = jobs.crawl_county(code, settings, clock=clock, full=True,
                                   crawl_overrides={**FAST, "NIANBAO_STORE_BATCH": 1})
    assert second.crawl.stats["store_errors"] > 0, {k: v for k, v in second.crawl.stats.items() if "nianbao" in k}
    assert second.crawl.status == "partial" and "could not be stored" in second.crawl.error
    assert second.run.vanished == 0 and _open(settings, code, "YOY-005") == []


def test_one_crawl_per_county_queued_runs_stale_runs_and_the_crawl_memory(tmp_path: Path, db_url: str) -> None:
    import os
    import socket
    import subprocess
    import sys

    from monitor.status import request_recrawl
    from storage.models import CrawlPage, CrawlRun

    code = "990033"
    settings = _settings(tmp_path, db_url)
    world = _world(code)
    (tmp_path / "counties").mkdir()
    clock = FixedClock(datetime(2026, 4, 2, 10, tzinfo=SHANGHAI))
    engine = settings.engine()
    sf = session_factory(engine)
    try:
        with SimServer(world) as server:
            (tmp_path / "counties" / f"{code}.toml").write_bytes(
                tomli_w.dumps(world.profile(code, server.base_url(code))).encode())
            first = jobs.crawl_county(code, settings, clock=clock, crawl_overrides=FAST)
            assert first.crawl.status == "ok"
            with sf() as s:  # the memory of list pages is in the database, not in files
                assert s.scalars(select(CrawlPage.kind).where(CrawlPage.county_code == code)).all()
            assert not (settings.data_dir / "crawl_state").exists()

            # a run of this live process holds the county: a second crawl is refused
            with sf() as s, s.begin():
                held = repo.create_crawl_run(s, code, "schedule", host=socket.gethostname(), pid=os.getpid()).id
            with pytest.raises(jobs.CrawlInProgress, match="正在抓取"):
                jobs.crawl_county(code, settings, clock=clock, crawl_overrides=FAST)
            # …until its process is gone: the reaper fails it at the next start
            dead = subprocess.Popen([sys.executable, "-c", "pass"])
            dead.wait()
            with sf() as s, s.begin():
                s.get_one(CrawlRun, held).pid = dead.pid
                queued, created = request_recrawl(s, code, "tg:42")
            assert created
            out = jobs.run_queued(queued.id, settings, clock=clock, crawl_overrides=FAST)
            assert out.crawl.run_id == queued.id and out.crawl.status == "ok"
            assert out.crawl.stats.get("not_modified", 0) >= 1  # list validators read back from the database
        with sf() as s:
            stale = s.get_one(CrawlRun, held)
            assert stale.status == "failed" and "stale run" in (stale.error or "")
            run = s.get_one(CrawlRun, queued.id)
            assert (run.status, run.trigger, run.requested_by) == ("ok", "chat", "tg:42")
    finally:
        engine.dispose()


def test_reaper_fails_old_running_runs_of_other_hosts(tmp_path: Path, db_url: str) -> None:
    from storage.db import upgrade
    from storage.models import CrawlRun

    settings = _settings(tmp_path, db_url, limits={"stale_run_minutes": 60})
    engine = settings.engine()
    upgrade(engine)
    sf = session_factory(engine)
    t0 = datetime(2026, 4, 2, 10, tzinfo=SHANGHAI)
    try:
        with sf() as s, s.begin():
            repo.ensure_county(s, "990034", "甲县")
            repo.ensure_county(s, "990035", "乙县")
            old = repo.create_crawl_run(s, "990034", "schedule", now=t0, host="elsewhere", pid=1).id
            fresh = repo.create_crawl_run(s, "990035", "schedule", now=t0, host="elsewhere", pid=1).id
            s.get_one(CrawlRun, fresh).started_at = datetime(2026, 4, 2, 10, 30, tzinfo=SHANGHAI)
        assert jobs.reap_stale_runs(settings, clock=FixedClock(datetime(2026, 4, 2, 11, 10, tzinfo=SHANGHAI))) == [old]
        with sf() as s:
            assert s.get_one(CrawlRun, old).status == "failed" and s.get_one(CrawlRun, fresh).status == "running"
    finally:
        engine.dispose()
