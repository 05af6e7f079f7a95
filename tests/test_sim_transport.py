"""The simulator's HTTP transport (keep-alive, pipelining, HEAD, odd requests), both backends, and
pooled report content for big worlds."""

from __future__ import annotations

import io
import re
import socket
import zipfile
from collections.abc import Iterator
from datetime import datetime

import pytest

from crawler.sim import SimServer, SimWorld
from crawler.sim.client import fetch
from monitor.clock import SHANGHAI, FixedClock

CODE = "990301"
BODIES = [("刘楼镇人民政府", "township"), ("城关街道办事处", "street")]


@pytest.fixture(scope="module")
def world() -> SimWorld:
    w = SimWorld(seed=4, clock=FixedClock(datetime(2026, 4, 1, tzinfo=SHANGHAI)))
    w.add_county(CODE, "模拟县", "hanweb", BODIES, [2024, 2025])
    w.populate(CODE)
    return w


@pytest.fixture(scope="module", params=["raw", "aiohttp"])
def server(request: pytest.FixtureRequest, world: SimWorld) -> Iterator[SimServer]:
    with SimServer(world, backend=request.param) as s:
        yield s


def raw_exchange(port: int, payload: bytes, expect_responses: int) -> bytes:
    """Send `payload` on one connection and read until `expect_responses` responses are complete."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        data = b""
        while data.count(b"HTTP/1.1 ") < expect_responses or not _complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _complete(data: bytes) -> bool:
    """Whether the last response in `data` has its whole body (by Content-Length)."""
    last = data.rfind(b"HTTP/1.1 ")
    head_end = data.find(b"\r\n\r\n", last)
    if head_end < 0:
        return False
    head = data[last:head_end].decode("latin-1").lower()
    length = 0
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    if " 304 " in head.split("\r\n")[0] or head.startswith("http/1.1 304"):
        length = 0
    return len(data) - (head_end + 4) >= length


def test_keep_alive_answers_pipelined_requests_in_order(world: SimWorld, server: SimServer) -> None:
    port = int(server.base_url(CODE).rsplit(":", 1)[1])
    start = world.profile(CODE)["portals"][0]["start_urls"][0].split(str(port), 1)[1]
    payload = (
        f"GET {start} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        f"GET /nope HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        f"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    ).encode()
    data = raw_exchange(port, payload, 3)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"200", b"404", b"404"]


def test_head_gives_headers_only(world: SimWorld, server: SimServer) -> None:
    port = int(server.base_url(CODE).rsplit(":", 1)[1])
    url = world.expected_reports(CODE)[0]["url"]
    path = url.split(str(port), 1)[1]
    data = raw_exchange(port, f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), 1)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"etag:" in head.lower()
    assert body == b""
    length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")][0].split(b":")[1])
    assert length == len(fetch(url).body)


def test_post_form_and_expect_continue(world: SimWorld, server: SimServer) -> None:
    opts = world.profile(CODE)["portals"][0]["options"]
    port = int(server.base_url(CODE).rsplit(":", 1)[1])
    form = f"columnid={opts['columnid']}&col=1".encode()
    payload = (
        b"POST /module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=3&perpage=1 HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
        + f"Content-Length: {len(form)}\r\n\r\n".encode() + form
    )
    data = raw_exchange(port, payload, 1)
    assert data.startswith(b"HTTP/1.1 200") and data.count(b"<record>") == 3


def test_raw_transport_refuses_chunked_request_bodies(world: SimWorld) -> None:
    with SimServer(world, backend="raw") as s:
        port = int(s.base_url(CODE).rsplit(":", 1)[1])
        data = raw_exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1)
        assert data.startswith(b"HTTP/1.1 411")


def test_both_backends_answer_the_same_bytes(world: SimWorld) -> None:
    urls = []
    bodies = {}
    for backend in ("raw", "aiohttp"):
        with SimServer(world, backend=backend) as s:
            base = s.base_url(CODE)
            paths = [world.profile(CODE)["portals"][0]["start_urls"][0][len(base):]]
            paths += [r["url"][len(base):] for r in world.expected_reports(CODE)]
            bodies[backend] = [fetch(base + p).body for p in paths]
            urls.append(paths)
    assert urls[0] == urls[1] and bodies["raw"] == bodies["aiohttp"]


# ---------------------------------------------------------------- pooled content
def test_pooled_reports_name_their_own_body() -> None:
    world = SimWorld.nation(4, bodies_per_county=6, years=(2024,), seed=2, attachments=("docx",),
                            flavours=("trs",), variety=2)
    assert world.warm() > 0
    with SimServer(world) as server:
        for code in world.counties:
            encoding = "gb18030" if world.county(code).encoding == "gbk" else "utf-8"
            for r in world.expected_reports(code):
                text = fetch(r["url"]).body.decode(encoding)
                assert "甲乙" not in text and "丙丁" not in text
                if r["attachment_url"]:
                    docx = fetch(r["attachment_url"]).body
                    xml = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
                    assert r["body"] in xml and "甲乙" not in xml
        assert server.count(status=200) == server.count()


def test_report_spec_names_the_body() -> None:
    world = SimWorld(seed=1, variety=2)
    world.add_county(CODE, "模拟县", "generic", BODIES, [2024])
    world.populate(CODE)
    spec = world.report_spec(CODE, "城关街道办事处", 2024)
    if spec is None:
        pytest.skip("report generator not importable")
    assert spec.entity == "城关街道办事处" and "城关街道" in spec.title and spec.year == 2024


def test_table_images_are_served(world: SimWorld, server: SimServer) -> None:
    r = fetch(server.base_url(CODE) + "/picture/0/0123456789abcdef.png")
    assert r.status == 200 and r.headers["Content-Type"] == "image/png" and r.body.startswith(b"\x89PNG")


def test_stop_closes_idle_keep_alive_connections(world: SimWorld) -> None:
    s = SimServer(world, backend="raw").start()
    port = int(s.base_url(CODE).rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 404")
    s.stop()  # returns although a client still holds an idle connection (else the test hangs)
    assert sock.recv(4096) == b""  # the server closed it
    sock.close()


@pytest.mark.parametrize("backend", ["raw", "aiohttp"])
def test_a_slow_render_does_not_stall_other_requests(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    import threading

    from crawler.sim import content

    real = content.report_body_html
    rendering, other_done = threading.Event(), threading.Event()
    released: list[bool] = []

    def slow(*args: object, **kwargs: object) -> str:
        # holds the render until the other county's page has been served: if the server served
        # requests one at a time, that never happens and the wait ends by its (generous) timeout
        rendering.set()
        released.append(other_done.wait(60))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(content, "report_body_html", slow)
    w = SimWorld(seed=8)
    w.add_county("990401", "甲县", "trs", BODIES, [2024])
    w.add_county("990402", "乙县", "trs", BODIES, [2024])
    w.populate("990401")
    with SimServer(w, backend=backend) as s:
        detail = w.expected_reports("990401")[0]["url"]
        result: list[int] = []
        t = threading.Thread(target=lambda: result.append(fetch(detail).status))
        t.start()
        assert rendering.wait(60)
        assert fetch(s.base_url("990402") + "/xxgk/gknb/index.shtml").status == 200
        other_done.set()
        t.join()
        assert result == [200] and released == [True]
