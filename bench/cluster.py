"""Cluster throughput: N small simulated counties through 1, then 2 `nianbao worker` processes
(Celery on Redis, PostgreSQL, one crawl at a time per worker), each pass on a fresh schema, then a
third pass (1 worker) with more bodies per county to split a county's CPU into its fixed part and
its part per request.

    .venv/bin/python bench/cluster.py --counties 30

Prints, per pass: wall time, counties/hour per worker, the broker's overhead per job (wall time
× workers − the jobs' own time, divided by the jobs: sending, fetching, acknowledging, storing and
reading the result) against a county crawl's time (target ≤ 5 %), the CPU seconds a county costs
(crawl child, Scrapy grandchild and processing) and its requests; the scaling from 1 to 2 workers
(target ≥ 1.7×). A small county's CPU is mostly fixed start-up (two Python processes, a Scrapy
crawler), so it is not scaled by the number of bodies: a least-squares line through the 1-worker
passes, CPU = fixed + per request × requests, gives both parts, and the national arithmetic (default
2,800 counties of ~45 bodies) uses them with the default politeness ([politeness] rate requests/s
and `concurrency` in flight per host) for a full crawl (the simulator's requests per body × the
national bodies) and a daily in-season sweep (`--sweep-requests`, an estimate: list pages answered
304 or unchanged, a few new reports). The simulator runs in this process, so it shares the
machine with the workers: on a loaded 2-core machine the scaling is pessimistic.
"""

from __future__ import annotations

import argparse
import compileall
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.clusterworld import ClusterWorld  # noqa: E402

