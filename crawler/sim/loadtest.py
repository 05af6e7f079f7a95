"""How fast the simulator serves: a bare asyncio (aiohttp) client hammering simulated counties.

    python -m crawler.sim.loadtest --counties 100 --requests 20000 --concurrency 64 --page list

By default the server runs in a child process (`python -m crawler.sim`), as it would next to a
crawler in its own process, so client and server do not share one GIL; `--in-process` runs it on a
thread of this process instead.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from crawler.sim.server import SimServer
from crawler.sim.world import SimWorld


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SERVER_PID: list[int] = []


@contextmanager
def child_server(counties: int, seed: int, bodies: int, warm: bool) -> Iterator[list[tuple[str, str, str]]]:
    """(code, flavour, start url) of each county served by `python -m crawler.sim` in a child process."""
    extra = ["--warm", "--cache-mb", "4096"] if warm else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.sim", "--counties", str(counties), "--seed", str(seed), "--bodies", str(bodies), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    SERVER_PID[:] = [proc.pid]
    try:
        rows = []
        assert proc.stdout is not None
        for _ in range(counties):
            code, flavour, _enc, _base, start = proc.stdout.readline().rstrip("\n").split("\t")
            rows.append((code, flavour, start))
        yield rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def thread_server(counties: int, seed: int, bodies: int, warm: bool) -> Iterator[list[tuple[str, str, str]]]:
    world = SimWorld.nation(counties, bodies, (2023, 2024, 2025), seed, cache_bytes=4096 << 20 if warm else 256 << 20)
    if warm:
        world.warm()
    with SimServer(world, log_requests=False):
        yield [(c, world.counties[c].flavour, world.profile(c)["portals"][0]["start_urls"][0]) for c in world.counties]


def urls_for(rows: list[tuple[str, str, str]], page: str, counties: int, bodies: int, seed: int) -> list[str]:
    if page == "list":
        return [start for _, _, start in rows]
    bases = {code: "/".join(start.split("/", 3)[:3]) for code, _, start in rows}
    if page == "robots":
        return [b + "/robots.txt" for b in bases.values()]
    # the same seed builds the same world here: its report paths are the server's
    world = SimWorld.nation(counties, bodies, (2023, 2024, 2025), seed)
    return [bases[code] + r["url"] for code in world.counties for r in world.expected_reports(code, base_url="")]


async def hammer(urls: list[str], total: int, concurrency: int) -> tuple[float, int, int]:
    """Fetch `total` requests round-robin over `urls`; returns (seconds, ok, bytes)."""
    done = ok = nbytes = 0
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

        async def worker() -> None:
            nonlocal done, ok, nbytes
            while done < total:
                url = urls[done % len(urls)]
                done += 1
                async with session.get(url) as resp:
                    data = await resp.read()
                    ok += resp.status < 500
                    nbytes += len(data)

        # warm up (renders and caches each page once)
        await asyncio.gather(*(session.get(u) for u in urls[:concurrency]))
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - t0, ok, nbytes


async def hammer_raw(urls: list[str], total: int, concurrency: int) -> tuple[float, int, int]:
    """The same over raw asyncio streams: keep-alive HTTP/1.1, one connection per worker (the server's limit)."""
    done = ok = nbytes = 0

    async def worker(i: int) -> None:
        nonlocal done, ok, nbytes
        url = urls[i % len(urls)]
        hostport, _, path = url.removeprefix("http://").partition("/")
        host, _, port = hostport.partition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        request = f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUser-Agent: loadtest\r\n\r\n".encode()
        try:
            while done < total:
                done += 1
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                ok += status < 500
                nbytes += len(head) + len(body)
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return time.perf_counter() - t0, ok, nbytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.sim.loadtest", description=__doc__)
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--bodies", type=int, default=45)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--page", choices=("list", "robots", "detail"), default="list",
                        help="first list pages, a tiny robots.txt, or every report's detail page (rendered before timing)")
    parser.add_argument("--client", choices=("aiohttp", "raw"), default="aiohttp", help="aiohttp client or raw asyncio streams")
    parser.add_argument("--in-process", action="store_true", help="serve from a thread of this process")
    args = parser.parse_args(argv)
    serve = thread_server if args.in_process else child_server
    t0 = time.perf_counter()
    SERVER_PID[:] = [os.getpid()]
    with serve(args.counties, args.seed, args.bodies, args.page == "detail") as rows:
        startup = time.perf_counter() - t0
        urls = urls_for(rows, args.page, args.counties, args.bodies, args.seed)
        gc.collect()  # the parent's copy of the world is garbage now; keep the GC out of the timing
        gc.freeze()
        run = hammer if args.client == "aiohttp" else hammer_raw
        cpu0 = cpu_seconds(SERVER_PID[0])
        seconds, ok, nbytes = asyncio.run(run(urls, args.requests, args.concurrency))
        server_cpu = cpu_seconds(SERVER_PID[0]) - cpu0
    print(
        f"{args.requests} requests ({args.page} pages of {args.counties} counties, {len(urls)} URLs, concurrency {args.concurrency}, "
        f"{'in-process' if args.in_process else 'child-process'} server, {args.client} client): {args.requests / seconds:.0f} req/s, "
        f"{nbytes / seconds / 1e6:.1f} MB/s, {ok} ok; server CPU {server_cpu / args.requests * 1e6:.0f} µs/request"
        f"{' (includes the client: same process)' if args.in_process else ''}; start-up {startup:.1f}s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
