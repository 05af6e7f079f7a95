"""DOCX: word/document.xml read directly with zipfile + lxml, in body order.

python-docx is ~10x slower for what we need; we only need paragraphs, tables (merged cells
expanded), text boxes and the automatic numbering Word renders in front of headings ("一、").
Line breaks inside a paragraph or cell are joined the way the other readers join wrapped
labels (`_util.join_lines`: no separator between CJK text).
"""

from __future__ import annotations

import io
import logging
import zipfile
import zlib
from collections.abc import Iterator
from itertools import islice

from lxml import etree

from monitor.document import Block, Document, Paragraph, Table
from monitor.errors import ExtractError

from ._util import is_layout_grid, join_lines, rectangular
from .limits import LIMITS, refuse
from .numbering import Numbering

logger = logging.getLogger(__name__)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_T, _TAB, _PTAB, _BR, _CR = W + "t", W + "tab", W + "ptab", W + "br", W + "cr"
_P, _TBL, _TR, _TC, _SDT, _SDTC = W + "p", W + "tbl", W + "tr", W + "tc", W + "sdt", W + "sdtContent"
_TXBX, _FALLBACK, _PPR, _RPR = W + "txbxContent", _MC + "Fallback", W + "pPr", W + "rPr"
_NOBREAK_HYPHEN = W + "noBreakHyphen"
_ALTCHUNK = W + "altChunk"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_TRPR, _TCPR, _VAL = W + "trPr", W + "tcPr", W + "val"
_GRIDSPAN, _VMERGE, _HMERGE = W + "gridSpan", W + "vMerge", W + "hMerge"
_GRID_BEFORE, _GRID_AFTER = W + "gridBefore", W + "gridAfter"
_CONTAINERS = {W + "customXml", W + "smartTag", W + "ins", W + "moveTo", W + "hyperlink", W + "fldSimple",
               _SDT, _SDTC, W + "r", _MC + "AlternateContent", _MC + "Choice"}

_STRICT_W = b"http://purl.oclc.org/ooxml/wordprocessingml/main"
_TRANSITIONAL_W = W[1:-1].encode()
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)


def read_docx(data: bytes, *, source: str | None = None, fmt: str = "docx") -> Document:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = _Parts(zf, source)
            xml = parts.read("word/document.xml", required=True)
            assert xml is not None
            root = parts.parse(xml)
            # styles.xml (~350 KB in Word's templates) only matters for paragraph styles
            styles = parts.read("word/styles.xml") if b"pStyle" in xml else None
            if styles is not None:
                parts.count(styles)
            # list numbering only matters to paragraphs that use it, directly or through a style
            numbering = Numbering.from_xml(parts.load("word/numbering.xml") if styles is not None
                                           or b"numPr" in xml else None, styles)
            core = parts.load("docProps/core.xml")
            chunks = _alt_chunk_parts(parts, root)
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError,
            NotImplementedError, etree.XMLSyntaxError) as exc:
        raise ExtractError(
            f"DOCX 文件已损坏或不完整（{type(exc).__name__}: {exc}），无法读取；请重新下载，或用 Word/WPS 打开后另存。"
            " / the DOCX file is corrupt or truncated; download it again or re-save it in Word/WPS.",
            source=source,
        ) from exc
    body = root.find(W + "body")
    walker = _Walker(numbering, has_textboxes=next(root.iter(_TXBX), None) is not None)
    if body is not None and not walker.has_textboxes:
        walker.special = _special_paragraphs(body)
    walker.alt_chunks = {rid: _alt_chunk_blocks(name, part, source) for rid, (name, part) in chunks.items()}
    blocks: list[Block] = []
    if body is not None:
        walker.walk(body, blocks)
    meta: dict[str, object] = {}
    title = core.findtext(_DC_TITLE) if core is not None else None
    if title and title.strip():
        meta["title"] = title.strip()
    return Document(blocks=blocks, format=fmt, meta=meta)


