"""The crawler's downloader-middleware functions and list parsers, without a network."""

from __future__ import annotations

from datetime import date

import pytest
from parsel import Selector

from crawler.middlewares import (
    backoff_delay,
    classify_block,
    conditional_headers,
    jsl_clearance_cookie,
    netloc,
    on_portal,
)
from crawler.sim import faults
from crawler.spiders.base import attachment_links, links_with_dates, resolve_body
from crawler.spiders.gkmlpt import api_items
from crawler.spiders.hanweb import records
from crawler.spiders.trs import next_page


@pytest.mark.parametrize(("page", "kind"), [
    (faults.challenge_412("990001", "/"), "412"),
    (faults.challenge_521("990001"), "521"),
    (faults.waf_page("990001", "/", 403), "waf"),
    (faults.waf_page("990001", "/", 200), "waf"),
    (faults.captcha_page(), "captcha"),
    (faults.maintenance_page(), "maintenance"),
])
def test_block_pages_are_classified(page: object, kind: str) -> None:
    assert classify_block(status=page.status, body=page.body, content_type=page.content_type) == kind  # type: ignore[attr-defined]


def test_gbk_waf_page_and_bare_403_are_blocks() -> None:
    body = "<html><body>您的访问请求可能对网站造成安全威胁</body></html>".encode("gbk")
    assert classify_block(status=200, body=body, content_type="text/html; charset=gbk") == "waf"
    assert classify_block(status=403, body=b"Forbidden", content_type="text/html") == "403"


def test_normal_answers_are_not_blocks() -> None:
    assert classify_block(status=503, body=faults.server_error(503).body, content_type="text/html") is None
    assert classify_block(status=200, body=b"%PDF-1.7 ...", content_type="application/pdf") is None
    # a long report page with a comment form asking for a captcha is a report page
    long_page = ("<p>政府信息公开工作年度报告</p>" * 3000 + "<form>请输入验证码</form>").encode()
    assert classify_block(status=200, body=long_page, content_type="text/html", max_page=64 * 1024) is None


def test_jsl_cookie_only_from_the_simple_literal_form() -> None:
    assert jsl_clearance_cookie(faults.challenge_521("990001").body) == (
        "__jsl_clearance", faults.jsl_clearance("990001").split(";")[0])
    computed = b"<script>document.cookie=('_')+('_j')+('sl_clearance=1|0|x');</script>"
    assert jsl_clearance_cookie(computed) is None


def test_portal_is_host_and_port() -> None:
    hosts = {"127.0.0.1:8001", "www.wenshang.gov.cn"}
    assert on_portal("http://127.0.0.1:8001/a.html", hosts=hosts)
    assert not on_portal("http://127.0.0.1:8002/a.html", hosts=hosts)
    assert on_portal("https://www.wenshang.gov.cn/col/col1/index.html", hosts=hosts)
    assert on_portal("http://www.wenshang.gov.cn:80/x", hosts=hosts)
    assert not on_portal("http://wenshang.gov.cn.evil.com/", hosts=hosts)
    assert on_portal("http://xxgk.wenshang.gov.cn/", hosts={"wenshang.gov.cn"})
    assert netloc("HTTP://Example.GOV.cn:443/") == "example.gov.cn:443"


@pytest.mark.parametrize(("n", "expected"), [(0, 0.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0)])
def test_backoff_doubles_up_to_the_cap(n: int, expected: float) -> None:
    assert backoff_delay(retry_times=n, base=2.0, cap=60.0) == expected


def test_conditional_headers() -> None:
    assert conditional_headers(etag='"abc"', last_modified=None) == {"If-None-Match": '"abc"'}
    assert conditional_headers(etag=None, last_modified="Tue, 27 Jan 2026 01:42:00 GMT") == {
        "If-Modified-Since": "Tue, 27 Jan 2026 01:42:00 GMT"}
    assert conditional_headers(etag=None, last_modified=None) == {}


