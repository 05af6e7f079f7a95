"""The simulator's HTTP server: its own thread and asyncio loop, one 127.0.0.1 port per county.

Two transports: "raw" (crawler/sim/rawhttp.py, asyncio.Protocol, the default: fast enough that a
benchmark measures the client) and "aiohttp" (a reference implementation; NIANBAO_SIM_BACKEND or
`backend=` picks one).

Each county is its own host:port, like a real portal. The server does the HTTP part (faults'
delays, validators and 304, gzip, the request log); the world decides what each URL answers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType

from aiohttp import web

from crawler.sim import content, faults
from crawler.sim.pages import Page, SimRequest, not_found, redirect
from crawler.sim.rawhttp import HttpProtocol
from crawler.sim.world import SimWorld

log = logging.getLogger(__name__)

COMPRESSIBLE = ("text/", "application/json", "application/xml")
BACKENDS = ("raw", "aiohttp")


@dataclass(slots=True, frozen=True)
class LogRecord:
    county: str
    method: str
    path: str  # path + query, as requested
    status: int
    conditional: bool  # answered 304 to a conditional request
    at: float  # time.monotonic(), when the request was answered (the answer is sent `delay` s later)
    delay: float = 0.0  # a fault's wait: the request is in flight from `at` to `at + delay`


def answer(world: SimWorld, code: str, req: SimRequest) -> tuple[Page, float]:
    """What county `code` answers `req` now, with the delay to wait first (faults applied)."""
    with world.lock:
        county = world.county(code)
        now = world.now()
        fault = next((f for f in reversed(county.faults) if f.applies(req.path)), None)
        if fault is not None and fault.mode == "5xx" and req.path == "/robots.txt":
            fault = None
        if fault is not None and fault.mode not in ("slow", "404"):
            blocked = _fault_page(fault, code, req)
            if blocked is not None:
                fault.consume()
                return blocked, 0.0
        page = county.site.handle(req, now)
        delay = 0.0
        if fault is not None and fault.mode == "slow":
            fault.consume()
            delay = fault.delay
        elif fault is not None and fault.mode == "404" and page.kind in ("detail", "attachment"):
            fault.consume()
            page = not_found(county.encoding)
        return page, delay


def _fault_page(fault: faults.Fault, code: str, req: SimRequest) -> Page | None:
    page = _block_page(fault, code, req)
    if page is not None and fault.status is not None:
        page.status = fault.status  # the same page at another status, as real portals send it
    return page


def _block_page(fault: faults.Fault, code: str, req: SimRequest) -> Page | None:
    mode = fault.mode
    if mode == "412":
        return faults.challenge_412(code, req.path)
    if mode == "521":
        if req.cookies.get("__jsl_clearance") == faults.jsl_clearance(code):
            return None  # the client did what the script asked
        return faults.challenge_521(code)
    if mode == "jsl512":
        return faults.challenge_jsl_go(code)
    if mode in ("waf403", "waf200"):
        return faults.waf_page(code, req.path, 403 if mode == "waf403" else 200)
    if mode in faults.CLOUD_WAF_PAGES:
        return faults.cloud_waf_page(mode, code, req.path)
    if mode == "captcha":
        return faults.captcha_page()
    if mode == "maintenance":
        return faults.maintenance_page()
    if mode == "5xx":
        return faults.server_error(503 if (fault.count or 0) % 2 else 500)
    return None


def _not_modified(req_headers: Mapping[str, str], page: Page) -> bool:
    inm = req_headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or page.etag in tags
    ims = req_headers.get("if-modified-since")
    if ims and page.last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return page.last_modified.replace(microsecond=0) <= since
    return False


def http_response(page: Page, req_headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for `page`: validators and 304, gzip when asked (Content-Length is the transport's)."""
    headers = dict(page.headers)
    if page.conditional:
        headers["ETag"] = page.etag
        lm = page.http_last_modified
        if lm:
            headers["Last-Modified"] = lm
        if _not_modified(req_headers, page):
            return 304, headers, b""
    headers["Content-Type"] = page.content_type
    compressible = page.content_type.startswith(COMPRESSIBLE)
    if compressible and "gzip" in req_headers.get("accept-encoding", "") and (page.is_compact or len(page.body) > 256):
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
        return page.status, headers, page.gzipped()
    return page.status, headers, page.raw()


