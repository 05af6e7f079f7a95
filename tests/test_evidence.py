"""Evidence of findings (monitor/evidence.py), exact on fixtures, and the fingerprint a review is
tied to: rule, body, year and the cells concerned, never the message's wording."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from monitor.engine import check_bytes
from monitor.evidence import evidence, evidence_text, excerpt
from monitor.history import check_history

FIX = Path(__file__).parent / "fixtures" / "review"


def _check(name: str, text: str | None = None):
    data = text.encode() if text is not None else (FIX / name).read_bytes()
    result = check_bytes(data, filename="r.txt")
    assert result.report is not None, result.error
    return result


def _one(findings, rule: str, subject_start: str = ""):
    found = [f for f in findings if f.rule == rule and f.subject.startswith(subject_start)]
    assert len(found) == 1, [(f.rule, f.subject) for f in findings]
    return found[0]


def test_arith_001_evidence_is_exact() -> None:
    f = _one(_check("arith_2022.txt").findings, "ARITH-001", "自然人:")
    assert evidence_text(f.rule, f.details, f.message) == "\n".join([
        "公式：本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理（“自然人”列）",
        "左边：16 + 1 = 17",
        "右边：15 + 1 = 16",
        "相差：1",
        "单元格：",
        "  表三“一、本年新收政府信息公开申请数量”行“自然人”列 = 16",
        "  表三“二、上年结转政府信息公开申请数量”行“自然人”列 = 1",
        "  表三“三（七）总计”行“自然人”列 = 15",
        "  表三“四、结转下年度继续办理”行“自然人”列 = 1",
    ])


def test_arith_006_evidence_quotes_20_characters_around_the_figure_with_its_section() -> None:
    f = _one(_check("arith_2022.txt").findings, "ARITH-006")
    assert evidence_text(f.rule, f.details, f.message) == "\n".join([
        "公式：正文所述“本年新收申请” = 表三“一、本年新收政府信息公开申请数量”行“总计”列",
        "左边：17（三、收到和处理政府信息公开申请情况：“…渠道受理申请,全年共收到政府信息公开申请17件,"
        "均在法定期限内答复,没有因答复引起行…”）",
        "右边：18",
        "相差：-1",
        "单元格：",
        "  表三“一、本年新收政府信息公开申请数量”行“总计”列 = 18",
    ])


def test_yoy_003_evidence_shows_sections_and_passages_side_by_side() -> None:
    current, previous = _check("current_2022.txt").report, _check("previous_2021.txt").report
    f = _one(check_history(current, previous, []), "YOY-003")
    assert evidence_text(f.rule, f.details, f.message) == "\n".join([
        "相同文字比例（不计模板固定用语）：正文 84%",
        "  一、总体情况 100%",
        "阈值：50%",
        "最长的相同段落（本报告 | 2021年报告）：",
        "  1. “白沙乡人民政府2022年政府信息公开工作年度报告 根据《中华人民共和国政府信息公开条例》规定,"
        "白沙乡人民政府编制本报告。本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止。 "
        "一、总体情况 2022年,白沙乡围绕群众…” | “白沙乡人民政府2021年政府信息公开工作年度报告 "
        "根据《中华人民共和国政府信息公开条例》规定,白沙乡人民政府编制本报告。本报告中所列数据的统计期限"
        "自2021年1月1日起至2021年12月31日止。 一、总体情况 2021年,白沙乡围绕群众…”",
        "  2. “本年度未收取信息处理费。 白沙乡人民政府 2023年1月18日” | "
        "“本年度未收取信息处理费。 白沙乡人民政府 2022年1月20日”",
    ])


def test_excerpt_cuts_at_20_characters_and_marks_the_cuts() -> None:
    s = "甲" * 30 + "17件" + "乙" * 30
    assert excerpt(s, "17") == "…" + "甲" * 20 + "17件" + "乙" * 19 + "…"
    assert excerpt("共17件。", "17") == "共17件。"
    assert excerpt("没有数字", "5") == "没有数字"


def test_every_rule_has_evidence_and_odd_details_do_not_break_it() -> None:
    # rules without figures fall back to their message; details of another shape never raise
    assert evidence("TIME-004", {}, "逾期未公开") == ["依据：逾期未公开"]
    assert evidence("ARITH-001", {"cells": "garbled"}, "m") == ["依据：m"]
    assert evidence("ARITH-003", None, "m")[0].startswith("公式：（七）总计")


def test_fingerprint_covers_the_cells_and_not_the_wording() -> None:
    f = _one(_check("arith_2022.txt").findings, "ARITH-001", "自然人:")
    reworded = dataclasses.replace(f, message="另一种说法", details={})
    assert reworded.fingerprint(7, 2022) == f.fingerprint(7, 2022)
    # another value in the same cell: another finding
    changed = (FIX / "arith_2022.txt").read_text("utf-8").replace(
        "一、本年新收政府信息公开申请数量\t\t16\t0\t0\t0\t2\t0\t18", "一、本年新收政府信息公开申请数量\t\t19\t0\t0\t0\t2\t0\t21")
    g = _one(_check("", changed).findings, "ARITH-001", "自然人:")
    assert g.fingerprint(7, 2022) != f.fingerprint(7, 2022)
    assert f.fingerprint(8, 2022) != f.fingerprint(7, 2022) and f.fingerprint(7, 2021) != f.fingerprint(7, 2022)