class _Parts:
    """Reads a DOCX's parts within `LIMITS`: the sizes the zip declares are checked before a byte
    is inflated (zipfile never inflates past the declared size), then the XML elements counted
    before they are parsed."""

    def __init__(self, zf: zipfile.ZipFile, source: str | None) -> None:
        self.zf = zf
        self.source = source
        self.inflated = 0
        self.elements = 0

    def read(self, name: str, *, required: bool = False) -> bytes | None:
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            if required:
                raise
            return None
        size = info.file_size
        if size > LIMITS.docx_ratio_from and size > LIMITS.docx_ratio * max(info.compress_size, 1):
            raise refuse(f"DOCX 部件 {name} 的压缩比", size // max(info.compress_size, 1), LIMITS.docx_ratio,
                         unit=" 倍", unit_en="×", source=self.source, en=f"compression ratio of part {name}")
        self.inflated += size
        if self.inflated > LIMITS.docx_uncompressed:
            raise refuse("DOCX 各部件解压后的总大小", self.inflated, LIMITS.docx_uncompressed, unit=" 字节",
                         unit_en=" bytes", source=self.source, en="uncompressed size of the DOCX parts")
        return self.zf.read(info)

    def count(self, xml: bytes) -> None:
        """Start tags (an upper bound of the elements the parser will build), summed over parts."""
        self.elements += xml.count(b"<") - xml.count(b"</")
        if self.elements > LIMITS.xml_elements:
            raise refuse("DOCX 的 XML 元素数", self.elements, LIMITS.xml_elements, source=self.source,
                         en="number of XML elements")

    def parse(self, xml: bytes) -> etree._Element:
        self.count(xml)
        return _parse_xml(xml)

    def load(self, name: str) -> etree._Element | None:
        xml = self.read(name)
        return None if xml is None else self.parse(xml)


def _alt_chunk_parts(parts: _Parts, root: etree._Element) -> dict[str, tuple[str, bytes]]:
    """Parts imported with w:altChunk (web systems often wrap an HTML/MHT page in a DOCX)."""
    ids = [el.get(_R_ID) for el in root.iter(W + "altChunk")]
    if not ids:
        return {}
    rels = parts.load("word/_rels/document.xml.rels")
    targets = {r.get("Id"): r.get("Target", "") for r in rels} if rels is not None else {}
    out: dict[str, tuple[str, bytes]] = {}
    for rid in ids:
        target = targets.get(rid)
        if rid and target and rid not in out:
            name = target.lstrip("/") if target.startswith("/") else f"word/{target}"
            part = parts.read(name)
            if part is None:
                logger.info("altChunk part %s missing", name)
            else:
                out[rid] = (name, part)
    return out


def _alt_chunk_blocks(name: str, part: bytes, source: str | None) -> list[Block]:
    lower = name.lower()
    if lower.endswith((".mht", ".mhtml")):
        from .html import mht_html

        part = mht_html(part)
    elif not lower.endswith((".htm", ".html", ".xhtml")):
        logger.info("altChunk %s in %s not read (not HTML)", name, source)
        return []
    from .html import read_html

    return read_html(part, source=source).blocks if part else []


def _parse_xml(xml: bytes) -> etree._Element:
    if _STRICT_W in xml:  # "Strict Open XML" saves: same vocabulary, other namespace
        xml = xml.replace(_STRICT_W, _TRANSITIONAL_W)
    return etree.fromstring(xml, _PARSER)


