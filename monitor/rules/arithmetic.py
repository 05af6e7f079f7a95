"""ARITH-001…006: the 勾稽关系 inside the tables and between prose and tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from monitor.report import Finding, ParsedReport
from monitor.rules.base import MODERN, DocRule, register
from monitor.templates import APPLICANT_COLUMNS, REVIEW_BLOCKS, REVIEW_COLUMNS, TEMPLATES
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
                    f"表三“{col}”列：新收{_fmt(new)}+上年结转{_fmt(over)}={_fmt(new + over)}，"
                    f"但办理结果总计{_fmt(total)}+结转下年度{_fmt(fwd)}={_fmt(total + fwd)}",
                    subject=f"{col}:{new},{over},{total},{fwd}", table="requests", column=col,
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
        for key, row in {**req, **{f"subtotal:{k}": v for k, v in
                                   report.tables.get("requests_subtotals", {}).items()}}.items():
            if any(v is None for v in row):
                continue
            if sum(row[:6]) != row[6]:
                yield self.finding(
                    f"表三“{key}”行：六类申请人之和为{_fmt(sum(row[:6]))}，总计列却填{_fmt(row[6])}",
                    subject=f"{key}:{row}", table="requests", row=key, column="总计",
                    expected=sum(row[:6]), actual=row[6], values=row)
            s = sub.get(key)
            if s is not None and sum(row[1:6]) != s:
                yield self.finding(
                    f"表三“{key}”行：五类法人或其他组织之和为{_fmt(sum(row[1:6]))}，小计列却填{_fmt(s)}",
                    subject=f"{key}:subtotal:{s}:{row}", table="requests", row=key,
                    column="法人或其他组织小计", expected=sum(row[1:6]), actual=s, values=row)


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
        note = "（其中“（六）其他处理”只有一行合计，缺少2021年格式的三个分项，按该行合计计算）" if unsplit else ""
        for i, col in enumerate(APPLICANT_COLUMNS):
            vals = [req[k][i] for k in parts]
            total = req["total"][i]
            if total is None or any(v is None for v in vals):
                continue
            if sum(vals) != total:
                yield self.finding(
                    f"表三“{col}”列：（一）至（六）各项之和为{_fmt(sum(vals))}，“（七）总计”却填{_fmt(total)}{note}",
                    subject=f"{col}:{total}:{vals}", table="requests", row="total", column=col,
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
        for key, name in REVIEW_BLOCKS:
            row = rl.get(key)
            if not row or any(v is None for v in row):
                continue
            if sum(row[:4]) != row[4]:
                yield self.finding(
                    f"表四“{name}”：维持、纠正、其他、尚未审结之和为{_fmt(sum(row[:4]))}，总计却填{_fmt(row[4])}",
                    subject=f"{key}:{row}", table="review_litigation", row=key, column=REVIEW_COLUMNS[4],
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
            yield self.finding(f"“{b['row']}”的{b['column']}填了不可能的数值{b['value']}（件数应为非负整数）",
                               subject=f"{b['table']}.{b['row']}.{b['column']}={b['value']}", **b)
        if report.template == "2019":
            for key in ("rules", "normative_docs"):
                row = report.tables.get("active", {}).get(key) or {}
                pub, total = row.get("published"), row.get("total")
                if pub is not None and total is not None and pub > total:
                    yield self.finding(
                        f"表二“{key}”：本年新公开数量{_fmt(pub)}大于对外公开总数量{_fmt(total)}",
                        subject=f"active.{key}:{pub}>{total}", table="active", row=key,
                        column="published", expected=f"≤{total}", actual=pub)


PROSE_CHECKS = (
    # narrative key, description, table path, function of the tables giving the figure
    ("requests_new", "本年新收申请数", "requests.new[总计]",
     lambda t: (t.get("requests") or {}).get("new", [None] * 7)[6]),
    ("carried_over_stated", "上年结转申请数", "requests.carried_over[总计]",
     lambda t: (t.get("requests") or {}).get("carried_over", [None] * 7)[6]),
    ("carried_forward_stated", "结转下年度申请数", "requests.carried_forward[总计]",
     lambda t: (t.get("requests") or {}).get("carried_forward", [None] * 7)[6]),
    ("review_count", "行政复议件数", "review_litigation.review[总计]",
     lambda t: ((t.get("review_litigation") or {}).get("review") or [None] * 5)[4]),
    ("litigation_count", "行政诉讼件数", "review_litigation.litigation_*[总计]",
     lambda t: _sum_or_none(((t.get("review_litigation") or {}).get("litigation_direct") or [None] * 5)[4],
                            ((t.get("review_litigation") or {}).get("litigation_after_review") or [None] * 5)[4])),
)


def _sum_or_none(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a + b


@register
class ProseContradictsTable(DocRule):
    """正文中写明的数字与表格不一致（例如正文称收到申请16件，表三新收申请总计却为0）。"""

    id, severity, templates = "ARITH-006", "warning", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        sources = report.narrative.get("_sources", {})
        for key, what, path, get in PROSE_CHECKS:
            stated = report.narrative.get(key)
            if stated is None:
                continue
            actual = get(report.tables)
            if actual is None or actual == stated:
                continue
            src = sources.get(key, {})
            quote = src.get("quote") or ""
            yield self.finding(
                f"正文称{what}为{_fmt(stated)}，表格（{path}）为{_fmt(actual)}：“{quote[:60]}”",
                subject=f"{key}:{stated}:{actual}", quote=src.get("quote"),
                paragraph=src.get("paragraph"), cell=path, expected=stated, actual=actual,
                difference=stated - actual, figure=_fmt(stated), section=_section_of(report, quote),
                cell_label=CELL_LABELS[key], what=what)


# The table cell of each prose figure, as printed (evidence).
CELL_LABELS = {
    "requests_new": "表三“一、本年新收政府信息公开申请数量”行“总计”列",
    "carried_over_stated": "表三“二、上年结转政府信息公开申请数量”行“总计”列",
    "carried_forward_stated": "表三“四、结转下年度继续办理”行“总计”列",
    "review_count": "表四“行政复议”的“总计”",
    "litigation_count": "表四“行政诉讼·未经复议直接起诉”与“行政诉讼·复议后起诉”的“总计”之和",
}


def _section_of(report: ParsedReport, sentence: str) -> str | None:
    """The key of the section whose prose holds `sentence` (spaces ignored), or None."""
    probe = sentence.replace(" ", "")[:40]
    if not probe:
        return None
    for s in report.sections:
        if probe in squash(s.text).replace(" ", ""):
            return s.key
    return None
