"""PDF with a text layer, through pypdfium2 (PDFium; Apache-2.0/BSD-3).

PDFium gives characters with boxes. We rebuild what the eye sees: characters are clustered into
lines by their vertical centre, a line is cut into cells where the horizontal gap between two
characters exceeds about one em, and runs of lines with two or more cells become a `Table`
(short one-cell lines between table lines stay in the table, so rows keep their order).
Paragraph lines that run to the right margin are joined with the next line. Page markers
("- 4 -", "第 4 页") are dropped and a table continued on the next page simply continues.

Characters that PDF text layers split ("三、\\n本\\n年\\n度…", headers over two lines) are kept in
order; the parser reads them. A blank cell has no characters, so gaps alone cannot keep its place:
where the page draws a table's vertical rules (Word, LibreOffice and most generators rule their
tables), the rules that cross a line cut it into its cells, a cell never spans a rule, and an
empty cell after the row's label, under a column that holds numbers in the table, becomes "" — so
the numbers after a blank keep their columns. The label part is never padded (empty slots of
merged label columns stay out), and borderless tables keep their cells packed from the left.
Text printed sideways (a landscape table on a portrait page) is read in its own direction (its
rows are not placed by rules). No text at all, or a text layer of private-use garbage (fonts
without a Unicode map), gives an empty Document with ``meta["unusable"]``.
"""

from __future__ import annotations

import ctypes
import functools
import io
import logging
import math
import re
import struct
import threading
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from monitor.document import Block, Document, Paragraph, Table
from monitor.errors import ExtractError
from monitor.textnorm import parse_cell

from ._util import is_cjk, join_lines
from .limits import LIMITS, LimitError, refuse

logger = logging.getLogger(__name__)

# PDFium is not thread-safe; callers may extract from worker threads.
_PDFIUM_LOCK = threading.Lock()
UNUSABLE_SCANNED = "扫描件/图片PDF，无文字层，无法识别（需要OCR或向发布单位索取文字版）"
UNUSABLE_GARBLED = "PDF文字层无法解码（字体缺少字符编码映射，提取出的是乱码），无法识别（需要OCR或向发布单位索取文字版）"
_CELL_GAP_EM = 1.0  # a gap wider than this (in font sizes) separates two cells
_WORD_GAP_EM = 0.25  # a gap wider than this between non-CJK characters is a space
_LINE_TOL = 0.5  # characters whose centres differ by less than this (in heights) share a line
_MAX_TABLE_GAP_LINES = 3  # one-cell lines tolerated inside a table before it ends
_MAX_IN_TABLE_LINE = 30
_MAX_FRAGMENT, _MAX_FRAGMENT_LINES = 10, 16  # narrow-cell fragments ("部分公"/"开（区"…) in a row
_RULE_WIDTH = 2.5  # a vertical rule's bounds are at most this wide (stroke included), in points
_RULE_HEIGHT = 4.0  # ...and at least this tall
_RULE_MERGE = 1.5  # rules closer than this are one border (double lines, a cell's two edges)
_MAX_PATH_SEGMENTS = 600  # a larger path (a seal, a chart) is not read for table borders
_MAX_FORM_DEPTH = 4  # Form XObjects nested deeper are not read for rules
# A report's section heading ("三、收到和处理政府信息公开申请情况") ends a table; a row label
# ("三、本年度办理结果") does not.
_SECTION = re.compile(r"^[一二三四五六七八九十]+、.*(?:情况|事项|概述)")
_PAGE_MARKER = re.compile(
    r"^(?:[-—–－_~]\s*\d+\s*[-—–－_~]|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|"
    r"page\s*\d+(?:\s*of\s*\d+)?)$",
    re.I,
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_BLANKS = frozenset("\u00a0\u3000\ufffe\uffff")
# Fonts without a Unicode map come out as private-use or replacement characters.
_GARBLED = re.compile("[\ue000-\uf8ff\ufffd]")
_JUNK_TITLES = {"untitled", "anonymous", "title", "无标题", "1"}
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\)|\d+[.、．])")


class _Char(NamedTuple):
    ch: str
    x0: float  # glyph (tight) extent: gaps between cells
    x1: float
    yc: float
    h: float
    em: float
    lx0: float  # advance (loose) extent: gaps between words
    lx1: float


