"""Soak: `nianbao daemon` through several simulated years against the portal simulator.

    .venv/bin/python bench/soak.py --years 10 --counties 4 --seconds-per-year 40

The daemon runs as its own process (SQLite in a temporary folder, no bot, alerts to the console
channel of one operator subscriber) on an accelerated clock shared with the simulator; every year
each county's bodies publish their reports in the season (some late, one never). The script
samples the daemon's resident memory and open file descriptors from /proc and, at the end, the
scheduler's job lag (wall-clock delay between a job's due time and its start) from /healthz.
Targets: RSS growth ≤ 20 % from the end of the first year to the end, file descriptors flat,
job lag p99 ≤ 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.clock import SHANGHAI, AcceleratedClock  # noqa: E402
from tests.daemonworld import DaemonWorld  # noqa: E402

BODIES = [("县人民政府", "county_gov"), ("甲镇人民政府", "township"), ("乙镇人民政府", "township"),
          ("丙街道办事处", "street"), ("教育局", "department")]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--counties", type=int, default=4)
    ap.add_argument("--seconds-per-year", type=float, default=40.0)
    args = ap.parse_args()
    first = 2027
    start = datetime(first - 1, 12, 20, tzinfo=SHANGHAI)
    rate = 365 * 86400 / args.seconds_per_year
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="nianbao-soak-") as tmp:
        clock = AcceleratedClock(start, rate)
        dw = DaemonWorld(Path(tmp), clock)
        report_years = list(range(first - 2, first + args.years))
        with dw:
            for i in range(args.counties):
                code = f"99{5000 + i}"
                name = f"测{i}县"
                bodies = [(f"{name}{b}" if b[0] in "县教" else b, k) for b, k in BODIES]
                dw.world.add_county(code, name, ("trs", "hanweb", "gkmlpt", "vsb")[i % 4], bodies, report_years)
                dw.world.populate(code, report_years[:1])
                for y in report_years[1:]:
                    for j, (body, _kind) in enumerate(bodies):
                        if j == 3:
                            continue  # never publishes
                        late = timedelta(days=rng.randint(4, 70))  # some after the 31 January deadline
                        dw.world.publish(code, body, y, at=datetime(y + 1, 1, 1, 9, tzinfo=SHANGHAI) + late)
                dw.write_profile(code)
            dw.write_config(schedule={"misfire_grace_seconds": 30 * 86400},
                            daemon={"max_concurrent_crawls": 2, "poll_seconds": 0.5, "outbox_seconds": 1})
            t0 = time.monotonic()
            d = dw.start().started()
            with dw.session_factory()() as s, s.begin():
                from notifier import service

                service.subscribe(s, "console", "-", role="operator", health=True)
            samples: list[tuple[float, str, int, int]] = []
            year_ends = [datetime(first + k, 12, 20, tzinfo=SHANGHAI) for k in range(args.years)]
            samples.append((0.0, f"{clock.now():%Y-%m-%d}", rss_kb(d.pid), fds(d.pid)))
            for end in year_ends:
                while clock.now() < end:
                    time.sleep(0.5)
                    if d.proc.poll() is not None:
                        print("\n".join(d.lines()[-30:]))
                        raise SystemExit("the daemon died")
                samples.append((time.monotonic() - t0, f"{clock.now():%Y-%m-%d}", rss_kb(d.pid), fds(d.pid)))
                print(f"{samples[-1][1]}  t={samples[-1][0]:6.1f}s  RSS {samples[-1][2] / 1024:6.1f} MB  "
                      f"fds {samples[-1][3]}", flush=True)
            _code, body = d.get("/healthz")
            health = json.loads(body)
            _code, metrics = d.get("/metrics")
            t_stop = time.monotonic()
            assert d.stop() == 0
            stop_s = time.monotonic() - t_stop
            slow_steps = [e.get("step") for e in d.events() if e.get("message") in (
                "shutdown step did not finish in time", "shutdown steps did not finish in time; stopping anyway")]
            with dw.session_factory()() as s:
                from sqlalchemy import func, select

                from storage.models import Alert, CrawlRun

                runs = dict(s.execute(select(CrawlRun.status, func.count()).group_by(CrawlRun.status)).all())
                alerts = dict(s.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())
    rss = [x[2] for x in samples]
    fd = [x[3] for x in samples]
    lag = health["job_lag_seconds"]
    base = rss[1]
    print(f"\nyears {args.years}, counties {args.counties}, clock ×{rate:,.0f}, wall {samples[-1][0]:.0f} s")
    print(f"crawl runs by status: {runs}; alerts by status: {alerts}; jobs {health['jobs']}")
    print(f"RSS: start {rss[0] / 1024:.1f} MB, after year 1 {base / 1024:.1f} MB, end {rss[-1] / 1024:.1f} MB "
          f"→ growth {100 * (rss[-1] - base) / base:+.1f} % since year 1 (target ≤ 20 %); "
          f"median {statistics.median(rss) / 1024:.1f} MB")
    print(f"open fds: start {fd[0]}, after year 1 {fd[1]}, end {fd[-1]}, max {max(fd)} (target: flat)")
    print(f"job lag (wall clock, {lag['n']} job runs): p50 {lag['p50']} s, p99 {lag['p99']} s, max {lag['max']} s "
          "(target p99 ≤ 1 s)")
    print(f"SIGTERM → exit in {stop_s:.1f} s (grace {dw.settings['daemon']['stop_grace_seconds']} s); "
          f"shutdown steps over their time bound: {slow_steps or 'none'}")
    missed = next((ln for ln in metrics.splitlines() if ln.startswith("nianbao_jobs_missed_total")), "")
    print(f"missed job runs (beyond the misfire grace): {missed.split()[-1] if missed else '?'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
