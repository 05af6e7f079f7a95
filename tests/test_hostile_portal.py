"""A hostile portal on 127.0.0.1 (issue: hostile portals and files): links to file:// and ftp://,
endless and cyclic pagination, a server that answers one byte a second, and a parent killed with
SIGKILL. Every crawl ends within its bounds, reads no local file, names the bound it hit, and
leaves no child behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import tomli_w
from sqlalchemy import select

from crawler.runner import CrawlResult, crawl_county
from storage.db import make_engine, session_factory, upgrade
from storage.models import CrawlRun, Document

FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_BACKOFF_BASE": 0.05,
        "RETRY_BACKOFF_MAX": 0.1, "DOWNLOAD_TIMEOUT": 20}
TITLE = "模拟县人民政府办公室2023年政府信息公开工作年度报告"
REPORT = ("<html><head><title>" + TITLE + "</title></head><body><h1>" + TITLE + "</h1><div id='zoom'>"
          + "<p>一、总体情况</p><p>2023年，模拟县人民政府办公室认真贯彻落实《中华人民共和国政府信息公开条例》。</p>"
          + "</div></body></html>")


def _page(links: list[tuple[str, str]]) -> bytes:
    items = "".join(f'<li><a href="{href}">{text}</a><span>2024-01-15</span></li>' for href, text in links)
    return f"<html><body><ul>{items}</ul></body></html>".encode()


class Portal(ThreadingHTTPServer):
    """The hostile portal: every request is logged as (path, query)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.log: list[str] = []
        self.lock = threading.Lock()
        self.hit = threading.Event()  # set by the first request for /slow…
        self.silent = socket.socket()  # an "FTP server" that accepts and never says a word
        self.silent.bind(("127.0.0.1", 0))
        self.silent.listen(8)
        self.silent.settimeout(0.1)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for p in self.log if p.startswith(prefix))

    def silent_connections(self) -> int:
        n = 0
        while True:
            try:
                conn, _ = self.silent.accept()
            except (TimeoutError, OSError):
                return n
            conn.close()
            n += 1


class _Handler(BaseHTTPRequestHandler):
    server: Portal

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.log.append(parts.path + ("?" + parts.query if parts.query else ""))
        q = parse_qs(parts.query)
        path = parts.path
        if path == "/robots.txt":
            return self._send(404, b"")
        if path == "/schemes/":
            ftp = f"ftp://127.0.0.1:{self.server.silent.getsockname()[1]}/report.pdf"
            return self._send(200, _page([(f"file://{self.server.netloc}/etc/passwd", TITLE),
                                          ("file:///etc/passwd", "模拟县财政局2023年政府信息公开工作年度报告"),
                                          (ftp, "模拟县城关街道办事处2023年政府信息公开工作年度报告"),
                                          ("/report.html", TITLE)]))
        if path == "/report.html":
            return self._send(200, REPORT.encode())
        if path == "/endless/":  # page N links page N+1, for ever; a little slow with ?delay
            n = int(q.get("p", ["1"])[0])
            time.sleep(float(q.get("delay", ["0"])[0]))
            delay = f"&delay={q['delay'][0]}" if "delay" in q else ""
            return self._send(200, _page([(f"/endless/?p={n + 1}{delay}", "下一页")]))
        if path in ("/cycle/a", "/cycle/b"):
            other = "/cycle/b" if path == "/cycle/a" else "/cycle/a"
            return self._send(200, _page([(other, "下一页"), ("/report.html", TITLE)]))
        if path == "/slow/":
            return self._send(200, _page([(f"/slow/{i}.html", t) for i, t in enumerate(
                (TITLE, "模拟县财政局2023年政府信息公开工作年度报告"))]))
        if path.startswith("/slow"):
            self.server.hit.set()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(100000):  # one byte a second
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return None
        return self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def portal() -> Iterator[Portal]:
    p = Portal()
    p.thread.start()
    yield p
    p.shutdown()
    p.server_close()
    p.silent.close()


