"""The crawler against the portal simulator, over HTTP on 127.0.0.1.

Every crawl runs through crawler.runner's child process (Scrapy's reactor starts once per process),
exactly as `nianbao crawl` runs it; the simulator's request log tells what was asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler.runner import CrawlResult, crawl_county
from crawler.sim.server import SimServer
from crawler.sim.world import SimWorld
from crawler.titles import classify_title
from monitor.clock import SHANGHAI, FixedClock
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory, upgrade
from storage.models import CrawlRun, Document, SeenUrl

NOW = datetime(2026, 4, 1, 10, 0, tzinfo=SHANGHAI)
BODIES = [("模拟县人民政府办公室", "county_gov"), ("刘楼镇人民政府", "township"),
          ("城关街道办事处", "street"), ("模拟县财政局", "department")]
# Polite settings stay (2 per site, robots), but no waiting in tests.
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_BACKOFF_BASE": 0.05,
        "RETRY_BACKOFF_MAX": 0.1, "DOWNLOAD_TIMEOUT": 20}


class Sim:
    def __init__(self, tmp: Path) -> None:
        self.clock = FixedClock(NOW)
        self.world = SimWorld(7, self.clock)
        self.server = SimServer(self.world).start()
        self.tmp = tmp
        self.db_url = f"sqlite+pysqlite:///{tmp / 'nianbao.db'}"
        upgrade(self.db_url)
        self.engine = make_engine(self.db_url)
        self.sf = session_factory(self.engine)

    def county(self, code: str, flavour: str, *, years: tuple[int, ...] = (2023, 2024, 2025),
               populate: bool = True, **kw: Any) -> str:
        kw.setdefault("attachments", ("docx", "pdf"))
        kw.setdefault("page_size", 4)
        self.world.add_county(code, "模拟县", flavour, BODIES, years, **kw)
        if populate:
            self.world.populate(code)
        self.server.bind_new()
        return code

    def crawl(self, code: str, *, profile: dict[str, Any] | None = None, **kw: Any) -> CrawlResult:
        return crawl_county(profile or self.world.profile(code), db_url=self.db_url, data_dir=self.tmp,
                            settings={**FAST, **kw.pop("settings", {})}, timeout=120, **kw)

    def documents(self, run_id: int | None = None) -> dict[str, Document]:
        """url → document the URL serves now (per SeenUrl), optionally only those a run stored."""
        with self.sf() as s:
            q = select(SeenUrl.url, Document).join(Document, Document.id == SeenUrl.document_id)
            if run_id is not None:
                q = q.where(Document.crawl_run_id == run_id)
            return {url: doc for url, doc in s.execute(q)}

    def run(self, run_id: int) -> CrawlRun:
        with self.sf() as s:
            return s.get_one(CrawlRun, run_id)

    def close(self) -> None:
        self.server.stop()
        self.engine.dispose()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    s = Sim(tmp_path)
    yield s
    s.close()


def list_requests(sim: Sim, code: str) -> list[Any]:
    return [r for r in sim.server.records(code) if r.path != "/robots.txt"]


FLAVOURS = [("hanweb", "gbk"), ("hanweb_annual", "utf-8"), ("trs", "gbk"), ("gkmlpt", "utf-8"),
            ("vsb", "gbk"), ("kaipu", "gbk"), ("generic", "utf-8")]


@pytest.mark.parametrize(("flavour", "encoding"), FLAVOURS)
def test_every_report_found_with_body_year_and_date(sim: Sim, flavour: str, encoding: str) -> None:
    from monitor.extract import extract

    code = sim.county("990001", flavour, encoding=encoding)
    result = sim.crawl(code)
    assert result.status == "ok", result.error
    expected = sim.world.expected_reports(code)
    assert len(expected) >= 8
    docs = sim.documents()
    blobs = BlobStore(sim.tmp / "blobs")
    attachments = 0
    for e in expected:
        doc = docs.get(e["url"])
        assert doc is not None, f"report page not stored: {e['title']} {e['url']}"
        assert doc.body_name == e["body"], e["title"]
        assert classify_title(doc.listing_title or "").year == e["year"]
        assert doc.listing_title == e["title"]  # GBK pages decoded
        assert doc.page_published_at == e["published_at"].date(), (e["title"], doc.published_source)
        assert doc.published_source in ("listing", "page_meta", "page")
        if e["attachment_url"]:
            att = docs.get(e["attachment_url"])
            assert att is not None, f"attachment not downloaded: {e['attachment_url']}"
            assert att.body_name == e["body"]
            parsed = extract(blobs.get(att.sha256), filename=e["attachment_url"], content_type=att.content_type)
            assert not parsed.is_empty(), e["attachment_url"]
            attachments += 1
    assert attachments >= 1
    # distractors and noise items were not fetched: only reports and their attachments
    assert len(docs) == len(expected) + attachments
    assert result.stats["empty_lists"] == []


@pytest.mark.parametrize("flavour", ["hanweb", "hanweb_annual", "trs", "gkmlpt", "vsb", "kaipu", "generic"])
def test_no_change_recrawl_fetches_only_list_pages(sim: Sim, flavour: str) -> None:
    code = sim.county("990002", flavour)
    first = sim.crawl(code)
    assert first.status == "ok"
    profile = sim.world.profile(code)
    start_lists = sum(len(p["start_urls"]) for p in profile["portals"])
    sim.server.reset_log()
    second = sim.crawl(code)
    assert second.status == "ok"
    asked = list_requests(sim, code)
    # one request per configured list (its first page), answered 304; no report page, no attachment
    assert len(asked) == start_lists, [r.path for r in asked]
    assert all(r.status == 304 for r in asked), [(r.path, r.status) for r in asked]
    assert second.stats["new"] == second.stats["changed"] == 0
    # every known report was marked seen by the second run (so none is taken for vanished)
    with sim.sf() as s:
        stale = s.scalars(select(SeenUrl.url).where(SeenUrl.document_id.is_not(None),
                                                    SeenUrl.last_run_id != second.run_id)).all()
    assert stale == []


@pytest.mark.parametrize("flavour", ["trs", "hanweb", "gkmlpt", "vsb", "kaipu", "generic"])
def test_report_published_between_crawls_is_found_by_the_second_alone(sim: Sim, flavour: str) -> None:
    code = sim.county("990003", flavour, years=(2023, 2024, 2025), populate=False)
    sim.world.populate(code, [2023, 2024])
    for body, _kind in BODIES[1:]:
        sim.world.publish(code, body, 2025, at=NOW - timedelta(days=30), fmt="html")
    first = sim.crawl(code)
    assert first.status == "ok"
    sim.clock.advance(days=2)
    new = sim.world.publish(code, BODIES[0][0], 2025, at=NOW + timedelta(days=1), fmt="html")
    sim.server.reset_log()
    second = sim.crawl(code)
    assert second.status == "ok"
    stored = sim.documents(second.run_id)
    url = sim.world.expected_reports(code)
    url = next(e["url"] for e in url if e["body"] == BODIES[0][0] and e["year"] == 2025)
    assert list(stored) == [url]
    assert stored[url].body_name == BODIES[0][0]
    assert stored[url].page_published_at == new.published_at.date()
    assert len([r for r in list_requests(sim, code) if url.endswith(r.path)]) == 1
    assert second.stats["fetched"] == 1


def write_profile(sim: Sim, profile: dict[str, Any]) -> Path:
    import tomli_w

    path = sim.tmp / "counties" / f"{profile['county']['code']}.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(tomli_w.dumps(profile).encode())
    return path


def process(sim: Sim, run_id: int, profile: dict[str, Any]) -> dict[str, int]:
    """The monitor pipeline on the run, as `nianbao crawl` does; open findings by rule."""
    from sqlalchemy import func

    from monitor.pipeline import process_run
    from monitor.profiles import load_profile, sync_profiles
    from storage.models import Finding

    with sim.sf() as s, s.begin():
        sync_profiles(s, [load_profile(write_profile(sim, profile))])
    process_run(sim.sf, BlobStore(sim.tmp / "blobs"), run_id, sim.clock)
    with sim.sf() as s:
        rows = s.execute(select(Finding.rule_id, func.count()).where(Finding.resolved_at.is_(None))
                         .group_by(Finding.rule_id))
        return {rule: n for rule, n in rows}


@pytest.mark.parametrize(("mode", "kind"), [("412", "412"), ("521", "521"), ("waf403", "waf"),
                                            ("waf200", "waf"), ("captcha", "captcha"),
                                            ("maintenance", "maintenance")])
def test_blocked_county_is_crawl001_never_missing(sim: Sim, mode: str, kind: str) -> None:
    code = sim.county("990004", "trs", populate=False)  # nothing published: TIME-004 if we believed it
    sim.world.set_fault(code, mode)
    profile = sim.world.profile(code)
    result = sim.crawl(code)
    assert result.status == "blocked"
    assert result.stats["blocked_kinds"].get(kind, 0) >= 1
    assert result.stats["empty_lists"] == []  # blocked is not "the list is empty"
    assert sim.run(result.run_id).status == "blocked"
    findings = process(sim, result.run_id, profile)
    assert findings.get("CRAWL-001") == 1
    assert "TIME-004" not in findings
    assert "CRAWL-003" not in findings


# Real block pages come with other statuses than 412/521 (crawler/blocks.py): each is a block,
# never an empty list (CRAWL-003) and never a stored page.
NEW_BLOCKS = [("412", 200, "412"), ("412", 202, "412"), ("412", 400, "412"), ("jsl512", None, "521"),
              ("521", 200, "521"), *[(m, s, "waf") for m in ("yunfanghu", "chuangyudun", "safedog", "yunsuo",
                                                               "ddun", "safeline") for s in (200, 403)]]


@pytest.mark.parametrize(("mode", "status", "kind"), NEW_BLOCKS)
def test_block_pages_at_any_status_are_blocked_not_empty(sim: Sim, mode: str, status: int | None,
                                                         kind: str) -> None:
    code = sim.county("990014", "trs")
    sim.world.set_fault(code, mode, status=status)
    result = sim.crawl(code)
    assert result.status == "blocked", (result.status, result.stats)
    assert result.stats["blocked_kinds"].get(kind, 0) >= 1
    assert result.stats["empty_lists"] == []
    assert sim.documents() == {}


def test_missing_report_after_a_good_crawl_is_time004(sim: Sim) -> None:
    """The control for the test above: the same county, not blocked, gives TIME-004."""
    code = sim.county("990005", "trs", populate=False)
    profile = sim.world.profile(code)
    result = sim.crawl(code)
    assert result.status == "ok"
    findings = process(sim, result.run_id, profile)
    assert findings.get("TIME-004", 0) >= 1
    assert "CRAWL-001" not in findings


def test_simple_521_cookie_passed_only_when_the_profile_allows(sim: Sim) -> None:
    code = sim.county("990006", "generic")
    sim.world.set_fault(code, "521")
    profile = sim.world.profile(code)
    assert sim.crawl(code, profile=profile).status == "blocked"
    for portal in profile["portals"]:
        portal["options"] = {**portal.get("options", {}), "allow_cookie_challenge": True}
    result = sim.crawl(code, profile=profile)
    assert result.status == "ok", result.error
    assert len(sim.documents()) >= len(sim.world.expected_reports(code))


def test_5xx_burst_is_retried_and_a_persistent_one_makes_the_run_partial(sim: Sim) -> None:
    code = sim.county("990007", "trs")
    first = sim.crawl(code)
    assert first.status == "ok"
    before = {url: doc.sha256 for url, doc in sim.documents().items()}
    blobs = BlobStore(sim.tmp / "blobs")
    # two new reports; the list answers 5xx twice (recovered by retries), one report page always
    sim.world.set_fault(code, "5xx", path_prefix="/xxgk/gknb/index", count=2)
    sim.clock.advance(days=1)
    sim.world.edit(code, BODIES[1][0], 2024)  # the listing does not change: not fetched again
    broken = sim.world.publish(code, "模拟县财政局", 2026, at=NOW + timedelta(hours=1), fmt="html",
                               title="模拟县财政局2026年政府信息公开工作年度报告")
    ok = sim.world.publish(code, "城关街道办事处", 2026, at=NOW + timedelta(hours=2), fmt="html",
                           title="城关街道2026年政府信息公开工作年度报告")
    broken_path = sim.world.county(code).site.detail_path(broken)
    sim.world.set_fault(code, "5xx", path_prefix=broken_path, count=1000)
    second = sim.crawl(code)
    assert second.status == "partial", second.error
    assert second.stats["retries"] >= 2 + 3  # the list's burst, then the report page's retries
    assert second.stats["failed_reasons"] == {"http_500": 1} or second.stats["failed_reasons"] == {"http_503": 1}
    after = sim.documents()
    assert any(url.endswith(sim.world.county(code).site.detail_path(ok)) for url in after)
    assert not any(url.endswith(broken_path) for url in after)
    for url, sha in before.items():  # stored data intact
        assert after[url].sha256 == sha
        assert blobs.get(sha)


def test_robots_disallow_is_obeyed_unless_the_profile_says_otherwise(sim: Sim) -> None:
    code = sim.county("990008", "vsb", robots="disallow")
    profile = sim.world.profile(code)
    result = sim.crawl(code, profile=profile)
    assert result.status == "blocked"
    assert result.stats["blocked_kinds"] == {"robots": 1}
    assert list_requests(sim, code) == []
    for portal in profile["portals"]:
        portal["obey_robots"] = False
    assert sim.crawl(code, profile=profile).status == "ok"


def test_changed_layout_gives_an_empty_list_crawl003(sim: Sim) -> None:
    code = sim.county("990009", "hanweb")
    profile = sim.world.profile(code)
    assert sim.crawl(code).status == "ok"
    sim.world.change_layout(code)
    sim.clock.advance(days=1)
    result = sim.crawl(code)
    assert result.status == "ok"
    assert result.stats["empty_lists"] == profile["portals"][0]["start_urls"]
    assert process(sim, result.run_id, profile).get("CRAWL-003") == 1


def test_year_option_fetches_that_year_only(sim: Sim) -> None:
    code = sim.county("990010", "generic", attachments=())
    result = sim.crawl(code, years=[2024])
    assert result.status == "ok"
    docs = sim.documents()
    expected = [e for e in sim.world.expected_reports(code) if e["year"] == 2024]
    assert sorted(docs) == sorted(e["url"] for e in expected)


def test_moved_column_is_followed_on_the_same_host(sim: Sim) -> None:
    code = sim.county("990011", "trs", attachments=())
    profile = sim.world.profile(code)
    sim.world.move_column(code)
    result = sim.crawl(code, profile=profile)
    assert result.status == "ok", result.error
    assert len(sim.documents()) == len(sim.world.expected_reports(code))


def test_portal_moved_to_a_new_host_is_said_and_nothing_is_lost(sim: Sim) -> None:
    """A site merger: every old URL answers 301 to a host the profile does not list. The crawl does
    not follow it off the portal, says where it went (run error, CRAWL-003 with the new address),
    keeps what was stored; with the new host in the profile, the reports are found again."""
    code = sim.county("990012", "generic", attachments=())
    old_profile = sim.world.profile(code)
    first = sim.crawl(code, profile=old_profile)
    assert first.status == "ok"
    before = {url: doc.sha256 for url, doc in sim.documents().items()}
    assert before

    new_base = sim.server.move_domain(code)
    sim.clock.advance(days=1)
    sim.server.reset_log()
    moved = sim.crawl(code, profile=old_profile)
    assert moved.status == "failed"
    assert new_base in (moved.error or "") and "update the county profile" in (moved.error or "")
    old_list = old_profile["portals"][0]["start_urls"][0]
    assert any(pair.startswith(old_list + " → " + new_base) for pair in moved.stats["moved"])
    assert moved.stats["empty_lists"] == []  # moved is not "the list has no report"
    assert {r.status for r in sim.server.records(code)} == {301}  # nothing asked of the new host
    findings = process(sim, moved.run_id, old_profile)
    assert findings.get("CRAWL-003") == 1
    assert "TIME-004" not in findings
    with sim.sf() as s:
        from storage.models import Finding

        row = s.execute(select(Finding).where(Finding.rule_id == "CRAWL-003")).scalar_one()
        assert row.details["moved_to"].startswith(new_base) and new_base in row.message
    assert {url: doc.sha256 for url, doc in sim.documents().items()} == before

    again = sim.crawl(code, profile=sim.world.profile(code))
    assert again.status == "ok", again.error
    assert len({u for u in sim.documents() if u.startswith(new_base)}) == len(before)


@pytest.mark.parametrize("flavour", ["trs", "vsb"])
def test_wps_and_scanned_attachments(sim: Sim, flavour: str) -> None:
    """A .wps file (legacy binary, served as octet-stream) is read through LibreOffice; a scanned PDF
    (page images, no text layer) is stored and gets STRUCT-006, not a crash nor a missing report."""
    import os
    import shutil

    from sqlalchemy import func

    from monitor.extract import extract
    from storage.models import Finding

    if shutil.which("soffice") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is required when CI=true")
        pytest.skip("LibreOffice (soffice) is not installed")
    code = sim.county("990013", flavour, populate=False, attachments=("wps", "scan"))
    wps = sim.world.publish(code, BODIES[1][0], 2025, at=NOW - timedelta(days=40), fmt="wps")
    scan = sim.world.publish(code, BODIES[2][0], 2025, at=NOW - timedelta(days=30), fmt="scan")
    profile = sim.world.profile(code)
    result = sim.crawl(code, profile=profile)
    assert result.status == "ok", result.error
    expected = {e["body"]: e for e in sim.world.expected_reports(code)}
    docs = sim.documents()
    blobs = BlobStore(sim.tmp / "blobs")
    wps_doc = docs[expected[wps.body]["attachment_url"]]
    scan_doc = docs[expected[scan.body]["attachment_url"]]
    assert wps_doc.body_name == wps.body and scan_doc.body_name == scan.body
    assert blobs.get(scan_doc.sha256).startswith(b"%PDF")
    text = extract(blobs.get(wps_doc.sha256), filename=expected[wps.body]["attachment_url"],
                   content_type=wps_doc.content_type)
    assert not text.is_empty()
    findings = process(sim, result.run_id, profile)
    assert findings.get("STRUCT-006") == 1
    with sim.sf() as s:
        (msg,) = s.execute(select(Finding.message).where(Finding.rule_id == "STRUCT-006")).one()
        assert "图" in msg or "扫描" in msg, msg
        assert s.execute(select(func.count()).select_from(Finding)
                         .where(Finding.rule_id == "TIME-004")).scalar_one() >= 1  # the bodies with nothing


def test_attachment_above_the_size_limit_is_named_and_the_rest_goes_on(sim: Sim) -> None:
    code = sim.county("990014", "trs", populate=False, attachments=("pdf",))
    sim.world.publish(code, BODIES[1][0], 2025, at=NOW - timedelta(days=40), fmt="pdf")
    result = sim.crawl(code, settings={"DOWNLOAD_MAXSIZE": 3000, "DOWNLOAD_WARNSIZE": 1000})
    assert result.status == "partial"
    assert result.stats["failed_reasons"] == {"too_large": 1}
    assert "too_large" in (result.error or "")
    expected = {e["body"]: e for e in sim.world.expected_reports(code)}
    assert result.stats["too_large"] == [expected[BODIES[1][0]]["attachment_url"]]
    docs = sim.documents()
    assert expected[BODIES[1][0]]["url"] in docs  # the report page that links the file
    assert expected[BODIES[1][0]]["attachment_url"] not in docs


@pytest.mark.parametrize("flavour", ["trs", "hanweb", "generic"])
def test_pdf_shown_in_an_embedded_viewer_is_downloaded(sim: Sim, flavour: str) -> None:
    """Report pages that show their PDF in a pdf.js viewer <iframe> and offer no download link."""
    code = sim.county("990015", flavour, populate=False, attachments=("pdf",), pdf_viewer=True)
    sim.world.publish(code, BODIES[1][0], 2025, at=NOW - timedelta(days=40), fmt="pdf")
    sim.world.publish(code, BODIES[2][0], 2025, at=NOW - timedelta(days=30), fmt="pdf")
    result = sim.crawl(code)
    assert result.status == "ok", result.error
    docs = sim.documents()
    for e in sim.world.expected_reports(code):
        assert e["attachment_url"] in docs, e["attachment_url"]
        assert docs[e["attachment_url"]].body_name == e["body"]
    assert not [r for r in sim.server.records(code) if "pdfjs" in r.path]  # the viewer page itself: never


def test_configured_list_gone_is_crawl003_not_a_failing_portal(sim: Sim) -> None:
    """The portal was rebuilt: the configured column answers 404. The portal is up, the list is
    gone: CRAWL-003 names it, no CRAWL-002 ("the portal fails"), and what was stored stays."""
    code = sim.county("990016", "trs", attachments=())
    profile = sim.world.profile(code)
    assert sim.crawl(code, profile=profile).status == "ok"
    before = {url: doc.sha256 for url, doc in sim.documents().items()}
    sim.world.move_column(code, redirect=False)
    sim.clock.advance(days=1)
    result = sim.crawl(code, profile=profile)
    assert result.status == "ok", result.error
    assert result.stats["failed"] == 0
    assert result.stats["empty_lists"] == profile["portals"][0]["start_urls"]
    findings = process(sim, result.run_id, profile)
    assert findings.get("CRAWL-003") == 1 and "CRAWL-002" not in findings
    assert {url: doc.sha256 for url, doc in sim.documents().items()} == before


def test_trs_inline_pager_reaches_the_older_years(sim: Sim) -> None:
    """Older TRS templates write `var countPage = N; var currentPage = 0;` and document.write, no
    createPageHTML call and no next link in the server's HTML: every page is still read."""
    code = sim.county("990015", "trs", years=(2021, 2022, 2023, 2024, 2025), pager="inline")
    result = sim.crawl(code)
    assert result.status == "ok", result.error
    expected = sim.world.expected_reports(code)
    docs = sim.documents()
    missing = sorted({e["year"] for e in expected if e["url"] not in docs})
    assert missing == []
    assert len([r for r in list_requests(sim, code) if "/index_" in r.path]) >= 3


