"""Real portal page shapes through the spiders' own page functions, offline: navigation links that
name the column, TRS inline pagers, truncated titles, date provenance and Kaipu pages."""

from __future__ import annotations

from parsel import Selector

from crawler.spiders.base import _page_key, is_navigation, links_with_dates, truncated_candidate
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
