"""What the templates draw, computed here (pure: no database, no HTTP): a report's parsed tables as
rows of cells with the findings that concern each cell, and the server-side SVG plots."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from monitor.deadlines import SOURCE_LABELS
from monitor.templates import APPLICANT_COLUMNS, REVIEW_BLOCKS, REVIEW_COLUMNS, TEMPLATES

TABLE_TITLES = {"active": "表二 主动公开政府信息情况", "requests": "表三 收到和处理政府信息公开申请情况",
                "review_litigation": "表四 政府信息公开行政复议、行政诉讼情况"}
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
DETAIL_LABELS = {"expected": "应为", "actual": "实际", "difference": "差额", "values": "该行数值",
                 "quote": "原文", "paragraph": "段落", "cell": "单元格", "table": "表格", "row": "行",
                 "column": "列", "value": "数值", "previous_year": "上年度", "due": "期限",
                 "published": "公开日期", "source": "日期来源", "similarity": "相似度", "previous_row": "上年对应行"}
_CELL_PATH = re.compile(r"^(?P<table>\w+)\.(?P<row>[\w*]+)\[(?P<col>[^\]]+)\]$")


@dataclass(slots=True)
class CellView:
    value: Any
    anchor: str
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def worst(self) -> str | None:
        for sev in ("error", "warning", "info"):
            if any(f["severity"] == sev for f in self.findings):
                return sev
        return None


@dataclass(slots=True)
class RowView:
    key: str
    label: str
    cells: list[CellView]
    header: list[str] | None = None  # a group header (table 二) drawn above the row


@dataclass(slots=True)
class TableView:
    key: str
    title: str
    columns: list[str]
    rows: list[RowView]
    findings: list[dict[str, Any]] = field(default_factory=list)  # about the table as a whole

    def cells(self) -> list[dict[str, Any]]:
        """Every cell as a flat row (table, row key, row label, column label, value), for CSV."""
        out, head = [], self.columns
        for r in self.rows:
            head = r.header or head
            out += [{"table": self.key, "row": r.key, "label": r.label, "column": head[i], "value": c.value}
                    for i, c in enumerate(r.cells) if c.anchor]
        return out

    def sheet(self) -> list[list[Any]]:
        """The table as rows of values, a header row first (for the XLSX sheet of the table)."""
        out: list[list[Any]] = [["项目", *self.columns]]
        for r in self.rows:
            if r.header is not None:
                out.append(["", *r.header])
            out.append([r.label, *(c.value for c in r.cells)])
        return out


def _anchor(table: str, row: str, col: Any) -> str:
    return f"cell-{table}-{row}-{col}"


def table_views(parsed: dict[str, Any], template: str | None) -> list[TableView]:
    """The parsed tables in the template's order, with their canonical labels."""
    tables = parsed.get("tables") or {}
    decl = TEMPLATES.get(template or "") or TEMPLATES["2021"]
    out: list[TableView] = []
    active = tables.get("active")
    if isinstance(active, dict) and active:
        rows: list[RowView] = []
        width = max((len(g.columns) for g in decl.active), default=0)
        for group in decl.active:
            first = True
            for rd in group.rows:
                values = active.get(rd.key)
                if not isinstance(values, dict):
                    continue
                cells = [CellView(values.get(c.key), _anchor("active", rd.key, c.key)) for c in group.columns]
                cells += [CellView("", "") for _ in range(width - len(cells))]
                header = [c.label for c in group.columns] + [""] * (width - len(group.columns)) if first else None
                rows.append(RowView(rd.key, rd.label, cells, header))
                first = False
        out.append(TableView("active", TABLE_TITLES["active"], [""] * width, rows))
    for key, labels, columns in (
            ("requests", {r.key: r.label for r in (*decl.requests, *decl.request_subtotals)}, APPLICANT_COLUMNS),
            ("review_litigation", dict(REVIEW_BLOCKS), REVIEW_COLUMNS)):
        data = tables.get(key)
        if not isinstance(data, dict) or not data:
            continue
        order = [k for k in labels if k in data] + [k for k in data if k not in labels]
        rows = []
        for rk in order:
            values = data[rk] if isinstance(data[rk], list) else []
            cells = [CellView(values[i] if i < len(values) else None, _anchor(key, rk, i))
                     for i in range(len(columns))]
            rows.append(RowView(rk, labels.get(rk, rk), cells))
        out.append(TableView(key, TABLE_TITLES[key], list(columns), rows))
    return out