PG = os.environ.get("NIANBAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("NIANBAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time and that of its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICK


def schema() -> tuple[str, str]:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {name}")
    return name, f"{PG}?options=-csearch_path%3D{name}"


def drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        c.execute(f"DROP SCHEMA {name} CASCADE")


def one_pass(n: int, workers: int, bodies: int) -> dict[str, float]:
    name, url = schema()
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                ClusterWorld(Path(tmp), n, database_url=url, redis_url=REDIS, bodies=bodies, years=(2025,)) as cw:
            cw.prepare()
            cw.world.warm()
            procs = [cw.start_worker(f"b{i}") for i in range(workers)]
            for p in procs:
                p.wait_ready()
            cpu0 = sum(cpu_seconds(p.pid) for p in procs)
            runs = cw.queue_runs(cw.codes)
            t0 = time.monotonic()
            outcomes = cw.crawl(runs, poll=0.05, timeout=max(1800.0, 10.0 * n / workers))
            wall = time.monotonic() - t0
            cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu0
            for p in procs:
                p.stop()
            bad = [o.summary for o in outcomes if o.summary.get("status") != "ok"]
            if bad:
                print(f"  {len(bad)} runs not ok, e.g. {bad[0]}")
            jobs = [float(o.summary.get("seconds") or 0) for o in outcomes]
            crawls = [float(o.summary.get("crawl_seconds") or 0) for o in outcomes]
            requests = len(cw.server.request_log)
    finally:
        drop(name)
    overhead = max(0.0, wall * workers - sum(jobs)) / n
    return {"wall": wall, "per_hour_per_worker": n / wall * 3600 / workers, "overhead": overhead,
            "crawl": statistics.mean(crawls), "job": statistics.mean(jobs), "cpu": cpu / n,
            "requests": requests / n, "requests_per_body": requests / n / bodies}


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through (requests, CPU seconds) per county."""
    if len({x for x, _ in points}) < 2:
        raise SystemExit("the fit needs passes with different request counts: --fit-bodies ≠ --bodies")
    slope, intercept = statistics.linear_regression([x for x, _ in points], [y for _, y in points])
    return intercept, slope


def sweep(label: str, requests: float, fixed: float, per_request: float, national: int, cluster: int,
          rate: float, cores: int, max_conc: int) -> None:
    """A national sweep of `requests` per county: politeness-bound wall time per county, CPU-bound
    counties/hour per worker machine, the concurrency that keeps its cores busy (at most
    `max_conc`)."""
    cpu = fixed + per_request * requests
    polite = requests / rate  # seconds: the host's token bucket lets `rate` requests/s through
    cpu_bound = cores * 3600 / cpu  # counties/hour when the cores are the limit
    busy = max(1, math.ceil(polite / cpu * cores))  # crawls at once that keep the cores busy
    conc = min(busy, max_conc)
    per_hour = min(conc * 3600 / max(polite, cpu), cpu_bound)
    print(f"{label}: R ≈ {requests:.0f} requests/county → ≥ {polite:.0f} s/county at {rate:g} request/s per host; "
          f"CPU {fixed:.2f} + {per_request * 1000:.1f} ms × {requests:.0f} = {cpu:.2f} s/county")
    print(f"  one crawl at a time: {3600 / max(polite, cpu):.0f} counties/h, {national} counties in "
          f"{national * max(polite, cpu) / 3600:.1f} h")
    print(f"  -c {conc} on {cores} cores ({busy} would keep them busy; CPU-bound at {cpu_bound:.0f} counties/h): "
          f"{per_hour:.0f} counties/h, "
          f"{national / per_hour:.1f} h per worker machine; {cluster} machines: "
          f"{national / per_hour / cluster * 60:.0f} min (each {national / cluster:.0f} counties)")


def main() -> None:
    from monitor.config import PolitenessSettings

    ap = argparse.ArgumentParser()
    ap.add_argument("--counties", type=int, default=30)
    ap.add_argument("--bodies", type=int, default=2)
    ap.add_argument("--fit-bodies", type=int, default=45,
                    help="bodies per county of the extra 1-worker pass (default: a national county's)")
    ap.add_argument("--fit-counties", type=int, default=None,
                    help="counties of the fit pass (default: --counties; a few are enough for a mean)")
    ap.add_argument("--national", type=int, default=2800)
    ap.add_argument("--national-bodies", type=int, default=45)
    ap.add_argument("--full-requests", type=float, default=None,
                    help="requests of a county's first full crawl (default: the simulator's per body × national bodies)")
    ap.add_argument("--sweep-requests", type=float, default=20.0,
                    help="requests of a daily in-season sweep of a county (estimate)")
    ap.add_argument("--cluster", type=int, default=20, help="workers in the arithmetic")
    ap.add_argument("--cores", type=int, default=2, help="cores of a worker machine in the arithmetic")
    ap.add_argument("--max-concurrency", type=int, default=10,
                    help="crawls at once per worker machine that its memory allows (~150 MB each)")
    args = ap.parse_args()
    # every crawl is a new process that imports the project: a deployed worker reads the bytecode
    # its first run wrote, but where the environment forbids writing it (PYTHONDONTWRITEBYTECODE)
    # each crawl would compile the sources again (~0.1 s of CPU per county) — write it once here
    for package in ("monitor", "crawler", "storage", "notifier"):
        compileall.compile_dir(ROOT / package, quiet=1)
    print(f"{args.counties} simulated counties × {args.bodies} bodies × 1 year (fit pass: {args.fit_bodies} bodies); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    res = {}
    fit_counties = args.fit_counties or args.counties
    for key, w, bodies, n in ((1, 1, args.bodies, args.counties), (2, 2, args.bodies, args.counties),
                              ("fit", 1, args.fit_bodies, fit_counties)):
        r = res[key] = one_pass(n, w, bodies)
        print(f"{w} worker(s), {n} counties × {bodies} bodies: {r['wall']:.1f} s, {r['per_hour_per_worker']:.0f} counties/hour per "
              f"worker, crawl {r['crawl']:.2f} s/county (job {r['job']:.2f} s), broker overhead {r['overhead']:.3f} "
              f"s/job = {100 * r['overhead'] / r['crawl']:.1f} % of a crawl, CPU {r['cpu']:.2f} s/county, "
              f"{r['requests']:.1f} requests/county")
    scaling = res[2]["per_hour_per_worker"] * 2 / res[1]["per_hour_per_worker"]
    print(f"scaling 1 → 2 workers: {scaling:.2f}× (target ≥ 1.7×)")
    fixed, per_request = fit([(res[k]["requests"], res[k]["cpu"]) for k in (1, "fit")])
    if per_request <= 0:
        print(f"  the CPU per request is lost in the noise ({per_request * 1000:.1f} ms): more --counties or "
              f"--fit-bodies; 0 used below")
        per_request = 0.0
    print(f"CPU per county = {fixed:.2f} s fixed + {per_request * 1000:.1f} ms per request "
          f"(least squares through the 1-worker passes: {res[1]['requests']:.1f} and {res['fit']['requests']:.1f} "
          f"requests/county)")
    polite = PolitenessSettings()
    per_body = statistics.mean(res[k]["requests_per_body"] for k in (1, "fit"))
    print(f"national, {args.national} counties × {args.national_bodies} bodies, default politeness "
          f"{polite.rate:g} request/s and {polite.concurrency} in flight per host:")
    full = args.full_requests or per_body * args.national_bodies
    sweep("first full crawl" + ("" if args.full_requests else f" ({per_body:.1f} requests per body, as in the simulator)"),
          full, fixed, per_request, args.national, args.cluster, polite.rate, args.cores, args.max_concurrency)
    sweep("daily in-season sweep (--sweep-requests)", args.sweep_requests, fixed, per_request, args.national,
          args.cluster, polite.rate, args.cores, args.max_concurrency)


if __name__ == "__main__":
    main()