def test_regenerated_pubdate_stamps_do_not_make_reports_late(sim: Sim) -> None:
    """A Kaipu site migrated to a new CMS: every PubDate stamp (and list date) moved to the
    migration day, the page's 发布日期 and the URL's month folder kept the real date. Reports
    published on time stay on time; the one really late gets a TIME-003 that names the source it
    used and the stamp it set aside."""
    from monitor.deadlines import sweep
    from storage.models import Finding

    code = sim.county("990016", "kaipu", years=(2024,), populate=False)
    on_time = datetime(2025, 1, 20, 9, 30, tzinfo=SHANGHAI)
    for body, kind in BODIES:
        at = datetime(2025, 3, 12, 10, 0, tzinfo=SHANGHAI) if body == "刘楼镇人民政府" else on_time
        sim.world.publish(code, body, 2024, at=at, fmt="html")
        assert kind
    migrated = datetime(2025, 11, 6, 16, 2, tzinfo=SHANGHAI)
    sim.world.regenerate(code, migrated)
    profile = sim.world.profile(code)
    result = sim.crawl(code)
    assert result.status == "ok", result.error
    docs = sim.documents()
    assert len(docs) == len(BODIES)
    for doc in docs.values():
        assert doc.page_published_at in (on_time.date(), date(2025, 3, 12))
        assert doc.published_source.startswith("page;")
        assert "page_meta=2025-11-06" in doc.published_source
    process(sim, result.run_id, profile)
    sweep(sim.sf, sim.clock, 2024)
    with sim.sf() as s:
        late = s.scalars(select(Finding).where(Finding.rule_id == "TIME-003", Finding.resolved_at.is_(None))).all()
    assert len(late) == 1
    assert "刘楼镇" in late[0].message and "2025-03-12" in late[0].message
    assert "页面发布时间" in late[0].message and "未采用" in late[0].message and "2025-11-06" in late[0].message
    assert late[0].details["source"] == "page"
    assert late[0].details["overruled"]["page_meta"] == "2025-11-06"
