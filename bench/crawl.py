"""Crawl benchmark: simulated counties, politeness off, against a bare asyncio HTTP client.

    .venv/bin/python bench/crawl.py [--counties 100] [--small 10] [--bodies 10] [--parallel 8]

Everything talks to crawler.sim on 127.0.0.1 only. Steps, for `--counties` N (and `--small` n for
the memory comparison):

1. a first crawl of the N counties (cold simulator: it renders every report once) — its request log
   is the URL list;
2. the bare client (aiohttp in its own process, same concurrency) fetches that URL list: the limit;
   then two Scrapy floors fetch the same list with a callback that does nothing — Scrapy with its
   built-in middlewares (what any Scrapy crawler pays before it parses or stores anything), and
   Scrapy's engine with no middleware at all;
3. a second full crawl into a fresh database (warm simulator), timed: pages/s and reports/s;
4. a no-change recrawl on that database: requests per list page;
5. the same full crawl for n counties: peak memory of the crawl child at n and at N.

Targets (issue 5): ≥ 50 % of the bare client's rate; peak memory(N) ≤ 1.2 × peak memory(n);
no-change recrawl ≤ 1.1 × the number of list pages. Issue 15: the crawl child's CPU per request
≤ 2 × the do-nothing spider's with Scrapy's built-in middlewares. Both figures are the whole
process's CPU (getrusage at its end: interpreter start-up and imports included) divided by the
requests it made.

`--callgrind` also runs the timed crawl child and the built-in-middlewares floor under valgrind's
callgrind and prints instructions per request for both: unlike CPU seconds, instruction counts do
not move with the machine's load (a 2-core machine shared with test runs), so the ratio is
repeatable. Slow: about 50 × the plain run (use --counties 20).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IMPOLITE_CONCURRENCY = 64
PER_HOST = 8


def build_world(n: int, bodies: int, seed: int = 0) -> Any:
    from crawler.sim.world import SimWorld

    return SimWorld.nation(n, bodies_per_county=bodies, years=(2023, 2024, 2025), seed=seed)


def make_runs(db_url: str, world: Any) -> list[Any]:
    from crawler.runner import CountyJob
    from storage.db import make_engine, session_factory, upgrade
    from storage.repo import create_crawl_run, ensure_county

    upgrade(db_url)
    engine = make_engine(db_url)
    jobs = []
    with session_factory(engine)() as s, s.begin():
        for code in world.counties:
            profile = world.profile(code)
            ensure_county(s, code, profile["county"]["name"])
            jobs.append(CountyJob(profile, create_crawl_run(s, code, "cli").id))
    engine.dispose()
    return jobs


def profiling_python(out: Path) -> str:
    """An interpreter for the crawl child that runs it under cProfile timed by CPU (process) time,
    not wall time — the child waits on the network and on the storage thread — writing `out`."""
    code = ("import cProfile, runpy, sys, time\n"
            "p = cProfile.Profile(time.process_time)\n"
            "sys.argv = ['crawler.runner', *sys.argv[3:]]  # after: -m crawler.runner\n"
            "p.enable()\n"
            "try:\n    runpy.run_module('crawler.runner', run_name='__main__')\n"
            f"finally:\n    p.disable(); p.dump_stats({str(out)!r})\n")
    prog = out.with_suffix(".py")
    prog.write_text(code)
    script = out.with_suffix(".sh")
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{prog}" "$@"\n')
    script.chmod(0o755)
    return str(script)


def callgrind_prefix(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--log-file=/dev/null"]


def callgrind_python(out: Path) -> str:
    """An interpreter for the crawl child that runs it under callgrind, writing `out`."""
    script = out.with_suffix(".sh")
    script.write_text("#!/bin/sh\nexec " + " ".join(callgrind_prefix(out)) + f' "{sys.executable}" "$@"\n')
    script.chmod(0o755)
    return str(script)


def instructions(out: Path) -> int:
    """The instructions callgrind counted (its `summary:` line)."""
    for line in out.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise ValueError(f"no instruction count in {out}")


def crawl(world: Any, db_url: str, data_dir: Path, parallel: int, profile: Path | None = None,
          callgrind: Path | None = None) -> dict[str, Any]:
    from crawler.runner import run_crawls

    jobs = make_runs(db_url, world)
    info: dict[str, Any] = {}
    started = time.perf_counter()
    python = profiling_python(profile) if profile else callgrind_python(callgrind) if callgrind else None
    results = run_crawls(jobs, db_url=db_url, data_dir=data_dir, polite=False, max_parallel=parallel,
                         settings={"LOG_LEVEL": "WARNING"}, info=info, timeout=7200, python=python)
    wall = time.perf_counter() - started
    total: dict[str, int] = {}
    for r in results:
        for key in ("requests", "pages", "list_pages", "fetched", "not_modified", "blocked", "failed"):
            total[key] = total.get(key, 0) + int(r.stats.get(key, 0) or 0)
        total["reports"] = total.get("reports", 0) + int((r.stats.get("reports") or {}).get("new", 0)) \
            + int((r.stats.get("reports") or {}).get("changed", 0)) \
            + int((r.stats.get("reports") or {}).get("unchanged", 0))
    statuses = sorted({r.status for r in results})
    return {"wall": wall, "child_seconds": info.get("seconds"), "peak_rss_kb": info.get("peak_rss_kb"),
            "cpu_seconds": info.get("cpu_seconds"),
            "statuses": statuses, **total}


def url_list(server: Any, world: Any) -> list[dict[str, Any]]:
    """What the crawl asked, as (method, url, form) — the hanweb proxy is POSTed with its form."""
    forms: dict[str, dict[str, str]] = {}
    for code in world.counties:
        for portal in world.profile(code)["portals"]:
            opts = portal.get("options") or {}
            if "proxy" in opts:
                keys = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid",
                        "webname", "permissiontype")
                forms[code] = {k: str(opts[k]) for k in keys if k in opts}
    out = []
    for rec in server.request_log:
        if rec.path == "/robots.txt":
            continue
        item: dict[str, Any] = {"method": rec.method, "url": server.base_url(rec.county) + rec.path}
        if rec.method == "POST":
            item["form"] = forms.get(rec.county, {})
        out.append(item)
    return out


async def _bare(urls: list[dict[str, Any]]) -> tuple[int, int, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=IMPOLITE_CONCURRENCY, limit_per_host=PER_HOST)
    ok = nbytes = 0
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as session:
        sem = asyncio.Semaphore(IMPOLITE_CONCURRENCY)

        async def one(u: dict[str, Any]) -> None:
            nonlocal ok, nbytes
            async with sem:
                if u["method"] == "POST":
                    resp_cm = session.post(u["url"], data=u.get("form") or {})
                else:
                    resp_cm = session.get(u["url"])
                async with resp_cm as resp:
                    body = await resp.read()
                    nbytes += len(body)
                    ok += resp.status == 200

        await asyncio.gather(*(one(u) for u in urls))
    return ok, nbytes, time.perf_counter() - started


def bare_child(path: str) -> None:
    urls = json.loads(Path(path).read_text("utf-8"))
    import resource

    ok, nbytes, seconds = asyncio.run(_bare(urls))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"ok": ok, "bytes": nbytes, "seconds": seconds, "urls": len(urls),
                      "cpu_seconds": usage.ru_utime + usage.ru_stime}))


def floor_child(path: str, engine_only: bool) -> None:
    """A Scrapy spider that fetches the URL list and does nothing with the answers. Same
    concurrency as the crawl (download slots per host:port, as PortalMiddleware keys them), the
    same two engine settings as crawler/settings.py (quiet root logger, CONCURRENT_ITEMS)."""
    import logging
    import resource

    import scrapy
    from scrapy.crawler import AsyncCrawlerProcess

    urls = json.loads(Path(path).read_text("utf-8"))
    answered = {200: 0}

    class Floor(scrapy.Spider):
        name = "floor"

        async def start(self):  # type: ignore[override]
            for u in urls:
                slot = {"download_slot": u["url"].split("/")[2]}
                if u["method"] == "POST":
                    yield scrapy.FormRequest(u["url"], formdata=u.get("form") or {}, dont_filter=True,
                                             meta=slot)
                else:
                    yield scrapy.Request(u["url"], dont_filter=True, meta=slot)

        def parse(self, response: Any) -> None:
            if response.status == 200:
                answered[200] += 1

    settings: dict[str, Any] = {
        "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": IMPOLITE_CONCURRENCY, "CONCURRENT_REQUESTS_PER_DOMAIN": PER_HOST,
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_ITEMS": 1,
        "HTTPERROR_ALLOW_ALL": True}
    if engine_only:
        from scrapy.settings.default_settings import DOWNLOADER_MIDDLEWARES_BASE, SPIDER_MIDDLEWARES_BASE

        settings["DOWNLOADER_MIDDLEWARES"] = {k: None for k in DOWNLOADER_MIDDLEWARES_BASE}
        settings["SPIDER_MIDDLEWARES"] = {k: None for k in SPIDER_MIDDLEWARES_BASE}
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(Floor)
    logging.root.setLevel(logging.WARNING)
    process.crawl(crawler)
    started = time.perf_counter()
    cpu0 = time.process_time()
    process.start()
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"ok": answered[200], "seconds": seconds, "urls": len(urls),
                      # the whole process, as the crawl child's figure (start-up and imports included)
                      "cpu_seconds": usage.ru_utime + usage.ru_stime,
                      "crawl_cpu_seconds": time.process_time() - cpu0,
                      "peak_rss_kb": usage.ru_maxrss}))


def floor(urls_path: Path, engine_only: bool, callgrind: Path | None = None) -> dict[str, Any]:
    args = [sys.executable, __file__, "--floor-child", str(urls_path)] + (["--engine-only"] if engine_only else [])
    if callgrind is not None:
        args = [*callgrind_prefix(callgrind), *args]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bare(urls: list[dict[str, Any]], tmp: Path) -> dict[str, Any]:
    path = tmp / "urls.json"
    path.write_text(json.dumps(urls), "utf-8")
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--bare-child", str(path)], capture_output=True,
                         text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall"] = time.perf_counter() - started
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--small", type=int, default=10)
    ap.add_argument("--bodies", type=int, default=10, help="bodies per county (× 3 years of reports)")
    ap.add_argument("--parallel", type=int, default=8, help="county crawlers running at once in the child")
    ap.add_argument("--profile", type=Path, help="run the timed crawl's child under cProfile, write the "
                    "stats here and print the top functions (its figures then include cProfile's cost)")
    ap.add_argument("--callgrind", action="store_true", help="also count instructions per request of the crawl "
                    "child and the built-in-middlewares floor under valgrind (slow; try --counties 20)")
    ap.add_argument("--bare-child", help=argparse.SUPPRESS)
    ap.add_argument("--floor-child", help=argparse.SUPPRESS)
    ap.add_argument("--engine-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare_child:
        bare_child(args.bare_child)
        return
    if args.floor_child:
        floor_child(args.floor_child, args.engine_only)
        return

    from crawler.sim.server import SimServer

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp_s:
        tmp = Path(tmp_s)
        world = build_world(args.counties, args.bodies)
        with SimServer(world) as server:
            print(f"{args.counties} simulated counties, {args.bodies} bodies × 3 years each; politeness off "
                  f"({IMPOLITE_CONCURRENCY} concurrent, {PER_HOST} per portal, {args.parallel} county crawlers at once)")
            cold = crawl(world, f"sqlite+pysqlite:///{tmp / 'cold.db'}", tmp / "cold", args.parallel)
            urls = url_list(server, world)
            print(f"cold crawl: {cold['requests']} requests, {cold['pages']} pages in {cold['wall']:.1f}s "
                  f"(statuses {cold['statuses']})")
            limit = bare(urls, tmp)
            scrapy_floor = floor(tmp / "urls.json", engine_only=False)
            engine_floor = floor(tmp / "urls.json", engine_only=True)
            server.reset_log()
            warm = crawl(world, f"sqlite+pysqlite:///{tmp / 'warm.db'}", tmp / "warm", args.parallel,
                         profile=args.profile)
            full_requests = server.count()
            server.reset_log()
            again = crawl(world, f"sqlite+pysqlite:///{tmp / 'warm.db'}", tmp / "warm", args.parallel)
            recrawl_requests = server.count()
            configured_lists = sum(len(p["start_urls"]) for c in world.counties
                                   for p in world.profile(c)["portals"])
        small_world = build_world(args.small, args.bodies, seed=1)
        with SimServer(small_world):
            small = crawl(small_world, f"sqlite+pysqlite:///{tmp / 'small.db'}", tmp / "small", args.parallel)
        counted: dict[str, float] = {}
        if args.callgrind:
            with SimServer(world) as server:
                cg = crawl(world, f"sqlite+pysqlite:///{tmp / 'cg.db'}", tmp / "cg", args.parallel,
                           callgrind=tmp / "crawl.cg")
                counted["crawl"] = instructions(tmp / "crawl.cg") / max(1, cg["requests"])
                # the floor fetches what this crawl asked of this server (ports differ per server)
                cg_urls = tmp / "cg-urls.json"
                cg_urls.write_text(json.dumps(url_list(server, world)), "utf-8")
                fl = floor(cg_urls, engine_only=False, callgrind=tmp / "floor.cg")
                counted["floor"] = instructions(tmp / "floor.cg") / max(1, fl["urls"])
                counted["floor_ok"], counted["floor_urls"], counted["requests"] = fl["ok"], fl["urls"], cg["requests"]

    secs = warm["child_seconds"] or warm["wall"]
    pages_s = warm["pages"] / secs
    reports_s = warm["reports"] / secs
    bare_pages_s = limit["ok"] / limit["seconds"]
    bare_reports_s = bare_pages_s * (warm["reports"] / max(1, warm["pages"]))
    print()
    print(f"{'':28}{'scrapy (nianbao)':>18}{'bare aiohttp':>16}")
    print(f"{'pages/s':28}{pages_s:18.1f}{bare_pages_s:16.1f}")
    print(f"{'reports/s':28}{reports_s:18.1f}{bare_reports_s:16.1f}")
    print(f"{'seconds':28}{secs:18.1f}{limit['seconds']:16.1f}")
    print(f"ratio (pages/s): {pages_s / bare_pages_s:.0%}  (target ≥ 50 %; crawl child incl. start-up and "
          f"storage writes, wall {warm['wall']:.1f}s)")
    for label, fl in (("Scrapy, built-in middlewares", scrapy_floor), ("Scrapy engine, no middleware", engine_floor)):
        fl_s = fl["ok"] / fl["seconds"]
        print(f"floor, do-nothing spider, {label}: {fl_s:.1f} pages/s = {fl_s / bare_pages_s:.0%} of the bare "
              f"client, {1000 * fl['cpu_seconds'] / max(1, fl['urls']):.2f} ms CPU per request, start-up "
              f"included ({1000 * fl['crawl_cpu_seconds'] / max(1, fl['urls']):.2f} ms without) "
              f"({fl['ok']}/{fl['urls']} answered 200); the crawl reaches {pages_s / fl_s:.0%} of it")
    if counted:
        print(f"instructions per request (callgrind): crawl child {counted['crawl'] / 1e6:.2f} M "
              f"({counted['requests']:.0f} requests), do-nothing spider with the built-in middlewares "
              f"{counted['floor'] / 1e6:.2f} M ({counted['floor_ok']:.0f}/{counted['floor_urls']:.0f} answered 200): "
              f"{counted['crawl'] / counted['floor']:.2f}× (target ≤ 2×)")
    cpu = warm.get("cpu_seconds") or 0.0
    print(f"crawl child CPU: {cpu:.1f}s for {warm['requests']} requests = {1000 * cpu / max(1, warm['requests']):.1f} ms "
          f"per request (the bare client: {limit.get('cpu_seconds', 0):.1f}s)")
    floor_ms = 1000 * scrapy_floor["cpu_seconds"] / max(1, scrapy_floor["urls"])
    print(f"CPU per request against the do-nothing spider with the built-in middlewares: "
          f"{1000 * cpu / max(1, warm['requests']) / floor_ms:.2f}× (target ≤ 2×; both whole processes)")
    print(f"full crawl: {full_requests} requests, {warm['pages']} pages, {warm['reports']} report documents, "
          f"{warm['list_pages']} list pages; statuses {warm['statuses']}")
    small_mb = (small["peak_rss_kb"] or 0) / 1024
    big_mb = (warm["peak_rss_kb"] or 0) / 1024
    print(f"peak memory of the crawl child: {small_mb:.0f} MB at {args.small} counties, {big_mb:.0f} MB at "
          f"{args.counties} counties: ×{big_mb / max(small_mb, 1):.2f} (target ≤ 1.2)")
    if args.profile:
        import pstats

        print(f"\nprofile of the timed crawl child ({args.profile}), top 30 by own time:")
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(30)
    per_list = recrawl_requests / max(1, warm["list_pages"])
    print(f"no-change recrawl: {recrawl_requests} requests for {warm['list_pages']} list pages "
          f"({configured_lists} configured lists): {per_list:.2f} per list page (target ≤ 1.1); "
          f"statuses {again['statuses']}")


if __name__ == "__main__":
    main()