class SimServer:
    """Serves every county of `world` on 127.0.0.1, one OS-chosen port each.

    Use as a context manager or call `start()`/`stop()`. Counties added to the world later are
    bound on first `base_url(code)` (or `bind_new()`).
    """

    def __init__(self, world: SimWorld, *, log_requests: bool = True, backend: str | None = None) -> None:
        self.world = world
        self.log_requests = log_requests
        self.backend = backend or os.environ.get("NIANBAO_SIM_BACKEND", "raw")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {self.backend!r}")
        self._servers: list[asyncio.AbstractServer] = []
        self._renderer: ThreadPoolExecutor | None = None
        self._connections: set[HttpProtocol] = set()
        self.request_log: list[LogRecord] = []
        self._ports: dict[str, int] = {}
        self._codes: dict[int, str] = {}
        self._retired: set[int] = set()  # old ports of counties whose portal moved to a new host
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> SimServer:
        if self._thread is not None:
            return self
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        self._renderer = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sim-render")

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            content.defer_renders(True)
            self._loop.call_soon(started.set)
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="sim-server", daemon=True)
        self._thread.start()
        started.wait()
        self._call(self._setup())
        self.bind_new()
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._call(self._cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        if self._renderer is not None:
            self._renderer.shutdown(wait=True, cancel_futures=True)
        self._thread = self._loop = self._runner = self._renderer = None
        for code in self._ports:
            self.world.base_urls.pop(code, None)
        self._ports.clear()
        self._codes.clear()
        self._retired.clear()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def bind_new(self) -> list[str]:
        """Open a port for every county of the world that has none yet; returns their codes."""
        codes = [c for c in list(self.world.counties) if c not in self._ports]
        if codes:
            self._call(self._bind(codes))
        return codes

    def move_domain(self, code: str) -> str:
        """The county's portal moves to a new host, as after a site merger (集约化): a new port
        serves it from now on, and every request to the old one answers 301 to the same path and
        query on the new one. Returns the new base URL."""
        old = self._ports.get(code)
        if old is None:
            self.base_url(code)
            old = self._ports[code]
        self._call(self._bind([code]))
        self._retired.add(old)
        return self.base_url(code)

    def base_url(self, code: str) -> str:
        if code not in self._ports:
            self.world.county(code)  # raises for an unknown county
            if self._thread is None:
                raise RuntimeError("SimServer is not started")
            self.bind_new()
        return f"http://127.0.0.1:{self._ports[code]}"

    @property
    def base_urls(self) -> dict[str, str]:
        return {code: f"http://127.0.0.1:{port}" for code, port in self._ports.items()}

    # ------------------------------------------------------------ the request log
    def count(self, code: str | None = None, path_prefix: str | None = None, status: int | None = None) -> int:
        return sum(
            1
            for r in list(self.request_log)
            if (code is None or r.county == code)
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (status is None or r.status == status)
        )

    def records(self, code: str | None = None) -> list[LogRecord]:
        return [r for r in list(self.request_log) if code is None or r.county == code]

    def reset_log(self) -> None:
        self.request_log.clear()

    # ------------------------------------------------------------ internals
    def _call(self, coro: object) -> object:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)  # type: ignore[arg-type]

    async def _setup(self) -> None:
        if self.backend == "raw":
            return
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()

    async def _bind(self, codes: Iterable[str]) -> None:
        for code in codes:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            sock.listen(1024)
            sock.setblocking(False)
            port = sock.getsockname()[1]
            if self.backend == "raw":
                loop = asyncio.get_running_loop()
                responder = functools.partial(self._respond_at, port)
                server = await loop.create_server(
                    lambda r=responder, p=port: HttpProtocol(r, p, self._connections, self._renderer),  # type: ignore[misc]
                    sock=sock,
                )
                self._servers.append(server)
            else:
                assert self._runner is not None
                await web.SockSite(self._runner, sock).start()
            self._ports[code] = port
            self._codes[port] = code
            self.world.base_urls[code] = f"http://127.0.0.1:{port}"

    async def _cleanup(self) -> None:
        for server in self._servers:
            server.close()
        for conn in list(self._connections):  # keep-alive clients would hold wait_closed() (3.12+)
            conn.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self._runner is not None:
            await self._runner.cleanup()

    def _respond_at(self, port: int, req: SimRequest, req_headers: Mapping[str, str], target: str) -> tuple[int, dict[str, str], bytes, float]:
        """The answer of whatever listens on `port`: its county, or a 301 when the county moved."""
        code = self._codes[port]
        if port not in self._retired:
            return self._respond(code, req, req_headers, target)
        status, headers, body = http_response(redirect(f"http://127.0.0.1:{self._ports[code]}{target}"), req_headers)
        if self.log_requests:
            self.request_log.append(LogRecord(code, req.method, target, status, False, time.monotonic()))
        return status, headers, body, 0.0

    def _respond(self, code: str, req: SimRequest, req_headers: Mapping[str, str], target: str) -> tuple[int, dict[str, str], bytes, float]:
        try:
            page, delay = answer(self.world, code, req)
        except content.NeedsRender:
            raise
        except Exception:
            log.exception("simulator failed", extra={"county": code, "path": target})
            page, delay = faults.server_error(500), 0.0
        status, headers, body = http_response(page, req_headers)
        if self.log_requests:
            self.request_log.append(LogRecord(code, req.method, target, status, status == 304, time.monotonic(),
                                              delay))
        return status, headers, body, delay

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp backend's handler."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        code = self._codes.get(sockname[1]) if sockname else None
        if code is None:
            return web.Response(status=421, text="unknown county port")
        form: dict[str, str] = {}
        if request.method == "POST":
            form = {k: str(v) for k, v in (await request.post()).items()}
        req = SimRequest(
            method=request.method, path=request.path, query={k: v for k, v in request.query.items()},
            form=form, host=request.host, cookies=dict(request.cookies),
        )
        while True:
            try:
                status, headers, body, delay = self._respond_at(sockname[1], req, request.headers, request.path_qs)
                break
            except content.NeedsRender as miss:
                await asyncio.get_running_loop().run_in_executor(self._renderer, miss.run)
        if delay:
            await asyncio.sleep(delay)
        return web.Response(status=status, body=body or None, headers=headers)
