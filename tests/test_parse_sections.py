"""Section headings as real reports word them: each still names its section (STRUCT-001 must not
fire), and numbered sub-headings "(一)…" inside a section are not sections."""

from __future__ import annotations

import pytest

from monitor.engine import check_bytes

CANONICAL = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
             "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
KEYS = ["overview", "active", "requests", "review_litigation", "problems", "other"]


def report(headings: list[str]) -> bytes:
    lines = ["青石镇2021年政府信息公开工作年度报告",
             "本报告中所列数据的统计期限自2021年1月1日起至2021年12月31日止。"]
    for h in headings:
        lines += [h, "（一）主动公开情况", "我镇认真贯彻落实《条例》，做好相关工作，群众满意度不断提升。"]
    return "\n".join(lines).encode("utf-8")


@pytest.mark.parametrize(("index", "variant"), [
    (0, "一、总体概述"), (0, "一、总体概况"), (0, "一、概述"), (0, "一、 总体情况"),
    (1, "二、主动公开政府政府情况"), (1, "二、政府信息主动公开情况"), (1, "二、主动公开政府信息的情况"),
    (5, "六、其他报告事项"), (5, "六、其他需报告的事项"), (5, "六、其他需要说明的事项"),
])
def test_heading_variant_names_its_section(index: int, variant: str) -> None:
    headings = list(CANONICAL)
    headings[index] = variant
    result = check_bytes(report(headings), filename="report.txt")
    assert result.report is not None
    assert [s.key for s in result.report.sections] == KEYS
    assert "STRUCT-001" not in {f.rule for f in result.findings}


def test_a_missing_section_is_still_struct001() -> None:
    result = check_bytes(report(CANONICAL[:4] + CANONICAL[5:]), filename="report.txt")
    assert "problems" not in [s.key for s in result.report.sections]
    assert "STRUCT-001" in {f.rule for f in result.findings}
