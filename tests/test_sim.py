"""The portal simulator over real HTTP: each flavour's lists, paging and details (domain/portals.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest

from crawler.sim import SimServer, SimWorld
from crawler.sim.client import fetch, links
from monitor.clock import SHANGHAI, FixedClock

BODIES = [
    ("刘楼镇人民政府", "township"),
    ("城关街道办事处", "street"),
    ("模拟县教育局", "department"),
    ("模拟县人民政府办公室", "county_gov"),
]
YEARS = [2023, 2024, 2025]
REPORT_RE = re.compile(r"(政府信息公开工作年度报告|政府信息公开工作年报|政务公开工作年度报告)")


def is_report_title(title: str) -> bool:
    return bool(REPORT_RE.search(title)) and not title.startswith("关于做好") and "模板" not in title


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SimWorld, SimServer]]:
    world = SimWorld(seed=7, clock=FixedClock(datetime(2026, 4, 1, 10, 0, tzinfo=SHANGHAI)))
    for code, flavour, kw in (
        ("990001", "hanweb", {}),
        ("990002", "trs", {"attachments": ("pdf", "docx")}),
        ("990003", "generic", {}),
        ("990004", "trs", {"encoding": "gbk"}),
        ("990005", "hanweb", {"per_body_columns": True}),
        ("990006", "hanweb_annual", {"attachments": ("pdf",)}),
        ("990007", "gkmlpt", {"attachments": ("docx",)}),
        ("990008", "vsb", {"attachments": ("pdf",)}),
        ("990009", "gkmlpt", {"per_body_columns": True}),
    ):
        world.add_county(code, "模拟县", flavour, BODIES, YEARS, page_size=4, **kw)
        world.populate(code)
    with SimServer(world) as server:
        yield world, server


def expected_urls(world: SimWorld, code: str) -> set[str]:
    return {r["url"] for r in world.expected_reports(code)}


# ---------------------------------------------------------------- hanweb
def hanweb_records(xml: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<li><a href="([^"]+)" title="([^"]+)"[^>]*>.*?</a><span>([\d-]+)</span></li>', xml)


def test_hanweb_column_page_carries_jpage_config_and_first_group(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    portal = world.profile("990001")["portals"][0]
    page = fetch(portal["start_urls"][0])
    assert page.status == 200
    html = page.text()
    assert re.search(r"/col/col\d+/index\.html$", portal["start_urls"][0])
    assert "proxyUrl:'/module/web/jpage/dataproxy.jsp'" in html and "perPage:4" in html
    total = int(re.search(r"totalRecord:(\d+)", html).group(1))
    assert total == int(re.search(r"<totalrecord>(\d+)</totalrecord>", html).group(1))
    assert len(hanweb_records(html)) == 12  # groupSize 3 × perPage 4 embedded


def test_hanweb_dataproxy_answers_every_record_by_range(served: tuple[SimWorld, SimServer]) -> None:
    world, server = served
    base = server.base_url("990001")
    opts = world.profile("990001")["portals"][0]["options"]
    form = {k: opts[k] for k in ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname", "permissiontype")}
    seen: list[tuple[str, str, str]] = []
    start = 1
    while True:
        r = fetch(f"{base}/module/web/jpage/dataproxy.jsp?startrecord={start}&endrecord={start + 11}&perpage=4", form=form)
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/xml")
        got = hanweb_records(r.text())
        total = int(re.search(r"<totalrecord>(\d+)</totalrecord>", r.text()).group(1))
        if not got:
            break
        seen += got
        start += 12
    assert len(seen) == total
    reports = {base + href for href, title, _ in seen if is_report_title(title)}
    assert reports == expected_urls(world, "990001")
    assert any(t.startswith("关于做好") for _, t, _ in seen), "distractors on the list"
    for href, _, _ in seen:
        assert re.fullmatch(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html", href)


def test_hanweb_detail_has_pubdate_meta_and_xxgk_table(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    report = world.expected_reports("990001")[0]
    html = fetch(report["url"]).text()
    assert f'<meta name="PubDate" content="{report["published_at"]:%Y-%m-%d %H:%M}">' in html
    assert "索引号：" in html and "发布机构：" in html and f"公开日期：</td><td>{report['published_at']:%Y-%m-%d}" in html
    assert report["title"] in html


def test_hanweb_per_body_columns_one_portal_per_body(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    portals = world.profile("990005")["portals"]
    assert {p.get("body") for p in portals} == {None} | {b for b, _ in BODIES}
    town = next(p for p in portals if p.get("body") == "刘楼镇人民政府")
    html = fetch(town["start_urls"][0]).text()
    titles = [t for _, t, _ in hanweb_records(html)]
    assert sum(is_report_title(t) for t in titles) == len(YEARS)
    assert all("刘楼镇" in t for t in titles if is_report_title(t))


# ---------------------------------------------------------------- trs
def walk_trs(start: str) -> list[tuple[str, str]]:
    first = fetch(start).text()
    count = int(re.search(r'createPageHTML\((\d+), 0, "index", "shtml"\)', first).group(1))
    items: list[tuple[str, str]] = []
    for n in range(count):
        url = start if n == 0 else start.replace("index.shtml", f"index_{n}.shtml")
        page = fetch(url)
        assert page.status == 200, url
        assert f'createPageHTML({count}, {n}, "index", "shtml")' in page.text()
        items += [(h, t) for h, t in links(page.text(), url) if "/t20" in h]
    assert fetch(start.replace("index.shtml", f"index_{count}.shtml")).status == 404
    return items


def test_trs_pages_with_create_page_html_and_finds_every_report(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    start = world.profile("990002")["portals"][0]["start_urls"][0]
    assert start.endswith("/xxgk/gknb/index.shtml")
    items = walk_trs(start)
    assert {h for h, t in items if is_report_title(t)} == expected_urls(world, "990002")
    for h, _ in items:
        assert re.search(r"/xxgk/gknb/(\d{6})/t\1\d{2}_\d+\.html$", h)


def test_trs_detail_has_trs_editor_and_attachment_links(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    reports = world.expected_reports("990002")
    with_file = next(r for r in reports if r["fmt"] != "html")
    html = fetch(with_file["url"]).text()
    assert '<div class="TRS_Editor">' in html
    assert f'<meta name="PubDate" content="{with_file["published_at"]:%Y-%m-%d %H:%M}">' in html
    hrefs = [h for h, _ in links(html, with_file["url"])]
    assert with_file["attachment_url"] in hrefs
    assert re.search(r"/P0\d{8}\d{12}\.(pdf|docx)$", with_file["attachment_url"])
    att = fetch(with_file["attachment_url"])
    assert att.status == 200 and att.headers["Content-Type"] in (
        "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    inline = next(r for r in reports if r["fmt"] == "html")
    assert "TRS_Editor" in fetch(inline["url"]).text()


# ---------------------------------------------------------------- generic
def test_generic_follows_next_page_links_to_every_report(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    url: str | None = world.profile("990003")["portals"][0]["start_urls"][0]
    found: set[str] = set()
    pages = 0
    while url:
        html = fetch(url).text()
        pages += 1
        page_links = links(html, url)
        found |= {h for h, t in page_links if is_report_title(t) and "content_" in h}
        url = next((h for h, t in page_links if t == "下一页"), None)
    assert pages > 1
    assert found == expected_urls(world, "990003")


def test_generic_detail_gives_a_page_date(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    r = world.expected_reports("990003")[0]
    html = fetch(r["url"]).text()
    stamp = r["published_at"].strftime("%Y-%m-%d %H:%M")
    assert stamp in html


# ---------------------------------------------------------------- hanweb annual-report module
def test_hanweb_annual_module_one_page_per_body_and_year(served: tuple[SimWorld, SimServer]) -> None:
    world, server = served
    portals = world.profile("990006")["portals"]
    assert {p["body"] for p in portals} == {b for b, _ in BODIES}
    expected = {(r["body"], r["year"]): r for r in world.expected_reports("990006")}
    for portal in portals:
        area = portal["options"]["area"]
        assert len(area) == 18
        for url in portal["start_urls"]:
            assert re.search(r"/module/xxgk/xxgkAnnualReport\.jsp\?area=\w{18}&fbtime=\d{4}$", url)
            year = int(url.rsplit("=", 1)[1])
            html = fetch(url).text()
            report = expected.get((portal["body"], year))
            if report is None:
                assert "暂无" in html
            else:
                assert report["url"] == url
                assert f"发布时间：{report['published_at']:%Y-%m-%d %H:%M:%S}" in html
    nothing = fetch(server.base_url("990006") + portals[0]["options"]["module"] + f"?area={portals[0]['options']['area']}&fbtime=2019")
    assert nothing.status == 200 and "暂无" in nothing.text()


# ---------------------------------------------------------------- gkmlpt
def test_gkmlpt_json_api_pages_until_empty(served: tuple[SimWorld, SimServer]) -> None:
    import json

    world, server = served
    portal = world.profile("990007")["portals"][0]
    assert portal["start_urls"][0].endswith("/gkmlpt/index")
    index = fetch(portal["start_urls"][0]).text()
    assert f'"SID": "{portal["options"]["sid"]}"' in index
    base = server.base_url("990007")
    articles, page = [], 1
    while True:
        r = fetch(f"{base}/gkmlpt/api/all/{portal['options']['cat_id']}?page={page}&sid={portal['options']['sid']}")
        assert r.headers["Content-Type"].startswith("application/json")
        data = json.loads(r.body)
        if not data["articles"]:
            break
        articles += data["articles"]
        page += 1
    assert len(articles) == data["total"]
    reports = [a for a in articles if is_report_title(a["title"])]
    assert {a["url"] for a in reports} == expected_urls(world, "990007")
    truth = {r["url"]: r for r in world.expected_reports("990007")}
    for a in reports:
        assert a["date"] == int(truth[a["url"]]["published_at"].timestamp()) == a["first_publish_time"]
        assert re.search(r"/gkmlpt/content/1/(\d{4})/post_\1\d{3}\.html$", a["url"])
        if truth[a["url"]]["attachment_url"]:
            assert a["attachment"][0]["url"] == truth[a["url"]]["attachment_url"]
            assert fetch(a["attachment"][0]["url"]).status == 200
    html = fetch(reports[0]["url"]).text()
    assert truth[reports[0]["url"]]["published_at"].strftime("%Y-%m-%d %H:%M:%S") in html


def test_gkmlpt_per_body_sites_have_their_own_sid(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    portals = world.profile("990009")["portals"]
    sids = {p["options"]["sid"] for p in portals}
    assert len(sids) == len(portals) == len(BODIES) + 1
    town = next(p for p in portals if p.get("body") == "刘楼镇人民政府")
    assert re.search(r"/b\d{3}/gkmlpt/index$", town["start_urls"][0])


# ---------------------------------------------------------------- vsb
def test_vsb_pages_number_downwards_and_find_every_report(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    url: str | None = world.profile("990008")["portals"][0]["start_urls"][0]
    assert url.endswith("/xxgk/gknb.htm")
    visited, found = [], set()
    while url:
        page = fetch(url)
        assert page.status == 200, url
        visited.append(url)
        page_links = links(page.text(), url)
        # the column's own menu/breadcrumb/tab links (to the list, ./, ../) are navigation
        found |= {h for h, t in page_links if is_report_title(t) and not h.endswith(("/", "gknb.htm"))}
        url = next((h for h, t in page_links if t == "下页"), None)
    numbers = [int(re.search(r"/(\d+)\.htm$", u).group(1)) for u in visited[1:]]
    assert len(numbers) > 1 and numbers == sorted(numbers, reverse=True) and numbers[-1] == 1
    assert found == expected_urls(world, "990008")
    report = next(r for r in world.expected_reports("990008") if r["attachment_url"])
    html = fetch(report["url"]).text()
    assert re.search(r"/info/\d+/\d+\.htm$", report["url"])
    assert re.search(r"发布机构：.+索引号：.+时间：" + report["published_at"].strftime("%Y-%m-%d"), html)
    assert "download.jsp?urltype=news.DownloadAttachUrl" in report["attachment_url"]
    assert fetch(report["attachment_url"]).headers["Content-Type"] == "application/pdf"


# ---------------------------------------------------------------- HTTP semantics
def test_gbk_county_pages_decode_with_gb18030(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    start = world.profile("990004")["portals"][0]["start_urls"][0]
    page = fetch(start)
    with pytest.raises(UnicodeDecodeError):
        page.body.decode("utf-8")
    html = page.body.decode("gb18030")
    assert "charset=gb2312" in html and "政府信息公开年报" in html
    report = world.expected_reports("990004")[0]
    assert report["title"] in fetch(report["url"]).body.decode("gb18030")


@pytest.mark.parametrize("which", ["list", "detail"])
def test_unchanged_pages_answer_304_to_conditional_requests(served: tuple[SimWorld, SimServer], which: str) -> None:
    world, server = served
    url = world.profile("990002")["portals"][0]["start_urls"][0] if which == "list" else world.expected_reports("990002")[0]["url"]
    first = fetch(url)
    assert first.status == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
    assert int(first.headers["Content-Length"]) == len(first.body)
    server.reset_log()
    assert fetch(url, headers={"If-None-Match": first.headers["ETag"]}).status == 304
    assert fetch(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status == 304
    assert fetch(url, headers={"If-None-Match": '"other"'}).status == 200
    assert server.count("990002", status=304) == 2
    assert sum(r.conditional for r in server.records("990002")) == 2


def test_attachment_has_validators_and_304(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    att = next(r["attachment_url"] for r in world.expected_reports("990002") if r["attachment_url"])
    first = fetch(att)
    assert first.headers["ETag"] and "attachment" in first.headers["Content-Disposition"]
    assert fetch(att, headers={"If-None-Match": first.headers["ETag"]}).status == 304


def test_gzip_when_asked(served: tuple[SimWorld, SimServer]) -> None:
    world, _ = served
    url = world.profile("990002")["portals"][0]["start_urls"][0]
    plain = fetch(url)
    zipped = fetch(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers.get("Content-Encoding") == "gzip" and "Content-Encoding" not in plain.headers
    assert zipped.body == plain.body


def test_unknown_paths_are_404_and_home_links_the_columns(served: tuple[SimWorld, SimServer]) -> None:
    world, server = served
    base = server.base_url("990002")
    assert fetch(base + "/xxgk/gknb/202601/t20260101_1.html").status == 404
    home = fetch(base + "/").text()
    assert "/xxgk/gknb/index.shtml" in home


def test_request_log_counts_per_county_path_and_status(served: tuple[SimWorld, SimServer]) -> None:
    world, server = served
    server.reset_log()
    start = world.profile("990001")["portals"][0]["start_urls"][0]
    fetch(start)
    fetch(start)
    fetch(server.base_url("990001") + "/nope")
    assert server.count("990001") == 3
    assert server.count("990001", path_prefix="/col/") == 2
    assert server.count("990001", status=404) == 1
    assert server.count("990002") == 0
    assert server.count() == 3
    server.reset_log()
    assert server.count() == 0


def test_each_county_is_its_own_port(served: tuple[SimWorld, SimServer]) -> None:
    _, server = served
    urls = set(server.base_urls.values())
    assert len(urls) == 9 and all(u.startswith("http://127.0.0.1:") for u in urls)
