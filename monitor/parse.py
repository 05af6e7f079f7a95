"""Document → ParsedReport.

The parser linearises the document into *lines* (a paragraph, or one table row) and walks them
once, keeping the section it is in and a *pending label* (text seen since the last row of
numbers). A line that ends in numbers is a table row: its label is the pending text plus its own
text cells, and it is matched against the row declarations of the template (monitor/templates).
This one mechanism reads grids from HTML/DOCX, one-cell-per-line text, tab-separated text and
PDF lines whose labels are wrapped or split one character per line.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from crawler.titles import canonical_entity, entity_from_title, title_year
from monitor import digitruns
from monitor.document import Document, Paragraph, Table
from monitor.flattext import unflatten
from monitor.report import ParsedReport, Section
from monitor.templates import TEMPLATES, GroupDecl, RowDecl, SectionDecl, Template, template_for_year
from monitor.templates.defs import MODERN_HEADINGS, SECTIONS
from monitor.textnorm import CN_NUMERALS, Cell, arabic_years, cn_number, find_dates, norm, parse_cell, squash

log = logging.getLogger(__name__)

PARSER_VERSION = "2"  # bump with every change of parse output (tests/test_parser_version.py)

# A pending label longer than this is prose, not a wrapped row label.
_MAX_LABEL = 160
_HEADING = re.compile(
    r"^(?P<num>[一二三四五六七八九十]{1,2}\s*[、.,，．]|[0-9]{1,2}\s*[、，,．](?![0-9])|[0-9]{1,2}\.(?![0-9])"
    r"|第[一二三四五六七八九十]{1,2}部分[、:：．.]?)\s*(?P<title>\S.{0,48})$")


@dataclass(slots=True)
class Line:
    """A paragraph or a table row, split into its label and its trailing numeric cells."""

    label: str  # normalised text of the non-numeric cells
    values: list[Cell]
    raw: str  # for quoting
    block: int
    is_paragraph: bool
    # The row above in the same table (header cells), for rows with more numbers than columns.
    above: list[str] | None = None
    # The numbers were glued to the label ("（一）予以公开6000017"): one digit run, no separators.
    glued: bool = False


@dataclass
class _State:
    template: Template
    tables: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    req_pos: int = 0
    req_ncols: int = 7
    req_started: bool = False
    req_done: bool = False
    last_request_key: str = ""
    review_values: list[Cell] = field(default_factory=list)
    review_rows: dict[str, list[Cell]] = field(default_factory=dict)
    # rows of table 三 whose numbers ran together and have more than one reading: key → readings
    split_pending: dict[str, list[list[int]]] = field(default_factory=dict)
    run_rows: set[str] = field(default_factory=set)  # rows of table 三 read from a digit run


def parse_document(doc: Document, *, title_hint: str | None = None,
                   year_hint: int | None = None, entity_hint: str | None = None) -> ParsedReport:
    report = ParsedReport(format=doc.format)
    report.notes["images_in_tables"] = int(doc.meta.get("images_in_tables", 0) or 0)
    if doc.meta.get("unusable") or doc.is_empty():
        report.notes["unusable"] = doc.meta.get("unusable") or "文档为空"
        if doc.meta.get("unusable_cause"):  # "extractor": our side could not read it (not the document)
            report.notes["unusable_cause"] = doc.meta["unusable_cause"]
        return report

    doc = _lift_paragraphs(unflatten(doc))
    lines = _linearise(doc)
    paragraphs = [(i, b.text) for i, b in enumerate(doc.blocks) if isinstance(b, Paragraph)]
    report.prose = [squash(t) for _, t in paragraphs if t.strip()]
    full_norm = norm(doc.plain_text())

    report.title = (_find_title(paragraphs) or _clean_title(doc.meta.get("title"))
                    or _clean_title(title_hint))
    year_in_title = title_year(report.title)
    report.sections = _find_sections(doc)
    report.period = _find_period(report.prose)
    report.year = year_in_title or title_year(title_hint) or year_hint or _period_year(report.period)
    report.entity = (entity_from_title(report.title) or entity_from_title(title_hint)
                     or entity_hint or _entity_from_signature(report.prose))
    report.published_at = _find_signature_date(doc)
    report.template, signals = _detect_template(full_norm, report.sections, report.year)
    report.notes["template_signals"] = signals
    report.notes["title_year"] = year_in_title
    report.notes["looks_like_report"] = _looks_like_report(full_norm, report)
    if not report.notes["looks_like_report"]:
        report.template = None  # nothing to check against a template: STRUCT-006 alone
    if doc.meta.get("published_at"):
        report.notes["page_published_at"] = doc.meta["published_at"]
        report.notes["page_published_source"] = doc.meta.get("published_source")

    if report.template in ("2019", "2021"):
        state = _State(TEMPLATES[report.template])
        _walk_tables(lines, report.sections, state)
        report.tables = state.tables
        report.notes.update(state.notes)
    report.narrative = _narrative(report.prose)
    return report


# ---- linearisation -------------------------------------------------------------------------------

def _lift_paragraphs(doc: Document) -> Document:
    """Headings and sentences that an extractor left inside a table (PDF lines grouped with the
    table below them, layout tables around the body) become paragraphs again."""
    if not any(isinstance(b, Table) for b in doc.blocks):
        return doc
    blocks: list[Paragraph | Table] = []
    for b in doc.blocks:
        if not isinstance(b, Table):
            blocks.append(b)
            continue
        rows: list[list[str]] = []
        for row in b.rows:
            # one text in the row (repeated across merged cells), starting it
            lone = row[0] if row and row[0].strip() else None
            if lone is not None and all(c == lone or not c.strip() for c in row) and (
                    _heading(lone, 0) is not None or ("。" in lone and len(lone) > 20)):
                if rows:
                    blocks.append(Table(rows, b.origin))
                    rows = []
                blocks.append(Paragraph(lone))
            else:
                rows.append(row)
        if rows:
            blocks.append(Table(rows, b.origin))
    return Document(blocks=blocks, format=doc.format, meta=doc.meta)


def _linearise(doc: Document) -> list[Line]:
    lines: list[Line] = []
    for bi, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph):
            if block.text.strip():
                lines.append(_paragraph_line(block.text, bi))
        elif isinstance(block, Table):
            above: list[str] | None = None
            for row in _collapse_twin_columns(block.rows):
                line = _row_line(row, bi)
                if line is not None:
                    line.above = above
                    lines.append(line)
                above = row
    return lines


def _collapse_twin_columns(rows: list[list[str]]) -> list[list[str]]:
    """Two adjacent grid columns equal in every row are one column split by the layout (Word's
    hair-thin grid columns, a cell spanning both in every row): keep one, or numbers repeat."""
    width = min((len(r) for r in rows), default=0)
    if len(rows) < 2 or width < 2:
        return rows
    twins = [i for i in range(width - 1, 0, -1)
             if all(r[i] == r[i - 1] for r in rows)
             and any(r[i].strip() and parse_cell(r[i]) is None for r in rows)]
    if not twins:
        return rows
    out = [list(r) for r in rows]
    for i in twins:  # right to left, so indexes stay valid
        for r in out:
            del r[i]
    return out


def _paragraph_line(text: str, block: int) -> Line:
    """A paragraph may be a table row flattened to text (PDF): split off its trailing numbers."""
    tokens = text.split()
    i = len(tokens)
    while i > 0 and parse_cell(tokens[i - 1]) is not None:
        i -= 1
    if i == len(tokens) or "。" in text:
        if tokens and "。" not in text and (glued := _glued(tokens[-1])) is not None:
            return Line(norm("".join(tokens[:-1]) + glued[0]), [glued[1]], text, block, True, glued=True)
        return Line(norm(text), [], text, block, True)
    values = [parse_cell(t) for t in tokens[i:]]
    return Line(norm("".join(tokens[:i])), values, text, block, True)


def _row_line(row: list[str], block: int) -> Line | None:
    # The raw text; none means no line (the repeats dropped below leave the same non-blank texts).
    kept = [s for c in row if (s := c.strip())]
    if not kept:
        return None
    cells: list[str] = [row[0]]
    last = row[0]
    for c in row[1:]:
        # Expanded colspans repeat a label; keep it once. Numbers are never merged.
        if c == last and parse_cell(c) is None and c.strip():
            continue
        cells.append(c)
        last = c
    i = len(cells)
    while i > 0 and parse_cell(cells[i - 1]) is not None:
        i -= 1
    values = [parse_cell(c) for c in cells[i:]]
    glued_run = False
    if i and all(v.raw == "" for v in values) and (glued := _glued(cells[i - 1])) is not None:
        # the row's numbers glued to its label; empty cells after it are the grid's padding
        cells = [*cells[:i - 1], glued[0]]
        values = [glued[1]]
        glued_run = True
    label = norm("".join(cells[:i]))
    if not label and not any(v.raw for v in values):
        return None
    return Line(label, values, " | ".join(kept), block, False, glued=glued_run)


# A row label with its numbers glued on: "（一）予以公开6000017", "政府集中采购1251000元".
_GLUED = re.compile(r"^(?P<label>.*[\u4e00-\u9fff)）”\"])(?P<run>\d{2,}(?:元|万元)?)$")
_NOT_A_ROW_END = ("年", "月", "日", "第", "约", "共", "为")


def _glued(text: str) -> tuple[str, Cell] | None:
    """The label and the digit run of a row written without separators (None: not one)."""
    text = text.strip()
    if len(text) > 80 or not text[-1:].isdigit() and not text.endswith("元"):
        return None
    m = _GLUED.match(text)
    if m is None or m["label"].endswith(_NOT_A_ROW_END) or len(norm(m["label"])) < 2:
        return None
    cell = parse_cell(m["run"])
    return (m["label"], cell) if cell is not None else None


# ---- title, entity, year, dates ------------------------------------------------------------------

def _looks_like_title(text: str) -> bool:
    return (len(text) <= 70 and bool(re.search(r"报告|年报", text))
            and bool(re.search(r"(?:19|20)\d{2}\s*年", text)) and not re.search(r"[。，,；;]", text))


def _find_title(paragraphs: list[tuple[int, str]]) -> str | None:
    """The title: the first short line naming a report, joined with the short lines above it
    (a body name, or "XX镇2025" when the year sits on its own line)."""
    head = [t.strip() for _, t in paragraphs[:5] if t.strip()]
    for i, text in enumerate(head[:4]):
        if _HEADING.match(text):
            break
        if len(text) > 70 or re.search(r"[。，,；;]", text) or not re.search(r"报告|年报", text):
            continue
        above = [p for p in head[max(0, i - 2):i] if len(p) <= 40 and not re.search(r"[。，,；;]", p)]
        title = squash("".join(above + [text]))
        if re.search(r"(?:19|20)\d{2}\s*年?|[二〇○零一三四五六七八九]{4}\s*年", arabic_years(title)):
            return title
    return None


def _clean_title(title: str | None) -> str | None:
    """A page title carries the site name: "XX镇2025年…年度报告_XX县人民政府" → the report part."""
    if not title:
        return None
    parts = [p.strip() for p in re.split(r"\s*[_|｜]\s*|\s+-\s+|\s+—\s+", title) if p.strip()]
    best = next((p for p in parts if re.search(r"报告|年报", p)), None)
    return squash(best) if best else None


def _entity_from_signature(prose: list[str]) -> str | None:
    for text in reversed(prose[-6:]):
        t = norm(text)
        for _date, s, e in find_dates(text):
            t = norm(text[:s] + text[e:])
        if 2 <= len(t) <= 30 and re.search(r"(镇|乡|街道|政府|局|委|办|办公室|中心)$", t):
            return canonical_entity(t)
    return None


def _find_signature_date(doc: Document) -> str | None:
    tail: list[str] = []
    for b in reversed(doc.blocks):
        if isinstance(b, Table):
            break
        if isinstance(b, Paragraph) and b.text.strip():
            tail.append(b.text)
        if len(tail) >= 8:
            break
    for text in tail:  # from the end
        if len(text.strip()) > 60:
            continue
        dates = find_dates(text)
        if dates:
            d, s, e = dates[-1]
            rest = norm(text[:s] + text[e:])
            if len(rest) <= 30 and "统计" not in rest:
                return d.isoformat()
    return None


_PERIOD = re.compile(
    r"统计期限[^0-9]{0,8}?(?P<y1>(?:19|20)\d{2})年(?P<m1>\d{1,2})月(?P<d1>\d{1,2})日?"
    r"[^0-9]{0,6}?(?:(?P<y2>(?:19|20)\d{2})年)?(?P<m2>\d{1,2})月(?P<d2>\d{1,2})日")
_PERIOD_YEAR = re.compile(r"统计期限[^0-9。]{0,8}?(?P<y>(?:19|20)\d{2})年度?(?:全年)?")


# "本报告统计数据从2016年1月1日至2016年12月31日止", "数据统计范围为2021年1月1日至12月31日":
# a date range in the sentence that speaks of 统计, without the word 期限
_STAT_RANGE = re.compile(
    r"统计[^。；;0-9]{0,12}?(?P<y1>(?:19|20)\d{2})年(?P<m1>\d{1,2})月(?P<d1>\d{1,2})日?(?:起)?"
    r"\s*(?:至|到|—|－|-|~|～)\s*(?:(?P<y2>(?:19|20)\d{2})年)?(?P<m2>\d{1,2})月(?P<d2>\d{1,2})日")


def _find_period(prose: list[str]) -> list[str | None] | None:
    for text in prose:
        t = norm(text)
        t = re.sub(r"统计(?:时限|周期|时间|区间|时段|范围)", "统计期限", t)
        if "统计期限" not in t:
            if "统计" in t and (m := _STAT_RANGE.search(t)) is not None:
                return _range(m)
            continue
        m = _PERIOD.search(t)
        if m:
            return _range(m)
        m = _PERIOD_YEAR.search(t)
        if m:
            y = int(m["y"])
            return [date(y, 1, 1).isoformat(), date(y, 12, 31).isoformat()]
        return [None, None]  # stated, but not in a form we read
    return None


def _range(m: re.Match[str]) -> list[str | None]:
    y1 = int(m["y1"])
    y2 = int(m["y2"]) if m["y2"] else y1
    try:
        return [date(y1, int(m["m1"]), int(m["d1"])).isoformat(), date(y2, int(m["m2"]), int(m["d2"])).isoformat()]
    except ValueError:
        return [None, None]


def _period_year(period: list[str | None] | None) -> int | None:
    if period and period[1]:
        return int(period[1][:4])
    return None


# ---- sections --------------------------------------------------------------------------------------

def _find_sections(doc: Document) -> list[Section]:
    candidates: dict[str, tuple[int, Section]] = {}
    order: list[int] = []
    for bi, b in enumerate(doc.blocks):
        if not isinstance(b, Paragraph):
            continue
        text = b.text.strip()
        if not text or len(text) > 60:
            continue
        heading = _heading(text, bi)
        if heading is None:
            continue
        rank = 0 if heading.number and heading.number[0] in CN_NUMERALS else 1
        old = candidates.get(heading.key)
        if old is None or rank < old[0]:
            candidates[heading.key] = (rank, heading)
        order.append(bi)
    sections = sorted((s for _, s in candidates.values()), key=lambda s: s.position)
    # Every section's prose runs to the next top-level heading of any kind.
    boundaries = sorted(set(order) | {s.position for s in sections})
    for s in sections:
        nxt = next((p for p in boundaries if p > s.position), len(doc.blocks))
        s.text = "\n".join(squash(b.text) for b in doc.blocks[s.position + 1:nxt]
                           if isinstance(b, Paragraph) and b.text.strip())
    return sections


def _heading(text: str, position: int) -> Section | None:
    t = squash(text)
    m = _HEADING.match(t)
    if m:
        number, title = m["num"].replace(" ", ""), m["title"].strip()
        if "。" in title.rstrip("。") or len(norm(title)) > 40:
            return None
    elif len(norm(t)) <= 16:
        number, title = "", t
    else:
        return None
    decl = _section_decl(norm(title), bare=not number)
    if decl is None:
        return None
    return Section(key=decl.key, number=number, title=squash(text), position=position)


_SECTION_RX = {d.key: re.compile("|".join(f"(?:{p})" for p in d.patterns)) for d in SECTIONS}
_MODERN_HEADING = re.compile("|".join(f"(?:{p})" for p in MODERN_HEADINGS))


def _section_decl(title: str, *, bare: bool) -> SectionDecl | None:
    if bare:
        title = title.rstrip(":：")
        return next((decl for decl in SECTIONS if title == decl.label), None)
    return next((decl for decl in SECTIONS if _SECTION_RX[decl.key].search(title)), None)


def section_number_value(number: str) -> tuple[int | None, bool]:
    """("五、") → (5, False); ("5、") → (5, True): the value and whether it is Arabic."""
    m = re.match(r"^第?([一二三四五六七八九十]+|[0-9]+)", number)
    if not m:
        return None, False
    return cn_number(m.group(1)), m.group(1).isdigit()


# ---- template --------------------------------------------------------------------------------------

def _detect_template(text: str, sections: list[Section], year: int | None) -> tuple[str, dict[str, int]]:
    signals = {
        "2019": sum(1 for m in TEMPLATES["2019"].markers if norm(m) in text),
        "2021": sum(1 for m in TEMPLATES["2021"].markers if norm(m) in text),
        "requests_table": sum(1 for p in ("本年新收", "上年结转", "予以公开", "结转下年度", "不予处理")
                              if p in text),
        "review_table": sum(1 for p in ("未经复议直接起诉", "复议后起诉", "结果维持", "结果纠正", "尚未审结")
                            if p in text),
        "modern_headings": sum(1 for s in sections if _MODERN_HEADING.search(norm(s.title))),
        # the preamble lists the parts of the 2019/2021 format ("本报告由总体情况、…收到和处理政府信息
        # 公开申请情况…组成"), as a report cut short before its tables still shows
        "modern_words": len({m.group(0) for m in _MODERN_HEADING.finditer(text)}),
    }
    if signals["2021"] >= 2 and signals["2021"] >= signals["2019"]:
        return "2021", signals
    if signals["2019"] >= 2:
        return "2019", signals
    # the report names the format notice it follows (国办公开办函〔2021〕30号 / 〔2019〕60号)
    if (m := _FORMAT_NOTICE.search(text)) is not None:
        signals["format_notice"] = int(m["y"])
        return m["y"], signals
    if (signals["requests_table"] >= 3 or signals["review_table"] >= 3 or signals["modern_headings"] >= 2
            or signals["modern_words"] >= 2):
        fallback = template_for_year(year).id if year else "2021"
        return ("2019" if fallback == "2008" else fallback), signals
    return "2008", signals


_FORMAT_NOTICE = re.compile(r"国办公开办函[〔\[(](?P<y>2019|2021)[〕\])](?:60|30)号")


def _looks_like_report(text: str, report: ParsedReport) -> bool:
    """Section headings of the templates, a table of the templates, or the words of a title."""
    if len(report.sections) >= 2 or any(report.notes.get("template_signals", {}).values()):
        return True
    return bool(re.search(r"年度报告|年报|工作报告", text)) and bool(re.search(r"信息公开|政务公开", text))


# ---- tables ----------------------------------------------------------------------------------------

def _walk_tables(lines: list[Line], sections: list[Section], st: _State) -> None:
    section_at = sorted((s.position, s.key) for s in sections)
    starts = [pos for pos, _ in section_at]
    pending: list[str] = []
    for i, line in enumerate(lines):
        k = bisect_right(starts, line.block)
        current = section_at[k - 1][1] if k else None
        if line.is_paragraph and (not line.values) and _is_prose(line):
            pending = []
            continue
        if line.values and not any(v.raw for v in line.values) and not _blank_row_is_data(lines, i, st):
            line = Line(line.label, [], line.raw, line.block, line.is_paragraph)
        if not line.values:
            pending.append(line.label)
            if sum(map(len, pending)) > _MAX_LABEL:
                pending = pending[-4:]
            continue
        label = "".join(pending) + line.label
        header = "".join(pending)
        pending = []
        _take_row(line, label, header, current, st)
    _finish_review(st)
    _finish_requests(st)


_HEADER_WORDS = re.compile(r"申请人情况|自然人|法人或其他组织|商业企业|科研机构|信息内容|结果维持|复议后起诉")


def _blank_row_is_data(lines: list[Line], i: int, st: _State) -> bool:
    """A row whose number cells are all empty is data (to be reported by STRUCT-007) only when its
    own label names a row and the next line does not carry the numbers of that same row (PDF rows
    whose numbers sit in the middle of a label wrapped over two or three lines)."""
    line = lines[i]
    if not line.label or _HEADER_WORDS.search(line.label):
        return False
    decl: RowDecl | None = None
    if st.req_started and not st.req_done:
        req = _match_request_row(line.label, st)
        if req and req[0] not in st.template.request_subtotals:
            decl = req[0]
    if decl is None:
        act = _match_active_row(line.label, st)
        if act is None or act[1] != len(line.label):
            return False
        decl = act[0]
    nxt = lines[i + 1] if i + 1 < len(lines) else None
    if not (nxt and nxt.values and any(v.raw for v in nxt.values)):
        return True
    if not nxt.label:
        return False
    own = _match_request_row(nxt.label, st) if st.req_started else _match_active_row(nxt.label, st)
    return own is not None and own[0] is not decl


def _section_for(block: int, section_at: list[tuple[int, str]]) -> str | None:
    current = None
    for pos, key in section_at:
        if pos <= block:
            current = key
        else:
            break
    return current


def _is_prose(line: Line) -> bool:
    return "。" in line.raw or len(line.label) > 60 or bool(_HEADING.match(squash(line.raw)))


# Table 三 may begin (its first rows missing) no later than （二）部分公开.
_REQ_START = 3


# A note in brackets after a row's label: "规章（设区的市、自治州人民政府应提供相关数据）",
# "其他对外管理服务事项（指行政许可以外的政务服务事项…）" — some templates print them, some reports keep them.
_LABEL_NOTE = re.compile(r"[(（][^()（）]{2,}[)）]$")


def _take_row(line: Line, label: str, header: str, section: str | None, st: _State) -> None:
    if section == "review_litigation" or st.req_done:
        if section in (None, "requests", "review_litigation"):
            _store_review(line, label, st)
        return
    req, act = _match_row(label, section, st)
    if not req and not act and label.endswith((")", "）")) and _LABEL_NOTE.search(label):
        label = _LABEL_NOTE.sub("", label)  # the label without its note names the row
        req, act = _match_row(label, section, st)
    if act and (not req or act[1] >= req[1]):
        _store_active(act[0], line, label, header, st)
    elif req:
        _store_request(req[0], line, label, header, st)
    elif "行政复议" in header or "行政诉讼" in header or len(line.values) >= 10:
        _store_review(line, label, st)
    elif (near := _near_row(label, section, st)) is not None:
        decl, table, found, canonical = near
        st.notes.setdefault("label_variants", []).append(
            {"table": table, "row": decl.key, "found": found, "canonical": canonical,
             "label": label[-40:], "misspelt": True})
        if table == "active":
            _store_active(decl, line, label, header, st)
        else:
            _store_request(decl, line, label, header, st)


# The numbering a row label ends with, and the words after it: "(三)不予公开2.其他法律行政止公开"
# → ("2", "其他法律行政止公开"); "一、本年新收…" → ("一", "本年新收…").
_NUMBERED = re.compile(r"(?:\(([一二三四五六七])\)|(?<![\d.])([1-9])[.、]|^([一二三四])、)(?P<body>[^()、.]*)$")
# How alike a misspelt label must be to the declared one (difflib ratio; a dropped or swapped
# character in a label of 6–20 characters keeps it above 0.8).
_NEAR = 0.6


def _numbered(label: str) -> tuple[str | None, str]:
    m = _NUMBERED.search(label)
    if m is None:
        return None, label[-24:]
    return (m.group(1) or m.group(2) or m.group(3)), m["body"]


def _near_row(label: str, section: str | None, st: _State) -> tuple[RowDecl, str, str, str] | None:
    """A row whose label no pattern names: the declared row it spells with a character dropped,
    swapped or wrong — among the next rows of table 三 (same numbering under the same parent) or
    the rows of table 二 not read yet — when the labels are alike enough."""
    num, body = _numbered(label)
    if len(body) < 2:
        return None
    cands: list[tuple[RowDecl, str]] = []
    if st.req_started and not st.req_done:
        cands += [(d, "requests") for d in st.template.requests[st.req_pos:st.req_pos + 4]]
    elif section == "requests" and not st.req_done:
        cands += [(d, "requests") for d in st.template.requests[:2]]
    if not st.req_started and section in (None, "active"):
        done = st.tables.get("active", {})
        cands += [(d, "active") for key, (_g, d) in st.template.active_rows.items() if key not in done]
    best: tuple[float, RowDecl, str, str] | None = None
    for decl, table in cands:
        cnum, cbody = _numbered(norm(decl.label))
        if num and cnum and num != cnum:
            continue
        ratio = SequenceMatcher(None, body, cbody).ratio()
        if ratio >= _NEAR and (best is None or ratio > best[0]):
            best = (ratio, decl, table, cbody)
    if best is None:
        return None
    return best[1], best[2], body, best[3]


def _match_row(label: str, section: str | None, st: _State
               ) -> tuple[tuple[RowDecl, int] | None, tuple[RowDecl, int] | None]:
    """The row of table 三 and the row of table 二 the label names (each with where it ends)."""
    req = _match_request_row(label, st)
    if req and not st.req_started and st.template.request_index.get(req[0], -1) > _REQ_START:
        req = None  # table 三 starts with its first rows, not with a stray "总计" in a header
    act = None if (st.req_started and section != "active") else _match_active_row(label, st)
    return req, act


# Row labels are short; a longer label is pending header text in front of the row's own label.
_LABEL_TAIL = 90


@lru_cache(maxsize=65536)
def _decl_end(decl: RowDecl, label: str) -> int:
    """Where the last match of the row's patterns ends in the label (-1: none).

    Cached: row labels repeat from report to report (declarations hash by identity)."""
    best = -1
    for m in decl.regex.finditer(label[-_LABEL_TAIL:]):
        best = m.end()
    return best if best < 0 else best + max(0, len(label) - _LABEL_TAIL)


def _last_match_end(patterns: tuple[str, ...], label: str) -> int:
    best = -1
    for p in patterns:
        for m in re.finditer(p, label):
            best = max(best, m.end())
    return best


def _match_request_row(label: str, st: _State) -> tuple[RowDecl, int] | None:
    if st.req_done:
        return None
    tpl = st.template
    best: tuple[RowDecl, int] | None = None
    if st.req_started and _SUBTOTAL_WORD.search(label):
        decl = _subtotal_group(label, st)
        return (decl, len(label) + 1) if decl else None
    if tpl.request_any.search(label[-_LABEL_TAIL:]) is None:
        return None  # no row of table 三 named at all
    n = len(label)
    if st.req_started:
        done = st.tables.get("requests_subtotals", {})
        for decl in tpl.request_subtotals:
            if decl.key in done:
                continue
            end = _decl_end(decl, label)
            if end == n and end > 0:
                best = (decl, end + 1)  # a label ending on the subtotal wins ties
    for decl in tpl.requests[st.req_pos:]:
        end = _decl_end(decl, label)
        if end == n and (best is None or end >= best[1]):
            return decl, end  # nothing can end later; earlier declarations win ties
        if end > 0 and (best is None or end > best[1]):
            best = (decl, end)
    return best


_SUBTOTAL_WORD = re.compile(r"(?:小计|合计)$")


def _subtotal_group(label: str, st: _State) -> RowDecl | None:
    """A "小计" row: the group named in its label, else the group of the row read just before."""
    done = st.tables.get("requests_subtotals", {})
    open_groups = [d for d in st.template.request_subtotals if d.key not in done]
    named = [d for d in open_groups if _last_match_end(tuple(p.rstrip("$") for p in d.patterns), label) > 0]
    if named:
        return named[-1]
    prefix = st.last_request_key.split("_")[0]
    return next((d for d in open_groups if d.key.startswith(prefix)), None)


def _match_active_row(label: str, st: _State) -> tuple[RowDecl, int] | None:
    if st.template.active_any.search(label[-_LABEL_TAIL:]) is None:
        return None  # no row of table 二 named at all
    done = st.tables.get("active", {})
    best: tuple[RowDecl, int] | None = None
    for key, (_group, decl) in st.template.active_rows.items():
        if key in done:
            continue
        end = _decl_end(decl, label)
        if end > 0 and (best is None or end > best[1]):
            best = (decl, end)
    return best


def _fit(values: list[Cell], n: int) -> tuple[list[Cell], bool]:
    """Exactly n cells: drop padding blanks (empty strings) around, else pad with blanks."""
    vals = list(values)
    if len(vals) == n:
        return vals, False
    while len(vals) > n and vals[-1].raw == "":
        vals.pop()
    while len(vals) > n and vals[0].raw == "":
        vals.pop(0)
    # A number spanning several columns (colspan) arrives repeated: collapse the repeats first.
    i = len(vals) - 1
    while len(vals) > n and i > 0:
        if vals[i].raw == vals[i - 1].raw:
            del vals[i]
        i = min(i - 1, len(vals) - 1)
    if len(vals) > n:
        vals = vals[-n:]
    ragged = len(vals) < n
    while len(vals) < n:
        vals.append(Cell(None, ""))
    return vals, ragged


def _record_variants(decl: RowDecl, label: str, table: str, st: _State) -> None:
    for v in decl.variants:
        m = v.regex.search(label)
        if m:
            st.notes.setdefault("label_variants", []).append(
                {"table": table, "row": decl.key, "found": m.group(0), "canonical": v.canonical,
                 "label": label[-40:]})


def _record_blanks(table: str, row: str, cells: list[Cell], columns: tuple[str, ...] | list[str],
                   st: _State) -> None:
    for col, c in zip(columns, cells, strict=False):
        if c.value is None:
            st.notes.setdefault("blank_cells", []).append(
                {"table": table, "row": row, "column": col, "raw": c.raw})


def _run_readings(values: list[Cell], n: int, accept: Any = None, *,
                  glued: bool = True) -> list[list[int]] | None:
    """The readings of a row written as one digit run ("6000017" for seven cells); None when
    the row is not one. Without a relation to check (`accept`), only a run glued to its label
    counts: a lone "10" under two columns of table 二 is one number with a blank beside it."""
    while len(values) > 1 and values[-1].raw == "":
        values = values[:-1]  # the grid's padding after a short row
    if n < 2 or len(values) != 1 or values[0].value is None:
        return None
    digits = re.sub(r"(?:万元|元)$", "", norm(values[0].raw))
    if not digits.isdigit() or len(digits) < 2 or (accept is None and (not glued or len(digits) < n)):
        return None
    return digitruns.splits(digits, n, accept)


def _store_active(decl: RowDecl, line: Line, label: str, header: str, st: _State) -> None:
    group, _ = st.template.active_rows[decl.key]
    readings = _run_readings(line.values, len(group.columns), glued=line.glued)
    if readings is not None:
        raw = line.values[0].raw
        st.notes.setdefault("digit_runs", []).append(
            {"table": "active", "row": decl.key, "raw": raw, "readings": len(readings)})
        if len(readings) != 1:  # no relation in table 二 can choose: the row stays unread
            if group.columns[-1].money and line.values[0].unit == "元":
                st.notes.setdefault("money_in_yuan", []).append(
                    {"table": "active", "row": decl.key, "column": group.columns[-1].key, "raw": raw,
                     "yuan": None, "wan_yuan": None})
            return
        unit = line.values[0].unit
        line = Line(line.label, [Cell(v, str(v)) for v in readings[0][:-1]]
                    + [Cell(readings[0][-1], f"{readings[0][-1]}{unit or ''}", unit)],
                    line.raw, line.block, line.is_paragraph, line.above)
    cells, ragged = _fit(line.values, len(group.columns))
    head = norm(header)
    row: dict[str, int | float | None] = {}
    for col, cell in zip(group.columns, cells, strict=True):
        value = cell.value
        if col.money and value is not None and _in_yuan(cell, col.label, head, group):
            st.notes.setdefault("money_in_yuan", []).append(
                {"table": "active", "row": decl.key, "column": col.key, "raw": cell.raw,
                 "yuan": value, "wan_yuan": round(value / 10000, 6)})
            value = round(value / 10000, 6)
        elif col.money is False and value is not None and cell.unit in ("万元", "元"):
            pass
        row[col.key] = value
        if not col.money and isinstance(value, float):
            st.notes.setdefault("fractional_counts", []).append(
                {"table": "active", "row": decl.key, "column": col.key, "raw": cell.raw})
    if ragged:
        st.notes.setdefault("ragged_rows", []).append({"table": "active", "row": decl.key})
    st.tables.setdefault("active", {})[decl.key] = row
    _record_variants(decl, label, "active", st)


def _in_yuan(cell: Cell, col_label: str, header: str, group: GroupDecl) -> bool:
    if cell.unit == "元":
        return True
    if cell.unit == "万元":
        return False
    # The header of the money column says 元 (and not 万元).
    return bool(re.search(r"(?<!万)元\)?$|单位:元|\(元\)", header)) and "万元" not in header


def _store_request(decl: RowDecl, line: Line, label: str, header: str, st: _State) -> None:
    if not st.req_started:
        st.req_started = True
        if "小计" in norm(header):
            st.req_ncols = 8
    readings = _run_readings(line.values, st.req_ncols, digitruns.row_total_holds)
    if readings is not None:
        st.notes.setdefault("digit_runs", []).append(
            {"table": "requests", "row": decl.key, "raw": line.values[0].raw, "readings": len(readings)})
        if len(readings) != 1:  # the column relations may choose, once every row is read
            if decl not in st.template.request_subtotals:
                st.split_pending[decl.key] = readings
                _advance(decl, st)
            return
        line = Line(line.label, [Cell(v, str(v)) for v in readings[0]], line.raw, line.block,
                    line.is_paragraph, line.above)
        if decl not in st.template.request_subtotals:
            st.run_rows.add(decl.key)
    cells, ragged = _fit(line.values, st.req_ncols)
    columns = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    if st.req_ncols == 8:
        subtotal = cells.pop(6)
        st.tables.setdefault("requests_org_subtotal", {})[decl.key] = subtotal.value
        if subtotal.blank:
            _record_blanks("requests", decl.key, [subtotal], ["法人或其他组织小计"], st)
    values = [c.value for c in cells]
    if None in values:
        _record_blanks("requests", decl.key, cells, columns, st)
    if float in map(type, values):
        for col, c in zip(columns, cells, strict=True):
            if isinstance(c.value, float):
                st.notes.setdefault("fractional_counts", []).append(
                    {"table": "requests", "row": decl.key, "column": col, "raw": c.raw})
    if ragged:
        st.notes.setdefault("ragged_rows", []).append({"table": "requests", "row": decl.key})
    if decl in st.template.request_subtotals:
        st.tables.setdefault("requests_subtotals", {})[decl.key] = values
        return
    st.tables.setdefault("requests", {})[decl.key] = values
    _record_variants(decl, label, "requests", st)
    _advance(decl, st)


def _advance(decl: RowDecl, st: _State) -> None:
    st.last_request_key = decl.key
    st.req_pos = st.template.request_index[decl] + 1
    if decl.key == "carried_forward":
        st.req_done = True


_BALANCE = ("new", "carried_over", "total", "carried_forward")


def _resolve_runs(st: _State) -> None:
    """Rows of table 三 written as one digit run with several readings: keep the one reading the
    column relations (（七）总计 = the sum of （一）…（六）; 一 + 二 = 三 + 四) allow, once the other
    rows are known. Rows left with no single reading stay unread (STRUCT-002), and so do rows read
    from a run whose column relation fails once every row of it is known: a split is taken only
    when it satisfies the row and the column relations."""
    req = st.tables.setdefault("requests", {})
    parts = [d.key for d in st.template.requests if d.key not in _BALANCE]
    wide = st.req_ncols == 8

    def seven(r: list[int]) -> list[int]:
        return r[:6] + [r[7]] if wide else r

    def holds(key: str, row: list[int]) -> bool:
        for keys, left, right in ((parts + ["total"], parts, ["total"]),
                                  (list(_BALANCE), ["new", "carried_over"], ["total", "carried_forward"])):
            if key not in keys:
                continue
            rows = {k: (row if k == key else req.get(k)) for k in keys}
            if any(r is None or None in r for r in rows.values()):
                continue  # a row unknown or blank: this relation cannot choose
            for c in range(7):
                if sum(rows[k][c] for k in left) != sum(rows[k][c] for k in right):
                    return False
        return True

    progress = True
    while progress and st.split_pending:
        progress = False
        for key, readings in list(st.split_pending.items()):
            keep = [r for r in readings if holds(key, seven(r))]
            if len(keep) == 1:
                req[key] = seven(keep[0])
                if wide:
                    st.tables.setdefault("requests_org_subtotal", {})[key] = keep[0][6]
                del st.split_pending[key]
                progress = True
            elif keep and len(keep) < len(readings):
                st.split_pending[key] = keep
                continue
            else:
                continue
            st.run_rows.add(key)
    unread = set(st.split_pending)
    # a row none of whose readings fits: its relations are broken wherever the other rows are known
    misfits = {k for k, readings in st.split_pending.items() if not any(holds(k, seven(r)) for r in readings)}
    for keys, left, right in ((parts + ["total"], parts, ["total"]),
                              (list(_BALANCE), ["new", "carried_over"], ["total", "carried_forward"])):
        if not st.run_rows & set(keys):
            continue
        if misfits & set(keys):
            unread |= st.run_rows & set(keys)
            continue
        rows = [req.get(k) for k in keys]
        if any(r is None or None in r for r in rows):
            continue
        if any(sum(req[k][c] for k in left) != sum(req[k][c] for k in right) for c in range(7)):
            unread |= st.run_rows & set(keys)
    for key in unread:
        req.pop(key, None)
        st.tables.get("requests_org_subtotal", {}).pop(key, None)
    if unread:
        st.notes["unread_runs"] = sorted(unread)
    if not req:
        del st.tables["requests"]


def _store_review(line: Line, label: str, st: _State) -> None:
    for key, marker in (("litigation_after_review", "复议后起诉"), ("litigation_direct", "直接起诉")):
        if label.endswith(marker) or (marker in label[-12:] and len(line.values) <= 5):
            st.review_rows[key] = line.values
            return
    if label.endswith("行政复议") and len(line.values) <= 5:
        st.review_rows["review"] = line.values
        return
    values = line.values
    if len(values) > 15 and line.above and len(line.above) >= len(values):
        # A header cell spanning two grid columns above two copies of one number: keep one copy.
        head = line.above[len(line.above) - len(values):]
        values = [v for i, v in enumerate(values)
                  if not (i and head[i] == head[i - 1] and head[i].strip() and v.raw == values[i - 1].raw)]
    if len(st.review_values) < 15:
        st.review_values.extend(v for v in values if v.raw or len(values) <= 15)


def _finish_review(st: _State) -> None:
    blocks = ("review", "litigation_direct", "litigation_after_review")
    columns = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
    out: dict[str, list[int | float | None]] = {}
    flat = list(st.review_values)
    if (readings := _run_readings(flat, 15, digitruns.review_holds)) is not None:
        st.notes.setdefault("digit_runs", []).append(
            {"table": "review_litigation", "row": "all", "raw": flat[0].raw, "readings": len(readings)})
        flat = [Cell(v, str(v)) for v in readings[0]] if len(readings) == 1 else []
    for key, cells in list(st.review_rows.items()):
        if (readings := _run_readings(cells, 5, digitruns.review_holds)) is not None:
            st.notes.setdefault("digit_runs", []).append(
                {"table": "review_litigation", "row": key, "raw": cells[0].raw, "readings": len(readings)})
            if len(readings) == 1:
                st.review_rows[key] = [Cell(v, str(v)) for v in readings[0]]
            else:
                del st.review_rows[key]
    if len(flat) > 15:
        flat, _ = _fit(flat, 15)
    for i, key in enumerate(blocks):
        cells = st.review_rows.get(key)
        if cells is None and len(flat) >= 5 * (i + 1):
            cells = flat[5 * i:5 * i + 5]
        elif cells is None and len(flat) > 5 * i:
            cells = flat[5 * i:]
        if cells is None:
            continue
        cells, _ = _fit(cells, 5)
        out[key] = [c.value for c in cells]
        _record_blanks("review_litigation", key, cells, columns, st)
    if out:
        st.tables["review_litigation"] = out


def _finish_requests(st: _State) -> None:
    """Rows of a found table that were not found are null, never 0."""
    if st.split_pending or st.run_rows:
        _resolve_runs(st)
    _unsplit_other(st)
    st.notes["rows_found"] = {t: sorted(st.tables[t]) for t in ("active", "requests")
                              if t in st.tables}
    req = st.tables.get("requests")
    if req is not None:
        for decl in st.template.requests:
            req.setdefault(decl.key, [None] * 7)
    act = st.tables.get("active")
    if act is not None:
        for key, (group, _decl) in st.template.active_rows.items():
            act.setdefault(key, {c.key: None for c in group.columns})


_OTHER_SPLIT = ("other_no_correction", "other_no_fee", "other_other")


def _unsplit_other(st: _State) -> None:
    """A 2021 table 三 that keeps the 2019 （六）其他处理 as one row, without its 1./2./3. sub-rows:
    its numbers are the row's total, under the 2019 key `other` (ARITH-003 counts them)."""
    subs = st.tables.get("requests_subtotals", {})
    req = st.tables.get("requests")
    if (st.template.id != "2021" or req is None or "other" not in subs
            or any(k in req for k in _OTHER_SPLIT)):
        return
    req["other"] = subs.pop("other")
    if not subs:
        del st.tables["requests_subtotals"]
    st.notes["other_unsplit"] = True


