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


# ---- one place decides whose report and which year (crawler, parse, pipeline) -----------------

CHROME = ["标题：刘楼镇2024年政府信息公开工作年度报告", "标题:刘楼镇2024年政府信息公开工作年度报告",
          "汶上县人民政府网 - 刘楼镇2024年政府信息公开工作年度报告", "汶上县人民政府网-刘楼镇2024年政府信息公开工作年度报告",
          "【】刘楼镇2024年政府信息公开工作年度报告", "【 】 刘楼镇2024年政府信息公开工作年度报告"]


@pytest.mark.parametrize("title", CHROME)
def test_page_chrome_is_not_part_of_the_body(title: str) -> None:
    from crawler.spiders.base import resolve_body
    from crawler.titles import classify_title, entity_from_title
    from monitor.document import Document, Paragraph
    from monitor.parse import parse_document

    assert entity_from_title(title) == "刘楼镇"
    info = classify_title(title)
    assert info.is_report and info.year == 2024 and info.body == "刘楼镇"
    bodies = [{"name": "刘楼镇人民政府", "kind": "township"}]
    assert resolve_body(info.body, bodies, "汶上县") == "刘楼镇人民政府"
    report = parse_document(Document([Paragraph("一、总体情况"), Paragraph("正文。")], "txt", {}), title_hint=title)
    assert (report.entity, report.year) == ("刘楼镇", 2024)


def test_the_crawler_and_the_pipeline_match_bodies_alike() -> None:
    from types import SimpleNamespace

    from crawler.spiders.base import resolve_body
    from monitor.pipeline import match_entity

    bodies = [("刘楼镇人民政府", "township", ["刘楼"]), ("汶上县人民政府", "county_gov", []),
              ("汶上县教育局", "department", [])]
    entities = [SimpleNamespace(name=n, kind=k, aliases=a) for n, k, a in bodies]
    dicts = [{"name": n, "kind": k, "aliases": a} for n, k, a in bodies]
    for text, expected in [("刘楼镇", "刘楼镇人民政府"), ("刘楼", "刘楼镇人民政府"), ("汶上县教育局", "汶上县教育局"),
                           ("标题：刘楼镇人民政府", "刘楼镇人民政府")]:
        assert resolve_body(text, dicts, "汶上县") == expected
        assert match_entity(entities, [text]).name == expected
    assert resolve_body("汶上县", dicts, "汶上县") == "汶上县人民政府"
    assert resolve_body("白沙乡", dicts, "汶上县") == "白沙乡"  # unknown: the name itself
    assert match_entity(entities, ["白沙乡"]) is None


@pytest.mark.parametrize(("text", "year"), [("刘楼镇2024年政府信息公开工作年度报告", 2024),
                                            ("刘楼镇二〇二四年度政府信息公开工作年报", 2024),
                                            ("关于2025年发布刘楼镇2024年度信息公开年报的公告", 2024),
                                            ("刘楼镇2023政府信息公开工作年度报告", 2023), ("无年份", None)])
def test_one_year_reader(text: str, year: int | None) -> None:
    from crawler.titles import title_year
    from monitor.document import Document, Paragraph
    from monitor.parse import parse_document

    assert title_year(text) == year
    report = parse_document(Document([Paragraph("一、总体情况")], "txt", {}), title_hint=text)
    assert report.year == year
