"""Text whose line breaks were lost: a report flattened into one long line (crawler text exports,
a CMS "纯文本" view, copy-paste), its six headings inline and its table cells separated by single
spaces — or by nothing at all ("（一）予以公开6000017").

`unflatten(doc)` cuts such paragraphs back into the lines the parser expects: a heading, the
prose of a section, and one line per table row (its label, then its numbers). Paragraphs of an
ordinary document are left alone (the test is cheap: a long paragraph with an inline heading or
the header words of a table).
"""

from __future__ import annotations

import re

from monitor.document import Document, Paragraph, Table
from monitor.textnorm import parse_cell

# A paragraph shorter than this is never a flattened report.
_MIN_FLAT = 200

_TITLES = (
    r"(?:政府信息公开(?:工作)?)?总体情况",
    r"主动公开政府信息的?情况",
    r"收到和处理政府信息公开申请的?情况",
    r"(?:政府信息公开)?(?:工作)?(?:被申请)?行政复议[、和及]?(?:提起)?行政诉讼的?情况",
    r"(?:政府信息公开工作)?存在的?主要问题(?:及|和)改进情况",
    r"其他需要报告的事项",
)
# A section heading standing inline: after a space, a sentence end, a colon or a number.
_INLINE_HEADING = re.compile(
    r"(?:(?<=[\s。：:；;！!？?\d)）])|^)"
    r"(?:[一二三四五六七八九十]|[1-9])\s*[、.．]\s*(?:" + "|".join(_TITLES) + ")")
# A title in front of the preamble: "XX镇2021年政府信息公开工作年度报告 根据…".
_TITLE = re.compile(r"^(.{4,70}?(?:年度报告|工作报告|年报))\s*(?=\S)(?=根据|按照|依据|本报告|为|现|下面)")
# Where a table starts inside a section's text.
_TABLE_START = re.compile(r"第二十条|信息内容|[（(]本列数据|申请人情况|行政复议\s*行政诉讼|结果维持")
# A number run glued to the next row's numbering: "…40000042.没有" → "…4000004 2.没有".
_RUN_THEN_NUMBERING = re.compile(r"(?<=\d)(?=\d[.．、](?![\d]))")
# A label with its numbers glued on: "予以公开6000017", "政府集中采购1251000元".
_GLUED_ROW = re.compile(r"[\u4e00-\u9fff)）”\"]\d{2,}(?:元|万元)?$")
# Numbers glued to the next label: "6000017（二）部分公开" (a unit after a number stays on it).
_RUN_THEN_LABEL = re.compile(r"(?<=\d)(?=[\u4e00-\u9fff（(])(?![元万件个项条次篇人])")


def unflatten(doc: Document) -> Document:
    """The document with every flattened paragraph cut back into lines (the same object when
    there is none)."""
    blocks = _join_pipe_cells(doc.blocks)
    changed = blocks is not doc.blocks
    out: list[Paragraph | Table] = []
    for b in blocks:
        if isinstance(b, Paragraph) and len(b.text) >= _MIN_FLAT and _is_flat(b.text):
            out.extend(Paragraph(t) for t in split_flat(b.text))
            changed = True
        else:
            out.append(b)
    if not changed:
        return doc
    meta = dict(doc.meta)
    meta["flattened"] = True
    return Document(blocks=out, format=doc.format, meta=meta)


# A line of a table saved as text with "|" between cells ("规章 | 0 | 0 | 0 | |"), or a cell and
# its separator on lines of their own ("规章", "|", "0", "|" …).
_PIPE = re.compile(r"^\|+$|\s\|\s|\|$")
_MIN_PIPES = 6


def _join_pipe_cells(blocks: list[Paragraph | Table]) -> list[Paragraph | Table]:
    """Runs of "|"-separated cell lines joined as flattened text (cells separated by spaces) and
    cut into rows by `split_flat`; the same list when there are none."""
    paras = [isinstance(b, Paragraph) and len(b.text) <= 120 and _PIPE.search(b.text.strip()) is not None
             for b in blocks]
    if sum(paras) < _MIN_PIPES:
        return blocks
    # a short line between pipe lines is a cell too ("规章" above its "|")
    cell = [p or (isinstance(b, Paragraph) and len(b.text.strip()) <= 80
                  and ((i + 1 < len(blocks) and paras[i + 1]) or (i > 0 and paras[i - 1])))
            for i, (b, p) in enumerate(zip(blocks, paras, strict=True))]
    out: list[Paragraph | Table] = []
    run: list[str] = []
    for b, c in zip(blocks, cell, strict=True):
        if c:
            run.append(b.text.replace("|", " "))  # type: ignore[union-attr]
            continue
        if run:
            out.extend(Paragraph(t) for t in split_flat(" ".join(" ".join(run).split())))
            run = []
        out.append(b)
    if run:
        out.extend(Paragraph(t) for t in split_flat(" ".join(" ".join(run).split())))
    return out


def _is_flat(text: str) -> bool:
    if _INLINE_HEADING.search(text, 1) is not None:
        return True
    return _TABLE_START.search(text) is not None and len(re.findall(r"(?:^|\s)\d+(?=\s)", text)) >= 6


def split_flat(text: str) -> list[str]:
    """Headings, prose pieces and table rows of a flattened text, in order."""
    pieces: list[str] = []
    pos = 0
    for m in _INLINE_HEADING.finditer(text):
        if m.start() > pos:
            before = text[pos:m.start()]
            if pos == 0 and (t := _TITLE.match(before.strip())):
                pieces.append(t.group(1))  # the title in front of the preamble
                before = before.strip()[t.end():]
            pieces += _section_body(before)
        pieces.append(m.group(0).strip())
        pos = m.end()
    tail = _section_body(text[pos:])
    if tail:  # the signature (body, date) after the last sentence
        last = tail[-1]
        cut = last.rfind("。")
        if 0 <= cut < len(last) - 1 and len(last) - cut <= 60:
            tail[-1:] = [last[:cut + 1], last[cut + 1:].strip()]
    pieces += tail
    return [p for p in pieces if p]


def _section_body(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    m = _TABLE_START.search(text)
    if m is None:
        return [text]
    # prose before the table ends at its last sentence end before the table's first words
    cut = max(text.rfind(c, 0, m.start()) for c in "。：:")
    head, region = (text[:cut + 1], text[cut + 1:]) if cut >= 0 else ("", text)
    return ([head.strip()] if head.strip() else []) + _table_rows(region)


def _table_rows(region: str) -> list[str]:
    """One line per row: the label tokens, then the run of number tokens that ends the row."""
    region = _RUN_THEN_NUMBERING.sub(" ", region)
    region = _RUN_THEN_LABEL.sub(" ", region)
    rows: list[str] = []
    label: list[str] = []
    numbers: list[str] = []
    for tok in region.split():
        if parse_cell(tok) is not None:
            numbers.append(tok)
            continue
        if numbers:
            rows.append(" ".join(label + numbers))
            label, numbers = [], []
        if _GLUED_ROW.search(tok):  # a label with its numbers glued on ends its row
            rows.append(" ".join([*label, tok]))
            label = []
            continue
        label.append(tok)
    if label or numbers:
        rows.append(" ".join(label + numbers))
    return rows
