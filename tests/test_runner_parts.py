"""Pieces of the crawl child that the end-to-end crawl tests do not isolate: the settings copy
every Crawler makes, the engines its crawlers share, attachment links among a page's menus."""

from __future__ import annotations

from typing import Any

from scrapy.settings import BaseSettings, Settings

from crawler import pipelines
from crawler.runner import _settings_class
from crawler.settings import crawl_settings
from crawler.spiders.base import attachment_links


def _loaded(cls: type[Settings]) -> Settings:
    s = cls()
    s.setmodule("crawler.settings", priority="project")
    s.setdict(crawl_settings(polite=False, overrides={"NIANBAO_LIST": [1, 2]}), priority="cmdline")
    return s


def _plain(settings: BaseSettings) -> dict[str, Any]:
    return {k: (a.priority, _plain(a.value) if isinstance(a.value, BaseSettings) else a.value)
            for k, a in settings.attributes.items()}


def test_the_cheap_settings_copy_equals_scrapys_deep_copy_and_shares_nothing_mutable() -> None:
    cheap = _loaded(_settings_class())
    reference = _loaded(Settings).copy()
    copied = cheap.copy()
    assert type(copied) is type(cheap)
    assert _plain(copied) == _plain(reference)
    # what a Crawler does to its copy must not reach the child's shared settings
    copied["DOWNLOADER_MIDDLEWARES"]["x.Mw"] = 1
    copied["NIANBAO_LIST"].append(3)
    copied.set("DOWNLOAD_DELAY", 7, priority="cmdline")
    copied.freeze()
    assert "x.Mw" not in cheap["DOWNLOADER_MIDDLEWARES"]
    assert cheap["NIANBAO_LIST"] == [1, 2]
    assert cheap.getfloat("DOWNLOAD_DELAY") == 0 and not cheap.frozen
    assert cheap.getpriority("DOWNLOAD_DELAY") == reference.getpriority("DOWNLOAD_DELAY")


def test_crawlers_of_one_child_share_one_engine_and_only_its_owner_disposes_it(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    pipelines.share_engines()
    try:
        a, b = pipelines.shared_engine(url), pipelines.shared_engine(url)
        assert a is b
    finally:
        pipelines.dispose_shared_engines()
    assert pipelines._shared_engines is None
    pipelines.share_engines()
    try:
        assert pipelines.shared_engine(url) is not a  # a new child's engine, not the disposed one
    finally:
        pipelines.dispose_shared_engines()


def test_attachment_links_among_hundreds_of_menu_links() -> None:
    menu = "".join(f'<li><a href="/col{i}/index.html" title="栏目{i}">栏目{i}</a></li>' for i in range(300))
    files = ('<a href="/upload/2024/report.docx">报告</a>'
             '<a href="download.jsp?wbfileid=123">某某县2024年报告.pdf</a>'
             '<a href="/web/viewer.html?file=%2Fu%2Fy%2Epdf">在线查看</a>'
             '<a href="/x/a.wps" title="附件一"><img src="i.png"></a>'
             '<a href="/show.jsp?id=9">下载附件</a>'
             '<a href="/col1/t20240101_1.html">附件说明页.html</a>'
             '<a href="javascript:void(0)">附件</a>')
    html = f"<html><body><ul>{menu}</ul><p>{files}</p><ul>{menu}</ul></body></html>"
    got = attachment_links(html, "http://127.0.0.1:8000/a/b/t20240115_1.html")
    assert got == [("http://127.0.0.1:8000/upload/2024/report.docx", "报告"),
                   ("http://127.0.0.1:8000/a/b/download.jsp?wbfileid=123", "某某县2024年报告.pdf"),
                   ("http://127.0.0.1:8000/u/y.pdf", "在线查看"),
                   ("http://127.0.0.1:8000/x/a.wps", "附件一"),
                   ("http://127.0.0.1:8000/show.jsp?id=9", "下载附件")]


def test_embedded_files_in_any_letter_case() -> None:
    html = '<IFRAME src="/u/a.pdf"></IFRAME><Embed src="/b.docx"><object data="/c.wps"><iframe src="/v.html">'
    assert attachment_links(html, "http://127.0.0.1/x.html") == [
        ("http://127.0.0.1/u/a.pdf", ""), ("http://127.0.0.1/b.docx", ""), ("http://127.0.0.1/c.wps", "")]
