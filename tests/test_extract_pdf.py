"""PDF through pypdfium2: lines, cells and tables rebuilt from character boxes; bad PDFs."""

from __future__ import annotations

import io
import re

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import SimpleDocTemplate, TableStyle
from reportlab.platypus import Table as RLTable

from monitor.document import Paragraph, Table
from monitor.errors import ExtractError
from monitor.extract import extract
from monitor.extract.pdf import UNUSABLE_SCANNED
from tests.conftest import require_cjk_font

FONT = "STSong-Light"  # reportlab's built-in CJK CID font; PDFium maps it back to Unicode
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
BODY = ParagraphStyle("cn", fontName=FONT, fontSize=12, leading=18, wordWrap="CJK", firstLineIndent=24)
LONG = "2023年，我镇认真贯彻落实《中华人民共和国政府信息公开条例》，深入推进政务公开，收取信息处理费1080元。" * 2
HEADER = ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
ROWS = [[f"规范性文件{i}", str(i), "0", "3,119"] for i in range(45)]


def _footer(c: canvas.Canvas, doc: SimpleDocTemplate) -> None:
    c.setFont(FONT, 10)
    c.drawCentredString(A4[0] / 2, 30, f"- {doc.page} -")


def _report_pdf(**kwargs: object) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title="某镇2023年政府信息公开工作年度报告", **kwargs)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"), ("FONT", (0, 0), (-1, -1), FONT, 10)])
    story = [
        RLParagraph("某镇2023年政府信息公开工作年度报告", BODY),
        RLParagraph("一、总体情况", BODY),
        RLParagraph(LONG, BODY),
        RLParagraph("二、主动公开政府信息情况", BODY),
        RLTable([HEADER, *ROWS], style=grid, repeatRows=1),
        RLParagraph("三、收到和处理政府信息公开申请情况", BODY),
    ]
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue()


def test_text_pdf_paragraphs_and_a_table_continued_on_the_next_page() -> None:
    doc = extract(_report_pdf(), filename="r.pdf")
    assert doc.format == "pdf"
    assert doc.meta["pages"] == 2
    assert doc.meta["title"] == "某镇2023年政府信息公开工作年度报告"
    assert doc.blocks[:4] == [
        Paragraph("某镇2023年政府信息公开工作年度报告"),
        Paragraph("一、总体情况"),
        Paragraph(LONG),  # wrapped lines joined again
        Paragraph("二、主动公开政府信息情况"),
    ]
    assert doc.blocks[-1] == Paragraph("三、收到和处理政府信息公开申请情况")
    (table,) = doc.tables
    assert isinstance(doc.blocks[4], Table) and table.origin == "pdf:page 1"
    # the page marker "- 1 -" is gone; the repeated header on page 2 is kept for the parser
    assert [r for r in table.rows if r[0] == "信息内容"] == [HEADER, HEADER]
    assert [r for r in table.rows if r[0] != "信息内容"] == ROWS


def test_no_character_is_lost() -> None:
    doc = extract(_report_pdf())
    text = re.sub(r"\s", "", doc.plain_text())
    expected = "".join([LONG, *HEADER, *(c for r in ROWS for c in r)])
    assert sorted(text) == sorted(re.sub(r"\s", "", "某镇2023年政府信息公开工作年度报告一、总体情况二、主动公开政府信息情况"
                                      "三、收到和处理政府信息公开申请情况" + "".join(HEADER) + expected))


def test_owner_password_only_pdf_is_still_read() -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    enc = StandardEncryption("", ownerPassword="owner", canPrint=0, canCopy=0)
    doc = extract(_report_pdf(encrypt=enc))
    assert doc.paragraphs[0] == "某镇2023年政府信息公开工作年度报告"


def test_encrypted_pdf_is_an_extract_error_that_says_so() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt="secret")
    c.setFont(FONT, 12)
    c.drawString(72, 750, "加密的报告")
    c.save()
    with pytest.raises(ExtractError, match="已加密") as err:
        extract(buf.getvalue(), filename="locked.pdf")
    assert err.value.source == "locked.pdf"
    assert "encrypted" in str(err.value)


def test_image_only_pdf_is_unusable_not_an_error() -> None:
    from PIL import Image

    img = Image.new("RGB", (200, 100), "white")
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(img), 72, 600, width=400, height=200)
    c.rect(72, 400, 300, 100)
    c.showPage()
    c.save()
    doc = extract(buf.getvalue(), filename="scan.pdf")
    assert doc.blocks == []
    assert doc.meta["unusable"] == UNUSABLE_SCANNED
    assert "无文字层" in doc.meta["unusable"]


