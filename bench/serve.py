"""Server time of the web pages on the national synthetic store of bench/scale.py.

    .venv/bin/python bench/serve.py                                # SQLite and PostgreSQL, 2,800 × 45 × 6
    .venv/bin/python bench/serve.py --backend sqlite --counties 300

The store is built by `bench/scale.load` (then the deadline sweep of 2024, as the daily job leaves
it); a sample of reports gets a real parsed report (tables of a generated report, as the pipeline
stores them) and findings on its cells, so the report page draws full tables. The clock is at
2025-02-15. Each page is requested through the ASGI app in-process (no socket); the figure is
the app's own `Server-Timing` (request in → response out, rendering included, wall clock); the
CPU time of this process per request is printed beside it (it includes the in-process test
client's own work): on a shared machine the difference is time spent waiting for a core. Targets:
the status grid of a county and a report page ≤ 100 ms.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import NOW, SWEEP_YEAR, backends, load, nation_store  # noqa: E402
from sqlalchemy import select, text, update  # noqa: E402

from monitor.clock import FixedClock  # noqa: E402
from monitor.deadlines import sweep  # noqa: E402
from storage.db import session_factory  # noqa: E402
from storage.models import Finding, Report, ReportVersion  # noqa: E402

SAMPLES = 25


def _real_parsed() -> list[dict[str, Any]]:
    from crawler.sim.reportgen import make_spec, render
    from monitor.engine import check_bytes

    out = []
    for seed in range(3):
        spec = make_spec(seed, entity="某镇人民政府", year=2023, variants=("broken_arith:ARITH-002",))
        r = check_bytes(render(spec, "html"), filename="r.html")
        out.append({"parsed": r.report.to_dict(),
                    "findings": [(f.rule, f.severity, f.message, f.details) for f in r.findings]})
    return out


def _dress(sf: Any, rng: random.Random, n: int) -> list[int]:
    """Give `n` random reports a real parse and its findings; returns their ids."""
    real = _real_parsed()
    with sf() as s, s.begin():
        top = s.scalar(select(Report.id).order_by(Report.id.desc()).limit(1))
        ids = rng.sample(range(1, top + 1), n)
        for i, rid in enumerate(ids):
            sample = real[i % len(real)]
            s.execute(update(ReportVersion).where(ReportVersion.report_id == rid)
                      .values(parsed=sample["parsed"], template="2021"))
            rep = s.get_one(Report, rid)
            for j, (rule, sev, msg, details) in enumerate(sample["findings"]):
                s.add(Finding(fingerprint=f"bench-{rid}-{j}", rule_id=rule, severity=sev, scope="doc",
                              county_code=rep.entity.county_code, entity_id=rep.entity_id, year=rep.year,
                              report_id=rid, message=msg, details=json.loads(json.dumps(details)),
                              first_seen_at=NOW, last_seen_at=NOW))
    return ids


CPU: list[float] = []  # CPU time of this process per request (app + in-process test client)


def _time(client: Any, url: str) -> float:
    c0 = time.process_time()
    r = client.get(url)
    CPU.append((time.process_time() - c0) * 1000)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return float(r.headers["server-timing"].split("dur=")[1])


def _line(label: str, times: list[float], target: str = "") -> str:
    cpu = CPU[-len(times):]
    return (f"{label}: median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms "
            f"(CPU median {statistics.median(cpu):.1f} ms; {len(times)} requests)"
            f"{'  target ' + target if target else ''}")


def bench(backend: str, counties: int, bodies: int) -> None:
    from starlette.testclient import TestClient

    from monitor.web import create_app

    with nation_store(backend, "bench_serve") as engine:
        counts = load(engine, counties, bodies)
        sf = session_factory(engine)
        clock = FixedClock(NOW)
        sweep(sf, clock, SWEEP_YEAR)
        rng = random.Random(11)
        reports = _dress(sf, rng, SAMPLES)
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        print(f"[{backend}] store: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        app = create_app(SimpleNamespace(reminder_days=14), clock, session_factory=sf)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = TestClient(app, client=("127.0.0.1", 50000))
        _time(client, f"/county/{100000:06d}")  # the first request compiles statements and templates
        _time(client, f"/report/{reports[0]}")
        codes = [f"{100000 + rng.randrange(counties):06d}" for _ in range(SAMPLES)]
        grid = [_time(client, f"/county/{c}") for c in codes]
        report = [_time(client, f"/report/{r}") for r in reports]
        print(f"[{backend}] " + _line(f"county page (grid {bodies} bodies × 6 years, strip chart, rules chart)",
                                      grid, "≤ 100 ms"))
        print(f"[{backend}] " + _line("report page (full tables, findings on cells, versions)", report, "≤ 100 ms"))
        finds = [_time(client, f"/findings?county={c}") for c in codes[:5]]
        print(f"[{backend}] " + _line("findings page of one county", finds))
        nat = [_time(client, "/findings") for _ in range(3)]
        print(f"[{backend}] " + _line("findings page, whole nation (first 100, count, rules chart)", nat))
        runs = [_time(client, "/runs") for _ in range(3)]
        print(f"[{backend}] " + _line("crawl-runs page, whole nation", runs))
        client.close()


def main() -> None:
    names, counties, bodies = backends(__doc__.splitlines()[0])
    for backend in names:
        bench(backend, counties, bodies)


if __name__ == "__main__":
    main()
