"""One example finding per rule, made by the rule's own code on a small built input.

`nianbao rules` shows them next to each rule's explanation, and the tests read every rule's wording
through them, so an example can never say something the rule does not. Each input is a clean
report of 青石镇 with the one defect its rule is about (or, for the hist and sched rules, the two
reports, the dates or the crawl outcome the rule looks at).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date

from monitor.extract.pdf import UNUSABLE_SCANNED
from monitor.report import Finding, ParsedReport, Section
from monitor.rules.base import Rule, registry
from monitor.templates import REVIEW_BLOCKS, TEMPLATES
from monitor.templates.defs import SECTIONS
from monitor.textnorm import CN_NUMERALS

__all__ = ["example", "EXAMPLES"]

ENTITY = "青石镇人民政府"
PEER = "白沙镇"
_PROSE = (
    "一年来，我镇坚持以人民为中心的发展思想，把政务公开作为建设法治政府的重要抓手，围绕群众关切的重点领域持续深化公开内容。",
    "在组织保障方面，调整充实了政务公开工作领导小组，明确分管领导和专职人员，将公开工作纳入年度绩效考核。",
    "在平台建设方面，完成政府信息公开专栏的栏目梳理，规范栏目名称和更新频次，及时清理过期和无效链接。",
    "在制度建设方面，修订完善信息发布保密审查、依申请公开办理流程等制度，做到先审查后公开、一事一审全程留痕。",
    "在队伍建设方面，组织村居和站所信息员参加业务培训，提高发布信息的准确性和规范性，群众满意度明显提升。",
)


def _rule(rule_id: str) -> Rule:
    return registry()[rule_id]()


def _report(template: str = "2021", year: int = 2022, **changes: object) -> ParsedReport:
    """A report with every table filled with zeros, every section present and a proper period."""
    tpl = TEMPLATES[template]
    sections = [Section(key=d.key, number=f"{CN_NUMERALS[d.number - 1]}、", title=d.label, position=i,
                        text=_PROSE[i % len(_PROSE)]) for i, d in enumerate(SECTIONS)]
    tables = {
        "active": {key: {c.key: 0 for c in group.columns} for key, (group, _) in tpl.active_rows.items()},
        "requests": {d.key: [0] * 7 for d in tpl.requests},
        "review_litigation": {key: [0] * 5 for key, _ in REVIEW_BLOCKS},
    }
    report = ParsedReport(
        title=f"青石镇{year}年政府信息公开工作年度报告", entity=ENTITY, year=year, template=template,
        published_at=f"{year + 1}-01-20", period=[f"{year}-01-01", f"{year}-12-31"], sections=sections,
        tables=tables, prose=[s.text for s in sections], format="html",
        notes={"rows_found": {t: sorted(tables[t]) for t in ("active", "requests")}})
    for name, value in changes.items():
        setattr(report, name, value)
    return report


def _doc(rule_id: str, report: ParsedReport) -> Finding | None:
    return next(iter(_rule(rule_id).check(report)), None)  # type: ignore[attr-defined]


def _with(report: ParsedReport, edit: Callable[[ParsedReport], object]) -> ParsedReport:
    edit(report)
    return report


def _row(report: ParsedReport, key: str, values: list[int]) -> None:
    report.tables["requests"][key] = values


def _struct_002() -> Finding | None:
    r = _report()
    r.notes["rows_found"]["requests"].remove("refused_law")
    return _doc("STRUCT-002", r)


def _struct_003() -> Finding | None:
    r = _report()
    r.sections[4].number = "5、"
    return _doc("STRUCT-003", r)


def _struct_008() -> Finding | None:
    r = _report()
    r.sections[4].text = "无。"
    return _doc("STRUCT-008", r)


def _arith_001() -> ParsedReport:
    r = _report()
    for key in ("new", "granted", "total"):
        _row(r, key, [1, 0, 0, 0, 0, 0, 1])
    _row(r, "carried_forward", [1, 0, 0, 0, 0, 0, 1])
    return r


def _arith_006() -> ParsedReport:
    r = _report()
    r.narrative = {"requests_new": 16, "_sources": {"requests_new": {
        "quote": "全年共收到政府信息公开申请16件", "paragraph": 7}}}
    return r


def _yoy_001() -> Finding | None:
    before, now = _report(year=2021), _report()
    before.tables["requests"]["carried_forward"] = [5, 0, 0, 0, 0, 0, 5]
    now.tables["requests"]["carried_over"] = [3, 0, 0, 0, 0, 0, 3]
    return next(iter(_rule("YOY-001").check(now, before)), None)  # type: ignore[attr-defined]


def _yoy_002() -> Finding | None:
    before, now = _report(year=2021), _report()
    before.tables["active"]["normative_docs"] = {"issued": 3, "repealed": 0, "in_force": 10}
    now.tables["active"]["normative_docs"] = {"issued": 2, "repealed": 1, "in_force": 12}
    return next(iter(_rule("YOY-002").check(now, before)), None)  # type: ignore[attr-defined]


def _yoy_003() -> Finding | None:
    return next(iter(_rule("YOY-003").check(_report(), _report(year=2021))), None)  # type: ignore[attr-defined]


def _text_003() -> Finding | None:
    peer = _report(entity="白沙镇人民政府")
    return next(iter(_rule("TEXT-003").check(_report(), [(PEER, peer)])), None)  # type: ignore[attr-defined]


def _yoy_004() -> Finding | None:
    old, new = _report(), _report()
    new.tables = copy.deepcopy(old.tables)
    new.tables["requests"]["new"][6] = 2
    return _rule("YOY-004").describe(old, new)  # type: ignore[attr-defined]


_DUE = date(2023, 1, 31)
_LIST = "http://www.example.gov.cn/xxgk/gknb/index.html"

EXAMPLES: dict[str, Callable[[], Finding | None]] = {
    "STRUCT-001": lambda: _doc("STRUCT-001", _report(sections=_report().sections[:3] + _report().sections[5:])),
    "STRUCT-002": _struct_002,
    "STRUCT-003": _struct_003,
    "STRUCT-004": lambda: _doc("STRUCT-004", _report(template="2019", year=2022)),
    "STRUCT-005": lambda: _doc("STRUCT-005", _report(period=None)),
    "STRUCT-006": lambda: _doc("STRUCT-006", _report(notes={"unusable": UNUSABLE_SCANNED})),
    "STRUCT-007": lambda: _doc("STRUCT-007", _report(notes={"blank_cells": [
        {"table": "requests", "row": "refused_law", "column": "自然人", "raw": "/"}]})),
    "STRUCT-008": _struct_008,
    "ARITH-001": lambda: _doc("ARITH-001", _arith_001()),
    "ARITH-002": lambda: _doc("ARITH-002", _with(_report(), lambda r: _row(r, "granted", [1, 0, 0, 0, 0, 0, 2]))),
    "ARITH-003": lambda: _doc("ARITH-003", _with(_report(), lambda r: _row(r, "granted", [1, 0, 0, 0, 0, 0, 1]))),
    "ARITH-004": lambda: _doc("ARITH-004", _with(_report(), lambda r: r.tables["review_litigation"].update(
        review=[1, 0, 0, 0, 2]))),
    "ARITH-005": lambda: _doc("ARITH-005", _with(_report(), lambda r: _row(r, "granted", [-1, 0, 0, 0, 0, 0, -1]))),
    "ARITH-006": lambda: _doc("ARITH-006", _arith_006()),
    "PLAUS-001": lambda: _doc("PLAUS-001", _with(_report(), lambda r: r.tables["active"].update(
        rules={"issued": 1, "repealed": 0, "in_force": 6}))),
    "PLAUS-002": lambda: _doc("PLAUS-002", _with(_report("2019", 2020), lambda r: r.tables["active"].update(
        normative_docs={"made": 5, "published": 3, "total": 12}))),
    "PLAUS-003": lambda: _doc("PLAUS-003", _report(notes={"money_in_yuan": [
        {"table": "active", "row": "fees", "column": "amount", "raw": "251000元", "yuan": 251000,
         "wan_yuan": 25.1}]})),
    "TIME-001": lambda: _doc("TIME-001", _report(period=["2021-01-01", "2021-12-31"])),
    "TIME-002": lambda: _doc("TIME-002", _report(published_at="2022-02-21")),
    "TIME-003": lambda: _rule("TIME-003").build(  # type: ignore[attr-defined]
        entity=ENTITY, year=2022, due=_DUE, published=date(2023, 3, 2), source="listing;page_meta=2023-11-06"),
    "TIME-004": lambda: _rule("TIME-004").build(  # type: ignore[attr-defined]
        entity=ENTITY, year=2022, due=_DUE, checked=date(2023, 3, 1), today=date(2023, 3, 2)),
    "TIME-005": lambda: _rule("TIME-005").build(  # type: ignore[attr-defined]
        entity=ENTITY, year=2022, due=_DUE, today=date(2023, 1, 20)),
    "YOY-001": _yoy_001,
    "YOY-002": _yoy_002,
    "YOY-003": _yoy_003,
    "YOY-004": _yoy_004,
    "YOY-005": lambda: _rule("YOY-005").build(  # type: ignore[attr-defined]
        ENTITY, 2021, "http://www.example.gov.cn/xxgk/gknb/202201/t20220120_1.html", "2023-03-01"),
    "TEXT-001": lambda: _doc("TEXT-001", _report(notes={"label_variants": [
        {"table": "requests", "row": "refused_security", "found": "危机", "canonical": "危及“三安全一稳定”",
         "label": "3.危机“三安全一稳定”"}]})),
    "TEXT-002": lambda: _doc("TEXT-002", _with(_report(), lambda r: setattr(
        r.sections[4], "text", "2022年，我镇将进一步加强政务公开培训，提升信息发布质量。"))),
    "TEXT-003": _text_003,
    "TEXT-004": lambda: _doc("TEXT-004", _report(prose=[
        "制定了以下制度：青石镇保密审查管理办法、青石镇保密审查管理办法、青石镇依申请公开办理流程。"])),
    "CRAWL-001": lambda: _rule("CRAWL-001").build(  # type: ignore[attr-defined]
        county="云溪县", run_id=1, finished_at="2023-03-01T02:00:00+00:00", error="blocked: 412×3",
        kinds={"412": 3}),
    "CRAWL-002": lambda: _rule("CRAWL-002").build(  # type: ignore[attr-defined]
        county="云溪县", runs=[3, 2], errors=["failed: TimeoutError×4"] * 2, reasons={"TimeoutError": 4}),
    "CRAWL-003": lambda: _rule("CRAWL-003").build(county="云溪县", url=_LIST, run_id=1),  # type: ignore[attr-defined]
}


def example(rule_id: str) -> Finding | None:
    """The example finding of a rule (None when no example is declared for it)."""
    make = EXAMPLES.get(rule_id)
    return make() if make is not None else None