# ---- narrative ---------------------------------------------------------------------------------------

_WIDER_SCOPE = re.compile(r"全市|全县|全区|全省|各部门|各单位|各乡镇|备案|全镇各")
# The 主动公开 total, best first: a sentence about the total (共公布政府信息N条, 累计主动公开…N条),
# then 主动公开/主动发布(各类)政府信息N条, then any 主动公开…N条 — never a category of it
# (其他应主动公开政府信息1053条, 采购信息25条).
_ACTIVE_TOTAL = (
    re.compile(r"(?:共|累计|总计|合计)[^,，。；;0-9]{0,10}?(?:公开|公布|发布)[^,，。；;0-9]{0,10}?(?:信息|文件)"
               r"[^,，。；;0-9]{0,4}?(?P<n>\d[\d,]*)(?:余|多)?(?:条|件|篇)"),
    re.compile(r"(?<![应他])主动(?:公开|发布)(?:各类|各项)?(?:政府)?(?:信息|文件)(?P<n>\d[\d,]*)(?:余|多)?(?:条|件|篇)"),
    re.compile(r"(?<![应他])主动公开[^,，。；;]{0,16}?(?:信息|文件)?[^,，。；;0-9]{0,6}?(?P<n>\d[\d,]*)\s*(?:条|件|篇)"),
)
_NARRATIVE = {
    "requests_new": re.compile(
        r"(?:收到|受理|新收|接到|共收)[^,，。；;0-9]{0,16}?申请[^,，。；;0-9]{0,6}?(?P<n>\d[\d,]*)\s*(?:件|条|宗|个)"),
    "review_count": re.compile(r"行政复议[^,，。；;0-9]{0,10}?(?P<n>\d+)\s*(?:件|起|宗)"),
    "litigation_count": re.compile(r"行政诉讼[^,，。；;0-9]{0,10}?(?P<n>\d+)\s*(?:件|起|宗)"),
    "carried_over_stated": re.compile(r"含上年度?结转(?:申请)?(?P<n>\d+)\s*件"),
    "carried_forward_stated": re.compile(r"(?P<n>\d+)\s*件(?:申请)?(?:顺延|结转)(?:到|至)下一?年度?"),
    "fees_collected_yuan": re.compile(r"收取[^,，。；;0-9]{0,12}?(?P<n>\d+(?:\.\d+)?)\s*元"),
}
_NONE_RECEIVED = re.compile(r"(?:没有|未)(?:收到|受理|接到|发生)[^,，。；;]{0,12}?申请")
# A word every pattern above needs: a sentence without one states none of the figures.
_NARRATIVE_WORD = re.compile(r"主动公开|公布|发布|收到|受理|新收|接到|共收|行政复议|行政诉讼|结转|顺延|收取|发生")
_SENTENCE_END = re.compile(r"(?<=[。；;])")


