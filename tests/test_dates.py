"""Every date format of portals.md, and the order of trust of publication-date sources."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crawler.dates import (
    SHANGHAI,
    html_to_text,
    parse_date,
    parse_datetime,
    publication_date,
    signature_date,
    split_source,
    url_date,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-27", date(2026, 1, 27)),
    ("[2026-01-27]", date(2026, 1, 27)),
    ("2026/01/27", date(2026, 1, 27)),
    ("2026.01.27", date(2026, 1, 27)),
    ("2026年01月27日", date(2026, 1, 27)),
    ("2026年1月7日", date(2026, 1, 7)),
    ("2026-01-27 09:42:13", date(2026, 1, 27)),
    ("发布时间：2026-1-27", date(2026, 1, 27)),
    ("二〇二六年一月二十七日", date(2026, 1, 27)),
    ("", None),
    ("暂无", None),
    ("2026-13-45", None),
])
def test_date_formats(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_time_kept_and_zone_is_shanghai() -> None:
    assert parse_datetime("2026-01-27 09:42:13") == datetime(2026, 1, 27, 9, 42, 13, tzinfo=SHANGHAI)
    assert parse_datetime("2026-01-27 09:42") == datetime(2026, 1, 27, 9, 42, tzinfo=SHANGHAI)


def test_epoch_seconds_and_milliseconds_are_shanghai_days() -> None:
    # 2026-01-22 17:49:17 +08:00
    assert parse_datetime(1769075357) == datetime(2026, 1, 22, 17, 49, 17, tzinfo=SHANGHAI)
    assert parse_datetime("1769075357000") == datetime(2026, 1, 22, 17, 49, 17, tzinfo=SHANGHAI)
    # 2026-01-22 23:30 UTC is already the 23rd in Shanghai
    assert parse_date(1769124600) == date(2026, 1, 23)


PAGE = """<html><head><meta name="PubDate" content="2026-01-27 09:42"></head><body>
<p>发布时间：2026-01-28 10:00:00</p><p>……</p><p>刘楼镇人民政府</p><p>2026年1月20日</p></body></html>"""


def test_publication_date_is_the_earliest_credible_source_and_keeps_the_others() -> None:
    assert publication_date(listing=date(2026, 1, 26), html=PAGE)[1] == \
        "listing;page=2026-01-28;page_meta=2026-01-27"
    dt, src = publication_date(listing=None, html=PAGE)
    assert (dt.date(), src) == (date(2026, 1, 27), "page_meta;page=2026-01-28")
    no_meta = PAGE.replace('<meta name="PubDate" content="2026-01-27 09:42">', "")
    dt, src = publication_date(listing=None, html=no_meta)
    assert (dt.date(), src) == (date(2026, 1, 28), "page")  # the signature only without any other
    no_label = no_meta.replace("发布时间：2026-01-28 10:00:00", "")
    dt, src = publication_date(listing=None, html=no_label)
    assert (dt.date(), src) == (date(2026, 1, 20), "signature")
    assert publication_date(listing=None, html="<p>无日期</p>") == (None, "first_seen")
    # a saved page read by the engine keeps the signature apart (ParsedReport.published_at)
    assert publication_date(listing=None, html=no_label, signature=False) == (None, "first_seen")


# A Kaipu page after a site migration: the meta stamp is the regeneration time, the page says
# 发布日期 and the URL's month folder the real month.
REGENERATED = """<html><head><meta name="PubDate" content="2025-06-18 16:02:11">
<meta name="ContentSource" content="刘楼镇人民政府"></head><body><div class="info">
<span>发布日期：2024-01-22</span><span>来源：刘楼镇人民政府</span></div>
<div class="content"><p>刘楼镇2023年政府信息公开工作年度报告</p></div></body></html>"""
KAIPU_URL = "http://www.x.gov.cn/xxgk/gknb/202401/7215380191c5400397df5d7d0b5fd06b.shtml"


def test_a_later_regeneration_stamp_never_wins() -> None:
    dt, src = publication_date(listing=None, html=REGENERATED, url=KAIPU_URL)
    assert dt.date() == date(2024, 1, 22)
    assert split_source(src) == ("page", {"page_meta": "2025-06-18"})  # the URL month agrees
    # without the visible date the URL's month folder (its last day) still beats the stamp
    no_label = REGENERATED.replace("<span>发布日期：2024-01-22</span>", "")
    dt, src = publication_date(listing=None, html=no_label, url=KAIPU_URL)
    assert (dt.date(), split_source(src)) == (date(2024, 1, 31), ("url", {"page_meta": "2025-06-18"}))
    # and the list's date, when there is one
    dt, src = publication_date(listing=date(2024, 1, 22), html=no_label, url=KAIPU_URL)
    assert (dt.date(), split_source(src)[0]) == (date(2024, 1, 22), "listing")
    # an earlier meta date is credible: it is used
    early = REGENERATED.replace("2025-06-18 16:02:11", "2024-01-21 09:00:00")
    assert publication_date(listing=None, html=early, url=KAIPU_URL)[0].date() == date(2024, 1, 21)


def test_url_dates() -> None:
    assert url_date("http://x/xxgk/gknb/202601/t20260115_763295.html").date() == date(2026, 1, 15)
    assert url_date(KAIPU_URL).date() == date(2024, 1, 31)
    assert url_date("http://x/xxgk/gknb/202402/abc.shtml").date() == date(2024, 2, 29)
    assert url_date("http://x/art/2026/1/27/art_1_2.html") is None
    assert url_date("http://x/xxgk/gknb/202613/abc.shtml") is None


@pytest.mark.parametrize("ending", [
    "本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止。",
    "本报告所列数据统计期限为2022年1月1日至2022年12月31日。",
    "统计时段：2022年1月1日到2022年12月31日",
])
def test_statistical_period_ends_are_not_signature_dates(ending: str) -> None:
    page = f"<p>刘楼镇2022年政府信息公开工作年度报告</p><p>附件：<a href='a.pdf'>年度报告.pdf</a></p><p>{ending}</p>"
    assert signature_date(html_to_text(page)) is None
    signed = page + "<p>刘楼镇人民政府</p><p>2023年1月16日</p>"
    assert signature_date(html_to_text(signed)).date() == date(2023, 1, 16)
    assert publication_date(listing=None, html=page) == (None, "first_seen")
