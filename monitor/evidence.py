"""The evidence of a finding: what made its rule fire, built from the finding's `details` only, so
the CLI, the bot, alerts and exports show the same text for a stored finding.

- ARITH / YOY figures: the formula, its left side, its right side, the difference, and each cell
  concerned as a path in the report's own printed words with its value.
- prose rules: the quoted sentence cut to ±20 characters around the figure or text, with its section.
- TEXT / YOY similarity: the percentage per section and the longest shared passages side by side.
Rules without figures or quotes (dates, missing parts, crawl health) have their message as evidence.

Pure (engine floor): no database. Cells are named by `monitor.templates.cell_label`, as the
findings' messages name them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monitor.templates import APPLICANT_COLUMNS, cell_label
from monitor.templates.defs import SECTIONS

__all__ = ["evidence", "evidence_text", "cell_label", "section_name", "excerpt", "CONTEXT_CHARS"]

CONTEXT_CHARS = 20  # characters quoted on each side of a figure in the prose
ARITH001_ROWS = ("new", "carried_over", "total", "carried_forward")
MAX_CELLS = 40  # cell lines shown for one finding
MAX_PASSAGES = 3


def _fmt(n: Any) -> str:
    if isinstance(n, float):
        return f"{n:g}"
    return "空" if n is None else str(n)


def _q(text: str) -> str:
    return "“" + text.replace("“", "‘").replace("”", "’") + "”"


def section_name(key: str | None) -> str:
    """“一、总体情况” for `overview`; 正文 for None (the prose as a whole)."""
    if key is None:
        return "正文"
    for decl in SECTIONS:
        if decl.key == key:
            return "一二三四五六七八九十"[decl.number - 1] + "、" + decl.label
    return key


def excerpt(sentence: str, needle: str | None, width: int = CONTEXT_CHARS) -> str:
    """The part of `sentence` from `width` characters before `needle` to `width` after it, with …
    where it was cut; the sentence's start when the needle is not in it."""
    if not sentence:
        return ""
    i = sentence.find(needle) if needle else -1
    if i < 0:
        i, needle = 0, ""
    start, end = max(0, i - width), min(len(sentence), i + len(needle or "") + width)
    return ("…" if start > 0 else "") + sentence[start:end] + ("…" if end < len(sentence) else "")


# ---- per rule ------------------------------------------------------------------------------------

def _column(d: Mapping[str, Any]) -> tuple[Any, str]:
    """(index, printed name) of a table 三 column given by index or, in older details, by name."""
    col = d.get("column")
    if isinstance(col, int) and not isinstance(col, bool) and 0 <= col < len(APPLICANT_COLUMNS):
        return col, APPLICANT_COLUMNS[col]
    return (APPLICANT_COLUMNS.index(col) if col in APPLICANT_COLUMNS else col), str(col)


def _arith001(d: Mapping[str, Any], tpl: str | None) -> list[str]:
    c = d.get("cells") or {}
    new, over, total, fwd = (c.get(k) for k in ARITH001_ROWS)
    index, col = _column(d)
    lines = [
        f"公式：本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理（{_q(str(col))}列）",
        f"左边：{_fmt(new)} + {_fmt(over)} = {_fmt(d.get('expected'))}",
        f"右边：{_fmt(total)} + {_fmt(fwd)} = {_fmt(d.get('actual'))}",
        f"相差：{_fmt(d.get('difference'))}",
        "单元格：",
    ]
    lines += [f"  {cell_label(tpl, 'requests', k, index)} = {_fmt(c.get(k))}" for k in ARITH001_ROWS]
    return lines


def _row_sum(d: Mapping[str, Any], tpl: str | None, table: str, parts: Sequence[int], total_col: Any,
             formula: str, right_value: Any) -> list[str]:
    values = d.get("values") or []
    row = d.get("row")
    left = [values[i] for i in parts if i < len(values)]
    lines = [f"公式：{formula}",
             f"左边：{' + '.join(_fmt(v) for v in left)} = {_fmt(d.get('expected'))}",
             f"右边：{_fmt(right_value)}",
             f"相差：{_fmt(_diff(d.get('expected'), d.get('actual')))}",
             "单元格："]
    for i in parts:
        if i < len(values):
            lines.append(f"  {cell_label(tpl, table, row, i)} = {_fmt(values[i])}")
    lines.append(f"  {cell_label(tpl, table, row, total_col)} = {_fmt(right_value)}")
    return lines


