"""Plain-text exports, as portals and converters produce them.

`txt-cells` (like seeds 001/004): paragraphs one per line; a table row is one TAB-led line per
Word cell (vertical-merge continuations give empty cells), a blank line after each row, and a cell's
manual line break stays a newline. `txt-tabs` (like seed 003): one line per row, the expanded grid
joined with TABs, merged positions empty.

Variants that only the text exports show: `flat_text` (everything on one line, cells separated by
single spaces), `run_together` (a row of table 三 written as its label followed by its numbers with
no separator, when the row's total leaves one reading), `repeated_paragraph` (paragraphs indented
with a TAB, as Word's text export writes them).
"""

from __future__ import annotations

from .document import Block, blocks, render_rng
from .layout import Grid
from .spec import ReportSpec, variant_args


def one_reading(digits: str, n: int) -> bool:
    """True when the digit run splits into n numbers (no leading zeros) whose last is the sum of
    the others in exactly one way."""
    found = 0

    def walk(pos: int, parts: list[int]) -> None:
        nonlocal found
        if found > 1:
            return
        if len(parts) == n - 1:
            rest = digits[pos:]
            if rest and (rest == "0" or rest[0] != "0") and sum(parts) == int(rest):
                found += 1
            return
        for end in range(pos + 1, len(digits) - (n - 1 - len(parts)) + 1):
            piece = digits[pos:end]
            if len(piece) > 1 and piece[0] == "0":
                break
            walk(end, parts + [int(piece)])

    walk(0, [])
    return found == 1


def _glued_rows(grid: Grid, glue: bool) -> dict[int, str]:
    """Row index → the digit run written after the row's label (table 三 of 7 columns only)."""
    if not glue or grid.key != "requests" or grid.ncols != 10:
        return {}
    out: dict[int, str] = {}
    for r, row in enumerate(grid.expanded()):
        if r < grid.header_rows:
            continue
        nums = row[3:]
        if all(t.isascii() and t.isdigit() for t in nums) and one_reading("".join(nums), 7):
            out[r] = "".join(nums)
    return out


def _cells_table(grid: Grid, glued: dict[int, str]) -> list[str]:
    lines: list[str] = []
    for r, row in enumerate(grid.word_rows()):
        cells = [(cell.text if cell else "") for cell, _span in row]
        if r in glued:
            labels = [t for t, (cell, _s) in zip(cells, row, strict=True) if not (cell and cell.kind == "num")]
            cells = labels[:-1] + [labels[-1] + glued[r]]
        lines += ["\t" + t for t in cells]
        lines.append("")
    lines.append("")
    return lines


def _row_cells(grid: Grid, glued: dict[int, str]) -> list[list[str]]:
    rows = []
    for r, row in enumerate(grid.expanded()):
        row = [t.replace("\n", "") for t in row]
        if r in glued:
            labels = row[:3]
            last = max(i for i, t in enumerate(labels) if t)
            row = labels[:last] + [labels[last] + glued[r]] + labels[last + 1:]
        rows.append(row)
    return rows


def _render(spec: ReportSpec, fmt: str) -> bytes:
    rng = render_rng(spec, fmt)
    double = rng.random() < 0.5
    indent = rng.choice(("", "\u3000\u3000", "\xa0\xa0"))
    flat = bool(variant_args(spec.variants, "flat_text"))
    glue = bool(variant_args(spec.variants, "run_together"))
    if variant_args(spec.variants, "repeated_paragraph"):
        indent, double = "\t", True
    lines: list[str] = []
    doc: list[Block] = blocks(spec)
    for b in doc:
        if b.kind == "table":
            assert b.grid is not None
            glued = _glued_rows(b.grid, glue)
            if flat:
                lines += [" ".join(t for t in row if t) for row in _row_cells(b.grid, glued)]
            elif fmt == "txt-cells":
                lines += _cells_table(b.grid, glued)
            else:
                lines += ["\t".join(row) for row in _row_cells(b.grid, glued)] + [""]
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
    if flat:
        return (" ".join(t.strip() for t in lines if t.strip()) + "\n").encode("utf-8")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_cells(spec: ReportSpec) -> bytes:
    return _render(spec, "txt-cells")


def render_tabs(spec: ReportSpec) -> bytes:
    return _render(spec, "txt-tabs")
