"""PLAUS-001…003: values that are possible but very likely wrong."""

from __future__ import annotations

import re
from collections.abc import Iterator

from monitor.report import Finding, ParsedReport
from monitor.rules.base import MODERN, DocRule, register
from monitor.templates import cell_label, column_label

# Bodies that cannot make 规章: townships, streets, county-level governments and their departments.
_NO_RULES_BODY = re.compile(r"(镇|乡|街道|县|区|旗|局|委员会|委|办公室|中心|所|站)")
_MAY_MAKE_RULES = re.compile(r"(省|自治区)人民政府|^国务院|部$")


def cannot_make_rules(entity: str | None) -> bool:
    if not entity or _MAY_MAKE_RULES.search(entity):
        return False
    if re.search(r"[^县区]市人民政府$", entity):  # could be a 设区的市: do not guess
        return False
    return bool(_NO_RULES_BODY.search(entity))


@register
class RulesByWrongBody(DocRule):
    """只有省级政府、设区的市政府和国务院部门才能制定规章；乡镇、街道、县级政府及其部门报告“规章”数量大于0，很可能把规范性文件填进了规章行。"""

    id, severity, templates = "PLAUS-001", "warning", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        row = report.tables.get("active", {}).get("rules") or {}
        if not cannot_make_rules(report.entity):
            return
        cols = ("made", "published", "total") if report.template == "2019" else ("issued", "in_force")
        nonzero = {c: row.get(c) for c in cols if (row.get(c) or 0) > 0}
        if nonzero:
            shown = "、".join(f"{column_label(report.template, 'active', c, 'rules')}{v}"
                             for c, v in nonzero.items())
            yield self.finding(f"{report.entity}无权制定规章，{cell_label(report.template, 'active', 'rules')}"
                               f"却填了{shown}，应{'均' if len(nonzero) > 1 else ''}为0",
                               subject="rules:" + ",".join(f"{c}={v}" for c, v in nonzero.items()),
                               table="active", row="rules", values=nonzero, entity=report.entity)


@register
class NormativeDocsUnpublished(DocRule):
    """2019年模板：规范性文件本年新制作数量大于本年新公开数量——规范性文件应当全部公开。"""

    id, severity, templates = "PLAUS-002", "info", frozenset({"2019"})

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        row = report.tables.get("active", {}).get("normative_docs") or {}
        made, pub = row.get("made"), row.get("published")
        if made is not None and pub is not None and made > pub:
            yield self.finding(f"{cell_label('2019', 'active', 'normative_docs')}本年新制作{made}件，"
                               f"只新公开{pub}件，规范性文件应全部公开",
                               subject=f"normative_docs:{made}>{pub}", table="active",
                               row="normative_docs", made=made, published=pub)


@register
class MoneyInYuan(DocRule):
    """金额单元格以“元”填写，而模板要求以“万元”为单位；系统已按万元换算。"""

    id, severity, templates = "PLAUS-003", "warning", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        for c in report.notes.get("money_in_yuan", []):
            if c["wan_yuan"] is None:  # the row's numbers ran together: the unit is all that is read
                yield self.finding(
                    f"{cell_label(report.template, c['table'], c['row'], c['column'])}以元填写"
                    f"（“{c['raw']}”），应以万元填写；该行数字连在一起，未能换算",
                    subject=f"{c['row']}.{c['column']}={c['raw']}", **c)
                continue
            yield self.finding(
                f"{cell_label(report.template, c['table'], c['row'], c['column'])}填“{c['raw']}”，"
                f"应以万元填写，已按{c['wan_yuan']:g}万元核对",
                subject=f"{c['row']}.{c['column']}={c['yuan']}", **c)