def profile(portal: Portal, start: str, **limits: Any) -> dict[str, Any]:
    return {"county": {"code": "990901", "name": "模拟县", "province": "模拟省", "city": "模拟市"},
            "bodies": [{"name": "模拟县人民政府办公室", "kind": "county_gov"}],
            "portals": [{"flavour": "generic", "start_urls": [portal.base + start], **limits}]}


def crawl(tmp_path: Path, prof: dict[str, Any], **kw: Any) -> CrawlResult:
    db_url = f"sqlite+pysqlite:///{tmp_path / 'nianbao.db'}"
    upgrade(db_url)
    return crawl_county(prof, db_url=db_url, data_dir=tmp_path, settings={**FAST, **kw.pop("settings", {})},
                        timeout=kw.pop("timeout", 300), **kw)


def stored(tmp_path: Path) -> list[bytes]:
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'nianbao.db'}")
    try:
        with session_factory(engine)() as s:
            shas = list(s.scalars(select(Document.sha256)))
    finally:
        engine.dispose()
    return [(tmp_path / "blobs" / sha[:2] / sha[2:]).read_bytes() for sha in shas]


def test_only_http_leaves_the_crawler(tmp_path: Path, portal: Portal) -> None:
    result = crawl(tmp_path, profile(portal, "/schemes/"))
    bodies = stored(tmp_path)
    assert result.status == "ok", result.error
    assert len(bodies) == 1 and TITLE.encode() in bodies[0]  # the report; nothing from /etc/passwd
    assert not any(b"root:" in b for b in bodies)
    assert portal.silent_connections() == 0  # the ftp:// link was never dialled


def test_scrapy_cannot_download_other_schemes_even_if_asked() -> None:
    from scrapy.settings import Settings

    s = Settings()
    s.setmodule("crawler.settings", priority="project")
    handlers = s.getwithbase("DOWNLOAD_HANDLERS")
    assert {k for k, v in handlers.items() if v} == {"http", "https"}


def test_endless_pagination_stops_at_the_list_page_cap(tmp_path: Path, portal: Portal) -> None:
    result = crawl(tmp_path, profile(portal, "/endless/", max_list_pages=6))
    assert portal.count("/endless/") == 6
    assert result.status == "partial"
    assert "list_pages: 6" in result.error and result.stats["limits"] == [f"list_pages: 6 ({portal.base}/endless/)"]


def test_endless_pagination_stops_at_the_depth_cap(tmp_path: Path, portal: Portal) -> None:
    result = crawl(tmp_path, profile(portal, "/endless/", max_depth=3))
    assert portal.count("/endless/") == 4  # the configured page and three below it
    assert result.status == "partial" and "depth: 3" in result.error


def test_default_caps_end_endless_pagination(tmp_path: Path, portal: Portal) -> None:
    result = crawl(tmp_path, profile(portal, "/endless/"), settings={"NIANBAO_MAX_LIST_PAGES": 12})
    assert portal.count("/endless/") == 12 and result.status == "partial"


def test_pagination_cycle_reads_each_page_once(tmp_path: Path, portal: Portal) -> None:
    result = crawl(tmp_path, profile(portal, "/cycle/a"))
    assert (portal.count("/cycle/a"), portal.count("/cycle/b")) == (1, 1)
    assert result.status == "ok", result.error
    assert result.stats["nianbao/limits/cycle"] == 1


def test_run_time_limit_ends_the_crawl_as_partial(tmp_path: Path, portal: Portal) -> None:
    # a page every 0.3 s for ever, no page cap: only the run's time limit ends it
    prof = profile(portal, "/endless/?delay=0.3", max_list_pages=10_000, max_depth=10_000)
    result = crawl(tmp_path, prof, time_limit=4)
    assert result.status == "partial" and "run_time: 4" in result.error, result.error
    assert 3 <= portal.count("/endless/") < 10_000


def test_slow_portal_is_bounded_by_its_time_limit(tmp_path: Path, portal: Portal) -> None:
    started = time.monotonic()
    result = crawl(tmp_path, profile(portal, "/slow/", time_limit=4))
    assert time.monotonic() - started >= 4  # sanity: the server really held the crawl
    assert result.status == "partial" and "portal_time: 4" in result.error, result.error
    assert stored(tmp_path) == []