_X0, _YC = itemgetter(1), itemgetter(3)  # _Char.x0, _Char.yc
_BOXES = struct.Struct("=4f4d")  # a loose FS_RECTF, then the tight box's four doubles
_new_char = tuple.__new__  # _new_char(_Char, (...)): a _Char without NamedTuple's Python __new__


class _Handle(ctypes.c_void_p):
    """A PDFium handle returned by a `_bare_call` (a c_void_p subclass stays a ctypes object)."""


def _bare_call(fn: object, restype: type = ctypes.c_int) -> Callable[..., object]:
    """The same PDFium function without ctypes argument conversion (2-3x cheaper a call; the
    per-character box calls are most of reading a page): pass handles as c_void_p, indexes as
    ints and byref() outputs."""
    stdcall = getattr(ctypes, "_FUNCFLAG_STDCALL", 0) & getattr(fn, "_flags_", 0)  # 32-bit Windows
    proto = ctypes.WINFUNCTYPE if stdcall else ctypes.CFUNCTYPE  # type: ignore[attr-defined]
    return proto(restype)(ctypes.cast(fn, ctypes.c_void_p).value)


_GET_CHAR_BOX = _bare_call(raw.FPDFText_GetCharBox)
_GET_LOOSE_CHAR_BOX = _bare_call(raw.FPDFText_GetLooseCharBox)
_PAGE_GET_OBJECT = _bare_call(raw.FPDFPage_GetObject, _Handle)
_FORM_GET_OBJECT = _bare_call(raw.FPDFFormObj_GetObject, _Handle)
_OBJ_GET_TYPE = _bare_call(raw.FPDFPageObj_GetType)
_OBJ_GET_BOUNDS = _bare_call(raw.FPDFPageObj_GetBounds)
_GET_CHAR_ANGLE = _bare_call(raw.FPDFText_GetCharAngle, ctypes.c_float)


@dataclass(slots=True)
class _Line:
    cells: list[str]
    x0: float
    x1: float
    yc: float
    em: float
    page: int
    # x of the vertical rules crossing the line (empty: none); slot k of a cell is the space
    # between rules k-1 and k (0: left of the first rule); xc: the cells' centres
    rules: list[float] = field(default_factory=list)
    slot: list[int] = field(default_factory=list)
    xc: list[float] = field(default_factory=list)


def read_pdf(data: bytes, *, source: str | None = None) -> Document:
    with _PDFIUM_LOCK:
        return _open_and_read(data, source)


def _open_and_read(data: bytes, source: str | None) -> Document:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == raw.FPDF_ERR_PASSWORD:
            raise ExtractError(
                "PDF 文件已加密（需要密码才能打开），无法读取；请向发布单位索取未加密的版本。"
                " / the PDF is encrypted (password required); ask the publisher for an unencrypted copy.",
                source=source,
            ) from exc
        raise _corrupt(source, str(exc)) from exc
    try:
        return _read(pdf, source)
    except LimitError as exc:
        if exc.source is None and source is not None:
            raise LimitError(str(exc), source=source) from None
        raise
    finally:
        pdf.close()


def _corrupt(source: str | None, detail: str) -> ExtractError:
    return ExtractError(
        f"PDF 文件已损坏或不完整（{detail}），无法读取；请重新下载。"
        " / the PDF is corrupt or truncated; download it again.",
        source=source,
    )


