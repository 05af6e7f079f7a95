"""The format-independent document: what every extractor produces and the parser reads.

A `Document` is the report's content in reading order: paragraphs and tables. Tables are
rectangular grids of strings; merged cells are expanded, i.e. the text of a cell spanning
several rows or columns is repeated in every grid position it covers (a cell that is empty in
the source is the empty string). No numbers are interpreted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Paragraph:
    text: str


@dataclass(slots=True)
class Table:
    rows: list[list[str]]
    # Where the table came from in the source, e.g. "html:table[3]", "pdf:page 4"; for messages only.
    origin: str = ""


Block = Paragraph | Table


@dataclass(slots=True)
class Document:
    blocks: list[Block]
    # The extractor that read it: "text", "html", "docx", "doc", "wps", "pdf".
    format: str
    # Page-level facts an extractor found outside the report body: "title", "published_at"
    # (ISO date) with "published_source", "images_in_tables" (int), "encoding", "pages"...
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def plain_text(self) -> str:
        """All text in reading order, table cells separated by tabs, rows by newlines."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Paragraph):
                out.append(b.text)
            else:
                out.extend("\t".join(r) for r in b.rows)
        return "\n".join(out)

    def is_empty(self) -> bool:
        return not any(
            (b.text.strip() if isinstance(b, Paragraph) else any(c.strip() for r in b.rows for c in r))
            for b in self.blocks
        )
