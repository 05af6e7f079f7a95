"""STRUCT-001…008: is the report shaped as its template requires?"""

from __future__ import annotations

import re
from collections.abc import Iterator

from monitor.parse import section_number_value
from monitor.report import Finding, ParsedReport
from monitor.rules.base import ALL_TEMPLATES, MODERN, DocRule, register
from monitor.templates import (
    TEMPLATES,
    cell_label,
    quoted,
    row_label,
    section_label,
    table_label,
    template_label,
)
from monitor.templates.defs import SECTIONS
from monitor.textnorm import CN_NUMERALS, norm

LISTED = 3  # places named in one message; details list them all
OTHER_SPLIT = ("other_no_correction", "other_no_fee", "other_other")


@register
class MissingSection(DocRule):
    """报告缺少规定的六个部分之一（总体情况、主动公开、收到和处理申请、行政复议和行政诉讼、存在的主要问题及改进情况、其他需要报告的事项）。"""

    id, severity, templates = "STRUCT-001", "error", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        found = {s.key for s in report.sections}
        missing = [d for d in SECTIONS if d.key not in found]
        if missing:
            names = "、".join(quoted(section_label(d.key)) for d in missing)
            message = (f"缺少规定的部分：{names}" if len(missing) < len(SECTIONS) else
                       f"六个规定部分的标题一个也没有找到（{quoted(section_label(SECTIONS[0].key))}至"
                       f"{quoted(section_label(SECTIONS[-1].key))}）")
            yield self.finding(message, subject=",".join(d.key for d in missing),
                               missing=[d.key for d in missing], labels=[d.label for d in missing])


@register
class MissingTable(DocRule):
    """规定的表格（表二、表三、表四）或其中的行未找到；表格以图片形式发布时也无法核对。"""

    id, severity, templates = "STRUCT-002", "error", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        tpl = TEMPLATES[report.template]
        found = report.notes.get("rows_found", {})
        required = {"active": [k for k in tpl.active_rows],
                    "requests": [d.key for d in tpl.requests if d.required]}
        images = report.notes.get("images_in_tables", 0)
        note = "（页面中有图片形式的表格，无法读取其中的数字）" if images else ""
        for table in ("active", "requests", "review_litigation"):
            if table not in report.tables:
                yield self.finding(f"未找到{table_label(table, title=True)}{note}", subject=table, table=table,
                                   missing_rows="all", table_is_image=bool(images))
                continue
            if table == "review_litigation":
                missing = [k for k in ("review", "litigation_direct", "litigation_after_review")
                           if k not in report.tables[table]]
            else:
                missing = [k for k in required[table] if k not in found.get(table, [])]
            split = [k for k in OTHER_SPLIT if k in missing] if table == "requests" and \
                report.notes.get("other_unsplit") else []
            if split:
                missing = [k for k in missing if k not in split]
                yield self.finding(
                    f"{cell_label(report.template, table, 'other')}只填了一行合计，缺少2021年格式要求的三个分项；"
                    "该行数字已按合计读取",
                    subject=f"{table}:other-split", table=table, missing_rows=split,
                    other_split_missing=True)
            if missing:
                names = "、".join(quoted(row_label(report.template, table, k)) for k in missing[:LISTED])
                more = f"等{len(missing)}行" if len(missing) > LISTED else ""
                runs = [k for k in report.notes.get("unread_runs", []) if k in missing]
                why = ("（其中" + "、".join(quoted(row_label(report.template, table, k)) for k in runs[:LISTED])
                       + "的数字连在一起，无法唯一拆分）" if runs else "")
                yield self.finding(f"{table_label(table)}缺少{names}{more}{why}",
                                   subject=f"{table}:{','.join(missing)}", table=table,
                                   missing_rows=missing, unread_digit_runs=runs)


