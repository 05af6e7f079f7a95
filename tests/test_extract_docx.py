"""DOCX read straight from word/document.xml: merged cells, numbering, text boxes, nested tables."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest

from monitor.document import Paragraph, Table
from monitor.errors import ExtractError
from monitor.extract import extract, sniff_format

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _python_docx_report() -> bytes:
    d = docx.Document()
    d.core_properties.title = "某镇2023年政府信息公开工作年度报告"
    d.add_paragraph("某镇2023年政府信息公开工作年度报告")
    p = d.add_paragraph("一、总体")
    p.add_run().add_break()
    p.add_run("情况")
    t = d.add_table(rows=4, cols=4)
    for i in range(4):
        for j in range(4):
            t.cell(i, j).text = f"{i}{j}"
    t.cell(0, 0).merge(t.cell(0, 3)).text = "第二十条第（一）项"
    t.cell(1, 0).merge(t.cell(3, 0)).text = "规章"
    c = t.cell(1, 1)
    c.text = "本年新"
    c.paragraphs[0].add_run().add_break()
    c.paragraphs[0].add_run("制作数量")
    c.add_paragraph("（件）")
    d.add_paragraph("二、主动公开政府信息情况")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_python_docx_report_with_merged_cells() -> None:
    doc = extract(_python_docx_report(), filename="r.docx")
    assert doc.format == "docx"
    assert doc.meta["title"] == "某镇2023年政府信息公开工作年度报告"
    assert doc.blocks == [
        Paragraph("某镇2023年政府信息公开工作年度报告"),
        Paragraph("一、总体情况"),
        Table(
            rows=[
                ["第二十条第（一）项"] * 4,
                ["规章", "本年新制作数量（件）", "12", "13"],
                ["规章", "21", "22", "23"],
                ["规章", "31", "32", "33"],
            ],
            origin="docx:table[1]",
        ),
        Paragraph("二、主动公开政府信息情况"),
    ]


def _docx(body: str, numbering: str | None = None, parts: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in (parts or {}).items():
            zf.writestr(name, content)
        zf.writestr("[Content_Types].xml", "<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'/>")
        zf.writestr(
            "word/document.xml",
            f"<w:document xmlns:w='{W_NS}' xmlns:mc='{MC_NS}'><w:body>{body}</w:body></w:document>",
        )
        if numbering:
            zf.writestr("word/numbering.xml", f"<w:numbering xmlns:w='{W_NS}'>{numbering}</w:numbering>")
    return buf.getvalue()


def _p(text: str, num: tuple[int, int] | None = None) -> str:
    numpr = f"<w:pPr><w:numPr><w:ilvl w:val='{num[1]}'/><w:numId w:val='{num[0]}'/></w:numPr></w:pPr>" if num else ""
    return f"<w:p>{numpr}<w:r><w:t xml:space='preserve'>{text}</w:t></w:r></w:p>"


def _tc(text: str, props: str = "") -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{_p(text)}</w:tc>"


NUMBERING = """
<w:abstractNum w:abstractNumId='0'>
  <w:lvl w:ilvl='0'><w:start w:val='1'/><w:numFmt w:val='chineseCounting'/><w:lvlText w:val='%1、'/></w:lvl>
  <w:lvl w:ilvl='1'><w:start w:val='1'/><w:numFmt w:val='chineseCounting'/><w:lvlText w:val='（%2）'/></w:lvl>
  <w:lvl w:ilvl='2'><w:start w:val='1'/><w:numFmt w:val='decimal'/><w:lvlText w:val='%3.'/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId='1'>
  <w:lvl w:ilvl='0'><w:numFmt w:val='bullet'/><w:lvlText w:val='•'/></w:lvl>
