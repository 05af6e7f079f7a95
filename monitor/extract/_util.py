"""Small helpers shared by the format readers: joining wrapped lines, rectangular grids."""

from __future__ import annotations

import re

from monitor.document import Block, Paragraph, Table

# CJK ideographs, CJK punctuation and full-width forms: text where a line break or padding
# between two characters is layout, not a word boundary.
_CJK = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \t\u00a0\u3000]+(?=[{_CJK}])")
_WS = re.compile(r"[ \t\r\f\v\u00a0\u2002\u2003\u2009\u200b\ufeff]+")


def is_cjk(ch: str) -> bool:
    return bool(ch) and _CJK_CHAR.match(ch) is not None


def join_lines(parts: list[str]) -> str:
    """Join the lines of one wrapped label or cell: nothing between CJK text, else one space.

    "本年新" + "制作数量" -> "本年新制作数量"; "Total" + "3,119" -> "Total 3,119".
    """
    if len(parts) == 1:
        return parts[0].strip()
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if out and not (is_cjk(out[-1]) or is_cjk(part[0])):
            out += " "
        out += part
    return out


def squeeze(text: str) -> str:
    """Collapse runs of blanks (incl. &nbsp; and full-width padding in ASCII context) to one space."""
    return _WS.sub(" ", text).strip()


def drop_cjk_padding(text: str) -> str:
    """Remove blanks between two CJK characters ("本年新  制作" -> "本年新制作")."""
    return _SPACE_BETWEEN_CJK.sub("", text)


def rectangular(rows: list[list[str]]) -> list[list[str]]:
    """Pad rows with empty strings to the width of the widest row."""
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def make_table(rows: list[list[str]], origin: str) -> Table:
    return Table(rows=rectangular(rows), origin=origin)


def add_paragraph(blocks: list[Block], text: str) -> None:
    text = text.strip()
    if text:
        blocks.append(Paragraph(text))


LAYOUT_CELL_CHARS = 200


def is_layout_grid(grid: list[list[str]]) -> bool:
    """A table that is page layout rather than data: one column (a frame around text), or prose
    in a cell (report tables hold labels and numbers, never paragraphs)."""
    if not grid:
        return False
    if len(grid[0]) == 1:
        return True
    return any(len(cell) > LAYOUT_CELL_CHARS for row in grid for cell in row)
