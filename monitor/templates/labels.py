"""Printed labels: a place in a report named in the words of its own template.

Findings are read by county officials, who know the tables as printed ("表三“三（三）2.其他法律行政
法规禁止公开”行“自然人”列"), not the keys of `tables` ("requests.refused_law[0]"). Every rule names
a table, row or column through `cell_label` (or its parts `table_label`, `row_label`,
`column_label`); `details` keep the keys. Everything here is read from the template declarations
(monitor/templates/defs.py): a row's printed label is the numbering of the merged label cells it
sits under (`RowDecl.under`) followed by its own label.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.templates import APPLICANT_COLUMNS, REVIEW_BLOCKS, REVIEW_COLUMNS, TEMPLATES, RowDecl, Template
from monitor.textnorm import CN_NUMERALS

__all__ = ["cell_label", "row_label", "column_label", "table_label", "section_label", "template_label",
           "quoted", "ORG_SUBTOTAL", "TABLES"]

# Table keys of `ParsedReport.tables` → the table as the report numbers it.
TABLES = {"active": "表二", "requests": "表三", "requests_subtotals": "表三", "requests_org_subtotal": "表三",
          "review_litigation": "表四"}
TABLE_TITLES = {"active": "主动公开政府信息情况", "requests": "收到和处理政府信息公开申请情况",
                "review_litigation": "政府信息公开行政复议、行政诉讼情况"}
TEMPLATE_NAMES = {"2008": "2008年条例时期的自由格式", "2019": "2019年版格式（国办公开办函〔2019〕60号）",
                  "2021": "2021年版格式（国办公开办函〔2021〕30号）"}
ORG_SUBTOTAL = "法人或其他组织小计"  # the 8th column some reports add to table 三
UNKNOWN = "未列入模板的栏目"  # a key no declaration knows (a stored report of an older parser)

_NUMBER = re.compile(r"^(?:[一二三四五六七八九十]+(?=、)|[（(][一二三四五六七八九十]+[）)]|\d+[．.])")


def quoted(text: str) -> str:
    """“text”, with quotation marks inside it turned into single ones (‘三安全一稳定’)."""
    return "“" + text.replace("“", "‘").replace("”", "’") + "”"


def template_label(template: str | None) -> str:
    return TEMPLATE_NAMES.get(template or "", "未识别的格式")


def section_label(key: str) -> str:
    """"五、存在的主要问题及改进情况" for "problems" (the same six sections in 2019 and 2021)."""
    decl = next((d for d in TEMPLATES["2021"].sections if d.key == key), None)
    return f"{CN_NUMERALS[decl.number - 1]}、{decl.label}" if decl else UNKNOWN


def table_label(table: str, *, title: bool = False) -> str:
    """"表三", or with `title` "表三“收到和处理政府信息公开申请情况”"."""
    name = TABLES.get(table, UNKNOWN)
    base = "requests" if table.startswith("requests") else table
    return name + quoted(TABLE_TITLES[base]) if title and base in TABLE_TITLES else name


def _printed(decl: RowDecl) -> str:
    prefix = ""
    for heading in decl.under:
        m = _NUMBER.match(heading)
        prefix += m.group(0) if m else heading
    return (prefix + decl.label).replace("．", ".")


def _lookup_order(template: str | None) -> tuple[Template, ...]:
    first = TEMPLATES.get(template or "")
    rest = (TEMPLATES["2021"], TEMPLATES["2019"])
    return ((first,) if first is not None and first.modern else ()) + rest


@lru_cache(maxsize=64)
def _rows(template: str | None, table: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for tpl in reversed(_lookup_order(template)):  # the report's own template wins
        if table in ("requests", "requests_org_subtotal"):
            # a 2021 table keeping 2019's single （六）其他处理 row stores it under `other`
            decls = (*tpl.request_subtotals, *tpl.requests)
        elif table == "requests_subtotals":
            decls = tpl.request_subtotals
        elif table == "active":
            decls = tuple(r for g in tpl.active for r in g.rows)
        else:
            decls = ()
        out.update({d.key: _printed(d) for d in decls})
    if table == "requests_subtotals":
        out = {k: v + "（小计）" for k, v in out.items()}
    if table == "review_litigation":
        out = dict(REVIEW_BLOCKS)
    return out


def row_label(template: str | None, table: str, row: str) -> str:
    """The printed label of a row: "三（三）2.其他法律行政法规禁止公开", "规章", "行政复议"…"""
    return _rows(template, table).get(row, UNKNOWN)


def column_label(template: str | None, table: str, column: str | int, row: str | None = None) -> str:
    """The printed label of a column: "自然人" (table 三, index 0 or the label itself),
    "本年制发件数" (table 二 `issued`), "总计" (table 四, index 4)…"""
    if table in ("requests", "requests_subtotals", "requests_org_subtotal"):
        if table == "requests_org_subtotal" or column == ORG_SUBTOTAL:
            return ORG_SUBTOTAL
        return _indexed(APPLICANT_COLUMNS, column)
    if table == "review_litigation":
        return _indexed(REVIEW_COLUMNS, column)
    if table == "active" and isinstance(column, str):
        for tpl in _lookup_order(template):
            groups = [tpl.active_rows[row][0]] if row in tpl.active_rows else list(tpl.active)
            for group in groups:
                for col in group.columns:
                    if col.key == column:
                        return col.label
    return UNKNOWN


def _indexed(labels: tuple[str, ...], column: str | int) -> str:
    if isinstance(column, int) and not isinstance(column, bool):
        return labels[column] if 0 <= column < len(labels) else UNKNOWN
    return column if column in labels else UNKNOWN


def cell_label(template: str | None, table: str, row: str | None = None,
               column: str | int | None = None) -> str:
    """A place in a report's tables as its official reads it, from a cell path of `tables`:

    ("2021", "requests", "refused_law", 0) → 表三“三（三）2.其他法律行政法规禁止公开”行“自然人”列
    ("2021", "active", "rules", "issued")  → 表二“规章”行“本年制发件数”列
    ("2019", "review_litigation", "review", 4) → 表四“行政复议”的“总计”
    ("2019", "requests", None, 6) → 表三“总计”列;  ("2019", "requests") → 表三
    """
    out = table_label(table)
    if table == "requests_org_subtotal" and column is None and row is not None:
        column = ORG_SUBTOTAL
    if table == "review_litigation":
        if row is not None:
            out += quoted(row_label(template, table, row))
        if column is not None:
            out += ("的" if row is not None else "") + quoted(column_label(template, table, column, row))
        return out
    if row is not None:
        out += quoted(row_label(template, table, row)) + "行"
    if column is not None:
        out += quoted(column_label(template, table, column, row)) + "列"
    return out