@pytest.mark.parametrize("data", [b"%PDF-1.7\n" + b"garbage " * 100, b"%PDF-1.4\n1 0 obj << /Type /Catalog"])
def test_corrupt_pdf_is_an_extract_error(data: bytes) -> None:
    with pytest.raises(ExtractError, match="PDF 文件已损坏"):
        extract(data, filename="bad.pdf")


def test_cells_split_on_wide_gaps_and_page_markers_dropped() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(FONT, 10.5)
    c.drawString(72, 760, "一、本年新收政府信息公开申请数量")
    for x, v in zip((300, 340, 380, 420), ("5", "1", "0", "6"), strict=True):
        c.drawString(x, 760, v)
    c.drawString(72, 740, "二、上年结转政府信息公开申请数量")
    for x, v in zip((300, 340, 380, 420), ("0", "0", "0", "0"), strict=True):
        c.drawString(x, 740, v)
    c.drawString(280, 40, "第 1 页")
    c.showPage()
    c.save()
    doc = extract(buf.getvalue())
    assert doc.blocks == [
        Table(
            rows=[["一、本年新收政府信息公开申请数量", "5", "1", "0", "6"], ["二、上年结转政府信息公开申请数量", "0", "0", "0", "0"]],
            origin="pdf:page 1",
        )
    ]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_sideways_table_on_a_portrait_page_reads_in_its_own_direction(rotation: int) -> None:
    require_cjk_font()  # one-character runs of a non-embedded CJK font
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(FONT, 10.5)
    c.drawString(72, 780, "三、收到和处理政府信息公开申请情况")
    c.saveState()
    c.translate(300, 300)
    c.rotate(rotation)
    for dy, label, values in ((0, "一、本年新收政府信息公开申请数量", "51"), (-20, "二、上年结转政府信息公开申请数量", "00")):
        c.drawString(0, dy, label)
        c.drawString(250, dy, values[0])
        c.drawString(290, dy, values[1])
    c.restoreState()
    c.showPage()
    c.save()
    assert extract(buf.getvalue()).blocks == [
        Paragraph("三、收到和处理政府信息公开申请情况"),
        Table(rows=[["一、本年新收政府信息公开申请数量", "5", "1"], ["二、上年结转政府信息公开申请数量", "0", "0"]],
              origin="pdf:page 1"),
    ]


