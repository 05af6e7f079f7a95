"""Review lookups at province scale: the outbox asks, for every batch of finding events, which
findings are dismissed (`monitor.review.dismissed_ids`), and `nianbao review list` reads the state of
every finding of a county (`states_of`). Both read the newest review per fingerprint through the
index (finding_fingerprint, id).

Builds `--findings` findings of which `--reviewed` share have 1–3 review rows each, then times
`dismissed_ids` over batches of `--batch` finding ids (the size of a big crawl's events) and
`states_of` over every finding. Prints ids/s for both.

    PYTHONPATH=. python bench/review.py                       # 100,000 findings, SQLite in a temp dir
    PYTHONPATH=. python bench/review.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, text

from monitor.review import dismissed_ids, states_of
from storage.db import make_engine, session_factory, upgrade
from storage.models import County, Finding, Review

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--reviewed", type=float, default=0.2, help="share of findings with reviews")
    ap.add_argument("--batch", type=int, default=2_000)
    ap.add_argument("--db-url", default=None)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db_url or f"sqlite+pysqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":  # a schema of its own, dropped at the end
            schema = f"bench_review_{rng.randrange(10**9)}"
            with engine.begin() as c:
                c.execute(text(f"CREATE SCHEMA {schema}"))
            engine.dispose()
            engine = make_engine(url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}")
        else:
            schema = None
        try:
            upgrade(engine)
            sf = session_factory(engine)
            with sf() as s, s.begin():
                s.add(County(code="370830", name="汶上县"))
                s.flush()
                s.execute(insert(Finding), [
                    {"fingerprint": f"fp{i:08d}", "rule_id": "ARITH-001", "severity": "error", "scope": "doc",
                     "county_code": "370830", "year": 2024, "message": "m", "details": {},
                     "first_seen_at": NOW, "last_seen_at": NOW} for i in range(args.findings)])
                reviews = []
                for i in range(args.findings):
                    if rng.random() < args.reviewed:
                        for st in rng.sample(("confirmed", "dismissed", "open"), rng.randint(1, 3)):
                            reviews.append({"finding_fingerprint": f"fp{i:08d}", "state": st, "by": "b", "at": NOW})
                s.execute(insert(Review), reviews)
            if engine.dialect.name == "postgresql":  # statistics, as autovacuum keeps them in production
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(text("ANALYZE findings"))
                    c.execute(text("ANALYZE reviews"))
            with sf() as s:
                ids = list(s.scalars(select(Finding.id)))
                pairs = [(fp, False) for fp in s.scalars(select(Finding.fingerprint))]
            rng.shuffle(ids)
            t0 = time.perf_counter()
            dismissed = 0
            with sf() as s:
                for i in range(0, len(ids), args.batch):
                    dismissed += len(dismissed_ids(s, ids[i:i + args.batch]))
            t1 = time.perf_counter()
            with sf() as s:
                states = states_of(s, pairs)
            t2 = time.perf_counter()
            print(f"{engine.dialect.name}: {args.findings} findings, {len(reviews)} review rows, "
                  f"{dismissed} dismissed")
            print(f"dismissed_ids in batches of {args.batch}: {t1 - t0:.2f} s, {len(ids) / (t1 - t0):,.0f} ids/s")
            print(f"states_of over all: {t2 - t1:.2f} s, {len(states) / (t2 - t1):,.0f} fingerprints/s")
        finally:
            if schema is not None:
                with engine.begin() as c:
                    c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            engine.dispose()


if __name__ == "__main__":
    main()
