"""DOCX with real Word tables: merged cells (`cell.merge`) in the official layout, headings as
bold paragraphs (as county offices write them, not Word heading styles), manual line breaks in
labels, the signature right aligned. A table published as a picture becomes an inline PNG.
"""

from __future__ import annotations

import datetime as dt
import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from .document import blocks, render_rng
from .layout import Grid
from .spec import ReportSpec


def _east_asian(style_or_run, name: str) -> None:
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _write(paragraph, text: str, *, bold: bool = False) -> None:
    lines = text.split("\n")
    run = paragraph.add_run(lines[0])
    run.bold = bold or None
    for line in lines[1:]:
        run.add_break()
        run.add_text(line)


def _table(doc, grid: Grid) -> None:
    table = doc.add_table(rows=grid.nrows, cols=grid.ncols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = [r.cells for r in table.rows]
    for c in grid.cells:
        cell = rows[c.row][c.col]
        if c.rowspan > 1 or c.colspan > 1:
            cell = cell.merge(rows[c.row + c.rowspan - 1][c.col + c.colspan - 1])
        p = cell.paragraphs[0]
        if c.kind != "label" or c.col > 0:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _write(p, c.text)


def _picture() -> io.BytesIO:
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (600, 400), "white")
    draw = ImageDraw.Draw(img)
    for y in range(0, 400, 16):
        draw.line([(0, y), (599, y)], fill="black")
    for x in (0, 200, 260, 320, 380, 440, 500, 560, 599):
        draw.line([(x, 0), (x, 399)], fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    return buf


def render_docx(spec: ReportSpec) -> bytes:
    rng = render_rng(spec, "docx")
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(rng.choice((12, 14, 16)))
    _east_asian(normal, rng.choice(("仿宋_GB2312", "宋体", "仿宋")))
    core = doc.core_properties
    core.author = spec.entity
    core.title = spec.title
    written = dt.datetime.fromisoformat(spec.published_at or f"{spec.year + 1}-01-15")
    core.created = core.modified = core.last_printed = written  # reproducible bytes
    core.revision = 1
    for b in blocks(spec):
        if b.kind == "table":
            assert b.grid is not None
            _table(doc, b.grid)
            continue
        if b.kind == "image":
            doc.add_picture(_picture())
            continue
        p = doc.add_paragraph()
        if b.kind == "title":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _write(p, b.text, bold=True)
        elif b.kind in ("heading", "sub"):
            _write(p, b.text, bold=True)
        elif b.kind == "sign":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _write(p, b.text)
        else:
            p.paragraph_format.first_line_indent = Pt(32)
            _write(p, b.text)
    buf = io.BytesIO()
    doc.save(buf)
    return _deterministic_zip(buf.getvalue())


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed timestamps so the same spec gives the same bytes."""
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