</w:abstractNum>
<w:num w:numId='5'><w:abstractNumId w:val='0'/></w:num>
<w:num w:numId='6'><w:abstractNumId w:val='1'/></w:num>
"""


def test_automatic_numbering_is_rendered_for_headings() -> None:
    body = (
        _p("总体情况", (5, 0)) + _p("主动公开", (5, 1)) + _p("依申请公开", (5, 1)) + _p("细项", (5, 2))
        + _p("主动公开政府信息情况", (5, 0)) + _p("要点", (6, 0)) + _p("无编号")
    )
    doc = extract(_docx(body, NUMBERING))
    assert doc.paragraphs == ["一、总体情况", "（一）主动公开", "（二）依申请公开", "1.细项",
                              "二、主动公开政府信息情况", "要点", "无编号"]


def test_numbering_through_a_paragraph_style() -> None:
    d = docx.Document()
    for text in ("公开平台建设", "政策解读"):
        d.add_paragraph(text, style="List Number")
    d.add_paragraph("正文")
    buf = io.BytesIO()
    d.save(buf)
    assert extract(buf.getvalue()).paragraphs == ["1.公开平台建设", "2.政策解读", "正文"]


def test_alt_chunk_html_is_read_in_place() -> None:
    rels = (
        "<Relationships xmlns='http://schemas.openxmlformats.org/package/2006/relationships'>"
        "<Relationship Id='rId9' Type='http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk'"
        " Target='chunk.htm'/></Relationships>"
    )
    page = "<html><body><p>一、总体情况</p><table><tr><td>规章</td><td>3</td></tr></table></body></html>"
    body = (_p("标题") + "<w:altChunk xmlns:r='http://schemas.openxmlformats.org/officeDocument/2006/relationships'"
            " r:id='rId9'/>" + _p("结尾"))
    doc = extract(_docx(body, parts={"word/_rels/document.xml.rels": rels.encode(),
                                     "word/chunk.htm": page.encode("gb18030")}))
    assert doc.blocks == [Paragraph("标题"), Paragraph("一、总体情况"),
                          Table(rows=[["规章", "3"]], origin="html:table[1]"), Paragraph("结尾")]


def test_vmerge_gridspan_gridbefore_and_tabs() -> None:
    span3, restart, cont = "<w:gridSpan w:val='3'/>", "<w:vMerge w:val='restart'/>", "<w:vMerge/>"
    tbl = (
        "<w:tbl>"
        f"<w:tr>{_tc('申请人情况', span3)}</w:tr>"
        f"<w:tr>{_tc('三、本年度办理结果', restart)}{_tc('（一）予以公开')}{_tc('3')}</w:tr>"
        f"<w:tr>{_tc('', cont)}{_tc('（二）部分公开')}{_tc('2')}</w:tr>"
        f"<w:tr><w:trPr><w:gridBefore w:val='1'/></w:trPr>{_tc('总计')}{_tc('5')}</w:tr>"
        "</w:tbl>"
    )
    tab_para = "<w:p><w:r><w:t>信息</w:t><w:tab/><w:t>内容</w:t></w:r></w:p>"
    doc = extract(_docx(tab_para + tbl))
    assert doc.blocks == [
        Paragraph("信息 内容"),
        Table(
            rows=[
                ["申请人情况"] * 3,
                ["三、本年度办理结果", "（一）予以公开", "3"],
                ["三、本年度办理结果", "（二）部分公开", "2"],
                ["", "总计", "5"],
            ],
            origin="docx:table[1]",
        ),
    ]


def test_text_box_read_once_despite_fallback_copy() -> None:
    box = f"<w:txbxContent>{_p('文本框内的说明')}</w:txbxContent>"
    body = (
        "<w:p><w:r><w:t>正文</w:t></w:r><w:r><mc:AlternateContent>"
        f"<mc:Choice Requires='wps'><w:drawing><w:anchor>{box}</w:anchor></w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict><w:shape>{box}</w:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r></w:p>"
    )
    doc = extract(_docx(body))
    assert doc.paragraphs == ["正文", "文本框内的说明"]


def test_nested_tables_layout_cell_content_in_order() -> None:
    inner = f"<w:tbl><w:tr>{_tc('规章')}{_tc('2')}</w:tr><w:tr>{_tc('规范性文件')}{_tc('5')}</w:tr></w:tbl>"
    outer = f"<w:tbl><w:tr><w:tc>{_p('二、主动公开政府信息情况')}{inner}{_p('说明')}</w:tc></w:tr></w:tbl>"
    doc = extract(_docx(outer + _p("三、收到和处理政府信息公开申请情况")))
    assert doc.blocks == [
        Paragraph("二、主动公开政府信息情况"),
        Table(rows=[["规章", "2"], ["规范性文件", "5"]], origin="docx:table[1]"),
        Paragraph("说明"),
        Paragraph("三、收到和处理政府信息公开申请情况"),
    ]


def test_content_controls_are_read() -> None:
    body = f"<w:sdt><w:sdtPr/><w:sdtContent>{_p('控件中的段落')}</w:sdtContent></w:sdt>"
    assert extract(_docx(body)).paragraphs == ["控件中的段落"]


def test_truncated_docx_zip_is_an_extract_error_naming_the_file() -> None:
    data = _python_docx_report()
    cut = data[: len(data) // 2]
    assert sniff_format(cut) == "docx"
    with pytest.raises(ExtractError) as err:
        extract(cut, filename="报告.docx")
    assert "报告.docx" in str(err.value)
    assert "DOCX 文件已损坏或不完整" in str(err.value)
    assert err.value.source == "报告.docx"


def test_corrupt_document_xml_is_an_extract_error() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document><w:body><w:p>")
    with pytest.raises(ExtractError, match="DOCX"):
        extract(buf.getvalue(), filename="x.docx")


def test_zip_that_is_not_a_word_file_is_unknown_format() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ExtractError, match="无法识别的文件格式"):
        extract(buf.getvalue(), filename="book.xlsx")


def test_strict_open_xml_namespace_is_read() -> None:
    strict = "http://purl.oclc.org/ooxml/wordprocessingml/main"
    body = _p("严格格式的段落")
    data = _docx(body)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name).replace(W_NS.encode(), strict.encode()))
    assert extract(buf.getvalue()).paragraphs == ["严格格式的段落"]


def test_one_cell_frame_around_the_report_is_read_as_paragraphs() -> None:
    frame = f"<w:tbl><w:tr><w:tc>{_p('一、总体情况')}{_p('本年度，我镇主动公开政府信息。')}</w:tc></w:tr></w:tbl>"
    doc = extract(_docx(frame))
    assert doc.tables == []
    assert doc.paragraphs == ["一、总体情况", "本年度，我镇主动公开政府信息。"]


def test_plain_paragraph_fast_path_matches_the_general_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.extract import docx as docx_reader

    run = "<w:r><w:t xml:space='preserve'>{}</w:t></w:r>"
    cells = [
        _tc("规章"), _tc(" 本年 新收 "),
        "<w:tc><w:tcPr/><w:p><w:r><w:t>本年新</w:t><w:br/><w:t>公开数量</w:t></w:r></w:p></w:tc>",
        "<w:tc><w:p><w:r><w:t>Total</w:t></w:r></w:p><w:p><w:r><w:t>3,119</w:t></w:r></w:p></w:tc>",
        "<w:tc><w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:noBreakHyphen/><w:t>c</w:t></w:r></w:p></w:tc>",
        "<w:tc><w:sdt><w:sdtContent><w:p>" + run.format("控件") + "</w:p></w:sdtContent></w:sdt></w:tc>",
        "<w:tc><w:p><w:ins><w:r><w:t>插入</w:t></w:r></w:ins><w:r><w:delText>删</w:delText></w:r></w:p></w:tc>",
        "<w:tc>" + _p("编号", (5, 1)) + "</w:tc>", "<w:tc><w:p/></w:tc>",
        "<w:tc><w:p><w:r><w:instrText> PAGE </w:instrText></w:r>" + run.format("1") + "</w:p></w:tc>",
    ]
    rows = "".join(f"<w:tr>{a}{b}</w:tr>" for a, b in zip(cells, cells[1:] + cells[:1], strict=True))
    body = _p("标题", (5, 0)) + _p(" 正文 ") + f"<w:tbl>{rows}</w:tbl>" + _p("结尾", (5, 0))
    data = _docx(body, NUMBERING)
    fast = extract(data)
    monkeypatch.setattr(docx_reader, "_special_paragraphs", lambda body: set(body.iter(docx_reader._P)))
    assert extract(data) == fast
    assert fast.paragraphs[0] == "一、标题" and fast.paragraphs[-1] == "二、结尾"


def test_merge_and_grid_properties_found_by_the_table_scan() -> None:
    hmerge = "<w:tc><w:tcPr><w:hMerge/></w:tcPr>" + _p("") + "</w:tc>"
    restart = "<w:tc><w:tcPr><w:hMerge w:val='restart'/></w:tcPr>" + _p("合并") + "</w:tc>"
    vstart = "<w:tc><w:tcPr><w:vMerge w:val='restart'/></w:tcPr>" + _p("纵向") + "</w:tc>"
    vcont = "<w:tc><w:tcPr><w:vMerge/></w:tcPr>" + _p("") + "</w:tc>"
    span2 = "<w:gridSpan w:val='2'/>"
    body = ("<w:tbl>"
            f"<w:tr>{restart}{hmerge}{vstart}</w:tr>"
            f"<w:tr><w:trPr><w:gridAfter w:val='1'/></w:trPr>{_tc('a')}{_tc('b')}{vcont}</w:tr>"
            f"<w:tr>{_tc('1', span2)}{_tc('2')}</w:tr>"
            "</w:tbl>")
    (table,) = extract(_docx(body)).tables
    assert table.rows == [["合并", "合并", "纵向", ""], ["a", "b", "纵向", ""], ["1", "1", "2", ""]]
