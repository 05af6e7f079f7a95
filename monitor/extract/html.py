"""HTML pages: decode, find the report body among the portal chrome, walk it into blocks.

* Encoding: the declared charsets (BOM, HTTP header, <meta>) are tried strictly in that order,
  then detection; gb2312/gbk are read as gb18030. A wrong header (utf-8 on a GBK page) falls
  through to the next candidate instead of producing mojibake.
* Body: known CMS containers first (TRS ``div.TRS_Editor``, ``#zoom``, Hanweb ``#UCAP-CONTENT``…),
  else the element that collects the most non-link text (a Readability-style score).
* Tables: only leaf data tables become `Table`s (rowspan/colspan expanded, Word's empty spacer
  rows and columns dropped); a layout table (one holding tables, or one column of prose) is read
  as content. Cell lines (<br>, <p>) are joined without a space between CJK text.
* Page facts into meta: title, page_title, published_at + published_source, images,
  images_in_tables, encoding. The publication date is ranked as the crawler ranks a page's
  (`crawler.dates.publication_date`): the earliest of the <meta name="PubDate"> stamp and the
  visible 发布日期 / 发布时间, because the stamp is often a later regeneration time; the source
  names what it overruled (`page;page_meta=2025-06-18`).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from crawler.dates import publication_date
from monitor.document import Block, Document, Paragraph, Table

from ._util import drop_cjk_padding, is_layout_grid, join_lines
from .encoding import (
    bom_encoding,
    charset_from_content_type,
    decode_strict,
    detect,
    mostly_decodes,
    normalise_charset,
    strip_bom,
)
from .limits import LIMITS, LimitError, refuse

logger = logging.getLogger(__name__)

_El = etree._Element

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_NOT_DIGIT = re.compile(r"[^0-9]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_WS = re.compile(r"\s+")
_DROP = ("script", "style", "noscript", "template", "iframe", "object", "embed", "select", "button",
         "textarea", "input", "svg", "canvas", "map", "audio", "video")
_BLOCK = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote pre section article header footer nav aside "
    "center form fieldset address figure figcaption main hr caption tr td th tbody thead tfoot".split()
)
_INLINE_SKIP = frozenset("a".split())
# Known report containers of the CMSs Chinese portals run, best first: (attribute, value).
_KNOWN_CONTAINERS = (
    ("class", "trs_editor"), ("class", "trs_ueditor"), ("id", "zoom"), ("id", "ucap-content"),
    ("class", "article-content"), ("class", "bt-article"), ("class", "wzcon"), ("class", "news_cont"),
    ("id", "js_content"), ("class", "pages_content"), ("class", "view"), ("id", "content"),
    ("class", "zw"), ("id", "zw"), ("class", "article"), ("id", "article"), ("class", "content"),
)
_KNOWN_KEYS = frozenset(_KNOWN_CONTAINERS)
_MIN_BODY_CHARS = 40
_ATTACHMENT = re.compile(r"\.(?:pdf|docx?|wps|rtf|xlsx?|et|ofd|zip|rar)(?:$|[?#])", re.I)
_REPORT_TITLE = re.compile(r"年度报告|年报|工作报告")


def read_html(data: bytes, *, source: str | None = None, content_type: str | None = None) -> Document:
    if len(data) > LIMITS.html_bytes:
        raise refuse("HTML 页面大小", len(data), LIMITS.html_bytes, unit=" 字节", unit_en=" bytes",
                     source=source, en="HTML page size")
    text, encoding = decode_html(data, content_type)
    # start tags: an upper bound of the elements libxml2 would build (each costs ~0.3 KB of tree)
    tags = text.count("<") - text.count("</")
    if tags > LIMITS.html_elements:
        raise refuse("HTML 元素数", tags, LIMITS.html_elements, source=source, en="number of HTML elements")
    meta: dict[str, object] = {"encoding": encoding}
    root = _parse(text)
    if root is None:
        logger.info("no HTML document in %s", source)
        return Document(blocks=[], format="html", meta=meta)
    marks = _clean(root, _raw_hints(data, encoding))
    meta.update(page_meta(root, marks, text))
    body = find_body(root, marks)
    walker = _Walker(holders=marks.holders)
    try:
        walker.block(body)
        walker.flush()
    except LimitError as exc:  # raised deep in a table, without the file's name
        raise LimitError(str(exc), source=source) from None
    except RecursionError:  # pathological nesting: keep the text, lose the structure
        logger.warning("HTML nesting too deep in %s; reading text only", source)
        walker = _Walker(holders=marks.holders)
        for line in _text(body).splitlines():
            walker.line.append(line)
            walker.flush()
    headline = _headline(body, marks)
    if headline:
        meta["title"] = headline
    meta["images"] = walker.images
    attachments = _attachments(body, marks)
    if attachments:
        meta["attachments"] = attachments
    meta["images_in_tables"] = walker.images_in_tables
    if walker.images and not attachments and _only_pictures(walker.blocks, headline):
        meta["unusable"] = (f"报告正文是{walker.images}张图片（扫描件或截图），没有可读的文字，无法识别"
                            "（需要OCR或向发布单位索取文字版）")
    return Document(blocks=walker.blocks, format="html", meta=meta)


_PICTURE_PAGE_TEXT = 120  # characters besides the title: less, with pictures, is a report in pictures


def _only_pictures(blocks: list[Block], headline: str | None) -> bool:
    """A page whose report is pictures (scanned pages, screenshots): no table, and hardly any
    text besides its title."""
    chars = 0
    for block in blocks:
        if isinstance(block, Table):
            return False
        text = "".join(block.text.split())
        if headline and text in "".join(headline.split()):
            continue
        chars += len(text)
        if chars >= _PICTURE_PAGE_TEXT:
            return False
    return True


def mht_html(data: bytes) -> bytes:
    """The HTML part of an MHT (MIME HTML) archive, as Word and IE save pages; b"" if none."""
    import email
    from email import policy

    msg = email.message_from_bytes(data, policy=policy.compat32)
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset()
                return _with_charset(payload, charset) if charset else payload
    return b""


def _with_charset(html: bytes, charset: str) -> bytes:
    """Carry the MIME part's charset into the HTML so the decoder sees it."""
    enc = normalise_charset(charset)
    if not enc or _META_CHARSET.search(html[:8192]):
        return html
    return f'<meta charset="{enc}">'.encode("ascii") + html


