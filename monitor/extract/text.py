"""Plain text reports (as saved from Word or copied from a page), in two serialisations.

* "one cell per line": each table cell is a line starting with a TAB; the cells of one row are
  consecutive lines, a blank line ends the row; consecutive rows form one table. A cell holding a
  line break continues on the next line without a TAB ("\\t本年新" + "公开数量").
* "tab-separated rows": a line with two or more TABs is a table row; consecutive rows (blank lines
  between them are tolerated) form one table.

Every other non-blank line is a paragraph.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from monitor.document import Block, Document, Paragraph, Table
from monitor.textnorm import parse_cell

from ._util import join_lines, rectangular
from .encoding import decode_text

logger = logging.getLogger(__name__)

# A continuation of a wrapped cell is short and is not a heading or a sentence.
_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\))")
_SECTION = re.compile(r"^\s*[一二三四五六七八九十]+、")
_MAX_CONTINUATION = 40


@dataclass
class _State:
    blocks: list[Block] = field(default_factory=list)
    cell_rows: list[list[list[str]]] = field(default_factory=list)  # rows -> cells -> lines
    open_row: bool = False  # the last line belonged to a cell row, no blank line since
    tab_rows: list[list[str]] = field(default_factory=list)
    tables: int = 0

    def flush_cells(self) -> None:
        if self.cell_rows:
            rows = [[join_lines(lines) for lines in row] for row in self.cell_rows]
            if max(len(r) for r in rows) > 1 and not _sentences_only(rows):
                self._add_table(rows)
            else:  # TAB-indented paragraphs, not a table
                self.blocks.extend(Paragraph(c) for r in rows for c in r if c.strip())
            self.cell_rows = []
        self.open_row = False

    def flush_tabs(self) -> None:
        if self.tab_rows:
            self._add_table(_trim_right(self.tab_rows))
            self.tab_rows = []

    def _add_table(self, rows: list[list[str]]) -> None:
        self.tables += 1
        self.blocks.append(Table(rows=rectangular(rows), origin=f"text:table[{self.tables}]"))


def read_text(data: bytes, *, source: str | None = None) -> Document:
    text, encoding = decode_text(data)
    blocks = parse_lines(text.splitlines())
    return Document(blocks=blocks, format="text", meta={"encoding": encoding})


def parse_lines(lines: list[str]) -> list[Block]:
    st = _State()
    for i, line in enumerate(lines):
        _feed(st, line, lines, i)
    st.flush_cells()
    st.flush_tabs()
    return st.blocks


def _feed(st: _State, line: str, lines: list[str], i: int) -> None:
    tabs = line.count("\t")
    if tabs >= 2 or (tabs == 1 and st.tab_rows and not line.startswith("\t")):
        st.flush_cells()
        st.tab_rows.append([c.strip() for c in line.split("\t")])
        return
    if not line.strip() and not (line.startswith("\t") and tabs == 1):
        st.open_row = False
        if not _next_is_tab_row(lines, i):
            st.flush_tabs()
        return
    st.flush_tabs()
    if line.startswith("\t"):
        if not st.open_row:
            st.cell_rows.append([])
            st.open_row = True
        st.cell_rows[-1].append([line[1:]])
        return
    if st.open_row and _is_continuation(line):
        st.cell_rows[-1][-1].append(line)
        return
    if st.cell_rows and _lost_its_tab(lines, i):
        st.cell_rows.append([[line]])
        st.open_row = True
        return
    st.flush_cells()
    text = line.strip()
    if text:
        st.blocks.append(Paragraph(text))


def _sentences_only(rows: list[list[str]]) -> bool:
    """TAB-indented lines of prose (paragraphs indented with a TAB, one after the other) are not a
    table: no cell holds a number and some cell is a sentence."""
    cells = [c for r in rows for c in r if c.strip()]
    return any("。" in c for c in cells) and not any(
        (cell := parse_cell(c)) is not None and cell.value is not None for c in cells)


def _is_continuation(line: str) -> bool:
    text = line.strip()
    return len(text) <= _MAX_CONTINUATION and "。" not in text and not _HEADING.match(text)


def _lost_its_tab(lines: list[str], i: int) -> bool:
    """A row's first cell saved without its TAB: one blank line after a cell row, cells follow."""
    if i < 2 or i + 1 >= len(lines) or _SECTION.match(lines[i]):
        return False
    return (
        not lines[i - 1].strip()
        and _is_cell_line(lines[i - 2])
        and _is_cell_line(lines[i + 1])
        and _is_continuation(lines[i].replace("（", "").replace("）", ""))
    )


def _is_cell_line(line: str) -> bool:
    return line.startswith("\t") and line.count("\t") == 1


def _next_is_tab_row(lines: list[str], i: int) -> bool:
    for line in lines[i + 1:]:
        if line.strip():
            return line.count("\t") >= 2
    return False


def _trim_right(rows: list[list[str]]) -> list[list[str]]:
    """Drop trailing cells that are empty in every row (tab runs at line ends)."""
    rows = rectangular(rows)
    width = len(rows[0]) if rows else 0
    while width > 1 and all(not r[width - 1] for r in rows):
        width -= 1
    return [r[:width] for r in rows]