@register
class Misnumbered(DocRule):
    """六个部分的序号错误或顺序颠倒（例如用“5、”代替“五、”）。"""

    id, severity, templates = "STRUCT-003", "warning", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        expected = {d.key: d.number for d in SECTIONS}
        wrong = []
        for s in report.sections:
            value, arabic = section_number_value(s.number)
            if not s.number:
                continue
            if arabic or value != expected[s.key]:
                wrong.append({"section": s.key, "written": s.number,
                              "expected": f"{CN_NUMERALS[expected[s.key] - 1]}、", "heading": s.title})
        order = [expected[s.key] for s in report.sections]
        out_of_order = order != sorted(order)
        if wrong or out_of_order:
            parts = [f"{quoted(section_label(w['section']))}的序号写成了“{w['written']}”" for w in wrong]
            if out_of_order:
                parts.append("各部分顺序与规定不一致")
            yield self.finding("部分序号有误：" + "；".join(parts),
                               subject=";".join(f"{w['section']}={w['written']}" for w in wrong)
                               + ("|order" if out_of_order else ""),
                               misnumbered=wrong, out_of_order=out_of_order,
                               order=[s.key for s in report.sections])


@register
class TemplateMismatch(DocRule):
    """报告格式与年度不符：2021年及以后的报告应使用2021年新模板，2019、2020年度应使用2019年模板，2019年以后不能再用2008年条例时期的自由格式。"""

    id, severity, templates = "STRUCT-004", "error", ALL_TEMPLATES

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        if report.year is None or report.template is None:
            return
        tpl = TEMPLATES[report.template]
        if tpl.fits_year(report.year):
            return
        right = next(t for t in TEMPLATES.values() if t.fits_year(report.year))
        yield self.finding(
            f"{report.year}年度报告使用了{template_label(report.template)}，应使用{template_label(right.id)}",
            subject=f"{report.template}->{right.id}", year=report.year, template=report.template,
            expected_template=right.id, signals=report.notes.get("template_signals"))


@register
class NoPeriod(DocRule):
    """报告没有说明统计期限（如“本报告中所列数据的统计期限自某年1月1日起至12月31日止”）。"""

    id, severity = "STRUCT-005", "warning"

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        if report.period is None:
            yield self.finding("报告未说明数据的统计期限", subject="period")


@register
class NoText(DocRule):
    """文档没有可用的文字：文件为空、已损坏，或是无法识别的扫描图片。"""

    id, severity = "STRUCT-006", "error"

    def applies_to(self, report: ParsedReport) -> bool:
        return True

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        reason = report.notes.get("unusable")
        if reason:
            # cause "extractor": our extractor could not read it (e.g. no LibreOffice for DOC/WPS),
            # a problem for the operators; "document": the document itself is unusable
            yield self.finding(f"文档没有可用的文字：{reason}", subject="unusable", reason=reason,
                               format=report.format, cause=report.notes.get("unusable_cause") or "document")
        elif not report.notes.get("looks_like_report", True):
            yield self.finding("文档中没有找到政府信息公开年度报告的内容", subject="not-a-report",
                               reason="not a report", format=report.format)


@register
class BlankCells(DocRule):
    """表三或表四中应填数字的单元格为空白、“/”、“-”或“—”（为零应填写0）。"""

    id, severity, templates = "STRUCT-007", "warning", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        cells = [c for c in report.notes.get("blank_cells", [])
                 if c["table"] in ("requests", "review_litigation")]
        if cells:
            shown = "、".join(f"{cell_label(report.template, c['table'], c['row'], c['column'])}"
                             f"{'填“' + c['raw'] + '”' if c['raw'] else '为空白'}" for c in cells[:LISTED])
            more = f"等{len(cells)}处" if len(cells) > LISTED else ""
            yield self.finding(f"应填数字处未填（为零应填0）：{shown}{more}",
                               subject=";".join(f"{c['table']}.{c['row']}.{c['column']}" for c in cells),
                               cells=cells)


@register
class EmptyProblems(DocRule):
    """“存在的主要问题及改进情况”部分只写了“无”“暂无”或不足20个字。"""

    id, severity, templates = "STRUCT-008", "warning", MODERN

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        s = report.section("problems")
        if s is None:
            return
        text = norm(s.text)
        if len(text) < 20 or re.fullmatch(r"[(（]?(暂无|无|没有)[。.]?", text):
            yield self.finding(f"“存在的主要问题及改进情况”内容空泛：“{s.text[:40] or '（空）'}”",
                               subject="problems-empty", text=s.text[:200], length=len(text))