def _column_index(table: str, col: Any) -> Any:
    """A finding's column as the table's column key: an index for tables 三 and 四 (a label is
    looked up), the column key for table 二 (a label is looked up in every group)."""
    if table in ("requests", "review_litigation"):
        if isinstance(col, int):
            return col
        names = APPLICANT_COLUMNS if table == "requests" else REVIEW_COLUMNS
        return names.index(col) if col in names else None
    if table == "active":
        for t in TEMPLATES.values():
            for g in t.active:
                for c in g.columns:
                    if col in (c.key, c.label):
                        return c.key
    return col


def targets(details: dict[str, Any]) -> list[tuple[str, str | None, Any]]:
    """The cells a finding concerns, as (table, row or None for every row, column or None for
    every column); a row ending in * is a prefix."""
    out: list[tuple[str, str | None, Any]] = []
    if not isinstance(details, dict):
        return out
    table = details.get("table")
    if isinstance(table, str) and table in TABLE_TITLES:
        row = details.get("row") if isinstance(details.get("row"), str) else None
        col = details.get("column")
        col = None if col is None else _column_index(table, col)
        if details.get("column") is not None and col is None:
            col = None  # a column the table does not have (a subtotal column): the whole row
        out.append((table, row, col))
    cell = details.get("cell")
    if isinstance(cell, str) and (m := _CELL_PATH.match(cell)) and m["table"] in TABLE_TITLES:
        out.append((m["table"], m["row"], _column_index(m["table"], m["col"])))
    for c in details.get("cells") or []:  # YOY-004: every changed cell
        if isinstance(c, dict) and c.get("table") in TABLE_TITLES and isinstance(c.get("row"), str):
            out.append((c["table"], c["row"], None if c.get("column") is None
                        else _column_index(c["table"], c["column"])))
    return out


def _row_matches(want: str | None, row: str) -> bool:
    return want is None or want == row or (want.endswith("*") and row.startswith(want[:-1]))