def _narrative(prose: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    quotes: dict[str, dict[str, Any]] = {}
    active: list[tuple[int, int, str, int, str]] = []  # (level, order, figure, paragraph, quote)
    for pi, text in enumerate(prose):
        t = squash(text).replace(" ", "")
        for sentence in _SENTENCE_END.split(t):
            if not sentence or not _NARRATIVE_WORD.search(sentence) or _WIDER_SCOPE.search(sentence):
                continue
            if "公开" in sentence or "公布" in sentence or "发布" in sentence:
                for level, rx in enumerate(_ACTIVE_TOTAL):
                    if (m := rx.search(sentence)) is not None:
                        active.append((level, len(active), m["n"].replace(",", ""), pi, sentence[:160]))
                        break
            for key, rx in _NARRATIVE.items():
                if key in out:
                    continue
                m = rx.search(sentence)
                if m:
                    raw = m["n"].replace(",", "")
                    out[key] = float(raw) if "." in raw else int(raw)
                    quotes[key] = {"paragraph": pi, "quote": sentence[:160]}
            if "requests_new" not in out and _NONE_RECEIVED.search(sentence):
                out["requests_new"] = 0
                quotes["requests_new"] = {"paragraph": pi, "quote": sentence[:160]}
    if active:
        _level, _order, figure, pi, quote = min(active)
        out["active_count"] = int(figure)
        quotes["active_count"] = {"paragraph": pi, "quote": quote}
    if quotes:
        out["_sources"] = quotes
    return out