def test_a_timeout_is_retried_once_per_portal_not_three_times_per_link(tmp_path: Path, portal: Portal) -> None:
    result = crawl(tmp_path, profile(portal, "/slow/"), settings={"DOWNLOAD_TIMEOUT": 2})
    # two slow links: the first timeout is retried once, then timeouts are failures
    assert portal.count("/slow/0.html") + portal.count("/slow/1.html") == 3
    assert result.status == "partial" and result.stats["failed"] == 2


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
@pytest.mark.parametrize(("sig", "error"), [(signal.SIGKILL, "the crawl's parent process ended"),
                                            (signal.SIGINT, "crawl interrupted")])
def test_killed_crawl_leaves_no_child_and_no_job_folder(tmp_path: Path, portal: Portal, sig: int,
                                                       error: str) -> None:
    counties, tmp = tmp_path / "counties", tmp_path / "tmp"
    counties.mkdir()
    tmp.mkdir()
    (counties / "990901.toml").write_bytes(tomli_w.dumps(profile(portal, "/slow/")).encode())
    db_url = f"sqlite+pysqlite:///{tmp_path / 'nianbao.db'}"
    env = {**os.environ, "NIANBAO_DATABASE_URL": db_url, "NIANBAO_DATA_DIR": str(tmp_path / "data"),
           "TMPDIR": str(tmp), "PYTHONPATH": str(Path(__file__).parents[1])}
    parent = subprocess.Popen([sys.executable, "-c", "from monitor.cli import main; main()", "crawl", "990901",
                               "--profile-dir", str(counties), "--json"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert portal.hit.wait(120), "the crawl never reached the slow page"
        children = _children(parent.pid)
        assert len(children) == 1 and _alive(children[0])
        job_dirs = list(tmp.glob("nianbao-crawl-*"))
        assert len(job_dirs) == 1
        assert "sqlite" not in (job_dirs[0] / "job.json").read_text("utf-8")  # the URL is not in the file
        parent.send_signal(sig)
        parent.wait(timeout=60)
        deadline = time.monotonic() + 60
        while _alive(children[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(children[0]), "the crawl child outlived its parent"
        assert list(tmp.glob("nianbao-crawl-*")) == []
    finally:
        for pid in [parent.pid, *_children(parent.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            runs = list(s.scalars(select(CrawlRun)))
    finally:
        engine.dispose()
    assert [(r.status, r.error) for r in runs] == [("failed", error)]


def test_job_folders_of_dead_parents_are_swept(tmp_path: Path) -> None:
    from crawler.runner import sweep_job_folders

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale, live, foreign = (tmp_path / f"nianbao-crawl-{n}" for n in ("stale", "live", "foreign"))
    for folder, pid in ((stale, dead.stdout.strip()), (live, str(os.getpid())), (foreign, None)):
        folder.mkdir()
        (folder / "job.json").write_text("{}")
        if pid is not None:
            (folder / "parent.pid").write_text(pid)
    assert sweep_job_folders(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and foreign.exists()


def test_links_of_other_schemes_are_not_taken() -> None:
    from parsel import Selector

    from crawler.middlewares import on_portal
    from crawler.spiders.base import attachment_links, links_with_dates

    page = ('<a href="file://127.0.0.1:8000/etc/passwd">2023年年度报告</a><a href="ftp://127.0.0.1:8000/a.pdf">附件</a>'
            '<a href="data:text/html,x">2022年年度报告</a><a href="/r.docx">附件：2023年年度报告.docx</a>'
            '<iframe src="file:///etc/shadow.pdf"></iframe>')
    base = "http://127.0.0.1:8000/list/"
    assert [i.url for i in links_with_dates(Selector(text=page), base)] == ["http://127.0.0.1:8000/r.docx"]
    assert [u for u, _ in attachment_links(page, base)] == ["http://127.0.0.1:8000/r.docx"]
    assert not on_portal("file://127.0.0.1:8000/etc/passwd", hosts={"127.0.0.1:8000"})
    assert on_portal("http://127.0.0.1:8000/x", hosts={"127.0.0.1:8000"})
