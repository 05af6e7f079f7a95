"""Plain-text exports, as portals and converters produce them.

`txt-cells` (like seeds 001/004): paragraphs one per line; a table row is one TAB-led line per
Word cell (vertical-merge continuations give empty cells), a blank line after each row, and a cell's
manual line break stays a newline. `txt-tabs` (like seed 003): one line per row, the expanded grid
joined with TABs, merged positions empty.
"""

from __future__ import annotations

from .document import Block, blocks, render_rng
from .layout import Grid
from .spec import ReportSpec


def _cells_table(grid: Grid) -> list[str]:
    lines: list[str] = []
    for row in grid.word_rows():
        for cell, _span in row:
            lines.append("\t" + (cell.text if cell else ""))
        lines.append("")
    lines.append("")
    return lines


def _tabs_table(grid: Grid) -> list[str]:
    return ["\t".join(t.replace("\n", "") for t in row) for row in grid.expanded()] + [""]


def _render(spec: ReportSpec, fmt: str) -> bytes:
    rng = render_rng(spec, fmt)
    double = rng.random() < 0.5
    indent = rng.choice(("", "\u3000\u3000", "\xa0\xa0"))
    lines: list[str] = []
    doc: list[Block] = blocks(spec)
    for b in doc:
        if b.kind == "table":
            assert b.grid is not None
            lines += _cells_table(b.grid) if fmt == "txt-cells" else _tabs_table(b.grid)
            continue
        if b.kind == "image":
            lines.append("")
            continue
        if b.kind == "para":
            lines.append(indent + b.text)
        elif b.kind == "sign":
            lines.append(" " * rng.choice((0, 19, 27)) + b.text)
        else:
            lines.append(b.text)
        if double:
            lines.append("")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_cells(spec: ReportSpec) -> bytes:
    return _render(spec, "txt-cells")


def render_tabs(spec: ReportSpec) -> bytes:
    return _render(spec, "txt-tabs")
