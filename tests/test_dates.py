"""Every date format of portals.md, and the order of trust of publication-date sources."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crawler.dates import SHANGHAI, parse_date, parse_datetime, publication_date


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


def test_publication_date_sources_in_order_of_trust() -> None:
    assert publication_date(listing=date(2026, 1, 26), html=PAGE)[1] == "listing"
    dt, src = publication_date(listing=None, html=PAGE)
    assert (dt.date(), src) == (date(2026, 1, 27), "page_meta")
    no_meta = PAGE.replace('<meta name="PubDate" content="2026-01-27 09:42">', "")
    dt, src = publication_date(listing=None, html=no_meta)
    assert (dt.date(), src) == (date(2026, 1, 28), "page")
    no_label = no_meta.replace("发布时间：2026-01-28 10:00:00", "")
    dt, src = publication_date(listing=None, html=no_label)
    assert (dt.date(), src) == (date(2026, 1, 20), "signature")
    assert publication_date(listing=None, html="<p>无日期</p>") == (None, "first_seen")