def _diff(a: Any, b: Any) -> Any:
    return a - b if isinstance(a, int | float) and isinstance(b, int | float) else None


def _arith002(d: Mapping[str, Any], tpl: str | None) -> list[str]:
    table = "requests_subtotals" if str(d.get("row", "")).startswith("subtotal:") else "requests"
    if d.get("column") == "法人或其他组织小计":
        return _row_sum(d, tpl, table, range(1, 6), "法人或其他组织小计",
                        "法人或其他组织小计 = 五类法人或其他组织之和", d.get("actual"))
    return _row_sum(d, tpl, table, range(6), 6, "总计 = 自然人与五类法人或其他组织之和", d.get("actual"))


def _arith003(d: Mapping[str, Any], tpl: str | None) -> list[str]:
    index, col = _column(d)
    parts = d.get("parts") or []
    lines = [f"公式：（七）总计 = （一）至（六）各项之和（{_q(str(col))}列）",
             f"左边：{' + '.join(_fmt(v) for _k, v in parts) or '?'} = {_fmt(d.get('expected'))}",
             f"右边：{_fmt(d.get('actual'))}",
             f"相差：{_fmt(d.get('difference'))}",
             "单元格："]
    lines += [f"  {cell_label(tpl, 'requests', k, index)} = {_fmt(v)}" for k, v in parts[:MAX_CELLS]]
    lines.append(f"  {cell_label(tpl, 'requests', 'total', index)} = {_fmt(d.get('actual'))}")
    return lines


def _arith004(d: Mapping[str, Any], tpl: str | None) -> list[str]:
    return _row_sum(d, tpl, "review_litigation", range(4), 4, "总计 = 维持 + 纠正 + 其他 + 尚未审结", d.get("actual"))


def _arith005(d: Mapping[str, Any], tpl: str | None) -> list[str]:
    table, row, col = d.get("table", ""), d.get("row"), d.get("column")
    if "value" in d:
        return ["要求：件数为非负整数", "单元格：", f"  {cell_label(tpl, table, row, col)} = {_fmt(d.get('value'))}"]
    return [f"要求：本年新公开数量 {d.get('expected')}", "单元格：",
            f"  {cell_label(tpl, table, row, 'published')} = {_fmt(d.get('actual'))}"]


def _arith006(d: Mapping[str, Any], tpl: str | None) -> list[str]:
    quote = excerpt(d.get("quote") or "", d.get("figure"))
    where = section_name(d.get("section"))
    cell = d.get("cell_label") or d.get("cell")
    return [f"公式：正文所述{_q(d.get('what') or '数字')} = {cell}",
            f"左边：{_fmt(d.get('expected'))}（{where}：{_q(quote)}）",
            f"右边：{_fmt(d.get('actual'))}",
            f"相差：{_fmt(d.get('difference'))}",
            "单元格：",
            f"  {cell} = {_fmt(d.get('actual'))}"]


def _yoy001(d: Mapping[str, Any], tpl: str | None) -> list[str]:
    year = d.get("previous_year")
    lines = ["公式：本年“二、上年结转” = 上年“四、结转下年度继续办理”",
             f"左边：{_fmt(d.get('actual'))}",
             f"右边：{_fmt(d.get('expected'))}",
             f"相差：{_fmt(_diff(d.get('actual'), d.get('expected')))}",
             "单元格："]
    for c in (d.get("columns") or [])[:MAX_CELLS]:
        mark = "（不符）" if c.get("differs") else ""
        lines.append(f"  本年{cell_label(tpl, 'requests', 'carried_over', c.get('column'))} = {_fmt(c.get('actual'))}；"
                     f"{year or '上'}年{cell_label(tpl, 'requests', 'carried_forward', c.get('column'))} = "
                     f"{_fmt(c.get('expected'))}{mark}")
    return lines