def attach_findings(tables: list[TableView], findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put each finding on the cells it concerns; returns the findings with `cells` ((anchor,
    label) of each cell marked, for links from the finding to its cells). A resolved finding marks no cell:
    it was about an earlier version."""
    by_key = {t.key: t for t in tables}
    out = []
    for f in findings:
        marked: list[tuple[str, str]] = []
        if f.get("resolved_at"):
            out.append({**f, "cells": []})
            continue
        for table, row, col in targets(f.get("details") or {}):
            tv = by_key.get(table)
            if tv is None:
                continue
            if row is None and col is None:
                tv.findings.append(f)
                marked.append((f"table-{table}", tv.title))
                continue
            for r in tv.rows:
                if not _row_matches(row, r.key):
                    continue
                for i, c in enumerate(r.cells):
                    if not c.anchor:
                        continue
                    ckey = c.anchor.rsplit("-", 1)[1]
                    if col is None or str(col) == ckey:
                        if f not in c.findings:
                            c.findings.append(f)
                        head = r.header[i] if r.header else tv.columns[i]
                        marked.append((c.anchor, f"{tv.title.split()[0]}·{r.label}·{head}"))
        out.append({**f, "cells": list(dict.fromkeys(marked))})
    return out


def _row_labels() -> dict[str, str]:
    out: dict[str, str] = dict(REVIEW_BLOCKS)
    for t in (TEMPLATES["2019"], TEMPLATES["2021"]):  # 2021's wording wins where both have the row
        out.update({r.key: r.label for r in (*t.requests, *t.request_subtotals)})
        out.update({k: r.label for k, (_, r) in t.active_rows.items()})
    return out


ROW_LABELS = _row_labels()


def details_list(details: dict[str, Any]) -> list[tuple[str, str]]:
    """A finding's details as (label, text) pairs, tables and rows by their names."""
    if not isinstance(details, dict):
        return []
    skip = {"cells", "fields", "prose", "columns"}
    out = []
    for k, v in details.items():
        if k in skip or v is None or v == "" or v == []:
            continue
        if k == "table" and v in TABLE_TITLES:
            v = TABLE_TITLES[v]
        elif k in ("row", "previous_row") and isinstance(v, str):
            v = ROW_LABELS.get(v, v)
        text = "、".join(map(str, v)) if isinstance(v, list) else str(v)
        out.append((DETAIL_LABELS.get(k, k), text[:500]))
    return out


def source_label(source: str | None) -> str:
    return SOURCE_LABELS.get(source or "", source or "未知来源")


# ---- plots ----------------------------------------------------------------------------------

STATE_COLORS = {"on_time": "#1a7f37", "published": "#1a7f37", "late": "#b35900", "errors": "#c62828",
                "missing": "#8e0000", "blocked": "#6a1b9a", "not_due": "#9e9e9e", "reminder": "#0277bd",
                "unknown": "#9e9e9e"}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173")


@dataclass(slots=True)
class Mark:
    x: float
    y: float
    color: str
    title: str
    shape: str = "dot"  # dot | cross (missing)


def strip_chart(status: Any, *, low: int = -60, high: int = 90) -> dict[str, Any]:
    """Each body's publication date against its due date, year by year: x is the report year,
    y the days after the due date (below the line: early; above: late), clipped to [low, high];
    a missing report is a cross in the band above the plot."""
    width, left, top, band, plot_h = 760, 56, 26, 30, 220
    years = status.years
    col_w = (width - left - 10) / max(1, len(years))
    n = max(1, len(status.bodies))

    def y_of(days: int) -> float:
        d = max(low, min(high, days))
        return top + band + (high - d) / (high - low) * plot_h

    marks: list[Mark] = []
    for bi, b in enumerate(status.bodies):
        for yi, y in enumerate(years):
            c = b.cells.get(y)
            if c is None or c.state == "not_expected" or c.due is None:
                continue
            x = left + col_w * yi + col_w * (0.15 + 0.7 * (bi + 0.5) / n)
            if c.published is not None:
                days = (c.published - c.due).days
                when = "提前" if days < 0 else "逾期" if days > 0 else "当天"
                marks.append(Mark(round(x, 1), round(y_of(days), 1), STATE_COLORS.get(c.state, "#555"),
                                  f"{b.name} {y}年度：{c.published.isoformat()} 公开，期限 {c.due.isoformat()}，"
                                  f"{when}{abs(days) if days else ''}{'天' if days else ''}"))
            elif c.state in ("missing", "blocked"):
                marks.append(Mark(round(x, 1), top + band / 2 - 4, STATE_COLORS[c.state],
                                  f"{b.name} {y}年度：{c.label}（期限 {c.due.isoformat()}）", "cross"))
    ticks = [{"y": round(y_of(d), 1), "label": ("+" if d > 0 else "") + str(d)}
             for d in range(low, high + 1, 30)]
    return {"width": width, "height": top + band + plot_h + 30, "left": left, "top": top, "band": band,
            "plot_h": plot_h, "zero": round(y_of(0), 1), "ticks": ticks, "marks": marks,
            "years": [{"x": round(left + col_w * (i + 0.5), 1), "label": y,
                       "x0": round(left + col_w * i, 1)} for i, y in enumerate(years)],
            "col_w": round(col_w, 1), "right": width - 10}


def rule_year_chart(counts: list[dict[str, Any]], years: list[int] | None = None) -> dict[str, Any] | None:
    """Stacked bars: findings per report year, one colour per rule."""
    if not counts:
        return None
    years = years or sorted({c["year"] for c in counts})
    rules = sorted({c["rule"] for c in counts})
    colors = {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(rules)}
    table = {(c["rule"], c["year"]): c["n"] for c in counts}
    totals = {y: sum(table.get((r, y), 0) for r in rules) for y in years}
    peak = max(totals.values()) or 1
    width, left, top, plot_h = 760, 56, 16, 200
    col_w = (width - left - 170) / max(1, len(years))
    bars = []
    for i, y in enumerate(years):
        base = top + plot_h
        for r in rules:
            n = table.get((r, y), 0)
            if not n:
                continue
            h = n / peak * plot_h
            base -= h
            bars.append({"x": round(left + col_w * i + col_w * 0.2, 1), "y": round(base, 1),
                         "w": round(col_w * 0.6, 1), "h": round(max(h, 0.5), 1), "color": colors[r],
                         "title": f"{y}年度 {r}：{n}条"})
    legend = [{"rule": r, "color": colors[r], "y": top + 14 * i} for i, r in enumerate(rules)]
    return {"width": width, "height": top + plot_h + 30, "left": left, "top": top, "plot_h": plot_h,
            "bars": bars, "legend": legend, "legend_x": width - 160, "peak": peak,
            "years": [{"x": round(left + col_w * (i + 0.5), 1), "label": y, "total": totals[y]}
                      for i, y in enumerate(years)],
            "rules": rules, "table": [[r, *[table.get((r, y), 0) for y in years]] for r in rules],
            "year_list": years}


def fmt_date(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, date):
        return v.isoformat()[:10]
    return str(v)[:10]


__all__ = ["table_views", "attach_findings", "targets", "details_list", "strip_chart", "rule_year_chart",
           "TableView", "CellView", "SEVERITY_LABELS", "source_label", "fmt_date"]
