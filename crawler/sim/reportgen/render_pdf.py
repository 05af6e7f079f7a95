"""A text-layer PDF (reportlab platypus): prose in a CJK font, tables drawn as grids with the
official spans, long labels wrapping inside their cells, tables breaking across pages (with or
without a repeated header), and a page marker "- N -" at the foot of every page.

The font is reportlab's built-in CID font STSong-Light (not embedded; viewers and pdfium map it
through the Adobe-GB1 CMaps they ship), so no system font is needed and pypdfium2 extracts the
text back exactly.
"""

from __future__ import annotations

import io
from functools import cache
from html import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .document import blocks, render_rng
from .layout import Grid
from .spec import ReportSpec

FONT = "STSong-Light"
PAGE_W, PAGE_H = A4
MARGIN = 25 * mm
WIDTH = PAGE_W - 2 * MARGIN


@cache
def _styles() -> dict[str, ParagraphStyle]:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=19, wordWrap="CJK",
                          firstLineIndent=22)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=26, alignment=TA_CENTER,
                                firstLineIndent=0, spaceAfter=10),
        "heading": ParagraphStyle("heading", parent=base, fontSize=12, leading=21, spaceBefore=4),
        "sub": ParagraphStyle("sub", parent=base),
        "para": base,
        "sign": ParagraphStyle("sign", parent=base, alignment=TA_RIGHT, firstLineIndent=0),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5, wordWrap="CJK",
                               alignment=TA_CENTER),
        "label": ParagraphStyle("label", fontName=FONT, fontSize=7.5, leading=9.5, wordWrap="CJK"),
    }


def _table(grid: Grid, repeat_header: bool) -> Table:
    st = _styles()
    data: list[list[object]] = [["" for _ in range(grid.ncols)] for _ in range(grid.nrows)]
    commands: list[tuple] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for c in grid.cells:
        style = st["label"] if c.kind == "label" and c.col == 0 and grid.key == "requests" else st["cell"]
        data[c.row][c.col] = Paragraph(escape(c.text).replace("\n", "<br/>"), style)
        if c.rowspan > 1 or c.colspan > 1:
            commands.append(("SPAN", (c.col, c.row), (c.col + c.colspan - 1, c.row + c.rowspan - 1)))
    return Table(data, colWidths=[f * WIDTH for f in grid.col_fractions()], style=TableStyle(commands),
                 repeatRows=grid.header_rows if repeat_header else 0, splitByRow=1)


def _picture() -> Image:
    from PIL import Image as PILImage
    from PIL import ImageDraw
    img = PILImage.new("L", (300, 200), 255)
    draw = ImageDraw.Draw(img)
    for y in range(0, 200, 10):
        draw.line([(0, y), (299, y)], fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    return Image(buf, width=WIDTH, height=WIDTH * 2 / 3)


class _Doc(SimpleDocTemplate):
    def afterPage(self) -> None:
        # drawn last, so the marker follows the page's text in the text layer, as in real exports
        self.canv.saveState()
        self.canv.setFont(FONT, 10)
        self.canv.drawCentredString(PAGE_W / 2, 12 * mm, f"- {self.page} -")
        self.canv.restoreState()


def render_pdf(spec: ReportSpec) -> bytes:
    st = _styles()
    rng = render_rng(spec, "pdf")
    repeat_header = rng.random() < 0.5
    story: list[object] = []
    signature: list[object] = []
    for b in blocks(spec):
        if b.kind == "sign":  # the body and the date stay on one page
            signature.append(Paragraph(escape(b.text), st["sign"]))
        elif b.kind == "table":
            assert b.grid is not None
            story.append(_table(b.grid, repeat_header))
            story.append(Spacer(1, 6))
        elif b.kind == "image":
            story.append(_picture())
        else:
            story.append(Paragraph(escape(b.text), st[b.kind]))
    story.append(KeepTogether(signature))
    buf = io.BytesIO()
    doc = _Doc(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, title=spec.title, author=spec.entity, invariant=1)
    doc.build(story)
    return buf.getvalue()