def _yoy002(d: Mapping[str, Any], tpl: str | None) -> list[str]:
    row, year = d.get("row"), d.get("previous_year") or "上"
    if d.get("column") == "in_force":
        base, issued, repealed = d.get("previous_in_force"), d.get("issued"), d.get("repealed")
        return ["公式：本年现行有效件数 = 上年现行有效件数 + 本年制发件数 − 本年废止件数",
                f"左边：{_fmt(d.get('actual'))}",
                f"右边：{_fmt(base)} + {_fmt(issued)} − {_fmt(repealed)} = {_fmt(d.get('expected'))}",
                f"相差：{_fmt(_diff(d.get('actual'), d.get('expected')))}",
                "单元格：",
                f"  本年{cell_label('2021', 'active', row, 'in_force')} = {_fmt(d.get('actual'))}",
                f"  {year}年{cell_label('2021', 'active', row, 'in_force')} = {_fmt(base)}",
                f"  本年{cell_label('2021', 'active', row, 'issued')} = {_fmt(issued)}",
                f"  本年{cell_label('2021', 'active', row, 'repealed')} = {_fmt(repealed)}"]
    base, change = d.get("previous_prev"), d.get("previous_change")
    return ["公式：本年上一年项目数量 = 上年报告的上一年项目数量 + 本年增/减",
            f"左边：{_fmt(d.get('actual'))}",
            f"右边：{_fmt(base)} + {_fmt(change)} = {_fmt(d.get('expected'))}",
            f"相差：{_fmt(_diff(d.get('actual'), d.get('expected')))}",
            "单元格：",
            f"  本年{cell_label('2019', 'active', row, 'prev')} = {_fmt(d.get('actual'))}",
            f"  {year}年{cell_label('2019', 'active', row, 'prev')} = {_fmt(base)}",
            f"  {year}年{cell_label('2019', 'active', row, 'change')} = {_fmt(change)}"]


def _similar(d: Mapping[str, Any], tpl: str | None, rule: str) -> list[str]:
    other = f"{d.get('previous_year')}年报告" if rule == "YOY-003" else f"{d.get('other', '另一机关')}的报告"
    lines = [f"相同文字比例（不计模板固定用语）：正文 {d.get('overall')}%"]
    lines += [f"  {section_name(k)} {v}%" for k, v in (d.get("sections") or {}).items()]
    lines.append(f"阈值：{round(float(d.get('threshold') or 0) * 100)}%")
    mine = list(d.get("passages") or [])[:MAX_PASSAGES]
    theirs = list(d.get("other_passages") or [])
    if mine:
        lines.append(f"最长的相同段落（本报告 | {other}）：")
    for i, p in enumerate(mine):
        lines.append(f"  {i + 1}. {_q(p)} | {_q(theirs[i]) if i < len(theirs) else '（未记录）'}")
    return lines


def _quotes(d: Mapping[str, Any], tpl: str | None, rule: str) -> list[str]:
    if rule == "TEXT-002":
        return [f"引文：{_q(q.get('quote', ''))}" for q in (d.get("quotes") or [])[:MAX_CELLS]]
    if rule == "TEXT-004":
        return [f"重复：{_q(q)}" for q in (d.get("repeated") or [])[:MAX_CELLS]]
    if rule == "STRUCT-008":
        return [f"{section_name('problems')}：{_q(d.get('text') or '')}"]
    if rule == "STRUCT-007":
        return ["空白单元格："] + [f"  {cell_label(tpl, c.get('table', ''), c.get('row'), c.get('column'))}"
                                  f" = {_q(str(c.get('raw', '')))}" for c in (d.get("cells") or [])[:MAX_CELLS]]
    if rule == "TEXT-001":
        return [f"表述：{_q(v.get('found', ''))}应为{_q(v.get('canonical', ''))}"
                for v in (d.get("variants") or [])[:MAX_CELLS]]
    return []


BUILDERS = {"ARITH-001": _arith001, "ARITH-002": _arith002, "ARITH-003": _arith003, "ARITH-004": _arith004,
            "ARITH-005": _arith005, "ARITH-006": _arith006, "YOY-001": _yoy001, "YOY-002": _yoy002}


def evidence(rule: str, details: Mapping[str, Any] | None, message: str = "",
             template: str | None = None) -> list[str]:
    """The evidence lines of a finding (Chinese). Details of an older version that lack a key
    give "空" in its place, never an error."""
    d = details or {}
    tpl = template or d.get("template")
    try:
        if rule in BUILDERS:
            lines = BUILDERS[rule](d, tpl)
        elif rule in ("YOY-003", "TEXT-003"):
            lines = _similar(d, tpl, rule)
        else:
            lines = _quotes(d, tpl, rule)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):  # details of another shape
        lines = []
    return lines or ([f"依据：{message}"] if message else [])


def evidence_text(rule: str, details: Mapping[str, Any] | None, message: str = "",
                  template: str | None = None) -> str:
    return "\n".join(evidence(rule, details, message, template))