def _read(pdf: pdfium.PdfDocument, source: str | None) -> Document:
    if len(pdf) == 0:
        raise _corrupt(source, "没有页面")
    if len(pdf) > LIMITS.pdf_pages:  # an annual report has fewer than 100
        raise refuse("PDF 页数", len(pdf), LIMITS.pdf_pages, source=source, en="number of PDF pages")
    meta: dict[str, object] = {"pages": len(pdf)}
    title = _title(pdf)
    if title:
        meta["title"] = title
    lines: list[_Line] = []
    chars = failed = 0
    for index in range(len(pdf)):
        try:
            groups, height, rules = _page_chars(pdf, index)
        except pdfium.PdfiumError as exc:
            logger.info("page %d of %s unreadable: %s", index + 1, source, exc)
            failed += 1
            continue
        for rotation in sorted(groups):
            chars += len(groups[rotation])
            if chars > LIMITS.pdf_chars:
                raise refuse(f"PDF 文字层字符数（读到第 {index + 1} 页）", chars, LIMITS.pdf_chars, source=source,
                             en="number of characters in the PDF text layer")
            page_lines = _lines(groups[rotation], index + 1, rules if rotation == 0 else [])
            lines.extend(_drop_page_markers(page_lines, height if rotation == 0 else None))
    if failed:
        meta["pages_failed"] = failed
        if failed == len(pdf):
            raise _corrupt(source, "没有一页能够打开")
    if chars == 0:
        logger.info("PDF without text layer: %s", source)
        meta["unusable"] = UNUSABLE_SCANNED
        return Document(blocks=[], format="pdf", meta=meta)
    garbled = sum(len(_GARBLED.findall(cell)) for line in lines for cell in line.cells)
    if garbled > chars / 2:
        logger.info("PDF text layer not decodable (%d of %d chars): %s", garbled, chars, source)
        meta["unusable"] = UNUSABLE_GARBLED
        return Document(blocks=[], format="pdf", meta=meta)
    _warn_if_cjk_font_missing()
    return Document(blocks=_blocks(lines), format="pdf", meta=meta)


@functools.cache
def _warn_if_cjk_font_missing() -> None:
    """One warning per process (the caller holds _PDFIUM_LOCK)."""
    if _lone_cjk_glyphs_lost():
        logger.warning("no CJK font installed: PDFium drops one-character text runs set in CJK fonts a PDF "
                       "does not embed (a lone 〇 or 无 in a table cell); install one, e.g. "
                       "apt-get install fonts-wqy-microhei")


def lone_cjk_glyphs_lost() -> bool:
    """Whether PDFium on this machine loses one-character runs of non-embedded CJK fonts (no CJK
    system font): `nianbao` warns, and the tests that need such runs say so."""
    with _PDFIUM_LOCK:
        return _lone_cjk_glyphs_lost()


@functools.cache
def _lone_cjk_glyphs_lost() -> bool:
    """Whether PDFium, on this machine, loses a one-character run of a non-embedded CJK font
    (it needs a CJK system font to map it). Probed once on a one-line PDF; the caller holds
    _PDFIUM_LOCK."""
    try:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas

        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        out = io.BytesIO()
        page = canvas.Canvas(out)
        page.setFont("STSong-Light", 10)
        page.drawString(100, 700, "无")
        page.save()
        probe = pdfium.PdfDocument(out.getvalue())
        try:
            return probe[0].get_textpage().get_text_bounded().strip() != "无"
        finally:
            probe.close()
    except Exception:  # noqa: BLE001 - a probe that cannot run says nothing
        logger.debug("CJK font probe failed", exc_info=True)
        return False


def _page_chars(
    pdf: pdfium.PdfDocument, index: int
) -> tuple[dict[int, list[_Char]], float, list[tuple[float, float, float]]]:
    page = pdf[index]
    try:
        groups = _chars(page)
        return groups, page.get_height(), _rules(page) if groups[0] else []
    finally:
        page.close()


_Matrix = tuple[float, float, float, float, float, float]


def _rules(page: pdfium.PdfPage) -> list[tuple[float, float, float]]:
    """The page's vertical rules as (x, bottom, top) in page space: thin tall path objects (a
    stroked line, a filled hair rectangle) and the vertical pieces of larger paths (cell boxes,
    a whole grid in one path), also inside Form XObjects."""
    out: list[tuple[float, float, float]] = []
    objs = page.raw
    _collect_rules(ctypes.cast(objs, ctypes.c_void_p), raw.FPDFPage_CountObjects(objs), _PAGE_GET_OBJECT,
                   None, out, 0)
    return out