# --- decoding -------------------------------------------------------------------------------

def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Declared charsets in order (BOM, HTTP header, <meta>): the first that decodes cleanly,
    else the first that decodes with only a stray bad byte, else detection."""
    declared = [e for e in (bom_encoding(data), charset_from_content_type(content_type), _meta_charset(data)) if e]
    raw = strip_bom(data)
    for enc in declared:
        text = decode_strict(raw, enc)
        if text is not None:
            return text, enc
    enc = next((e for e in declared if mostly_decodes(raw, e)), None) or detect(raw)
    return raw.decode(enc, errors="replace"), enc


def _meta_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:8192])
    return normalise_charset(m.group(1).decode("ascii", "ignore")) if m else None


def _parse(text: str) -> _El | None:
    text = _XML_DECL.sub("", text, count=1)
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text or text.isspace():
        return None
    # plain etree elements: lxml.html's per-element class lookup costs a third of the time
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        root = etree.fromstring(text, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        logger.info("unparseable HTML: %s", exc)
        return None
    return root


def _text(el: _El) -> str:
    return "".join(el.itertext())


def _drop(el: _El) -> None:
    """Remove an element but keep its tail text (lxml.html's drop_tree)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


# Raw bytes whose ASCII characters are one byte each and nothing else (a GBK/UTF-8 multibyte
# sequence never holds a byte that would read as an ASCII letter where there is none missing):
# a substring absent from them is absent from every attribute value.
_ASCII_TRANSPARENT = frozenset(("utf-8", "gb18030", "ascii", "latin-1", "iso8859-1", "cp1252", "big5"))
_DROP_SET = frozenset(_DROP)
_HEADINGS = ("h1", "h2", "h3")
# The elements the reader looks up by tag, found in one scan (each scan of the tree costs as much
# as a sixth of parsing it).
_MARK_TAGS = tuple(sorted(_DROP_SET | {"title", "meta", "a", "table", *_HEADINGS}))


def _raw_hints(data: bytes, encoding: str) -> bytes | None:
    """The page's bytes lowercased, for "is this word anywhere in the page" checks, or None
    when the encoding, a character reference (&#…;) or a NUL could hide an ASCII word."""
    if encoding not in _ASCII_TRANSPARENT or b"&#" in data or b"\x00" in data:
        return None
    return data.lower()


class _Marks:
    """The elements of `_MARK_TAGS` left in the cleaned tree, in document order."""

    def __init__(self, elements: list[_El]) -> None:
        self.elements = elements
        self.by_tag: dict[str, list[_El]] = defaultdict(list)
        for el in elements:
            self.by_tag[el.tag].append(el)
        # tables that hold a table (layout: only the leaves are data)
        self.holders: set[_El] = set()
        for tbl in self.by_tag.get("table", ()):
            self.holders.update(tbl.iterancestors("table"))

    def first(self, tag: str) -> _El | None:
        found = self.by_tag.get(tag)
        return found[0] if found else None


def _inside(el: _El, ancestor: _El) -> bool:
    """el is `ancestor` or lies within it."""
    while el is not None:
        if el is ancestor:
            return True
        el = el.getparent()
    return False


def _clean(root: _El, hints: bytes | None = None) -> _Marks:
    found = list(root.iter(*_MARK_TAGS))
    dead: set[_El] = set()
    for el in found:
        if el.tag in _DROP_SET and el not in dead:
            if len(el):
                dead.update(el.iterdescendants(*_MARK_TAGS))
            _drop(el)
    # the style attributes, not the elements: an XPath predicate on every element costs twice as much
    if hints is None or b"display" in hints:
        for style in root.xpath("//@style[contains(., 'none')]"):
            el = style.getparent()
            if el.tag not in ("tr", "td") and _HIDDEN.search(el.get("style", "")) and el.getparent() is not None:
                dead.add(el)
                if len(el):
                    dead.update(el.iterdescendants(*_MARK_TAGS))
                _drop(el)
    return _Marks([el for el in found if el.tag not in _DROP_SET and el not in dead])


# --- page facts -----------------------------------------------------------------------------

def page_meta(root: _El, marks: _Marks, html: str) -> dict[str, object]:
    meta: dict[str, object] = {}
    title = marks.first("title")
    if title is not None:
        text = _clean_text(_text(title))
        if text:
            meta["page_title"] = meta["title"] = text
    # the signature's date is the report's own (ParsedReport.published_at), not the page's
    when, source = publication_date(listing=None, html=html, signature=False)
    if when is not None:
        meta["published_at"], meta["published_source"] = when.date().isoformat(), source
    return meta


def _headline(body: _El, marks: _Marks) -> str | None:
    """The article's own title: a heading naming a report, else the body's first heading."""
    for h in marks.elements:
        if h.tag in _HEADINGS:
            text = _clean_text(_text(h))
            if text and _REPORT_TITLE.search(text) and len(text) <= 80:
                return text
    for h in marks.by_tag.get("h1", ()):
        if _inside(h, body):
            text = _clean_text(_text(h))
            if text:
                return text
    return None


def _attachments(body: _El, marks: _Marks) -> list[dict[str, str]]:
    """Links to report files in the body ("详见附件"): the crawler may follow them."""
    out = []
    for a in marks.by_tag.get("a", ()):
        href = (a.get("href") or "").strip()
        if _ATTACHMENT.search(href) and _inside(a, body):
            out.append({"href": href, "text": _clean_text(_text(a))})
    return out


# --- body -----------------------------------------------------------------------------------

def find_body(root: _El, marks: _Marks) -> _El:
    page = root.find("body")
    if page is None:
        page = root
    known = _known_container(page, marks)
    if known is not None:
        return known
    best = _densest(page)
    return best if best is not None else page


def _known_container(page: _El, marks: _Marks) -> _El | None:
    found: dict[tuple[str, str], list[_El]] = defaultdict(list)
    generic: list[_El] = []
    # the attributes, not the elements: an XPath predicate on every element costs twice as much;
    # document order is kept, and an element's id and class go to different keys
    for value in page.xpath("descendant::*/@id | descendant::*/@class"):
        if not value:
            continue
        if value.attrname == "id":
            key = ("id", value.strip().lower())
            if key in _KNOWN_KEYS:
                found[key].append(value.getparent())
            continue
        lowered = value.lower()
        for name in lowered.split():
            if ("class", name) in _KNOWN_KEYS:
                found[("class", name)].append(value.getparent())
        if "content" in lowered:  # a whitespace-free word lies within one name
            generic.append(value.getparent())
    tables = marks.by_tag.get("table", ())
    for key in _KNOWN_CONTAINERS:
        for el in found.get(key, ()):
            if _has_content(el, tables):
                return el
    candidates = [el for el in generic if _has_content(el, tables)]
    return max(candidates, key=_content_score) if candidates else None


def _has_content(el: _El, tables: Iterable[_El]) -> bool:
    return any(_inside(t, el) for t in tables) or len(_WS.sub("", _text(el))) >= _MIN_BODY_CHARS


def _content_score(el: _El) -> int:
    link_text = sum(len(_WS.sub("", _text(a))) for a in el.iter("a"))
    return len(_WS.sub("", _text(el))) - 2 * link_text


def _densest(page: _El) -> _El | None:
    """Readability-style: text outside links counts for its block's parent (and half for the
    grandparent); a table counts as one block."""
    scores: dict[_El, float] = defaultdict(float)
    for el in page.iter():
        if not isinstance(el.tag, str) or el.tag in _INLINE_SKIP:
            continue
        own = len(_WS.sub("", el.text or "")) + sum(len(_WS.sub("", c.tail or "")) for c in el)
        if not own:
            continue
        target = _block_of(el)
        parent = target.getparent()
        if parent is None:
            continue
        scores[parent] += own
        grand = parent.getparent()
        if grand is not None:
            scores[grand] += own / 2
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    while best.tag in ("td", "th", "tr", "tbody", "thead", "tfoot") and best.getparent() is not None:
        best = best.getparent()
    return best


def _block_of(el: _El) -> _El:
    target = el
    while target.tag not in _BLOCK and target.getparent() is not None:
        target = target.getparent()
    if target.tag in ("td", "th", "tr", "caption"):
        table = next(target.iterancestors("table"), None)
        if table is not None:
            return table
    return target


# --- walking --------------------------------------------------------------------------------

def _clean_text(text: str) -> str:
    text = _WS.sub(" ", text)
    # every blank drop_cjk_padding removes is a space by now: no space, nothing to drop
    return drop_cjk_padding(text).strip() if " " in text else text


@dataclass
class _Walker:
    blocks: list[Block] = field(default_factory=list)
    line: list[str] = field(default_factory=list)
    images: int = 0
    images_in_tables: int = 0
    tables: int = 0
    holders: set[_El] = field(default_factory=set)  # tables that hold a table (_Marks.holders)

    def flush(self) -> None:
        text = _clean_text("".join(self.line))
        self.line = []
        if text:
            self.blocks.append(Paragraph(text))

    def block(self, el: _El) -> None:
        """Walk an element's content (its own text, children and their tails)."""
        if el.text:
            self.line.append(el.text)
        for child in el:
            self.node(child)
            if child.tail:
                self.line.append(child.tail)

    def node(self, el: _El) -> None:
        tag = el.tag
        if not isinstance(tag, str):
            return
        if tag == "br":
            self.flush()
        elif tag == "img":
            self.images += 1
        elif tag == "table":
            self.flush()
            self.table(el)
        elif tag in _BLOCK:
            self.flush()
            self.block(el)
            self.flush()
        else:
            self.block(el)

    def table(self, tbl: _El) -> None:
        rows = _rows(tbl)
        caption = _child(tbl, "caption")
        if caption is not None:
            self.line.append(_text(caption))
            self.flush()
        if tbl in self.holders:
            self._layout(rows)  # a table of tables: only the leaves are data
            return
        grid, images = _grid(rows, tbl)
        if is_layout_grid(grid):
            self._layout(rows)
            return
        self.images += images
        self.images_in_tables += images
        if grid:
            self.tables += 1
            self.blocks.append(Table(rows=grid, origin=f"html:table[{self.tables}]"))

    def _layout(self, rows: list[_El]) -> None:
        for tr in rows:
            for cell in _cells(tr):
                self.flush()
                self.block(cell)
                self.flush()


def _rows(tbl: _El) -> list[_El]:
    rows: list[_El] = []
    for child in tbl:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(c for c in child if c.tag == "tr")
    return rows


def _child(el: _El, tag: str) -> _El | None:
    for c in el:
        if c.tag == tag:
            return c
    return None


def _cells(tr: _El) -> list[_El]:
    return [c for c in tr if c.tag in ("td", "th")]


def _span(value: str | None, limit: int) -> int:
    """rowspan/colspan as a count within [1, limit]; 0 means "to the end", garbage means 1."""
    if value is None:
        return 1
    digits = value if value.isdigit() else _NOT_DIGIT.sub("", value)
    n = int(digits) if digits else 1
    return max(1, min(n if n else limit, limit))


def _grid(rows: list[_El], tbl: _El) -> tuple[list[list[str]], int]:
    """Expand rowspan/colspan into a rectangular grid; returns (grid, images in cells)."""
    simple = _simple_cells(tbl)
    taken: dict[tuple[int, int], str] = {}
    images = 0
    nrows = len(rows)
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr:
            if cell.tag not in ("td", "th"):
                continue
            while (r, c) in taken:
                c += 1
            rowspan, colspan = cell.get("rowspan"), cell.get("colspan")
            line = simple.get(cell, cell) if len(cell) else cell
            if line is not None:  # one line of text, no image: the text serialised by libxml2
                text = etree.tostring(line, method="text", encoding=str, with_tail=False)
                if not text.isalnum():  # letters and digits only: no blank to clean
                    text = _clean_text(text).strip()
            else:
                text, imgs = _cell_text(cell)
                images += imgs
            if rowspan is None and colspan is None:
                taken[(r, c)] = text
                c += 1
                continue
            rs = _span(rowspan, min(nrows - r, LIMITS.table_span))
            cs = _span(colspan, LIMITS.table_span)
            if len(taken) + rs * cs > LIMITS.table_cells:
                raise _too_many_cells(len(taken) + rs * cs)
            for dr in range(rs):
                for dc in range(cs):
                    taken[(r + dr, c + dc)] = text
            c += cs
    width = max((k[1] + 1 for k in taken), default=0)
    if width * len(rows) > LIMITS.table_cells:  # one wide row in a long table
        raise _too_many_cells(width * len(rows))
    grid = [[taken.get((r, c), "") for c in range(width)] for r in range(len(rows))]
    return _drop_empty(grid), images


def _too_many_cells(n: int) -> LimitError:
    return refuse("表格单元格数（合并单元格展开后）", n, LIMITS.table_cells, source=None,
                  en="number of cells of one table (spans expanded)")


_CELL = frozenset(("td", "th"))


def _simple_cells(tbl: _El) -> dict[_El, _El | None]:
    """Cells of a leaf table whose content is one line (see `_cell_text`), found in one pass
    over the table's line breaks (blocks, <br>, <img>) instead of a walk of every cell.

    A cell absent from the result holds no break: its whole text is one line. A cell mapped to
    an element is one block (Word's <p>) and nothing else with text: that block's text is the
    line. A cell mapped to None needs `_cell_text`."""
    out: dict[_El, _El | None] = {}
    for el in tbl.iter(*_INNER_BREAKS):
        parent = el.getparent()
        if parent is None:
            continue
        if parent.tag in _CELL:
            cell = parent
            one = (cell not in out and el.tag not in _LINE_BREAKS and len(cell) == 1
                   and (not (text := cell.text) or text.isspace()) and (not (tail := el.tail) or tail.isspace()))
            out[cell] = el if one else None
            continue
        while parent is not None and parent.tag not in _CELL:
            parent = parent.getparent()
        if parent is not None:
            out[parent] = None
    return out


def _drop_empty(grid: list[list[str]]) -> list[list[str]]:
    """Word's spacer rows/columns (empty everywhere) carry nothing."""
    grid = [row for row in grid if any(row)]
    if not grid:
        return []
    keep = [c for c in range(len(grid[0])) if any(row[c] for row in grid)]
    return [[row[c] for c in keep] for row in grid]


def _cell_text(cell: _El) -> tuple[str, int]:
    """A cell's text, its lines (<br>, <p>…) joined CJK-aware; and the images it holds."""
    lines: list[str] = [cell.text or ""]
    images = _cell_lines(cell, lines, 0) if len(cell) else 0
    return join_lines([_clean_text(line) for line in lines if line and not line.isspace()]), images


_BLOCK_OR_BR = _BLOCK | {"br"}
_LINE_BREAKS = frozenset(("br", "img"))
# What starts a new line inside a cell (the table's own rows and cells are not in a cell).
_INNER_BREAKS = tuple(sorted((_BLOCK_OR_BR | _LINE_BREAKS)
                             - {"tr", "td", "th", "tbody", "thead", "tfoot", "caption"}))


def _cell_lines(el: _El, lines: list[str], images: int) -> int:
    """Append el's content to `lines` (a new line at <br> and around blocks); returns `images`
    plus the images met. The per-cell hot loop: one call per element that has children."""
    for child in el:
        tag = child.tag
        if tag.__class__ is str:
            if tag == "img":
                images += 1
            text = child.text
            if tag in _BLOCK_OR_BR:
                lines.append(text or "")
                if len(child):
                    images = _cell_lines(child, lines, images)
                if tag != "br":
                    lines.append("")
            else:
                if text:
                    lines[-1] += text
                if len(child):
                    images = _cell_lines(child, lines, images)
        tail = child.tail
        if tail:
            lines[-1] += tail
    return images
