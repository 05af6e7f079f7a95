"""The 统计期限 sentence as real reports word it (STRUCT-005 must not fire on any of them)."""

from __future__ import annotations

import pytest

from monitor.engine import check_bytes

BODY = ("{entity}{year}年政府信息公开工作年度报告\n"
        "本报告根据《中华人民共和国政府信息公开条例》编制。{period}\n"
        "一、概述\n{year}年，我区认真贯彻落实《条例》，全面做好政府信息公开工作。\n"
        "二、主动公开政府信息情况\n{year}年，我区共主动公开政府信息1200条。\n"
        "三、依申请公开情况\n{year}年，我区共受理政府信息公开申请25件，均已按时答复。\n"
        "四、行政复议和行政诉讼情况\n未发生因政府信息公开申请行政复议和提起行政诉讼的情况。\n"
        "五、存在的主要问题及改进措施\n公开内容不够全面。\n"
        "{entity}人民政府办公室\n{next}年1月20日\n")


@pytest.mark.parametrize("sentence", [
    "本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。",
    "本报告统计数据从{y}年1月1日至{y}年12月31日止。",
    "报告所列数据的统计期限自{y}年1月1日起至12月31日止。",
    "本年度报告中所列数据统计期限为{y}年1月1日至12月31日。",
    "本报告中所列数据的统计时限自{y}年1月1日至{y}年12月31日。",
    "本报告数据统计范围为{y}年1月1日到{y}年12月31日。",
    "本报告所列数据统计时间段为{y}年1月1日-{y}年12月31日。",
    "本报告所列数据统计期限为{y}年1月1日至{y}年12月31日。",
])
def test_period_sentence_variants(sentence: str) -> None:
    text = BODY.format(entity="晋安区", year=2016, next=2017, period=sentence.format(y=2016))
    result = check_bytes(text.encode("utf-8"), filename="report.txt")
    assert result.report is not None and result.report.period == ["2016-01-01", "2016-12-31"]
    assert "STRUCT-005" not in {f.rule for f in result.findings}


def test_no_period_sentence_is_struct005() -> None:
    text = BODY.format(entity="晋安区", year=2016, next=2017, period="2016年1月1日至3月31日开展了统计调查。")
    result = check_bytes(text.encode("utf-8"), filename="report.txt")
    assert result.report is not None and result.report.period is None
    assert "STRUCT-005" in {f.rule for f in result.findings}