def test_hanweb_records_and_trs_paging() -> None:
    xml = ("<datastore><recordset><record><![CDATA[<li><a href=\"/art/2026/1/27/art_1_2.html\" "
           "title=\"刘楼镇2025年政府信息公开工作年度报告\">刘楼镇2025年…</a><span>2026-01-27</span></li>]]>"
           "</record></recordset><totalrecord>1</totalrecord></datastore>")
    (item,) = records(xml, "http://x.gov.cn/col/col1/index.html")
    assert item.url == "http://x.gov.cn/art/2026/1/27/art_1_2.html"
    assert item.title == "刘楼镇2025年政府信息公开工作年度报告"
    assert item.date == date(2026, 1, 27)
    html = 'function createPageHTML(_nPageCount, _nCurrIndex){} createPageHTML(3, 1, "index", "shtml");'
    assert next_page(html, "http://x.gov.cn/xxgk/gknb/index_1.shtml") == "http://x.gov.cn/xxgk/gknb/index_2.shtml"
    assert next_page('createPageHTML(3, 2, "index", "shtml")', "http://x/") is None


def test_list_dates_next_to_links_in_every_style() -> None:
    html = """<ul><li><a href="a.html">甲镇2025年政府信息公开工作年度报告</a><span>[2026-01-20]</span></li>
    <li><a href="b.html">乙镇2025年政府信息公开工作年度报告</a><span>2026年01月21日</span></li></ul>
    <table><tr><td><a href="c.html">丙镇2025年政府信息公开工作年度报告</a></td><td>2026.01.22</td></tr></table>
    <a href="d.html">丁镇2025年政府信息公开工作年度报告</a>"""
    items = links_with_dates(Selector(text=html), "http://x/")
    assert [(i.url[-6:], i.date) for i in items] == [
        ("a.html", date(2026, 1, 20)), ("b.html", date(2026, 1, 21)), ("c.html", date(2026, 1, 22)),
        ("d.html", None)]


def test_gkmlpt_api_items_epoch_dates_and_attachments() -> None:
    data = {"articles": [{"id": 1, "title": "甲镇2025年政府信息公开工作年度报告", "url": "/gkmlpt/content/0/1/post_1.html",
                          "date": 1769075357, "attachment": [{"name": "a.pdf", "url": "/attachment/a.pdf"}]}],
            "total": 1}
    (item,) = api_items(data, "http://x.gov.cn/gkmlpt/api/all/5?page=1")
    assert item.date == date(2026, 1, 22)
    assert item.attachments == [("http://x.gov.cn/attachment/a.pdf", "a.pdf")]


def test_attachment_links_by_extension_query_and_text() -> None:
    html = """<div id="zoom"><a href="/module/download/downfile.jsp?classid=0&amp;filename=1.docx">【下载Word】</a>
    <a href="./P020260115.pdf">附件</a><a href="/download.jsp?wbfileid=9">报告.wps</a>
    <a href="/art/2026/1/1/art_1_1.html">附件说明页</a><a href="/col/col1/index.html">返回</a></div>"""
    got = [u for u, _ in attachment_links(html, "http://x/xxgk/")]
    assert got == ["http://x/module/download/downfile.jsp?classid=0&filename=1.docx", "http://x/xxgk/P020260115.pdf",
                   "http://x/download.jsp?wbfileid=9"]


def test_bodies_resolved_by_name_alias_short_form_and_county() -> None:
    bodies = [{"name": "模拟县人民政府办公室", "kind": "county_gov"}, {"name": "刘楼镇人民政府", "kind": "township"},
              {"name": "城关街道办事处", "kind": "street", "aliases": ["城关街道"]}]
    assert resolve_body("刘楼镇", bodies, "模拟县") == "刘楼镇人民政府"
    assert resolve_body("城关街道", bodies, "模拟县") == "城关街道办事处"
    assert resolve_body("模拟县人民政府", bodies, "模拟县") == "模拟县人民政府办公室"
    assert resolve_body("新设镇", bodies, "模拟县") == "新设镇"