class _Walker:
    def __init__(self, numbering: Numbering, *, has_textboxes: bool) -> None:
        self.numbering = numbering
        self.has_textboxes = has_textboxes
        self.tables = 0
        self.alt_chunks: dict[str, list[Block]] = {}
        # Without text boxes: the paragraphs that need `paragraph_text` (None: all of them).
        self.special: set[etree._Element] | None = None

    def walk(self, container: etree._Element, out: list[Block]) -> None:
        """Paragraphs and tables of a body, cell, text box or content control, in order."""
        for el in container:
            tag = el.tag
            if tag == _P:
                self._paragraph(el, out)
            elif tag == _TBL:
                self._table(el, out)
            elif tag == _SDT:
                content = _child(el, _SDTC)
                if content is not None:
                    self.walk(content, out)
            elif tag in (_SDTC, W + "customXml"):
                self.walk(el, out)
            elif tag == _ALTCHUNK:
                out.extend(self.alt_chunks.get(el.get(_R_ID, ""), []))

    def _paragraph(self, p: etree._Element, out: list[Block]) -> None:
        text = self.paragraph_text(p)
        if text:
            out.append(Paragraph(text))
        if self.has_textboxes:
            for box in _textboxes(p):
                self.walk(box, out)

    def paragraph_text(self, p: etree._Element) -> str:
        if self.special is not None and p not in self.special:
            # one line of runs, no numbering: the text of its w:t elements
            return "".join([t.text for t in p.iter(_T) if t.text]).strip()
        lines = _lines(p, slow=self.has_textboxes)
        text = join_lines(lines)
        label = self.numbering.label(p)  # counted even when empty: Word numbers empty items too
        return label + text if text and label else text

    def _table(self, tbl: etree._Element, out: list[Block]) -> None:
        # a layout table (holding tables, or a frame around prose): its cells are content
        rows = None if next(islice(tbl.iter(_TBL), 1, None), None) is not None else self.grid(tbl)
        if rows is None or is_layout_grid(rows):
            for tr in _rows(tbl):
                for tc in _cells(tr):
                    self.walk(tc, out)
            return
        if any(any(c for c in r) for r in rows):
            self.tables += 1
            out.append(Table(rows=rows, origin=f"docx:table[{self.tables}]"))

    def grid(self, tbl: etree._Element) -> list[list[str]]:
        rows: list[list[str]] = []
        # one scan for the few cells and rows with merge or grid properties; the others have none
        merged = {pr.getparent() for pr in (el.getparent() for el in tbl.iter(_GRIDSPAN, _VMERGE, _HMERGE))
                  if pr is not None}
        padded = next(tbl.iter(_GRID_BEFORE, _GRID_AFTER), None) is not None
        for tr in _rows(tbl):
            row: list[str] = [""] * _trpr_int(tr, "gridBefore") if padded else []
            for tc in _cells(tr):
                span, vmerge, hmerge = _cell_props(tc) if tc in merged else (1, None, None)
                col = len(row)
                if vmerge == "continue" and rows and col < len(rows[-1]):
                    text = rows[-1][col]
                elif hmerge == "continue" and row:
                    text = row[-1]
                else:
                    text = self.cell_text(tc)
                row.extend([text] * span)
            if padded:
                row.extend([""] * _trpr_int(tr, "gridAfter"))
            rows.append(row)
        return rectangular(rows)

    def cell_text(self, tc: etree._Element) -> str:
        if self.special is not None:
            # Word's cell: w:tcPr, then its paragraphs (no text boxes, so none nested in them)
            paras: list[etree._Element] = []
            for c in tc:
                tag = c.tag
                if tag == _P:
                    paras.append(c)
                elif tag != _TCPR:
                    break  # other content: the paragraphs are found by a scan
            else:
                return join_lines([self.paragraph_text(p) for p in paras])
        return join_lines([self.paragraph_text(p) for p in tc.iter(_P)])


def _rows(tbl: etree._Element) -> Iterator[etree._Element]:
    for el in tbl:
        if el.tag == _TR:
            yield el
        elif el.tag in (_SDT, W + "customXml"):
            yield from (tr for tr in el.iter(_TR) if _owner_table(tr) is tbl)


def _cells(tr: etree._Element) -> Iterator[etree._Element]:
    for el in tr:
        if el.tag == _TC:
            yield el
        elif el.tag in (_SDT, W + "customXml"):
            yield from (tc for tc in el.iter(_TC) if _owner_row(tc) is tr)