def _pdf_with_tounicode_to_private_use(text: bytes) -> bytes:
    """A hand-made PDF whose font maps A-Z to private-use code points (a broken ToUnicode map)."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def 1 begincodespacerange"
            b" <00> <FF> endcodespacerange 1 beginbfrange <41> <5A> <E000> endbfrange endcmap CMapName currentdict"
            b" /CMap defineresource pop end end")
    content = b"BT /F1 12 Tf 72 700 Td (" + text + b") Tj ET"
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>",
        b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/ToUnicode 6 0 R>>",
        b"<</Length %d>>stream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer <</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_text_layer_of_private_use_garbage_is_unusable() -> None:
    from monitor.extract.pdf import UNUSABLE_GARBLED

    doc = extract(_pdf_with_tounicode_to_private_use(b"ABCDEFGHIJKL"), filename="garbled.pdf")
    assert doc.blocks == []
    assert doc.meta["unusable"] == UNUSABLE_GARBLED


@pytest.mark.libreoffice
def test_word_table_exported_to_pdf_by_libreoffice(tmp_path) -> None:
    require_cjk_font()  # one-character runs of a non-embedded CJK font
    import os
    import shutil
    import subprocess

    import docx

    if shutil.which("soffice") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is required when CI=true")
        pytest.skip("LibreOffice (soffice) is not installed")
    d = docx.Document()
    d.add_paragraph("二、主动公开政府信息情况")
    t = d.add_table(rows=3, cols=4)
    t.style = "Table Grid"
    for i, row in enumerate([HEADER, ["规章", "0", "0", "0"], ["行政规范性文件", "12", "3", "3,119"]]):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    d.add_paragraph("三、收到和处理政府信息公开申请情况")
    t = d.add_table(rows=2, cols=9)
    t.style = "Table Grid"
    for j, v in enumerate(["一、本年新收政府信息公开申请数量", "", "5", "1", "0", "0", "0", "0", "6"]):
        t.cell(1, j).text = v
    t.cell(0, 0).text = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    t.cell(0, 0).merge(t.cell(0, 1))
    t.cell(1, 0).merge(t.cell(1, 1))
    d.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    d.save(tmp_path / "r.docx")
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "r.docx")],
                   check=True, capture_output=True, timeout=120)
    doc = extract((tmp_path / "r.pdf").read_bytes(), filename="r.pdf")
    assert doc.paragraphs[0] == "二、主动公开政府信息情况"
    assert "三、收到和处理政府信息公开申请情况" in doc.paragraphs
    assert doc.paragraphs[-1] == "四、政府信息公开行政复议、行政诉讼情况"
    first, second = doc.tables
    assert first.rows == [HEADER, ["规章", "0", "0", "0"], ["行政规范性文件", "12", "3", "3,119"]]
    numbers = [r for r in second.rows if r[-7:] == ["5", "1", "0", "0", "0", "0", "6"]]
    assert len(numbers) == 1 and numbers[0][0].startswith("一、本年新收")


def test_pdfs_extracted_from_several_threads_at_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    data = _report_pdf()
    expected = extract(data).blocks
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: extract(data).blocks, range(8)))
    assert all(r == expected for r in results)


def _spanned_table_pdf(data: list[list[str]], spans: list[tuple[tuple[int, int], tuple[int, int]]], *,
                       ruled: bool) -> bytes:
    buf = io.BytesIO()
    style = [("FONT", (0, 0), (-1, -1), FONT, 10), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             *(("SPAN", a, b) for a, b in spans)]
    if ruled:
        style.append(("GRID", (0, 0), (-1, -1), 0.5, "black"))
    SimpleDocTemplate(buf, pagesize=A4).build([RLTable(data, colWidths=[90, 90, 50, 50, 50],
                                                       style=TableStyle(style))])
    return buf.getvalue()


def test_ruled_table_keeps_a_blank_cells_place_and_labels_stay_packed() -> None:
    require_cjk_font()  # one-character runs of a non-embedded CJK font
    data = [["项目", "", "甲", "乙", "丙"],
            ["一、办理结果", "（一）予以公开", "2", "", "1"],
            ["", "（二）部分公开", "", "3", ""],
            ["二、结转", "", "4", "0", "5"]]
    spans = [((0, 0), (1, 0)), ((0, 1), (0, 2)), ((0, 3), (1, 3))]
    (table,) = extract(_spanned_table_pdf(data, spans, ruled=True)).tables
    # the rules crossing a line cut it into cells: an empty cell among or after the numbers is "",
    # while the empty slots of the merged label columns add nothing before the label
    assert table.rows == [
        ["项目", "甲", "乙", "丙", ""],
        ["一、办理结果", "（一）予以公开", "2", "", "1"],
        ["（二）部分公开", "", "3", "", ""],
        ["二、结转", "4", "0", "5", ""],
    ]
    # without rules there is nothing to place a blank by: cells stay packed from the left
    (table,) = extract(_spanned_table_pdf(data, spans, ruled=False)).tables
    assert table.rows[1:3] == [["一、办理结果", "（一）予以公开", "2", "1"], ["（二）部分公开", "3", "", ""]]


@pytest.mark.parametrize("rules", ["cell boxes", "hair rectangles", "one path", "form xobject"])
def test_blank_cells_by_rules_however_they_are_drawn(rules: str) -> None:
    require_cjk_font()  # one-character runs of a non-embedded CJK font
    rows = [["项目", "甲", "乙", "丙"], ["一、本年新收", "5", "", "6"], ["二、上年结转", "", "1", ""]]
    xs, top, h = [72, 202, 252, 302, 352], 700, 20
    ys = [top - h * i for i in range(len(rows) + 1)]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    if rules == "cell boxes":  # "re S" per cell
        for i in range(len(rows)):
            for j in range(len(xs) - 1):
                c.rect(xs[j], ys[i + 1], xs[j + 1] - xs[j], h)
    elif rules == "hair rectangles":  # Word: filled thin rectangles
        for x in xs:
            c.rect(x - 0.25, ys[-1], 0.5, ys[0] - ys[-1], stroke=0, fill=1)
        for y in ys:
            c.rect(xs[0], y - 0.25, xs[-1] - xs[0], 0.5, stroke=0, fill=1)
    else:  # the whole grid in one path, on the page or in a translated Form XObject
        dx, dy = (50, -30) if rules == "form xobject" else (0, 0)
        if dx:
            c.beginForm("grid")
        p = c.beginPath()
        for x in xs:
            p.moveTo(x - dx, ys[0] - dy)
            p.lineTo(x - dx, ys[-1] - dy)
        for y in ys:
            p.moveTo(xs[0] - dx, y - dy)
            p.lineTo(xs[-1] - dx, y - dy)
        c.drawPath(p)
        if dx:
            c.endForm()
            c.saveState()
            c.translate(dx, dy)
            c.doForm("grid")
            c.restoreState()
    c.setFont(FONT, 10)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v:
                c.drawString(xs[j] + 4, top - h * i - 14, v)
    c.showPage()
    c.save()
    (table,) = extract(buf.getvalue()).tables
    assert table.rows == rows
