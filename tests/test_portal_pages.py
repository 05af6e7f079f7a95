"""Real portal page shapes through the spiders' own page functions, offline: navigation links that
name the column, TRS inline pagers, truncated titles, date provenance and Kaipu pages."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from parsel import Selector

from crawler.blocks import classify_block
from crawler.dates import SHANGHAI, meta_date, publication_date, signature_date
from crawler.spiders.base import _page_key, is_navigation, links_with_dates, page_title, truncated_candidate
from crawler.spiders.kaipu import content_source
from crawler.spiders.trs import next_page
from crawler.titles import classify_title

LIST_URL = "http://www.x.gov.cn/xxgk/gknb/index.shtml"


def test_links_that_name_the_column_are_navigation() -> None:
    html = """<div class="menu"><a href="../">政府信息公开</a><a href="./">信息公开年报</a></div>
    <div class="crumb"><a href="index.shtml">政府信息公开工作年度报告</a></div>
    <div class="tabs"><a href="/xxgk/gknb/">年度报告</a><a href="../ndbg/index.html">政府信息公开年报</a>
      <a href="index.shtml#top">政府信息公开工作年度报告</a></div>
    <ul><li><a href="./202401/t20240115_1.html">刘楼镇2023年政府信息公开工作年度报告</a><span>2024-01-15</span></li>
    <li><a href="./202401/t20240116_2.html">城关街道政府信息公开工作年度报告</a><span>2024-01-16</span></li></ul>"""
    here = {_page_key(LIST_URL)}
    kept = [i for i in links_with_dates(Selector(text=html), LIST_URL)
            if classify_title(i.title).is_report
            and not is_navigation(i.url, here, dated=classify_title(i.title).year is not None)]
    assert [i.url.rsplit("/", 1)[-1] for i in kept] == ["t20240115_1.html", "t20240116_2.html"]


def test_a_dated_report_named_index_is_kept_and_the_list_itself_never() -> None:
    here = {_page_key(LIST_URL)}
    assert not is_navigation("http://www.x.gov.cn/2024/ndbg/index.html", here, dated=True)
    assert is_navigation("http://www.x.gov.cn/xxgk/gknb/", here, dated=True)
    assert is_navigation("http://www.x.gov.cn/xxgk/gknb/index.shtml", here, dated=True)


def test_trs_inline_pager() -> None:
    html = ('<script type="text/javascript">var countPage = 3//共多少页\nvar currentPage = 0;//当前页\n'
            'document.write("<a href=\\"index_" + 1 + ".shtml\\">下一页</a>");</script>')
    assert next_page(html, LIST_URL) == "http://www.x.gov.cn/xxgk/gknb/index_1.shtml"
    html1 = html.replace("currentPage = 0", "currentPage = 1")
    assert next_page(html1, "http://www.x.gov.cn/xxgk/gknb/index_1.shtml") == \
        "http://www.x.gov.cn/xxgk/gknb/index_2.shtml"
    assert next_page(html.replace("currentPage = 0", "currentPage = 2"), LIST_URL) is None
    # the page's own name and extension (index.html → index_1.html)
    assert next_page("var countPage = 2; var currentPage = 0;", "http://x/a/index.html") == "http://x/a/index_1.html"


def test_truncated_titles_are_candidates_notices_are_not() -> None:
    assert truncated_candidate("刘楼镇2023年政府信息公开工…")
    assert truncated_candidate("模拟县人民政府办公室2024年政务公开工作年度...")
    assert not truncated_candidate("关于做好2023年政府信息公开工作年度报告编制…")
    assert not truncated_candidate("刘楼镇2023年政府信息公开工作年度报告")  # not cut
    assert not truncated_candidate("2023年统计年报发布…")


# --- real saved pages (tests/fixtures/portals/SOURCES) ------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "portals"


def test_real_annual_report_text_statistical_period_is_no_signature_date() -> None:
    raw = (FIXTURES / "lishui_annual_report_2017.txt").read_bytes()
    text = raw.decode("utf-8")
    assert "至2017年12月31日止" in text
    assert signature_date(text) is None
    assert publication_date(listing=None, html=text) == (None, "first_seen")
    assert classify_block(status=200, body=raw, content_type="text/html") is None


@pytest.mark.parametrize("status", [200, 403])
def test_real_waf_block_pages(status: int) -> None:
    for name in ("ngx_lua_waf_block_page.html", "chuangyudun_signature.txt"):
        body = (FIXTURES / name).read_bytes()
        assert classify_block(status=status, body=body, content_type="text/html; charset=utf-8") == "waf", name


def test_real_article_head_title_date_publisher_and_not_a_block() -> None:
    raw = (FIXTURES / "ccgp_article_head.html").read_bytes()
    html = raw.decode("utf-8")
    assert page_title(html).startswith("清镇市2025年农村综合改革转移支付预算")
    assert content_source(html) == "中国政府采购网"
    assert meta_date(html) == datetime(2025, 6, 27, 17, 52, tzinfo=SHANGHAI)
    when, source = publication_date(listing=None, html=html, url="http://www.ccgp.gov.cn/cggg/dfgg/zbgg/202506/t20250627_24880000.htm")
    assert (when.date(), source) == (date(2025, 6, 27), "page_meta")  # the URL's day agrees
    # a content page that sets a cookie by script is not a challenge page
    assert classify_block(status=200, body=raw, content_type="text/html") is None