def _owner_table(el: etree._Element) -> etree._Element | None:
    parent = el.getparent()
    while parent is not None and parent.tag != _TBL:
        parent = parent.getparent()
    return parent


def _owner_row(el: etree._Element) -> etree._Element | None:
    parent = el.getparent()
    while parent is not None and parent.tag != _TR:
        parent = parent.getparent()
    return parent


def _child(el: etree._Element, tag: str) -> etree._Element | None:
    """First child with this tag (a plain loop: much faster than lxml's path-based find; the
    property elements w:pPr/w:tcPr come first)."""
    if len(el) and el[0].tag == tag:
        return el[0]
    for c in el:
        if c.tag == tag:
            return c
    return None


def _trpr_int(tr: etree._Element, name: str) -> int:
    pr = _child(tr, _TRPR)
    el = _child(pr, W + name) if pr is not None else None
    return _int(el.get(_VAL) if el is not None else None, 0)


def _cell_props(tc: etree._Element) -> tuple[int, str | None, str | None]:
    """(gridSpan, vMerge state, hMerge state) of a cell; merge states are "restart"/"continue"/None."""
    pr = _child(tc, _TCPR)
    span, vstate, hstate = 1, None, None
    if pr is None:
        return span, vstate, hstate
    for el in pr:
        tag = el.tag
        if tag == _GRIDSPAN:
            span = max(1, min(_int(el.get(_VAL), 1), 64))
        elif tag == _VMERGE:
            vstate = el.get(_VAL) or "continue"
        elif tag == _HMERGE:
            hstate = el.get(_VAL) or "continue"
    return span, vstate, hstate


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _lines(p: etree._Element, *, slow: bool) -> list[str]:
    """Text of a paragraph as lines (w:br / w:cr start a new line, w:tab is a space)."""
    lines: list[str] = []
    cur: list[str] = []
    elements = _walk_runs(p) if slow else p.iter(_T, _TAB, _PTAB, _BR, _CR, _NOBREAK_HYPHEN)
    for el in elements:
        tag = el.tag
        if tag == _T:
            if el.text:
                cur.append(el.text)
        elif tag in (_TAB, _PTAB):
            cur.append(" ")
        elif tag == _NOBREAK_HYPHEN:
            cur.append("-")
        elif tag in (_BR, _CR):
            lines.append("".join(cur))
            cur = []
    lines.append("".join(cur))
    return lines


def _walk_runs(el: etree._Element) -> Iterator[etree._Element]:
    """Like iter(), but skips text boxes (emitted as their own blocks) and mc:Fallback copies."""
    for child in el:
        tag = child.tag
        if tag in (_T, _TAB, _PTAB, _BR, _CR, _NOBREAK_HYPHEN):
            yield child
        elif tag in (_TXBX, _FALLBACK, _PPR, _RPR) or not isinstance(tag, str):
            continue
        else:
            yield from _walk_runs(child)


_SPECIAL = (_BR, _CR, _TAB, _PTAB, _NOBREAK_HYPHEN, W + "numPr", W + "pStyle")


def _special_paragraphs(body: etree._Element) -> set[etree._Element]:
    """Paragraphs holding a line break, tab, non-breaking hyphen, numbering or a style (which
    may number it), found in one scan: every other paragraph is one line of w:t text."""
    out: set[etree._Element] = set()
    for el in body.iter(*_SPECIAL):
        p = el.getparent()
        while p is not None and p.tag != _P:
            p = p.getparent()
        if p is not None:
            out.add(p)
    return out


def _textboxes(p: etree._Element) -> Iterator[etree._Element]:
    for box in p.iter(_TXBX):
        anc = box.getparent()
        while anc is not None and anc is not p and anc.tag not in (_FALLBACK, _TXBX):
            anc = anc.getparent()
        if anc is p:
            yield box
