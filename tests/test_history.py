"""The hist rules (monitor/history.py), each at its edge, and the prose measure (monitor/similarity.py)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from monitor.history import (
    check_history,
    describe_change,
    disappeared,
    similarity,
)
from monitor.report import ParsedReport, Section
from monitor.rules.base import registry
from monitor.similarity import QUOTE_CHARS, compare, prepare

SEEDS = Path("/work/shared/seeds")
HIST_IDS = ("YOY-001", "YOY-002", "YOY-003", "YOY-004", "YOY-005", "TEXT-003")


# ---- builders ----------------------------------------------------------------------------------

# Disjoint pools of CJK characters, so that two random texts drawn from different pools share nothing
# and a shared passage cannot grow by a lucky character at its edge. (No 省市县区镇乡: those are folded.)
def _pool(start: int) -> list[str]:
    return [chr(c) for c in range(start, start + 0x800) if chr(c) not in "省市县区镇乡"]


POOLS = {name: _pool(start) for name, start in
         (("s", 0x4E00), ("u", 0x5600), ("v", 0x5E00), ("w", 0x6600), ("x", 0x6E00))}


def cjk(n: int, pool: str, seed: int = 0) -> str:
    rng = random.Random(f"{pool}{seed}")
    return "".join(rng.choice(POOLS[pool]) for _ in range(n))


def report(prose: list[str] | None = None, *, entity: str = "甲镇", year: int = 2020,
           template: str = "2019", tables: dict[str, Any] | None = None,
           sections: list[Section] | None = None, title: str | None = None) -> ParsedReport:
    return ParsedReport(entity=entity, year=year, template=template, prose=prose or [],
                        tables=tables or {}, sections=sections or [], title=title)


def requests_table(carried_over: list[Any] | None = None,
                   carried_forward: list[Any] | None = None) -> dict[str, Any]:
    table: dict[str, Any] = {"new": [0] * 7}
    if carried_over is not None:
        table["carried_over"] = carried_over
    if carried_forward is not None:
        table["carried_forward"] = carried_forward
    return {"requests": table}


def rules(findings: list, rule: str) -> list:
    return [f for f in findings if f.rule == rule]


# ---- YOY-001 -----------------------------------------------------------------------------------

Z = [0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("carried_forward_last_year", "carried_over_now", "subject"),
    [
        (Z + [3], Z + [3], None),  # equal
        (Z + [3], Z + [4], "requests.carried_over[6]:4≠3"),  # one too many
        (Z + [3], Z + [2], "requests.carried_over[6]:2≠3"),  # one too few
        (Z + [3.0], Z + [3], None),  # 3.0 is 3
        (Z + [3], Z + [None], None),  # this year's 总计 blank, nothing else known
        ([None] * 7, Z + [4], None),  # last year's row all blank
        ([3, 0, 0, 0, 0, 0, 3], [2, 0, 0, 0, 0, 0, None], "requests.carried_over[0]:2≠3"),  # 总计 blank
        ([2, 1, 0, 0, 0, 0, 3], [3, 0, 0, 0, 0, 0, 3], None),  # 总计 agrees: the catalogue compares 总计
    ],
)
def test_carried_over_must_equal_last_years_carried_forward(carried_forward_last_year: list[Any],
                                                            carried_over_now: list[Any],
                                                            subject: str | None) -> None:
    previous = report(year=2019, tables=requests_table(carried_forward=carried_forward_last_year))
    current = report(year=2020, tables=requests_table(carried_over=carried_over_now))
    found = rules(check_history(current, previous, []), "YOY-001")
    assert [f.subject for f in found] == ([subject] if subject else [])
    if found:
        f = found[0]
        assert f.severity == "error"
        column = f.details["column"]
        assert f.details["expected"] == carried_forward_last_year[column]
        assert f.details["actual"] == carried_over_now[column]
        assert f.details["previous_year"] == 2019
        known = [c["column"] for c in f.details["columns"]]
        assert known == [i for i in range(7)
                         if carried_forward_last_year[i] is not None and carried_over_now[i] is not None]
        assert "2019年报告" in f.message


def test_carried_over_lists_every_column_known_on_both_sides() -> None:
    previous = report(year=2019, tables=requests_table(carried_forward=[1, None, 0, 0, 0, 0, 5]))
    current = report(year=2020, tables=requests_table(carried_over=[1, 2, 0, 0, None, 0, 3]))
    (f,) = rules(check_history(current, previous, []), "YOY-001")
    assert f.message == "表三“二、上年结转政府信息公开申请数量”行“总计”列为3，应等于2019年报告“四、结转下年度继续办理”的5。"
    assert [(c["column"], c["expected"], c["actual"], c["differs"]) for c in f.details["columns"]] == [
        (0, 1, 1, False), (2, 0, 0, False), (3, 0, 0, False), (5, 0, 0, False), (6, 5, 3, True)]


@pytest.mark.parametrize(
    ("previous_year", "previous_template", "table_present"),
    [(2018, "2019", True),  # not the year just before
     (2019, "2008", True),  # free-form report: no table 三
     (2019, "2019", False)],  # table 三 not found (STRUCT-002 says so)
)
def test_carried_over_stays_silent_without_a_comparable_previous_table(
        previous_year: int, previous_template: str, table_present: bool) -> None:
    previous = report(year=previous_year, template=previous_template,
                      tables=requests_table(carried_forward=Z + [5]) if table_present else {})
    current = report(year=2020, tables=requests_table(carried_over=Z + [3]))
    assert rules(check_history(current, previous, []), "YOY-001") == []


def test_carried_over_compares_across_the_2019_to_2021_templates() -> None:
    previous = report(year=2020, template="2019", tables=requests_table(carried_forward=Z + [2]))
    current = report(year=2021, template="2021", tables=requests_table(carried_over=Z + [0]))
    assert [f.subject for f in rules(check_history(current, previous, []), "YOY-001")] == [
        "requests.carried_over[6]:0≠2"]


# ---- YOY-002 -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("in_force_last_year", "issued", "repealed", "in_force", "subject"),
    [(5, 2, 1, 6, None),
     (5, 2, 1, 7, "active.normative_docs.in_force:7≠6"),
     (5, 2, 1, 5, "active.normative_docs.in_force:5≠6"),
     (5, None, 1, 7, None),
     (None, 2, 1, 7, None)],
)
def test_2021_in_force_carries_over(in_force_last_year: Any, issued: Any, repealed: Any, in_force: Any,
                                    subject: str | None) -> None:
    previous = report(year=2021, template="2021", tables={"active": {
        "normative_docs": {"issued": 0, "repealed": 0, "in_force": in_force_last_year}}})
    current = report(year=2022, template="2021", tables={"active": {
        "normative_docs": {"issued": issued, "repealed": repealed, "in_force": in_force}}})
    found = rules(check_history(current, previous, []), "YOY-002")
    assert [f.subject for f in found] == ([subject] if subject else [])
    if found:
        d = found[0].details
        assert (d["table"], d["row"], d["column"], d["expected"], d["actual"]) == (
            "active", "normative_docs", "in_force", 6, in_force)
        assert found[0].severity == "warning"


@pytest.mark.parametrize(
    ("prev_last_year", "change_last_year", "prev_now", "subject"),
    [(10, -2, 8, None),
     (10, -2, 9, "active.licensing.prev:9≠8"),
     (10, -2, 7, "active.licensing.prev:7≠8"),
     (10, None, 9, None),
     (10, -2, None, None)],
)
def test_2019_item_counts_carry_over(prev_last_year: Any, change_last_year: Any, prev_now: Any,
                                     subject: str | None) -> None:
    previous = report(year=2019, tables={"active": {
        "licensing": {"prev": prev_last_year, "change": change_last_year, "decisions": 4}}})
    current = report(year=2020, tables={"active": {
        "licensing": {"prev": prev_now, "change": 0, "decisions": 1}}})
    found = rules(check_history(current, previous, []), "YOY-002")
    assert [f.subject for f in found] == ([subject] if subject else [])
    if found:
        assert found[0].details["expected"] == 8
        assert found[0].details["column"] == "prev"


def test_carrying_counts_not_compared_across_templates() -> None:
    previous = report(year=2020, template="2019", tables={"active": {
        "normative_docs": {"made": 1, "published": 1, "total": 9}}})
    current = report(year=2021, template="2021", tables={"active": {
        "normative_docs": {"issued": 0, "repealed": 0, "in_force": 1}}})
    assert rules(check_history(current, previous, []), "YOY-002") == []


# ---- the prose measure -------------------------------------------------------------------------

def _pair(shared: int, total: int = 1000) -> tuple[ParsedReport, ParsedReport]:
    """A: `shared` characters also in B, then its own; B: the shared part, then other text."""
    s = cjk(shared, "s")
    a = report([s, cjk(total - shared, "u")], year=2020)
    b = report([s, cjk(total, "v")], year=2019)
    return a, b


@pytest.mark.parametrize(
    ("shared", "threshold", "fires"),
    [(499, 0.5, False), (500, 0.5, True), (501, 0.5, True),
     (599, 0.6, False), (600, 0.6, True)],
)
def test_same_as_last_year_at_the_threshold(shared: int, threshold: float, fires: bool) -> None:
    current, previous = _pair(shared)
    assert similarity(current, previous).score == shared / 1000
    found = rules(check_history(current, previous, [], threshold=threshold), "YOY-003")
    assert bool(found) is fires
    if fires:
        f = found[0]
        assert f.subject == "previous:2019"
        assert f.details["percent"] == round(shared / 10)
        assert f.details["previous_year"] == 2019
        assert f.severity == "warning"
        assert f.message.startswith("本报告与本机关2019年报告内容雷同：正文有")


def test_same_as_last_year_subject_does_not_move_with_the_percentage() -> None:
    a1, previous = _pair(700)
    a2, _ = _pair(600)  # the same text with 100 characters rewritten
    s1 = rules(check_history(a1, previous, []), "YOY-003")[0]
    s2 = rules(check_history(a2, previous, []), "YOY-003")[0]
    assert s1.details["percent"] != s2.details["percent"]
    assert s1.fingerprint("甲镇", 2020) == s2.fingerprint("甲镇", 2020)


def test_fixed_wording_does_not_count() -> None:
    boilerplate = [
        "一、总体情况", "本报告中所列数据的统计期限自2020年1月1日起至2020年12月31日止。",
        "二、主动公开政府信息情况", "第二十条第（一）项", "信息内容 本年新制作数量 本年新公开数量 对外公开总数量",
        "三、收到和处理政府信息公开申请情况",
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
        "四、政府信息公开行政复议、行政诉讼情况", "结果维持 结果纠正 其他结果 尚未审结 总计 未经复议直接起诉 复议后起诉",
        "五、存在的主要问题及改进情况", "六、其他需要报告的事项", "本机关无其他需要报告的事项。",
    ]
    a = report(boilerplate + [cjk(150, "u")])
    b = report(boilerplate + [cjk(150, "v")], year=2019)
    raw_shared = sum(len(p) for p in boilerplate)
    assert raw_shared > 150  # without removing the fixed wording, A would be mostly B
    assert similarity(a, b).score == 0.0
    assert rules(check_history(a, b, []), "YOY-003") == []


def test_dates_numbers_and_body_names_are_normalised() -> None:
    body = cjk(80, "s")
    a = report([f"2020年，刘楼镇{body}，全年公开信息115条，刘楼镇人民政府党委{body}。"] * 3,
               entity="刘楼镇人民政府")
    b = report([f"2019年，刘二堡{body}，全年公开信息74条，沈阳市辽中区刘二堡镇人民政府党委{body}。"] * 3,
               entity="沈阳市辽中区刘二堡镇人民政府", year=2019)
    assert similarity(a, b).score == 1.0


def test_passages_are_the_longest_shared_quoted_from_the_original() -> None:
    long_p = cjk(60, "s", 1) + "，" + cjk(200, "s", 2)
    mid_p, short_p, tiny_p = cjk(40, "s", 3), cjk(30, "s", 4), cjk(20, "s", 5)
    a = report([tiny_p, cjk(50, "u", 1), long_p, cjk(50, "u", 2), short_p, cjk(50, "u", 3), mid_p])
    b = report([mid_p, cjk(50, "v"), short_p, tiny_p, long_p], year=2019)
    sim = similarity(a, b)
    assert len(sim.passages) == 3
    assert sim.passages[0] == long_p[: QUOTE_CHARS - 1] + "…"  # the comma is kept: original text
    assert sim.passages[1:] == (mid_p, short_p)


def test_stock_phrases_shorter_than_a_tile_do_not_count() -> None:
    phrase = "深入推进工作"  # 6 characters, shared by both, in every paragraph
    a = report([phrase + cjk(40, "u", i) for i in range(10)])
    b = report([phrase + cjk(40, "v", i) for i in range(10)], year=2019)
    assert similarity(a, b).score == 0.0


def _sectioned(overview: str, problems: str, *, with_sections: bool, **kw: Any) -> ParsedReport:
    prose = ["一、总体情况", overview, "五、存在的主要问题及改进情况", problems]
    sections = [Section("overview", "一、", "总体情况", 0, overview),
                Section("problems", "五、", "存在的主要问题及改进情况", 2, problems)] if with_sections else []
    return report(prose, sections=sections, **kw)


@pytest.mark.parametrize("with_sections", [True, False])
def test_a_copied_section_is_enough_and_is_named(with_sections: bool) -> None:
    problems = cjk(300, "s")
    current = _sectioned(cjk(800, "u"), problems, with_sections=with_sections)
    previous = _sectioned(cjk(800, "v"), problems, with_sections=with_sections, year=2019)
    sim = similarity(current, previous)
    assert sim.overall == pytest.approx(300 / 1100)  # the headings' numbering is fixed wording too
    assert sim.sections == {"overview": 0.0, "problems": 1.0}
    (f,) = rules(check_history(current, previous, []), "YOY-003")
    assert f.details["section"] == "problems"
    assert f.details["sections"] == {"overview": 0, "problems": 100}
    assert f.details["overall"] == 27
    assert "“五、存在的主要问题及改进情况”部分有100%" in f.message


def test_stored_reports_without_section_text_measure_the_same() -> None:
    problems = cjk(300, "s")
    current = _sectioned(cjk(800, "u"), problems, with_sections=True)
    previous = _sectioned(cjk(800, "v"), problems, with_sections=True, year=2019)
    reloaded = ParsedReport.from_dict(current.to_dict())  # keeps section titles, drops their text
    assert similarity(reloaded, previous) == similarity(current, previous)


def test_a_short_section_cannot_make_reports_alike() -> None:
    other = "本单位本年度" + cjk(40, "s")  # under MIN_CHARS once normalised
    current = report(["一、总体情况", cjk(500, "u"), "六、其他需要报告的事项", other])
    previous = report(["一、总体情况", cjk(500, "v"), "六、其他需要报告的事项", other], year=2019)
    assert similarity(current, previous).sections == {"overview": 0.0}
    assert rules(check_history(current, previous, []), "YOY-003") == []


def test_too_little_prose_is_never_alike() -> None:
    text = cjk(90, "s")
    assert similarity(report([text]), report([text])).score == 0.0


def test_threshold_must_be_a_share() -> None:
    with pytest.raises(ValueError):
        check_history(report(), None, [], threshold=50)


# ---- TEXT-003 ----------------------------------------------------------------------------------

def test_copied_from_a_peer_names_the_other_body_and_quotes() -> None:
    shared = cjk(600, "s")
    mine = report([shared, cjk(400, "u")], entity="甲镇")
    theirs = report([shared, cjk(400, "v")], entity="乙镇人民政府")
    (f,) = check_history(mine, None, [("乙镇", theirs)])
    assert (f.rule, f.severity, f.subject) == ("TEXT-003", "warning", "乙镇")
    assert f.details["other"] == "乙镇"
    assert f.details["percent"] == 60
    assert f.details["passages"] == [shared[: QUOTE_CHARS - 1] + "…"]
    assert f.message.startswith("与乙镇的同年报告大段相同：正文有60%的文字相同")


def test_copying_is_reported_on_both_sides() -> None:
    shared = cjk(300, "s")
    short = report([shared], entity="甲镇")  # wholly inside the long one
    long = report([cjk(1500, "u"), shared, cjk(1500, "v")], entity="乙镇")
    assert [f.subject for f in check_history(short, None, [("乙镇", long)])] == ["乙镇"]
    (f,) = check_history(long, None, [("甲镇", short)])
    assert f.subject == "甲镇"
    assert f.details["percent"] == 100
    assert f.details["overall"] == 9  # 300 of 3300 of its own text
    assert "对方正文有100%" in f.message


@pytest.mark.parametrize(
    ("name", "entity", "year"),
    [("甲镇", "乙镇", 2020),  # the peer's name is this body's
     ("乙镇", "甲镇", 2020),  # the peer's report is this body's
     ("乙镇", "乙镇", 2019)],  # another year
)
def test_peers_that_are_not_other_bodies_of_the_same_year_are_skipped(name: str, entity: str,
                                                                      year: int) -> None:
    text = [cjk(600, "s")]
    assert check_history(report(text, entity="甲镇"), None,
                         [(name, report(text, entity=entity, year=year))]) == []


def test_no_previous_and_no_peers_gives_nothing() -> None:
    assert check_history(report([cjk(500, "s")]), None, []) == []


# ---- the seeds ---------------------------------------------------------------------------------

SEED_BODIES = {"000": "刘楼镇", "001": "齐都镇", "003": "吕店镇", "004": "刘二堡镇"}
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="/work/shared/seeds absent")


def _seed_path(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def _seed_prose_only(prefix: str) -> ParsedReport:
    lines = _seed_path(prefix).read_text(encoding="utf-8").splitlines()
    # Same year for all: TEXT-003 compares reports of one year, and we want the measure exercised.
    return report([ln for ln in lines if ln.strip() and not ln.startswith("\t")],
                  entity=SEED_BODIES[prefix], year=2019)


def _text003(a: ParsedReport, b: ParsedReport) -> list[str]:
    return [f.subject for f in check_history(a, None, [(b.entity or "", b)]) if f.rule == "TEXT-003"]


@needs_seeds
def test_seeds_000_and_004_share_whole_paragraphs() -> None:
    r000, r004 = _seed_prose_only("000"), _seed_prose_only("004")
    assert _text003(r000, r004) == ["刘二堡镇"]
    assert _text003(r004, r000) == ["刘楼镇"]
    (f,) = check_history(r004, None, [("刘楼镇", r000)])
    assert any("本着“规范、明了、方便、实用”的原则" in p for p in f.details["passages"])


@needs_seeds
@pytest.mark.parametrize(("a", "b"), [("001", "003"), ("003", "001"), ("000", "001"), ("003", "004")])
def test_unrelated_seeds_are_not_alike(a: str, b: str) -> None:
    assert _text003(_seed_prose_only(a), _seed_prose_only(b)) == []


@needs_seeds
def test_seeds_through_the_parser() -> None:
    parse = pytest.importorskip("monitor.parse")
    extract = pytest.importorskip("monitor.extract")

    def parsed(prefix: str) -> ParsedReport:
        path = _seed_path(prefix)
        doc = extract.extract(path.read_bytes(), filename=path.name)
        # Same year for all (003 is a 2020 report), so that the measure itself is what is tested.
        return dataclasses.replace(parse.parse_document(doc), year=2019)

    r = {k: parsed(k) for k in ("000", "001", "003", "004")}
    assert _text003(r["000"], r["004"]) == [r["004"].entity]
    assert _text003(r["004"], r["000"]) == [r["000"].entity]
    assert _text003(r["001"], r["003"]) == []
    assert _text003(r["003"], r["001"]) == []


# ---- YOY-004 -----------------------------------------------------------------------------------

def _published(**changes: Any) -> ParsedReport:
    base = report(
        ["一、总体情况", "2020年，本镇主动公开政府信息115条。", "五、存在的主要问题及改进情况", "人员不足。"],
        title="甲镇2020年政府信息公开工作年度报告",
        tables={"requests": {"new": [1, 0, 0, 0, 0, 0, 1], "carried_forward": [0] * 7},
                "active": {"licensing": {"prev": 3, "change": 0, "decisions": 2}}})
    base.published_at = "2021-01-20"
    return dataclasses.replace(base, **changes)


def test_describe_change_lists_exactly_the_changed_cell() -> None:
    old = _published()
    new = _published(tables={"requests": {"new": [1, 0, 0, 0, 0, 0, 2], "carried_forward": [0] * 7},
                             "active": {"licensing": {"prev": 3, "change": 0, "decisions": 2}}})
    f = describe_change(old, new)
    assert f is not None
    assert (f.rule, f.severity) == ("YOY-004", "info")
    assert f.details["cells"] == [{"table": "requests", "row": "new", "column": 6, "old": 1, "new": 2,
                                   "label": "表三“一、本年新收政府信息公开申请数量”行“总计”列"}]
    assert f.details["fields"] == [] and f.details["prose"] is None
    assert f.message == "报告发布后被修改。表格数据改动：表三“一、本年新收政府信息公开申请数量”行“总计”列由1改为2。"


def test_describe_change_names_a_changed_dict_cell() -> None:
    new = _published(tables={"requests": {"new": [1, 0, 0, 0, 0, 0, 1], "carried_forward": [0] * 7},
                             "active": {"licensing": {"prev": 3, "change": 0, "decisions": 5}}})
    f = describe_change(_published(), new)
    assert f is not None
    assert [(c["table"], c["row"], c["column"], c["old"], c["new"]) for c in f.details["cells"]] == [
        ("active", "licensing", "decisions", 2, 5)]


@pytest.mark.parametrize(
    "changes",
    [{},
     {"prose": ["一、总体情况", "2020年， 本镇主动公开政府信息115条。 ", "五、存在的主要问题及改进情况", "人员不足。", ""]},
     {"prose": ["一、总体情况", "2020年，本镇主动公开政府信息１１５条。", "五、存在的主要问题及改进情况", "人员不足。"]},
     {"tables": {"requests": {"new": [1.0, 0, 0, 0, 0, 0, 1], "carried_forward": [0] * 7},
                 "active": {"licensing": {"prev": 3, "change": 0, "decisions": 2}}}},
     {"notes": {"blank_cells": ["x"]}, "format": "html"}],
    ids=["identical", "whitespace", "full-width digits", "1.0 is 1", "parser notes"],
)
def test_describe_change_ignores_what_is_not_a_change(changes: dict[str, Any]) -> None:
    assert describe_change(_published(), _published(**changes)) is None


def test_describe_change_summarises_prose_and_fields() -> None:
    new = _published(prose=["一、总体情况", "2020年，本镇主动公开政府信息118条。", "五、存在的主要问题及改进情况",
                            "人员不足。", "下一步将加强培训。"],
                     title="甲镇2020年度政府信息公开工作年度报告", published_at="2021-02-01")
    f = describe_change(_published(), new)
    assert f is not None
    assert f.details["prose"]["changed"] == 1 and f.details["prose"]["added"] == 1
    assert f.details["prose"]["removed"] == 0
    assert {x["field"] for x in f.details["fields"]} == {"title", "published_at"}
    assert "正文修改1段，新增1段（如“…主动公开政府信息115条。”改为“…主动公开政府信息118条。”）" in f.message
    assert "成文日期由“2021-01-20”改为“2021-02-01”" in f.message


def test_describe_change_subject_is_stable_for_the_same_change() -> None:
    changed = {"title": "新标题"}
    a = describe_change(_published(), _published(**changed))
    b = describe_change(_published(), _published(**changed))
    c = describe_change(_published(), _published(title="另一个标题"))
    assert a is not None and b is not None and c is not None
    assert a.subject == b.subject != c.subject


# ---- YOY-005 -----------------------------------------------------------------------------------

def test_disappeared() -> None:
    f = disappeared("刘楼镇人民政府", 2019, "http://example.gov.cn/gknb/2019.html", "2024-03-01")
    assert (f.rule, f.severity, f.subject) == ("YOY-005", "warning", "http://example.gov.cn/gknb/2019.html")
    assert f.details == {"entity": "刘楼镇人民政府", "year": 2019,
                         "url": "http://example.gov.cn/gknb/2019.html", "last_seen": "2024-03-01"}
    assert "刘楼镇人民政府2019年度报告已从门户网站撤下" in f.message


# ---- declarations ------------------------------------------------------------------------------

@pytest.mark.parametrize("rule_id", HIST_IDS)
def test_hist_rules_are_declared(rule_id: str) -> None:
    import monitor.history  # noqa: F401  (registers the hist rules)

    cls = registry()[rule_id]
    assert cls.scope == "hist"
    assert cls.severity in ("error", "warning", "info")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in cls.explanation())


@needs_seeds
def test_both_directions_from_one_comparison_match_two_comparisons() -> None:
    from monitor.history import similarity_pair

    r000, r004 = _seed_prose_only("000"), _seed_prose_only("004")
    forward, backward = similarity_pair(r000, r004)
    assert forward == similarity(r000, r004)
    direct = similarity(r004, r000)
    assert backward.overall == pytest.approx(direct.overall, abs=0.02)
    assert backward.sections.keys() == direct.sections.keys()
    for key, share in direct.sections.items():
        assert backward.sections[key] == pytest.approx(share, abs=0.02)


def test_same_as_last_year_needs_an_earlier_report() -> None:
    current, previous = _pair(900)
    later = dataclasses.replace(previous, year=2021)
    assert rules(check_history(current, later, []), "YOY-003") == []
    older = dataclasses.replace(previous, year=2017)  # the last one stored, years ago: still named
    (f,) = rules(check_history(current, older, []), "YOY-003")
    assert (f.subject, f.details["previous_year"]) == ("previous:2017", 2017)
    assert f.message.startswith("本报告与本机关2017年报告内容雷同")


def _reference_tiling(a: str, b: str) -> list[tuple[int, int, int]]:
    """The greedy tiling written the slow, obvious way: walk every position of a."""
    from monitor.similarity import MAX_CANDIDATES, MIN_TILE, SHINGLE

    index: dict[str, list[int]] = {}
    for j in range(len(b) - SHINGLE + 1):
        index.setdefault(b[j : j + SHINGLE], []).append(j)
    out, i = [], 0
    while i <= len(a) - MIN_TILE:
        best, best_j = 0, 0
        for j in index.get(a[i : i + SHINGLE], [])[:MAX_CANDIDATES]:
            n = 0
            while i + n < len(a) and j + n < len(b) and a[i + n] == b[j + n]:
                n += 1
            if n > best:
                best, best_j = n, j
        if best >= MIN_TILE:
            out.append((i, best_j, best))
            i += best
        else:
            i += 1
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("alphabet", "gap"), [("甲乙丙", 60), ("甲乙丙丁戊己庚辛", 60), (None, 60), (None, 900)],
                         ids=["3", "8", "large", "large-sparse"])
def test_tiling_matches_the_obvious_algorithm(seed: int, alphabet: str | None, gap: int) -> None:
    # Small alphabets make many repeated shingles and candidates; "large-sparse" shares little, so
    # compare() looks positions up instead of scanning.
    rng = random.Random(seed)
    chars = list(alphabet) if alphabet else POOLS["u"]

    def text(n: int) -> str:
        return "".join(rng.choice(chars) for _ in range(n))

    copied = [cjk(rng.randrange(5, 80), "s", seed * 10 + k) for k in range(6)]
    a = "".join(text(rng.randrange(0, gap)) + c for c in copied) + copied[0]  # a passage used twice
    b = "".join(c + text(rng.randrange(0, 60)) for c in reversed(copied))
    pa, pb = prepare(a), prepare(b)
    assert pa.norm == a and pb.norm == b
    got = [(p.a_start, p.b_start, p.length) for p in compare(pa, pb).passages]
    assert got == _reference_tiling(a, b)


def test_one_finding_per_other_body() -> None:
    shared = cjk(600, "s")
    mine = report([shared, cjk(400, "u")], entity="甲镇")
    draft = report([shared, cjk(900, "v")], entity="乙镇")  # 60 % of mine
    final = report([shared, cjk(100, "w"), cjk(200, "u")], entity="乙镇")  # 80 % of mine
    (f,) = check_history(mine, None, [("乙镇", draft), ("乙镇", final)])
    assert (f.subject, f.details["percent"]) == ("乙镇", 80)


def test_odd_cell_values_keep_the_rules_silent() -> None:
    previous = report(year=2021, template="2021", tables={
        "requests": {"carried_forward": ["x"] * 7},
        "active": {"normative_docs": {"issued": 0, "repealed": 0, "in_force": "5"}}})
    current = report(year=2022, template="2021", tables={
        "requests": {"carried_over": Z + [3]},
        "active": {"normative_docs": {"issued": 1, "repealed": 0, "in_force": 9}}})
    assert check_history(current, previous, []) == []
