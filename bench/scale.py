"""Scale benchmark: a synthetic nation, the daily deadline sweep and one county's status.

    .venv/bin/python bench/scale.py                       # SQLite and PostgreSQL, 2,800 × 45 × 6
    .venv/bin/python bench/scale.py --backend sqlite --counties 300

The nation — counties × bodies × years (2019…2024) — is bulk-loaded (driver executemany on SQLite,
COPY on PostgreSQL; no ORM objects): counties,
bodies (1 county government, departments, townships, streets), reports with one document and one
current version each (most published on time, some late, some missing), a few doc findings per
report, and a season of crawl runs (some counties blocked), and the crawler's memory of URLs
(`seen_urls`: one row per document, ingested, and two list pages per body; a few counties with
documents waiting to be ingested). Then, with the clock at 2025-02-15:
- the deadline sweep for report year 2024 over every county, first (creates the findings) and
  again (the daily steady state: findings seen again, none new);
- `status` of single counties (median and worst of 25);
- the sweep's crawl-state query of documents waiting to be ingested (`ingesting_counties`) with
  the partial index of migration 0007 and, for comparison, with that index dropped.
Targets: sweep ≤ 10 s, county status ≤ 50 ms. PostgreSQL runs in a throw-away schema. Wall
clock and this process's CPU time are both printed: on a shared machine the difference is time
spent waiting for a core (and, for PostgreSQL, the server's own work).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text  # noqa: E402

from monitor.clock import SHANGHAI, FixedClock  # noqa: E402
from monitor.deadlines import ingesting_counties, ingesting_query, sweep  # noqa: E402
from monitor.status import county_status  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    County,
    CrawlRun,
    Document,
    Entity,
    Finding,
    Report,
    ReportVersion,
    SeenUrl,
)

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
YEARS = list(range(2019, 2025))
SWEEP_YEAR = 2024
NOW = datetime(2025, 2, 15, 7, 0, tzinfo=SHANGHAI)
BATCH = 20_000


def _kinds(n: int) -> list[str]:
    streets = max(1, n // 10)
    towns = (n - 1 - streets) // 2
    return ["county_gov"] + ["township"] * towns + ["street"] * streets + \
        ["department"] * (n - 1 - towns - streets)


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):  # the format SQLAlchemy's SQLite DateTime reads back (naive UTC)
        return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return int(v)
    return v


def _pg_value(v: Any) -> Any:
    return json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v


def _flush(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk insert without ORM objects: the driver's executemany on SQLite, COPY on PostgreSQL.
    Values are already in the driver's form (see `_sqlite_value` / `_pg_value`)."""
    if not rows:
        return
    table = model.__table__
    cols = list(rows[0])
    if conn.dialect.name == "sqlite":
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        conn.exec_driver_sql(sql, [tuple(r.values()) for r in rows])
    else:
        cur = conn.connection.driver_connection.cursor()
        with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r.values()))
    rows.clear()


