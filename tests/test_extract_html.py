"""HTML pages: encodings, portal chrome, Word-export markup, merged cells, layout tables, page facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.document import Paragraph, Table
from monitor.extract import extract

FIXTURE = Path(__file__).parent / "fixtures" / "extract" / "word_export.html"

ACTIVE = [
    ["第二十条第（一）项"] * 4,
    ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"],
    ["规章", "0", "0", "3,119"],
]
NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
REQUESTS = [
    [NOTE, NOTE] + ["申请人情况"] * 7,
    [NOTE, NOTE, "自然人"] + ["法人或其他组织"] * 5 + ["总计"],
    [NOTE, NOTE, "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"],
    ["一、本年新收政府信息公开申请数量"] * 2 + ["5", "1", "0", "0", "0", "0", "6"],
    ["三、本年度办理结果", "（一）予以公开", "3", "1", "0", "0", "0", "0", "4"],
    ["三、本年度办理结果", "（二）部分公开", "2", "0", "0", "0", "0", "0", "2"],
]
EXPECTED_BLOCKS = [
    Paragraph("某某镇2023年政府信息公开工作年度报告"),
    Paragraph("一、总体情况"),
    Paragraph("2023年，我镇认真贯彻落实《中华人民共和国政府信息公开条例》，深入推进政务公开。"),
    Paragraph("二、主动公开政府信息情况"),
    Table(rows=ACTIVE, origin="html:table[1]"),
    Paragraph("三、收到和处理政府信息公开申请情况"),
    Table(rows=REQUESTS, origin="html:table[2]"),
    Paragraph("四、政府信息公开行政复议、行政诉讼情况"),
]


def _page() -> str:
    return FIXTURE.read_text(encoding="utf-8")


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "gbk"])
def test_word_export_page_reads_report_body_without_chrome(encoding: str) -> None:
    html = _page()
    if encoding == "utf-8":
        html = html.replace("charset=gb2312", "charset=utf-8")
    doc = extract(html.encode(encoding), filename="report.html")
    assert doc.format == "html"
    assert doc.blocks == EXPECTED_BLOCKS
    assert doc.meta["encoding"] == ("utf-8" if encoding == "utf-8" else "gb18030")
    assert doc.meta["title"] == "某某镇2023年政府信息公开工作年度报告"
    assert doc.meta["page_title"] == "某某镇2023年政府信息公开工作年度报告_某某县人民政府"
    # the earlier of the PubDate stamp and the visible 发布时间 (2024-01-19), which it overrules
    assert (doc.meta["published_at"], doc.meta["published_source"]) == ("2024-01-18", "page_meta;page=2024-01-19")
    assert doc.meta["images"] == 1 and doc.meta["images_in_tables"] == 0
    text = doc.plain_text()
    for chrome in ("首页", "相关链接", "当前位置", "ICP", "脚本"):
        assert chrome not in text


def test_wrong_http_charset_falls_back_to_the_page_declaration() -> None:
    data = _page().encode("gb18030")
    doc = extract(data, content_type="text/html; charset=utf-8")
    assert doc.meta["encoding"] == "gb18030"
    assert doc.blocks == EXPECTED_BLOCKS


def test_undeclared_gbk_page_is_detected() -> None:
    html = "<html><body><div id='zoom'><p>一、总体情况</p><p>本镇本年度主动公开政府信息一百二十条，收到申请三件，均已按时答复。</p></div></body></html>"
    doc = extract(html.encode("gbk"))
    assert doc.meta["encoding"] == "gb18030"
    assert doc.paragraphs == ["一、总体情况", "本镇本年度主动公开政府信息一百二十条，收到申请三件，均已按时答复。"]


def test_published_date_from_page_text_when_no_meta() -> None:
    html = (
        "<html><head><title>报告</title></head><body>"
        "<div class='info'>来源：某镇 发布时间：<span>2026-01-27 09:42:13</span></div>"
        "<div class='article-content'><p>某镇2025年政府信息公开工作年度报告正文第一段，内容足够长以被识别为正文。</p></div>"
        "</body></html>"
    )
    doc = extract(html.encode("utf-8"))
    assert (doc.meta["published_at"], doc.meta["published_source"]) == ("2026-01-27", "page")


def test_a_later_pubdate_stamp_never_wins_over_the_visible_date() -> None:
    """A saved page whose <meta name="PubDate"> was rewritten when the site was regenerated, two
    years after the 发布日期 it shows: the visible date is the publication date, as in a crawl."""
    html = (
        '<html><head><title>刘楼镇2023年政府信息公开工作年度报告</title>'
        '<meta name="PubDate" content="2026-01-22 16:02:11"></head><body>'
        '<div class="info"><span>发布日期：2024-01-22</span> <span>来源：刘楼镇人民政府</span></div>'
        "<div id='zoom'><p>刘楼镇2023年政府信息公开工作年度报告正文第一段，内容足够长以被识别为正文。</p>"
        "<p>刘楼镇人民政府</p><p>2024年1月20日</p></div></body></html>"
    )
    doc = extract(html.encode("utf-8"), filename="page.html")
    assert (doc.meta["published_at"], doc.meta["published_source"]) == ("2024-01-22", "page;page_meta=2026-01-22")
    # an earlier stamp is credible and is used; without either, the signature stays the report's own
    early = extract(html.replace("2026-01-22 16:02:11", "2024-01-21 09:00").encode("utf-8"), filename="page.html")
    assert (early.meta["published_at"], early.meta["published_source"]) == ("2024-01-21", "page_meta;page=2024-01-22")
    bare = html.replace('<meta name="PubDate" content="2026-01-22 16:02:11">', "").replace("发布日期：2024-01-22", "")
    assert "published_at" not in extract(bare.encode("utf-8"), filename="page.html").meta


def test_published_date_in_chinese_form_and_invalid_dates_ignored() -> None:
    html = "<body><p>发布日期：2025-13-40</p><p>公开日期：2025年1月9日</p><div id='zoom'><p>正文正文正文正文正文正文正文正文正文正文正文正文正文正文正文正文正文正文正文正文</p></div></body>"
    doc = extract(html.encode("utf-8"), filename="a.htm")
    assert doc.meta["published_at"] == "2025-01-09"


def test_nested_layout_tables_only_leaves_are_tables() -> None:
    html = """<html><body><table width=1000><tr><td class=nav><a href=/>首页</a></td></tr>
    <tr><td>
      <table><tr><td><p>一、总体情况</p><p>本年度我局认真落实政府信息公开条例。</p>
        <table border=1><tr><td>信息内容</td><td>本年制发件数</td></tr><tr><td>规章</td><td>2</td></tr></table>
        <p>二、其他</p>
        <table border=1><tr><td>行政复议</td><td>行政诉讼</td></tr><tr><td>1</td><td>0</td></tr></table>
      </td></tr></table>
    </td></tr></table></body></html>"""
    doc = extract(html.encode("utf-8"))
    assert doc.blocks == [
        Paragraph("一、总体情况"),
        Paragraph("本年度我局认真落实政府信息公开条例。"),
        Table(rows=[["信息内容", "本年制发件数"], ["规章", "2"]], origin="html:table[1]"),
        Paragraph("二、其他"),
        Table(rows=[["行政复议", "行政诉讼"], ["1", "0"]], origin="html:table[2]"),
    ]


def test_single_column_wrapper_table_is_read_as_content() -> None:
    html = "<body><table><tr><td><p>第一段文字内容，关于政府信息公开工作的情况说明。</p><p>第二段</p></td></tr></table></body>"
    doc = extract(html.encode("utf-8"))
    assert doc.tables == []
    assert doc.paragraphs == ["第一段文字内容，关于政府信息公开工作的情况说明。", "第二段"]


def test_images_in_tables_and_image_instead_of_table_are_counted() -> None:
    html = """<body><div class="TRS_Editor"><p>四、政府信息公开行政复议、行政诉讼情况</p>
    <table border=1><tr><td>行政复议</td><td><img src=a.png></td></tr><tr><td>1</td><td>2</td></tr></table>
    <p><img src="t3.jpg"></p><p>五、存在的主要问题及改进情况</p></div></body>"""
    doc = extract(html.encode("utf-8"))
    assert doc.meta["images_in_tables"] == 1
    assert doc.meta["images"] == 2
    assert doc.tables[0].rows == [["行政复议", ""], ["1", "2"]]


def test_densest_element_is_the_body_when_no_known_container() -> None:
    html = """<html><body>
    <div class="top"><ul><li><a href=1>首页</a></li><li><a href=2>政务公开</a></li><li><a href=3>办事服务</a></li></ul></div>
    <div class="left"><a href=4>链接一链接一链接一链接一链接一</a><a href=5>链接二链接二链接二链接二链接二</a></div>
    <div class="main"><div class="txt">
      <p>一、总体情况</p><p>本年度，本镇持续深化政务公开，主动公开各类信息三百余条。</p>
      <p>二、主动公开政府信息情况</p><table border=1><tr><td>规章</td><td>0</td></tr><tr><td>规范性文件</td><td>3</td></tr></table>
    </div></div>
    <div class="bottom"><p>版权所有 某镇人民政府</p></div></body></html>"""
    doc = extract(html.encode("utf-8"))
    assert doc.paragraphs == ["一、总体情况", "本年度，本镇持续深化政务公开，主动公开各类信息三百余条。", "二、主动公开政府信息情况"]
    assert doc.tables[0].rows == [["规章", "0"], ["规范性文件", "3"]]


def test_rowspan_beyond_table_and_garbage_spans_are_clamped() -> None:
    html = "<table><tr><td rowspan=99>甲</td><td colspan='2x'>乙</td></tr><tr><td>丙</td><td>丁</td></tr></table>"
    doc = extract(html.encode("utf-8"), filename="t.html")
    assert doc.tables[0].rows == [["甲", "乙", "乙"], ["甲", "丙", "丁"]]


def test_page_without_a_report_returns_a_document() -> None:
    html = "<html><head><title>404 页面不存在</title></head><body><div class=nav><a href=/>首页</a></div></body></html>"
    doc = extract(html.encode("utf-8"), filename="missing.html")
    assert doc.format == "html"
    assert doc.tables == []
    assert doc.meta["title"] == "404 页面不存在"


@pytest.mark.parametrize(
    "html",
    [
        b"<html><body><div><table><tr><td>\xe8\xa1\xa8<td>1</table></p></span></body>",
        b"<html><body><p>" + b"<div>" * 3000 + "深层嵌套".encode() + b"</div>" * 10 + b"</body>",
        b"<table><tr><td rowspan=1000000 colspan=1000000>x</td></tr></table>",
        b"<!DOCTYPE html><html>",
        b"<html><body>\x00\x01<p>\xff\xfe\xfd</p></body></html>",
        b"<?xml version='1.0' encoding='utf-8'?><html><body><p>\xe4\xb8\xad</p></body></html>",
    ],
)
def test_broken_html_never_crashes(html: bytes) -> None:
    doc = extract(html, filename="broken.html")
    assert doc.format == "html"


def test_caption_becomes_a_paragraph_and_attachment_links_are_listed() -> None:
    html = """<body><div id="zoom"><p>年度报告全文详见附件，以下为主要数据表。</p>
    <table><caption>表一 主动公开</caption><tr><td>规章</td><td>1</td></tr></table>
    <p>附件：<a href="/files/2023nb.pdf?v=2">某镇2023年年报.pdf</a> <a href="/next.html">下一篇</a></p></div></body>"""
    doc = extract(html.encode("utf-8"))
    assert doc.blocks[1:3] == [Paragraph("表一主动公开"), Table(rows=[["规章", "1"]], origin="html:table[1]")]
    assert doc.meta["attachments"] == [{"href": "/files/2023nb.pdf?v=2", "text": "某镇2023年年报.pdf"}]


def test_declared_gbk_page_with_a_stray_bad_byte_keeps_its_charset() -> None:
    html = "<html><head><meta charset=gbk></head><body><div id=zoom><p>一、总体情况，本镇本年度主动公开政府信息。</p>"
    data = html.encode("gbk") + b"\x80\xff" + "<p>二、结束</p></div></body></html>".encode("gbk")
    doc = extract(data)
    assert doc.meta["encoding"] == "gb18030"
    assert doc.paragraphs[0] == "一、总体情况，本镇本年度主动公开政府信息。"


def test_mht_archive_is_read_as_its_html_part() -> None:
    from email.mime.image import MIMEImage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    msg = MIMEMultipart("related")
    page = "<html><body><div class=TRS_Editor><p>一、总体情况</p><table><tr><td>规章</td><td>2</td></tr></table></div></body></html>"
    msg.attach(MIMEText(page, "html", "gb2312"))
    msg.attach(MIMEImage(b"GIF89a", "gif"))
    data = msg.as_bytes()
    assert data.startswith(b"Content-Type: multipart/related") or b"MIME-Version" in data[:200]
    doc = extract(data, filename="report.mht")
    assert doc.format == "html"
    assert doc.blocks == [Paragraph("一、总体情况"), Table(rows=[["规章", "2"]], origin="html:table[1]")]


CELL_SHAPES = [
    "<td>12</td>", "<td> 本年 新收 </td>", "<td><p class=MsoNormal><span>规章</span><span><o:p></o:p></span></p></td>",
    "<td>\n<p><span>本年新</span><br>公开数量</p>\n</td>", "<td><p>Total</p><p>3,119</p></td>",
    "<td>上年<p>结转</p></td>", "<td><p>予以</p>公开</td>", "<td><span>a<p>b</p></span></td>",
    "<td><p>x<img src=a.png></p></td>", "<td><img src=a.png></td>", "<td><div><p>嵌套</p></div></td>",
    "<td><p>one</p>\n</td>", "<td><b>粗体</b> <i>斜体</i></td>", "<td><p>  </p></td>", "<td></td>",
    "<td><p>A</p> </td>", "<td><li>列表</li></td>", "<td><p>行一<br/></p></td>",
]


def test_cell_text_fast_paths_match_the_general_reading() -> None:
    from lxml import etree

    from monitor.extract.html import _cell_text, _grid, _rows

    rows = "".join(f"<tr>{a}{b}</tr>" for a, b in zip(CELL_SHAPES, CELL_SHAPES[1:] + CELL_SHAPES[:1],
                                                        strict=True))
    root = etree.fromstring(f"<html><body><table>{rows}</table></body></html>", etree.HTMLParser())
    tbl = root.find(".//table")
    grid, images = _grid(_rows(tbl), tbl)
    want = [[_cell_text(c)[0] for c in tr] for tr in _rows(tbl)]
    want = [r for r in want if any(r)]
    assert grid == want
    assert images == sum(_cell_text(c)[1] for tr in _rows(tbl) for c in tr)


@pytest.mark.parametrize("reference", ["", "&#20;"])
def test_hidden_elements_dropped_with_or_without_the_raw_precheck(reference: str) -> None:
    html = (f"<html><head><title>某镇2023年政府信息公开工作年度报告{reference}</title></head><body>"
            "<div class='TRS_Editor'><p>一、总体情况</p><p style='DISPLAY : none'>隐藏的文字</p>"
            "<div style='color:red;display:none'><a href='x.pdf'>附件</a><h1>隐藏标题</h1></div>"
            "<script>var a = '<table>';</script><p>本年度我镇认真贯彻落实条例要求，推进政务公开工作。</p></div>"
            "</body></html>")
    doc = extract(html.encode("utf-8"), filename="a.html")
    text = "\n".join(b.text for b in doc.blocks if isinstance(b, Paragraph))
    assert "隐藏" not in text and "一、总体情况" in text
    assert "attachments" not in doc.meta
    assert doc.meta["title"].startswith("某镇2023年")