def _collect_rules(parent: ctypes.c_void_p, n: int, get: Callable[..., object], form: _Matrix | None,
                   out: list[tuple[float, float, float]], depth: int) -> None:
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    bounds = (ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top))
    path_kind, form_kind, get_type, get_bounds = raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_FORM, _OBJ_GET_TYPE, _OBJ_GET_BOUNDS
    for k in range(n):
        handle = get(parent, k)
        kind = get_type(handle)
        if kind == form_kind and depth < _MAX_FORM_DEPTH:
            obj = ctypes.cast(handle, raw.FPDF_PAGEOBJECT)
            m = _matrix(obj)
            _collect_rules(handle, raw.FPDFFormObj_CountObjects(obj), _FORM_GET_OBJECT,
                           m if form is None else _compose(m, form), out, depth + 1)
            continue
        if kind != path_kind or not get_bounds(handle, *bounds):
            continue
        x0, y0, x1, y1 = left.value, bottom.value, right.value, top.value
        if form is not None:
            x0, y0, x1, y1 = _box(form, x0, y0, x1, y1)
        w, h = x1 - x0, y1 - y0
        if h < _RULE_HEIGHT:
            continue  # horizontal rules, dots
        if w <= _RULE_WIDTH:
            out.append(((x0 + x1) / 2, y0, y1))
        elif raw.FPDFPath_CountSegments(obj := ctypes.cast(handle, raw.FPDF_PAGEOBJECT)) <= _MAX_PATH_SEGMENTS:
            m = _matrix(obj)
            _vertical_pieces(obj, m if form is None else _compose(m, form), out)


