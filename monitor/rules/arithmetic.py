"""ARITH-001…006: the 勾稽关系 inside the tables and between prose and tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from monitor.report import Finding, ParsedReport
from monitor.rules.base import MODERN, DocRule, register
from monitor.templates import (
    APPLICANT_COLUMNS,
    REVIEW_BLOCKS,
    TEMPLATES,
    cell_label,
    column_label,
    quoted,
    row_label,
    table_label,
)
from monitor.textnorm import squash

SUMMED_EXCLUDED = ("new", "carried_over", "total", "carried_forward")


def _fmt(n: Any) -> str:
    return f"{n:g}" if isinstance(n, float) else str(n)


def _requests(report: ParsedReport) -> dict[str, list[Any]] | None:
    return report.tables.get("requests")


@register
class BalanceRelation(DocRule):
    """表三：本年新收申请数 + 上年结转数 应等于 本年度办理结果总计 + 结转下年度继续办理数（表头注明的勾稽关系）。"""

    id, severity, templates = "ARITH-001", "error", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        req = _requests(report)
        if not req:
            return
        for i, col in enumerate(APPLICANT_COLUMNS):
            vals = [req[k][i] for k in ("new", "carried_over", "total", "carried_forward")]
            if any(v is None for v in vals):
                continue
            new, over, total, fwd = vals
            if new + over != total + fwd:
                yield self.finding(
                    f"{cell_label(report.template, 'requests', None, i)}：一、新收{_fmt(new)}＋二、上年结转"
                    f"{_fmt(over)}＝{_fmt(new + over)}，应等于三（七）总计{_fmt(total)}＋四、结转下年度"
                    f"{_fmt(fwd)}＝{_fmt(total + fwd)}",
                    subject=f"{col}:{new},{over},{total},{fwd}", table="requests", column=i,
                    expected=new + over, actual=total + fwd, difference=new + over - total - fwd,
                    cells={"new": new, "carried_over": over, "total": total, "carried_forward": fwd})


@register
class RowTotal(DocRule):
    """表三：每一行的“总计”列应等于自然人和五类法人或其他组织之和；有“小计”列时，小计应等于五类法人或其他组织之和。"""

    id, severity, templates = "ARITH-002", "error", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        req = _requests(report)
        if not req:
            return
        sub = report.tables.get("requests_org_subtotal", {})
        rows = [("requests", k, k, v) for k, v in req.items()]
        rows += [("requests_subtotals", k, f"subtotal:{k}", v)
                 for k, v in report.tables.get("requests_subtotals", {}).items()]
        for table, key, name, row in rows:
            if any(v is None for v in row):
                continue
            if sum(row[:6]) != row[6]:
                yield self.finding(
                    f"{cell_label(report.template, table, key, 6)}填{_fmt(row[6])}，"
                    f"应为前六列之和{_fmt(sum(row[:6]))}",
                    subject=f"{name}:{row}", table=table, row=key, column=6,
                    expected=sum(row[:6]), actual=row[6], values=row)
            s = sub.get(name)
            if s is not None and sum(row[1:6]) != s:
                yield self.finding(
                    f"{cell_label(report.template, 'requests_org_subtotal', key)}填{_fmt(s)}，"
                    f"应为五类法人或其他组织之和{_fmt(sum(row[1:6]))}",
                    subject=f"{name}:subtotal:{s}:{row}", table="requests_org_subtotal", row=key,
                    expected=sum(row[1:6]), actual=s, values=row)


@register
class ColumnTotal(DocRule):
    """表三：“（七）总计”应等于（一）至（六）各项办理结果之和（分项小计行不重复计算）。"""

    id, severity, templates = "ARITH-003", "error", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        req = _requests(report)
        if not req:
            return
        parts = [d.key for d in TEMPLATES[report.template].requests if d.key not in SUMMED_EXCLUDED]
        # A 2021 table that keeps the 2019 （六）其他处理 as one row: that row stands for its split.
        unsplit = report.template == "2021" and "other" in req and report.notes.get("other_unsplit", False)
        if unsplit:
            parts = [k for k in parts if not k.startswith("other_")] + ["other"]
        note = (f"（{quoted(row_label(report.template, 'requests', 'other'))}只填了一行合计，缺少2021年格式的三个分项，按合计计算）"
                if unsplit else "")
        for i, col in enumerate(APPLICANT_COLUMNS):
            vals = [req[k][i] for k in parts]
            total = req["total"][i]
            if total is None or any(v is None for v in vals):
                continue
            if sum(vals) != total:
                yield self.finding(
                    f"{cell_label(report.template, 'requests', 'total', i)}填{_fmt(total)}，"
                    f"应为（一）至（六）各项之和{_fmt(sum(vals))}{note}",
                    subject=f"{col}:{total}:{vals}", table="requests", row="total", column=i,
                    expected=sum(vals), actual=total, difference=sum(vals) - total,
                    other_split_missing=unsplit, parts=[[k, v] for k, v in zip(parts, vals, strict=True)])


@register
class ReviewTotal(DocRule):
    """表四：行政复议、未经复议直接起诉、复议后起诉三部分，各自的“总计”应等于结果维持、结果纠正、其他结果、尚未审结之和。"""

    id, severity, templates = "ARITH-004", "error", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        rl = report.tables.get("review_litigation")
        if not rl:
            return
        for key, _ in REVIEW_BLOCKS:
            row = rl.get(key)
            if not row or any(v is None for v in row):
                continue
            if sum(row[:4]) != row[4]:
                yield self.finding(
                    f"{cell_label(report.template, 'review_litigation', key, 4)}填{_fmt(row[4])}，"
                    f"应为结果维持、结果纠正、其他结果、尚未审结之和{_fmt(sum(row[:4]))}",
                    subject=f"{key}:{row}", table="review_litigation", row=key, column=4,
                    expected=sum(row[:4]), actual=row[4], values=row)


@register
class ImpossibleValue(DocRule):
    """不可能的数值：件数为负数（“本年增/减”除外）或带小数，或2019年模板中本年新公开数量大于对外公开总数量。"""

    id, severity, templates = "ARITH-005", "error", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        tpl = TEMPLATES[report.template]
        bad: list[dict[str, Any]] = []
        for key, row in report.tables.get("active", {}).items():
            group, _ = tpl.active_rows[key]
            for col in group.columns:
                v = row.get(col.key)
                if v is None or col.money:
                    continue
                if (v < 0 and not col.signed) or isinstance(v, float) and not v.is_integer():
                    bad.append({"table": "active", "row": key, "column": col.key, "value": v})
        for table in ("requests", "review_litigation"):
            for key, row in report.tables.get(table, {}).items():
                for i, v in enumerate(row):
                    if v is not None and (v < 0 or isinstance(v, float) and not v.is_integer()):
                        bad.append({"table": table, "row": key, "column": i, "value": v})
        for c in report.notes.get("fractional_counts", []):
            entry = {"table": c["table"], "row": c["row"], "column": c["column"], "value": c["raw"]}
            if not any(b["table"] == entry["table"] and b["row"] == entry["row"] for b in bad):
                bad.append(entry)
        for b in bad:
            place = cell_label(report.template, b["table"], b["row"], b["column"])
            yield self.finding(f"{place}填{b['value']}，不可能：件数应为非负整数",
                               subject=f"{b['table']}.{b['row']}.{b['column']}={b['value']}", **b)
        if report.template == "2019":
            for key in ("rules", "normative_docs"):
                row = report.tables.get("active", {}).get(key) or {}
                pub, total = row.get("published"), row.get("total")
                if pub is not None and total is not None and pub > total:
                    yield self.finding(
                        f"{cell_label('2019', 'active', key, 'published')}填{_fmt(pub)}，"
                        f"不应大于“对外公开总数量”{_fmt(total)}",
                        subject=f"active.{key}:{pub}>{total}", table="active", row=key,
                        column="published", expected=f"≤{total}", actual=pub)


PROSE_CHECKS = (
    # narrative key, what the prose states, the table cells ((table, row, column)…) whose sum it
    # must equal
    ("requests_new", "本年新收申请", (("requests", "new", 6),)),
    ("carried_over_stated", "上年结转申请", (("requests", "carried_over", 6),)),
    ("carried_forward_stated", "结转下年度申请", (("requests", "carried_forward", 6),)),
    ("review_count", "行政复议", (("review_litigation", "review", 4),)),
    ("litigation_count", "行政诉讼",
     (("review_litigation", "litigation_direct", 4), ("review_litigation", "litigation_after_review", 4))),
)


def _cell(tables: dict[str, Any], table: str, row: str, column: int) -> Any:
    values = (tables.get(table) or {}).get(row) or []
    return values[column] if column < len(values) else None


def _place(template: str | None, cells: tuple[tuple[str, str, int], ...]) -> str:
    if len(cells) == 1:
        return cell_label(template, *cells[0])
    table, _, column = cells[0]
    rows = "与".join(quoted(row_label(template, table, r)) for _, r, _ in cells)
    return f"{table_label(table)}{rows}的{quoted(column_label(template, table, column))}之和"


@register
class ProseContradictsTable(DocRule):
    """正文中写明的数字与表格不一致（例如正文称收到申请16件，表三新收申请总计却为0）。"""

    id, severity, templates = "ARITH-006", "warning", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        sources = report.narrative.get("_sources", {})
        for key, what, cells in PROSE_CHECKS:
            stated = report.narrative.get(key)
            if stated is None:
                continue
            values = [_cell(report.tables, *c) for c in cells]
            if any(v is None for v in values):
                continue
            actual = sum(values)
            if actual == stated:
                continue
            src = sources.get(key, {})
            quote = src.get("quote") or ""
            shown = quote if len(quote) <= 30 else quote[:29] + "…"
            yield self.finding(
                f"正文称{what}{_fmt(stated)}件，{_place(report.template, cells)}却为{_fmt(actual)}"
                + (f"：{quoted(shown)}" if shown else ""),
                subject=f"{key}:{stated}:{actual}", quote=src.get("quote"),
                paragraph=src.get("paragraph"), cells=[{"table": t, "row": r, "column": c} for t, r, c in cells],
                cell="+".join(f"{t}.{r}[{c}]" for t, r, c in cells), expected=stated, actual=actual,
                difference=stated - actual, figure=_fmt(stated), section=_section_of(report, quote),
                cell_label=_place(report.template, cells), what=what)


def _section_of(report: ParsedReport, sentence: str) -> str | None:
    """The key of the section whose prose holds `sentence` (spaces ignored), or None (evidence)."""
    probe = sentence.replace(" ", "")[:40]
    if not probe:
        return None
    for s in report.sections:
        if probe in squash(s.text).replace(" ", ""):
            return s.key
    return None
