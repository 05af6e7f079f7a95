"""The service layer (monitor.jobs): one settings object reaches every path, one crawl per county,
queued runs, stale runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

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
    assert {f.occurrence for f in _open(custom, code, "TEXT-003")} == {2}
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