def _matrix(obj: object) -> _Matrix:
    m = raw.FS_MATRIX()
    if not raw.FPDFPageObj_GetMatrix(obj, m):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(inner: _Matrix, outer: _Matrix) -> _Matrix:
    """The matrix applying `inner`, then `outer` (PDF row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _box(m: _Matrix, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    a, b, c, d, e, f = m
    xs = [a * x + c * y + e for x in (x0, x1) for y in (y0, y1)]
    ys = [b * x + d * y + f for x in (x0, x1) for y in (y0, y1)]
    return min(xs), min(ys), max(xs), max(ys)


def _vertical_pieces(obj: object, m: _Matrix, out: list[tuple[float, float, float]]) -> None:
    """Straight vertical segments of a path (closing segments included), in page space."""
    a, b, c, d, e, f = m
    px, py = ctypes.c_float(), ctypes.c_float()
    start = prev = None
    for k in range(raw.FPDFPath_CountSegments(obj)):
        seg = raw.FPDFPath_GetPathSegment(obj, k)
        if not seg or not raw.FPDFPathSegment_GetPoint(seg, px, py):
            start = prev = None
            continue
        x, y = px.value, py.value
        point = (a * x + c * y + e, b * x + d * y + f)
        kind = raw.FPDFPathSegment_GetType(seg)
        if kind == raw.FPDF_SEGMENT_MOVETO:
            start = point
        elif kind == raw.FPDF_SEGMENT_LINETO and prev is not None:
            _vertical(prev, point, out)
        if raw.FPDFPathSegment_GetClose(seg) and start is not None:
            _vertical(point, start, out)
        prev = point


def _vertical(p: tuple[float, float], q: tuple[float, float], out: list[tuple[float, float, float]]) -> None:
    if abs(p[0] - q[0]) <= _RULE_WIDTH and abs(p[1] - q[1]) >= _RULE_HEIGHT:
        out.append(((p[0] + q[0]) / 2, min(p[1], q[1]), max(p[1], q[1])))


def _title(pdf: pdfium.PdfDocument) -> str | None:
    try:
        title = (pdf.get_metadata_value("Title") or "").strip()
    except (pdfium.PdfiumError, KeyError, UnicodeDecodeError):
        return None
    title = re.sub(r"^Microsoft Word\s*-\s*", "", title)
    return title if title and title.lower() not in _JUNK_TITLES else None


def _chars(page: pdfium.PdfPage) -> dict[int, list[_Char]]:
    """The page's visible characters grouped by text rotation (degrees clockwise, 0 first), each
    group in its own reading frame."""
    textpage = page.get_textpage()
    try:
        tp = textpage.raw
        n = raw.FPDFText_CountChars(tp)
        if n > LIMITS.pdf_page_chars:  # counted before a single box is read
            raise refuse("PDF 单页文字层字符数", n, LIMITS.pdf_page_chars, source=None,
                         en="number of characters on one PDF page")
        text = _page_text(tp, n)
        handle = ctypes.cast(tp, ctypes.c_void_p)
        rotated = _has_rotated_text(handle, n)
        # both boxes of a character land in one buffer, read back with one unpack: the loose
        # FS_RECTF (4 floats: left, top, right, bottom) then the tight left, right, bottom, top
        buf = ctypes.create_string_buffer(_BOXES.size)
        rect = raw.FS_RECTF.from_buffer(buf)
        box = ctypes.byref(buf)
        tight = tuple(ctypes.byref(buf, 16 + 8 * k) for k in range(4))
        unpack = _BOXES.unpack_from
        get_loose, get_tight, new = _GET_LOOSE_CHAR_BOX, _GET_CHAR_BOX, _new_char
        groups: dict[int, list[_Char]] = {0: []}
        upright = groups[0]
        for i in range(n):
            ch = text[i] if text is not None else chr(raw.FPDFText_GetUnicode(tp, i))
            # spaces, PDFium's generated line breaks and unmappable glyphs carry no text; the
            # loose box spans the font's ascent..descent, so "，" sits on the same line as "政"
            if ch <= " " or ch in _BLANKS or not get_loose(handle, i, box):
                continue
            rotation = _angle(handle, i) if rotated else 0
            if rotation:
                groups.setdefault(rotation, []).append(_rotated(ch, rect, rotation))
                continue
            # x from the tight glyph box: gaps between cells are clearer without side bearings
            get_tight(handle, i, *tight)
            r_left, r_top, r_right, r_bottom, left, right, _, _ = unpack(buf)
            h = abs(r_top - r_bottom)
            upright.append(new(_Char, (ch, left, right, (r_top + r_bottom) / 2, h,
                                       h if h > 1.0 else 1.0, r_left, r_right)))
        return groups
    finally:
        textpage.close()


def _angle(tp: ctypes.c_void_p, i: int) -> int:
    angle = _GET_CHAR_ANGLE(tp, i)
    return 90 * (round(math.degrees(angle) / 90) % 4) if angle >= 0 else 0


def _has_rotated_text(tp: ctypes.c_void_p, n: int) -> bool:
    """A sample of characters says whether the page has sideways text (a landscape table
    printed on a portrait page); only then is every character's angle read."""
    return any(_angle(tp, i) for i in range(0, n, max(1, n // 64)))


def _rotated(ch: str, r: raw.FS_RECTF, rotation: int) -> _Char:
    """A character of rotated text in the text's own frame (x along the line, y up its page).
    PDFium measures angles clockwise: 270 is text reading upwards."""
    width = abs(r.right - r.left)
    em = width if width > 1.0 else 1.0
    if rotation == 270:
        return _Char(ch, r.bottom, r.top, -(r.left + r.right) / 2, width, em, r.bottom, r.top)
    if rotation == 90:
        return _Char(ch, -r.top, -r.bottom, (r.left + r.right) / 2, width, em, -r.top, -r.bottom)
    h = abs(r.top - r.bottom)
    return _Char(ch, -r.right, -r.left, -(r.top + r.bottom) / 2, h, h if h > 1.0 else 1.0, -r.right, -r.left)


def _page_text(tp: raw.FPDF_TEXTPAGE, n: int) -> str | None:
    """All characters in one call, index-aligned with the char boxes; None when a character
    outside the BMP (a surrogate pair) would break the alignment."""
    buf = ctypes.create_string_buffer(2 * (n + 1))
    got = raw.FPDFText_GetText(tp, 0, n, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)))
    text = buf.raw[: 2 * max(got - 1, 0)].decode("utf-16-le", errors="surrogatepass")
    if len(text) != n or _SURROGATE.search(text):
        return None
    return text


def _lines(chars: list[_Char], page: int, rules: Sequence[tuple[float, float, float]] = ()) -> list[_Line]:
    """Cluster characters into visual lines (top to bottom), each cut into cells by wide gaps
    and by the vertical rules that cross it."""
    if not chars:
        return []
    chars = sorted(chars, key=_YC, reverse=True)  # top first; stable, as the order of -yc
    last = [chars[0]]
    groups: list[list[_Char]] = [last]
    ref_yc, ref_h = chars[0].yc, chars[0].h
    for c in chars[1:]:
        yc, h = c.yc, c.h
        if abs(ref_yc - yc) <= _LINE_TOL * (ref_h if ref_h > h else h):
            last.append(c)
        else:
            last = [c]
            groups.append(last)
            ref_yc, ref_h = yc, h
    return [_cells(group, page, _crossing(rules, group)) for group in groups]


def _crossing(rules: Sequence[tuple[float, float, float]], group: list[_Char]) -> list[float]:
    """x of the rules crossing the line's vertical centre, near-duplicates merged."""
    if not rules:
        return []
    yc = sum([c.yc for c in group]) / len(group)
    xs = [x for x, y0, y1 in rules if y0 < yc < y1]
    xs.sort()
    merged: list[float] = []
    for x in xs:
        if not merged or x - merged[-1] > _RULE_MERGE:
            merged.append(x)
    return merged


def _cells(group: list[_Char], page: int, rules: list[float] | None = None) -> _Line:
    group.sort(key=_X0)
    first = group[0]
    cur = [first.ch]
    cells: list[list[str]] = [cur]
    if rules:
        slots = [bisect(rules, (c.x0 + c.x1) / 2) for c in group]
    else:
        slots = [0] * len(group)
    cell_slot = [slots[0]]
    bounds = [[first.x0, first.x1]]
    span = bounds[0]
    cell_gap, word_gap = _CELL_GAP_EM, _WORD_GAP_EM
    p_ch, _, p_x1, _, _, p_em, _, p_lx1 = first
    p_slot = slots[0]
    for (ch, x0, x1, _yc, _h, em, lx0, lx1), slot in zip(group[1:], slots[1:], strict=True):
        wide = p_em if p_em > em else em
        gap = x0 - p_x1
        if gap > cell_gap * wide and lx0 - p_lx1 < gap:
            # full-width punctuation keeps its ink at one side of its em ("”、“"): by ink the gap
            # looks like a cell border; by advance (the loose boxes) the glyphs touch
            gap = lx0 - p_lx1
        if gap > cell_gap * wide or slot != p_slot:
            cur = [ch]
            cells.append(cur)
            cell_slot.append(slot)
            span = [x0, x1]
            bounds.append(span)
        else:
            if lx0 - p_lx1 > word_gap * wide and not (is_cjk(p_ch) or is_cjk(ch)):
                cur.append(" ")
            cur.append(ch)
            if x1 > span[1]:
                span[1] = x1
        p_ch, p_x1, p_em, p_lx1, p_slot = ch, x1, em, lx1, slot
    ems = sorted([c.em for c in group])
    return _Line(
        cells=["".join(cell) for cell in cells],
        x0=first.x0,
        x1=max([c.x1 for c in group]),
        yc=sum([c.yc for c in group]) / len(group),
        em=ems[len(ems) // 2],
        page=page,
        rules=rules or [],
        slot=cell_slot if rules else [],
        xc=[(b0 + b1) / 2 for b0, b1 in bounds] if rules else [],
    )


def _drop_page_markers(lines: list[_Line], height: float | None) -> list[_Line]:
    """Page numbers: "- 4 -", "第4页", "4/12" anywhere; a bare number only in the top or bottom
    tenth of the page as the first or last line."""
    out = []
    for i, line in enumerate(lines):
        text = "".join(line.cells).strip()
        if _PAGE_MARKER.match(text):
            continue
        edge = height is not None and i in (0, len(lines) - 1) and (line.yc < height * 0.1 or line.yc > height * 0.9)
        if edge and text.isdigit() and len(text) <= 4:
            continue
        out.append(line)
    return out


def _blocks(lines: list[_Line]) -> list[Block]:
    blocks: list[Block] = []
    right = _right_margin(lines)
    i = 0
    while i < len(lines):
        if len(lines[i].cells) >= 2:
            end = _table_end(lines, i)
            blocks.append(Table(rows=_packed(lines[i:end]), origin=f"pdf:page {lines[i].page}"))
            i = end
            continue
        i = _paragraph(lines, i, right, blocks)
    return blocks


def _table_end(lines: list[_Line], start: int) -> int:
    """Index after the last line of the table starting at `start`: one-cell lines (wrapped labels,
    a row title) stay in it while more table lines follow soon; a section heading ends it."""
    end = i = start + 1
    while i < len(lines):
        if len(lines[i].cells) >= 2:
            end = i = i + 1
            continue
        j = i
        while j < len(lines) and len(lines[j].cells) < 2 and _fits_in_table(lines[i : j + 1]):
            j += 1
        if j >= len(lines) or len(lines[j].cells) < 2:
            return _trailing_fragments(lines, end)
        i = j
    return end


def _trailing_fragments(lines: list[_Line], end: int) -> int:
    """The wrapped label of a table's last row continues below its numbers: keep it."""
    limit = min(len(lines), end + _MAX_FRAGMENT_LINES)
    while end < limit and len(lines[end].cells) == 1:
        text = lines[end].cells[0]
        if len(text) > _MAX_FRAGMENT or _HEADING.match(text) or _SECTION.match(text):
            break
        end += 1
    return end


def _fits_in_table(run: list[_Line]) -> bool:
    """A run of one-cell lines that can sit inside a table: short fragments of narrow cells."""
    text = run[-1].cells[0]
    if _SECTION.match(text) or len(text) > _MAX_IN_TABLE_LINE:
        return False
    if len(run) <= _MAX_TABLE_GAP_LINES:
        return True
    return len(run) <= _MAX_FRAGMENT_LINES and all(len(line.cells[0]) <= _MAX_FRAGMENT for line in run)


def _right_margin(lines: list[_Line]) -> float:
    """The text block's right edge, document-wide (one short page must not define it)."""
    return max((line.x1 for line in lines if len(line.cells) == 1), default=0.0)


def _paragraph(lines: list[_Line], i: int, right: float, blocks: list[Block]) -> int:
    """Add the paragraph starting at line i (wrapped lines joined); return the next index."""
    parts = [lines[i].cells[0]]
    while (
        i + 1 < len(lines)
        and len(lines[i + 1].cells) == 1
        and lines[i].x1 >= right - 1.5 * lines[i].em
        and not _HEADING.match(lines[i + 1].cells[0])
        and lines[i + 1].x0 <= lines[i].x0 + 0.5 * lines[i].em
    ):
        i += 1
        parts.append(lines[i].cells[0])
    text = join_lines(parts)
    if text:
        blocks.append(Paragraph(text))
    return i + 1


def _packed(lines: list[_Line]) -> list[list[str]]:
    """Each line's cells from the left, padded to the widest line; in a ruled line, an empty
    cell among or after its numbers stays as "" (see `_with_blanks`)."""
    rows = [line.cells for line in lines]
    ruled = [i for i, line in enumerate(lines) if len(line.rules) >= 2]
    if ruled:
        tails = {i: _numeric_tail(lines[i].cells) for i in ruled}
        numeric_x = [x for i in ruled for x in lines[i].xc[tails[i]:]]
        if numeric_x:
            for i in ruled:
                rows[i] = _with_blanks(lines[i], tails[i], numeric_x)
    width = max(len(row) for row in rows)
    return [row + [""] * (width - len(row)) for row in rows]


def _numeric_tail(cells: list[str]) -> int:
    """Index of the first cell of the line's trailing run of numeric cells (as the parser reads
    them: numbers and placeholders such as "/" or "-")."""
    i = len(cells)
    while i > 0 and parse_cell(cells[i - 1]) is not None:
        i -= 1
    return i


def _with_blanks(line: _Line, tail: int, numeric_x: list[float]) -> list[str]:
    """The line's cells with "" for each empty slot between two rules after its label part (the
    cells before the trailing numbers), when the slot lies between two of the line's numbers or
    a number of the table sits in its column. A line without numbers (a header, a wrapped label)
    and the label part are left as they are, so the row still reads as label cells, then numeric
    cells."""
    cells, slot, rules = line.cells, line.slot, line.rules
    if tail == len(cells):
        return cells
    out = cells[:tail]
    inner = (slot[tail], slot[-1])
    j = tail
    first = slot[tail - 1] + 1 if tail else 0
    while j < len(cells) and slot[j] < first:  # numbers in the label's own slot
        out.append(cells[j])
        j += 1
    for s in range(first, len(rules) + 1):
        if j < len(cells) and slot[j] == s:
            while j < len(cells) and slot[j] == s:
                out.append(cells[j])
                j += 1
        elif 0 < s < len(rules) and (inner[0] < s < inner[1] or _holds(numeric_x, rules[s - 1], rules[s])):
            out.append("")
    return out


def _holds(xs: list[float], lo: float, hi: float) -> bool:
    return any(lo < x < hi for x in xs)
