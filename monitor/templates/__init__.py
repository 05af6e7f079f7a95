"""The three report templates as data (domain/templates.md).

A template lists its sections and tables; a table lists its rows, each with a key, the canonical
label, the regexes that recognise it (on `monitor.textnorm.norm` text) and the label variants seen
in real reports (misspellings that TEXT-001 reports). The parser walks these declarations; nothing
else in the code knows what a template contains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Variant:
    """A misspelt or altered form of a fixed label, as met in published reports."""

    pattern: str  # regex on normalised text
    canonical: str  # what the label should say

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


@dataclass(frozen=True, eq=False)  # identity: the parser compares declarations, never contents
class RowDecl:
    key: str
    label: str
    patterns: tuple[str, ...]
    variants: tuple[Variant, ...] = ()
    required: bool = True
    # The printed headings the row sits under, outermost first (table 三's merged label cells:
    # "三、本年度办理结果", "（三）不予公开"); their numbering prefixes the row's printed label.
    under: tuple[str, ...] = ()

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.patterns))


@dataclass(frozen=True)
class ColumnDecl:
    key: str
    label: str
    money: bool = False  # 万元 amounts: decimals allowed, 元 converted (PLAUS-003)
    signed: bool = False  # may be negative (本年增/减)


@dataclass(frozen=True)
class GroupDecl:
    """Rows of table 二 that share a header (one 第二十条 item)."""

    columns: tuple[ColumnDecl, ...]
    rows: tuple[RowDecl, ...]
    header_markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectionDecl:
    key: str
    number: int
    label: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    id: str
    years: tuple[int, int]  # report years the template is for, inclusive
    sections: tuple[SectionDecl, ...] = ()
    active: tuple[GroupDecl, ...] = ()
    requests: tuple[RowDecl, ...] = ()
    # Subtotal rows some reports add to table 三 (never counted twice in ARITH-003).
    request_subtotals: tuple[RowDecl, ...] = ()
    # Strings whose presence says "this report follows this template" (table headers and labels).
    markers: tuple[str, ...] = field(default=())

    @cached_property
    def active_rows(self) -> dict[str, tuple[GroupDecl, RowDecl]]:
        return {r.key: (g, r) for g in self.active for r in g.rows}

    @cached_property
    def request_index(self) -> dict[RowDecl, int]:
        """Position of each row of table 三 (declarations hash by identity)."""
        return {d: i for i, d in enumerate(self.requests)}

    @cached_property
    def active_any(self) -> re.Pattern[str]:
        """Matches wherever a row pattern of table 二 matches (none: no row is named)."""
        return _any_of(d for g in self.active for d in g.rows)

    @cached_property
    def request_any(self) -> re.Pattern[str]:
        """Matches wherever a row or subtotal pattern of table 三 matches."""
        return _any_of((*self.requests, *self.request_subtotals))

    def fits_year(self, year: int) -> bool:
        return self.years[0] <= year <= self.years[1]

    @property
    def modern(self) -> bool:
        return bool(self.requests)


def _any_of(decls: Iterable[RowDecl]) -> re.Pattern[str]:
    patterns = [p for d in decls for p in d.patterns]
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else re.compile(r"(?!)")


from monitor.templates.defs import T2008, T2019, T2021, TEMPLATES  # noqa: E402

__all__ = ["TEMPLATES", "T2008", "T2019", "T2021", "Template", "RowDecl", "ColumnDecl", "GroupDecl",
           "SectionDecl", "Variant", "APPLICANT_COLUMNS", "REVIEW_COLUMNS", "REVIEW_BLOCKS",
           "template_for_year", "cell_label", "row_label", "column_label", "table_label", "section_label",
           "template_label", "quoted"]

APPLICANT_COLUMNS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
REVIEW_COLUMNS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
REVIEW_BLOCKS = (("review", "行政复议"), ("litigation_direct", "行政诉讼（未经复议直接起诉）"),
                 ("litigation_after_review", "行政诉讼（复议后起诉）"))


def template_for_year(year: int) -> Template:
    return next(t for t in TEMPLATES.values() if t.fits_year(year))


from monitor.templates.labels import (  # noqa: E402
    cell_label,
    column_label,
    quoted,
    row_label,
    section_label,
    table_label,
    template_label,
)
