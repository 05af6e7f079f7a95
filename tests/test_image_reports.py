"""Reports published as pictures: scanned pages as images in an HTML page, or a PDF of page images.
Nothing can be read without OCR; the check says so (STRUCT-006) instead of judging an empty report
(wrong template, no period, missing tables)."""

from __future__ import annotations

import pytest

from crawler.sim.content import scanned_pdf
from monitor.engine import check_bytes

TITLE = "刘楼镇2025年政府信息公开工作年度报告"


def page(body: str, charset: str = "utf-8") -> bytes:
    return (f'<html><head><meta charset="{charset}"><title>{TITLE}_刘楼镇人民政府</title></head><body>'
            '<div class="header"><a href="/">首页</a> <a href="/xxgk/">政府信息公开</a> <a href="/hd/">互动交流</a></div>'
            f'<div class="TRS_Editor">{body}</div>'
            '<div class="footer">主办：模拟县人民政府办公室 地址：模拟县人民路1号 电话：0000-1234567</div>'
            "</body></html>").encode(charset)


@pytest.mark.parametrize("images", [1, 3, 12])
def test_html_page_of_scanned_images_is_struct006(images: int) -> None:
    body = f'<p style="text-align:center">{TITLE}</p>' + "".join(
        f'<p><img src="/u/cms/2026/01/{i}.jpg" width="600"></p>' for i in range(images))
    result = check_bytes(page(body), filename="t20260115_1.html")
    rules = [f.rule for f in result.findings]
    assert rules == ["STRUCT-006"], rules
    assert "图片" in result.findings[0].message


def test_a_report_with_text_and_a_picture_is_read_as_usual() -> None:
    prose = ("本报告根据《中华人民共和国政府信息公开条例》编制。本报告中所列数据的统计期限自2025年1月1日起至2025年12月31日止。"
             "一、总体情况 2025年，刘楼镇认真贯彻落实政府信息公开工作要求，主动公开政府信息120条。") * 3
    body = f"<p>{TITLE}</p><p>{prose}</p><p><img src='/u/photo.jpg'></p>"
    result = check_bytes(page(body), filename="t20260115_2.html")
    assert "STRUCT-006" not in [f.rule for f in result.findings]
    assert result.report is not None and result.report.year == 2025


def test_pdf_of_page_images_is_struct006() -> None:
    result = check_bytes(scanned_pdf(3), filename="P020260115.pdf")
    assert [f.rule for f in result.findings] == ["STRUCT-006"]
    assert "扫描" in result.findings[0].message
