"""Annual reports are told from other items by title (portals.md: titles and distractors)."""

from __future__ import annotations

import pytest

from crawler.titles import classify_title, title_year

REPORTS = [
    ("刘楼镇2025年政府信息公开工作年度报告", "刘楼镇", 2025),
    ("2025年度刘楼镇政府信息公开工作年报", "刘楼镇", 2025),
    ("汶上县人民政府办公室2025年政务公开工作年度报告", "汶上县人民政府办公室", 2025),
    ("关于汶上县财政局2025年政府信息公开工作年度报告的公告", "汶上县财政局", 2025),
    ("次丘镇人民政府2024年度政府信息公开工作年度报告", "次丘镇人民政府", 2024),
    ("【下载】城关街道 2023年 政府信息公开工作年度报告", "城关街道", 2023),
    ("汶上县统计局2025年政府信息公开工作年度报告", "汶上县统计局", 2025),
    ("汶上县卫生和计划生育局2016年政府信息公开工作年度报告", "汶上县卫生和计划生育局", 2016),
    ("2025年刘楼镇政府信息公开工作年度报告", "刘楼镇", 2025),
    ("刘楼镇人民政府信息公开工作年度报告（2022年度）", "刘楼镇人民政府", 2022),
    ("二〇二五年度义桥镇政府信息公开工作年度报告", "义桥镇", 2025),
]

DISTRACTORS = [
    "关于做好2025年政府信息公开工作年度报告编制发布工作的通知",
    "企业年度报告公示",
    "关于开展2025年度企业年度报告公示工作的通知",
    "2025年统计年报",
    "2025年统计年报填报说明",
    "汶上县2024年部门决算",
    "汶上县2025年部门预算公开",
    "2025年社会组织年报",
    "政府信息公开工作年度报告格式（模板）",
    "汶上县2025年政务公开工作要点",
    "政府信息公开指南",
    "刘楼镇召开2025年度工作部署会",
]


@pytest.mark.parametrize(("title", "body", "year"), REPORTS)
def test_report_titles_give_body_and_year(title: str, body: str, year: int) -> None:
    info = classify_title(title)
    assert info.is_report, title
    assert info.body == body
    assert info.year == year


@pytest.mark.parametrize("title", DISTRACTORS)
def test_distractors_are_not_reports(title: str) -> None:
    assert not classify_title(title).is_report


def test_year_prefers_the_one_written_niandu() -> None:
    assert title_year("2026年1月发布：刘楼镇2025年度政府信息公开工作年报") == 2025
    assert title_year("没有年份") is None