def load(engine: Engine, counties: int, bodies: int, seed: int = 1) -> dict[str, int]:
    rng = random.Random(seed)
    kinds = _kinds(bodies)
    conv = functools.lru_cache(maxsize=4096)(_sqlite_value if engine.dialect.name == "sqlite" else _pg_value)

    def cv(v: Any) -> Any:  # dicts and lists are not hashable: convert them uncached
        return (_sqlite_value if engine.dialect.name == "sqlite" else _pg_value)(v) \
            if isinstance(v, dict | list) else conv(v)
    counts = dict.fromkeys(("counties", "entities", "reports", "documents", "versions", "findings",
                            "crawl_runs", "seen_urls"), 0)
    eid = rid = did = 0
    seen_at = datetime(2020, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        crows = [{"code": f"{100000 + i:06d}", "name": f"第{i}县", "province": f"省{i % 31}",
                  "city": f"市{i % 300}", "deadlines": None} for i in range(counties)]
        empty_d, empty_l, seen_v = cv({}), cv([]), cv(seen_at)
        _flush(conn, County, list(crows))
        counts["counties"] = counties
        ents: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        reps: list[dict[str, Any]] = []
        vers: list[dict[str, Any]] = []
        finds: list[dict[str, Any]] = []
        runs: list[dict[str, Any]] = []
        seen: list[dict[str, Any]] = []
        for c in crows:
            code = c["code"]
            blocked = rng.random() < 0.03
            waiting = rng.random() < 0.01  # a crawl whose documents the pipeline has not ingested yet
            for day in (3, 7, 10, 14):  # the season's crawls; some counties blocked since February
                at = datetime(2025, 2, day, 1, tzinfo=UTC)
                status = "blocked" if blocked and day > 1 else "ok"
                runs.append({"county_code": code, "trigger": "schedule", "queued_at": cv(at),
                             "started_at": cv(at), "finished_at": cv(at + timedelta(minutes=5)),
                             "status": status, "stats": empty_d, "error": None})
            for b in range(bodies):
                eid += 1
                kind = kinds[b]
                ents.append({"id": eid, "county_code": code, "name": f"{code}-{kind}-{b}", "kind": kind,
                             "aliases": empty_l, "first_year": None, "retired_year": None,
                             "discovered": cv(False)})
                for page in (1, 2):  # the body's list pages
                    seen.append(_seen(code, f"http://{code}.gov.cn/list/{b}/{page}.html", None, None, seen_v))
                for y in YEARS:
                    p = rng.random()
                    if y == SWEEP_YEAR and p < 0.12 or p < 0.03:
                        continue  # missing
                    due = date(y + 1, 3 if kind == "county_gov" else 1, 31)
                    late = rng.random() < 0.08
                    pub = due + timedelta(days=rng.randint(1, 40) if late else -rng.randint(0, 25))
                    if y == SWEEP_YEAR and pub > NOW.date():
                        continue
                    did += 1
                    rid += 1
                    sha = hashlib.sha256(f"doc{did}".encode()).hexdigest()
                    docs.append({"id": did, "sha256": sha, "url": f"http://{code}.gov.cn/{y}/{b}.html",
                                 "final_url": None, "content_type": "text/html", "size": 40_000,
                                 "first_seen_at": seen_v, "last_seen_at": seen_v, "etag": None,
                                 "last_modified": None, "page_published_at": cv(pub),
                                 "published_source": "page_meta", "listing_title": None,
                                 "listing_date": cv(pub), "body_name": None, "crawl_run_id": None})
                    reps.append({"id": rid, "entity_id": eid, "year": y, "first_seen_at": seen_v,
                                 "published_at": cv(pub), "published_source": "page_meta"})
                    ingested = None if waiting and y == SWEEP_YEAR else did
                    seen.append(_seen(code, docs[-1]["url"], did, ingested, seen_v))
                    vers.append({"report_id": rid, "document_id": did, "template": "2021" if y >= 2021 else "2019",
                                 "parsed": cv({"year": y}), "parser_version": "1", "parsed_at": seen_v,
                                 "is_current": cv(True)})
                    if rng.random() < 0.3:
                        finds.append({"fingerprint": hashlib.sha256(f"f{rid}".encode()).hexdigest()[:32],
                                      "rule_id": "ARITH-001", "severity": "error", "scope": "doc",
                                      "county_code": code, "entity_id": eid, "year": y, "report_id": rid,
                                      "report_version_id": None, "message": "m", "details": empty_d,
                                      "first_seen_at": seen_v, "last_seen_at": seen_v, "resolved_at": None})
            if len(docs) >= BATCH:
                for model, rows in ((Entity, ents), (Document, docs), (Report, reps), (ReportVersion, vers),
                                    (Finding, finds), (CrawlRun, runs), (SeenUrl, seen)):
                    counts[_key(model)] += len(rows)
                    _flush(conn, model, rows)
        for model, rows in ((Entity, ents), (Document, docs), (Report, reps), (ReportVersion, vers),
                            (Finding, finds), (CrawlRun, runs), (SeenUrl, seen)):
            counts[_key(model)] += len(rows)
            _flush(conn, model, rows)
        if engine.dialect.name == "postgresql":
            for table in ("entities", "documents", "reports", "report_versions", "findings", "crawl_runs",
                          "seen_urls"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return counts


def _key(model: Any) -> str:
    return {"entities": "entities", "documents": "documents", "reports": "reports",
            "report_versions": "versions", "findings": "findings", "crawl_runs": "crawl_runs",
            "seen_urls": "seen_urls"}[model.__tablename__]


def _seen(code: str, url: str, doc: int | None, ingested: int | None, at: Any) -> dict[str, Any]:
    return {"county_code": code, "url": url, "document_id": doc, "ingested_document_id": ingested,
            "ingest_error": None, "etag": None, "last_modified": None, "listing_title": None,
            "listing_date": None, "first_seen_at": at, "last_seen_at": at, "first_run_id": None,
            "last_run_id": None}


@contextlib.contextmanager
def nation_store(backend: str, schema: str) -> Iterator[Engine]:
    """An empty, migrated store: a SQLite file in a temporary folder, or the PostgreSQL schema
    `schema` (dropped before and after)."""
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            engine = make_engine(f"sqlite+pysqlite:///{Path(tmp) / 'nation.db'}")
        else:
            _drop_schema(schema, create=True)
            engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()
            if backend == "postgres":
                _drop_schema(schema)


def _drop_schema(schema: str, create: bool = False) -> None:
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            if create:
                c.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        admin.dispose()


def _pending_query(engine: Engine, sf: Any) -> tuple[list[float], str, int]:
    """Wall times (ms) of 7 runs of the crawl-state pending query, its plan, the counties found."""
    times, found = [], 0
    for _ in range(7):
        t0 = time.perf_counter()
        with sf() as s:
            found = len(ingesting_counties(s))
        times.append((time.perf_counter() - t0) * 1000)
    with sf() as s:
        sql = str(ingesting_query().compile(engine))
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        plan = " / ".join(str(r[-1]).strip() for r in s.execute(text(explain + sql)))
    return times, plan, found


def bench_pending(backend: str, engine: Engine, sf: Any) -> None:
    """The sweep's crawl-state query with the partial index ix_seen_urls_pending, and without."""
    from storage.models import SEEN_PENDING

    for label in ("with ix_seen_urls_pending", "without it (dropped)"):
        times, plan, found = _pending_query(engine, sf)
        print(f"[{backend}] crawl-state query (documents waiting, whole nation) {label}: "
              f"median {statistics.median(times):.2f} ms, best {min(times):.2f} ms, worst {max(times):.2f} ms "
              f"({found} counties found; plan: {plan[:160]})")
        if label.startswith("with "):
            with engine.begin() as c:
                c.execute(text("DROP INDEX ix_seen_urls_pending"))
            engine.dispose()  # new connections: SQLite's statement cache keeps the old plan
    with engine.begin() as c:  # the store as the migration left it
        c.execute(text(f"CREATE INDEX ix_seen_urls_pending ON seen_urls (county_code) WHERE {SEEN_PENDING.text}"))


def bench(backend: str, counties: int, bodies: int) -> None:
    with nation_store(backend, "bench_scale") as engine:
        t0 = time.perf_counter()
        counts = load(engine, counties, bodies)
        load_s = time.perf_counter() - t0
        print(f"[{backend}] loaded in {load_s:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        sf = session_factory(engine)
        clock = FixedClock(NOW)
        for label in ("first sweep", "daily sweep"):
            t0, c0 = time.perf_counter(), time.process_time()
            r = sweep(sf, clock, SWEEP_YEAR)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            states = ", ".join(f"{k} {v:,}" for k, v in sorted(r.states.items()))
            print(f"[{backend}] {label} {SWEEP_YEAR}: {dt:.2f} s wall, {cpu:.2f} s CPU of this process  "
                  f"({counts['entities']:,} bodies; evaluated "
                  f"{r.cells:,} that can fire: {states}; new {r.new:,}, resolved {r.resolved:,})  target ≤ 10 s")
            clock.advance(days=1)
        rng = random.Random(7)
        t0 = time.perf_counter()
        with sf() as s:  # the first call of a process compiles the statements
            county_status(s, f"{100000 + counties - 1:06d}", clock)
        first_ms = (time.perf_counter() - t0) * 1000
        times, cpus = [], []
        for _ in range(25):
            code = f"{100000 + rng.randrange(counties):06d}"
            t0, c0 = time.perf_counter(), time.process_time()
            with sf() as s:
                st = county_status(s, code, clock)
            times.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
        assert len(st.bodies) == bodies
        print(f"[{backend}] county status ({bodies} bodies × {len(st.years)} years), 25 random counties: "
              f"median {statistics.median(times):.1f} ms (CPU {statistics.median(cpus):.1f} ms), "
              f"worst {max(times):.1f} ms (first call of the "
              f"process {first_ms:.1f} ms)  target ≤ 50 ms")
        bench_pending(backend, engine, sf)


def backends(description: str) -> tuple[list[str], int, int]:
    """The command line of the nation benchmarks: (backends, counties, bodies per county)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--counties", type=int, default=2800)
    ap.add_argument("--bodies", type=int, default=45)
    args = ap.parse_args()
    return (["sqlite", "postgres"] if args.backend == "both" else [args.backend]), args.counties, args.bodies


def main() -> None:
    names, counties, bodies = backends(__doc__.splitlines()[0])
    for backend in names:
        bench(backend, counties, bodies)


if __name__ == "__main__":
    main()
