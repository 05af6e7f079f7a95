"""A small HTTP/1.1 server on asyncio.Protocol: the simulator's fast transport.

Only what clients of a portal need: GET/HEAD/POST, keep-alive and pipelining, Content-Length
request bodies (urlencoded forms), `Expect: 100-continue`. About twice aiohttp's rate on one core,
so a benchmark measures the crawler, not the simulator. Anything unusual (chunked request bodies,
oversized headers) gets a 4xx and the connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote

from crawler.sim.content import NeedsRender
from crawler.sim.pages import SimRequest

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
MAX_BODY = 1 << 20
EXTRA_REASONS = {521: "Web Server Is Down", 520: "Unknown Error"}

# (request, its raw target) -> (status, headers, body, delay seconds)
Responder = Callable[[SimRequest, dict[str, str], str], tuple[int, dict[str, str], bytes, float]]


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return EXTRA_REASONS.get(status, "Unknown")


class _DateCache:
    second = -1
    value = ""

    @classmethod
    def get(cls) -> str:
        now = int(time.time())
        if now != cls.second:
            cls.second, cls.value = now, formatdate(now, usegmt=True)
        return cls.value


class HttpProtocol(asyncio.Protocol):
    """One client connection. Requests are answered in order; a slow answer holds the ones behind it."""

    def __init__(
        self, responder: Responder, port: int, connections: set[HttpProtocol] | None = None,
        renderer: Executor | None = None,
    ) -> None:
        self.responder = responder
        self.renderer = renderer
        self.port = port
        self.connections = connections if connections is not None else set()
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.closing = False
        self.continued = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.connections.discard(self)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self.process()

    def process(self) -> None:
        while not self.busy and not self.closing and self.transport is not None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEAD:
                    self.fail(431)
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                self.fail(400)
                return
            method, target, version = parts
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self.fail(411)
                return
            try:
                length = int(headers.get("content-length", "0") or 0)
            except ValueError:
                self.fail(400)
                return
            if length > MAX_BODY:
                self.fail(413)
                return
            if len(self.buf) < end + 4 + length:
                if headers.get("expect", "").lower() == "100-continue" and not self.continued:
                    self.continued = True
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            body = bytes(self.buf[end + 4 : end + 4 + length])
            del self.buf[: end + 4 + length]
            self.continued = False
            conn = headers.get("connection", "").lower()
            keep = conn != "close" if version == "HTTP/1.1" else conn == "keep-alive"
            self.handle(method, target, headers, body, keep)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes, keep: bool) -> None:
        if target.startswith(("http://", "https://")):
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        raw_path, _, raw_query = target.partition("?")
        form: dict[str, str] = {}
        if method == "POST" and body and "urlencoded" in headers.get("content-type", "application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        cookies: dict[str, str] = {}
        for pair in headers.get("cookie", "").split(";"):
            name, eq, value = pair.strip().partition("=")
            if eq:
                cookies[name] = value
        req = SimRequest(
            method=method, path=unquote(raw_path) or "/", query=dict(parse_qsl(raw_query, keep_blank_values=True)),
            form=form, host=headers.get("host", f"127.0.0.1:{self.port}"), cookies=cookies,
        )
        self.respond(req, headers, target, keep)

    def respond(self, req: SimRequest, headers: dict[str, str], target: str, keep: bool) -> None:
        try:
            status, out_headers, out_body, delay = self.responder(req, headers, target)
        except NeedsRender as miss:  # render on a worker thread, then answer (in order)
            self.busy = True
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.renderer, miss.run)
            future.add_done_callback(lambda f: self.rendered(f, req, headers, target, keep))
            return
        data = self.serialize(req.method, status, out_headers, out_body, keep)
        if delay > 0:
            self.busy = True
            asyncio.get_running_loop().call_later(delay, self.finish, data, keep)
        else:
            self.finish(data, keep)

    def rendered(self, future: asyncio.Future[None], req: SimRequest, headers: dict[str, str], target: str, keep: bool) -> None:
        if future.cancelled() or future.exception() is not None:
            log.error("simulator render failed", exc_info=None if future.cancelled() else future.exception())
            body = b"render failed"
            self.finish(self.serialize(req.method, 500, {"Content-Type": "text/plain"}, body, False), False)
            return
        self.respond(req, headers, target, keep)

    def finish(self, data: bytes, keep: bool) -> None:
        self.busy = False
        if self.transport is None:
            return
        self.transport.write(data)
        if not keep:
            self.closing = True
            self.transport.close()
        elif self.buf:
            self.process()

    @staticmethod
    def serialize(method: str, status: int, headers: dict[str, str], body: bytes, keep: bool) -> bytes:
        lines = [f"HTTP/1.1 {status} {reason(status)}", f"Date: {_DateCache.get()}", "Server: nginx"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if status != 304 and not 100 <= status < 200 and status != 204:
            lines.append(f"Content-Length: {len(body)}")
        if not keep:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        if method == "HEAD" or status == 304:
            return head
        return head + body

    def fail(self, status: int) -> None:
        if self.transport is not None:
            self.transport.write(self.serialize("GET", status, {"Content-Type": "text/plain"}, reason(status).encode(), False))
            self.closing = True
            self.transport.close()
