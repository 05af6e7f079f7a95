"""TEXT-001, TEXT-002, TEXT-004: the wording. (TEXT-003, copied prose, needs other bodies'
reports and lives in monitor/history.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

from monitor.report import Finding, ParsedReport
from monitor.rules.base import ALL_TEMPLATES, DocRule, register
from monitor.templates import cell_label, quoted
from monitor.textnorm import norm, squash

_PLAN = re.compile(r"(?P<y>(?:19|20)\d{2})年(?:度)?[,，]?(?:我[镇乡局委办区县街]\S{0,3}|本[镇乡单位机关部门]{1,2})?"
                   r"(?:将|要|计划|拟|继续|力争|进一步)")
_SELF_YEAR = re.compile(r"(?:现将|公布|发布)[^。]{0,12}?(?P<y>(?:19|20)\d{2})年度?[^。]{0,16}?(?:信息公开|政务公开)[^。]{0,8}?(?:年度报告|年报)")


LISTED = 3  # altered labels named in one message; details list them all


@register
class AlteredLabel(DocRule):
    """模板中的固定表述被写错或改动（如“危机”应为“危及”、“行政法案卷”应为“行政执法案卷”、“需另行制作”应为“需要另行制作”）。"""

    id, severity, templates = "TEXT-001", "info", ALL_TEMPLATES

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        variants = report.notes.get("label_variants", [])
        if variants:
            shown = "；".join(f"{cell_label(report.template, v.get('table', 'requests'), v['row'])}"
                             f"写成了{quoted(v['found'])}" for v in variants[:LISTED])
            more = f"等{len(variants)}处" if len(variants) > LISTED else ""
            yield self.finding(f"表格固定表述有误：{shown}{more}",
                               subject=";".join(f"{v['row']}:{v['found']}" for v in variants),
                               variants=variants)


@register
class WrongYear(DocRule):
    """正文中的年份错误：标题年份与正文不一致，或把下一年的工作计划写成了报告年度（如2019年度报告中写“2019年，将重点……”）。"""

    id, severity, templates = "TEXT-002", "warning", ALL_TEMPLATES

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        if report.year is None:
            return
        quotes = []
        plans = [s.text for s in report.sections if s.key in ("problems", "other")]
        if not plans:  # no headings: plans sit in the last part of the prose
            plans = report.prose[len(report.prose) * 3 // 5:]
        for text in plans:
            t = norm(text)
            for m in _PLAN.finditer(t):
                if int(m["y"]) == report.year:
                    quotes.append({"kind": "plan", "quote": _around(t, m.start())})
        for text in report.prose:
            nt = norm(text)
            if "报" not in nt:  # _SELF_YEAR needs 年报 or 年度报告
                continue
            for m in _SELF_YEAR.finditer(nt):
                if int(m["y"]) != report.year:
                    quotes.append({"kind": "title_vs_body", "quote": _around(nt, m.start()),
                                   "body_year": int(m["y"])})
        if quotes:
            first = quotes[0]
            what = (f"下一年的工作计划写成了{report.year}年" if first["kind"] == "plan"
                    else f"正文称{first['body_year']}年度报告，与标题年份{report.year}不一致")
            yield self.finding(f"年份可能有误：{what}：{quoted(_shown(first))}",
                               subject=";".join(q["quote"][:30] for q in quotes), year=report.year,
                               quotes=quotes)


def _shown(quote: dict) -> str:
    """The quoted line as a message shows it: from the year it is about, at most 30 characters."""
    text = quote["quote"]
    year = str(quote.get("body_year") or "")
    if quote["kind"] == "plan":
        m = _PLAN.search(text)
        text = text[m.start():] if m else text
    elif year and year in text:
        text = text[max(0, text.index(year) - 6):]
    return text if len(text) <= 30 else text[:29] + "…"


def _around(text: str, pos: int, width: int = 40) -> str:
    return text[max(0, pos - 5): pos + width]


# An item (at least 6 characters, starting after a separator) written twice in a row.
_REPEAT = re.compile(r"(?:^|(?<=[、，,；;。:：]))(?P<x>[^、，,；;。]{6,})[、，,；;。]\s*(?P=x)")
_QUOTES = "“”‘’\"'"
_SEPARATOR = re.compile(r"[、，,；;。]")
_PARA_END = set("。！？!?：:")


def _may_repeat(text: str) -> bool:
    """False when `_REPEAT` cannot match: an item ends where a piece between separators ends
    and starts the next piece again, so the last 6 characters of a piece of 6 or more would
    appear in the piece after it."""
    pieces = _SEPARATOR.split(text)
    return any(len(a) >= 6 and a[-6:] in b for a, b in zip(pieces, pieces[1:], strict=False))


@register
class RepeatedText(DocRule):
    """同一句话、短语或列举项紧挨着重复出现（多为复制粘贴错误）。"""

    id, severity, templates = "TEXT-004", "info", ALL_TEMPLATES

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        repeats: list[str] = []
        prev_para = None
        for text in report.prose:
            t = squash(text)
            if prev_para is not None and t == prev_para and len(t) >= 10:
                repeats.append(t[:80])
            elif prev_para is not None and prev_para[-1:] not in _PARA_END:
                # a sentence wrapped onto the next line (plain text keeps the line breaks of the
                # page): a repeat that spans the break
                joined = prev_para + t
                if _may_repeat(joined):
                    repeats.extend(m["x"] for m in _REPEAT.finditer(joined)
                                   if m.start("x") < len(prev_para) < m.end())
            prev_para = t
            if _may_repeat(t):
                repeats.extend(m["x"] for m in _REPEAT.finditer(t))
        if repeats:
            item = repeats[0][:40].strip(_QUOTES)
            yield self.finding(f"有内容紧挨着重复出现：{quoted(item)}" +
                               (f"等{len(repeats)}处" if len(repeats) > 1 else ""),
                               subject=";".join(sorted(set(repeats))), repeated=repeats)
