"""A small county for the web tests: reports ingested through the real pipeline (one with a
broken table relation, one changed after publication, one late), crawl runs and the deadline
sweep, so every state and page has real data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.sim.reportgen import make_spec, render
from monitor.clock import SHANGHAI, FixedClock
from monitor.deadlines import sweep
from monitor.pipeline import ingest_bytes
from monitor.profiles import load_profile, sync_profiles
from storage import repo
from storage.blobs import BlobStore
from storage.db import session_factory

# the web pages show a body that never published, too
DEPARTMENT = """
[[bodies]]
name = "汶上县财政局"
kind = "department"
"""
NOW = datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI)
CODE = "370830"


def seed(engine: Any, tmp: Path, county_profile: str) -> dict[str, Any]:
    """Fill a migrated database with the county of `county_profile` (the conftest fixture) and
    DEPARTMENT; returns the session factory, clock and what the tests look for."""
    profile = tmp / "wenshang.toml"
    profile.write_text(county_profile + DEPARTMENT, encoding="utf-8")
    sf = session_factory(engine)
    with sf() as s, s.begin():
        sync_profiles(s, [load_profile(profile)])
    blobs = BlobStore(tmp / "blobs")
    clock = FixedClock(datetime(2023, 1, 20, 9, tzinfo=SHANGHAI))

    def ingest(seed_: int, entity: str, year: int, published: str, variants: tuple[str, ...] = ()) -> Any:
        spec = make_spec(seed_, entity=entity, year=year, variants=variants,
                         entity_kind="county_gov" if "县人民政府" in entity else "township")
        return ingest_bytes(sf, blobs, render(spec, "html"), county_code=CODE, filename=f"{entity}-{year}.html",
                            entity=entity, year=year, published_at=published, clock=clock)

    ingest(3, "刘楼镇人民政府", 2021, "2022-02-10")
    broken = ingest(5, "刘楼镇人民政府", 2022, "2023-01-20", ("broken_arith:ARITH-002",))
    clock.set(datetime(2023, 3, 1, 9, tzinfo=SHANGHAI))
    changed = ingest(6, "刘楼镇人民政府", 2022, "2023-01-20", ("broken_arith:ARITH-002",))
    ingest(7, "汶上县人民政府", 2022, "2023-03-20")
    with sf() as s, s.begin():
        for day, status in ((1, "ok"), (10, "blocked"), (14, "ok")):
            at = datetime(2024, 3, day, 1, tzinfo=UTC)
            run = repo.create_crawl_run(s, CODE, "schedule", now=at)
            repo.finish_crawl_run(s, run.id, status, {"pages": 12 + day, "fetched": 3, "blocked": 5 if status == "blocked" else 0,
                                                      "failed": 1}, now=at.replace(hour=2))
    clock.set(NOW)
    for year in (2021, 2022, 2023):
        sweep(sf, clock, year)
    return {"sf": sf, "clock": clock, "blobs": blobs, "broken": broken, "changed": changed}
