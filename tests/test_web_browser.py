"""The status pages in a real browser (Debian's headless Chromium through Playwright) against
`nianbao serve`'s app on 127.0.0.1 with a seeded database: the grid renders, a click reaches a
report, a finding marks its cell, a filter narrows the findings, an export downloads.

Screenshots are written to pytest's tmp dir (or $NIANBAO_SCREENSHOTS when set); the browser is
/usr/bin/chromium (or $NIANBAO_CHROMIUM), never one downloaded by Playwright. Under CI=true a
missing Chromium or Playwright fails the tests; elsewhere it skips them."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.web_seed import CODE, seed

CHROMIUM = os.environ.get("NIANBAO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def server(tmp_path: Path, county_profile: str) -> Iterator[str]:
    """The app, seeded, served by uvicorn on a free port of 127.0.0.1 in a thread."""
    import uvicorn

    from monitor.web import create_app
    from storage.db import make_engine, upgrade

    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'web.db'}")
    upgrade(engine)
    data = seed(engine, tmp_path, county_profile)
    app = create_app(SimpleNamespace(reminder_days=14), data["clock"], session_factory=data["sf"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        if not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)
    engine.dispose()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    d = Path(os.environ.get("NIANBAO_SCREENSHOTS") or tmp_path / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_grid_click_report_finding_marks_its_cell(browser: Any, server: str, shots: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="汶上县年报公开情况").click()
    assert page.url.endswith(f"/county/{CODE}")
    grid = page.locator("#grid")
    assert grid.locator("thead th[scope=col]").count() == 7  # 主体 + six years
    assert grid.locator("tbody th[scope=row]").count() == 3
    row = grid.locator("tbody tr", has_text="刘楼镇人民政府")
    assert row.locator("td.st-late").count() == 1 and row.locator("td.st-errors").count() == 1
    assert "缺失" in grid.locator("tbody tr", has_text="汶上县财政局").inner_text()
    assert page.locator("svg.chart circle").count() >= 3  # the strip chart, drawn by the server
    page.screenshot(path=str(shots / "grid.png"), full_page=True)

    link = row.locator("td.st-errors a")
    assert "刘楼镇人民政府 2022年度报告" in link.inner_text()  # the link says where it goes
    link.click()
    assert "/report/" in page.url
    assert page.locator("h1").inner_text() == "刘楼镇人民政府 2022年度政府信息公开工作年度报告"
    finding = page.locator("li.finding", has_text="ARITH-002").first
    anchor = finding.locator("p.where a").first.get_attribute("href")
    assert anchor and anchor.startswith("#cell-requests-")
    cell = page.locator(anchor)
    assert "flagged" in (cell.get_attribute("class") or "") and "flag-error" in cell.get_attribute("class")
    # the cell links back to the finding, whose message explains it
    fid = finding.get_attribute("id")
    assert cell.locator(f"a[href='#{fid}']").count() == 1
    bg = cell.evaluate("e => getComputedStyle(e).backgroundColor")
    plain = page.locator("table#table-requests td.num:not(.flagged)").first.evaluate(
        "e => getComputedStyle(e).backgroundColor")
    assert bg != plain  # highlighted on screen, not only in markup
    finding.locator("p.where a").first.click()
    assert page.url.endswith(anchor)
    assert page.locator("table#dates tr.used").count() == 1
    assert "与上一版本相比" in page.locator("ol.versions").inner_text()
    page.screenshot(path=str(shots / "report.png"), full_page=True)
    for th in page.locator("table th").all():
        assert th.get_attribute("scope") in ("col", "row")


def test_filter_narrows_findings_and_export_downloads(browser: Any, server: str, shots: Path,
                                                      tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(server + "/findings")
    all_rows = page.locator("#findings-table tbody tr").count()
    rules = set(page.locator("#findings-table tbody td code").all_inner_texts())
    assert {"ARITH-002", "TIME-004"} <= rules
    page.get_by_label("规则", exact=True).select_option("ARITH-002")
    page.get_by_role("button", name="筛选").click()
    assert "rule=ARITH-002" in page.url
    narrowed = page.locator("#findings-table tbody tr")
    assert 0 < narrowed.count() < all_rows
    assert set(page.locator("#findings-table tbody td code").all_inner_texts()) == {"ARITH-002"}
    page.screenshot(path=str(shots / "findings.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="导出问题清单 CSV").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert info.value.suggested_filename == "findings.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("id,fingerprint,rule,severity")
    assert len(lines) - 1 == narrowed.count() and all(",ARITH-002," in line for line in lines[1:])

    with page.expect_download() as info:
        page.get_by_role("link", name="导出问题清单 XLSX").click()
    from openpyxl import load_workbook

    xlsx = tmp_path / "f.xlsx"
    info.value.save_as(xlsx)
    assert load_workbook(xlsx)["问题"].max_row == narrowed.count() + 1
