"""Dates as county portals write them, and where a page's publication date comes from.

Formats seen (../shared/domain/portals.md): ``2026-01-27``, ``[2026-01-27]``, ``2026/01/27``,
``2026.01.27``, ``2026年01月27日`` (also ``二〇二六年一月二十七日`` under signatures),
``2026-01-27 09:42:13``, ``2026-01-27 09:42``, epoch seconds (gkmlpt JSON; milliseconds too),
and none at all. Every datetime returned is aware, in Asia/Shanghai.

Publication-date sources, most trusted first (the names stored in ``published_source``):

    listing    the list page or API item's date
    page_meta  <meta name="PubDate"> / firstpublishedtime / … in the page head
    page       发布时间：/ 公开日期：/ 时间： written in the page
    signature  the date under the report's signature (the report's own date)
    first_seen none of the above: the crawl's own time stands in
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

SOURCES = ("listing", "page_meta", "page", "signature", "first_seen")

_SEP = r"\s*[-/.]\s*"
_NUMERIC = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})" + _SEP + r"(?P<m>\d{1,2})" + _SEP + r"(?P<d>\d{1,2})(?!\d)"
    r"(?:[ T\u00a0]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
_CJK = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)
_HAN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4,
               "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_HAN_DATE = re.compile(r"(?P<y>[〇○零Ｏ一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,3})\s*月"
                       r"\s*(?P<d>[一二三四五六七八九十]{1,3})\s*日")
_EPOCH = re.compile(r"^\s*(\d{9,13})\s*$")


def _han_number(s: str) -> int:
    """一 … 三十一 (month and day numbers)."""
    if "十" not in s:
        return _HAN_DIGITS[s]
    tens, _, ones = s.partition("十")
    return (_HAN_DIGITS[tens] if tens else 1) * 10 + (_HAN_DIGITS[ones] if ones else 0)


def _build(y: int, m: int, d: int, hh: str | None = None, mm: str | None = None,
           ss: str | None = None) -> datetime | None:
    try:
        return datetime(y, m, d, int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=SHANGHAI)
    except ValueError:
        return None


def from_epoch(value: int | float | str) -> datetime | None:
    """Epoch seconds (or milliseconds, as some APIs send) → aware Shanghai datetime."""
    try:
        n = float(value)
    except (TypeError, ValueError):
        return None
    if n <= 0:
        return None
    if n > 1e11:  # milliseconds
        n /= 1000
    return datetime.fromtimestamp(n, tz=UTC).astimezone(SHANGHAI)


def iter_datetimes(text: str) -> list[tuple[int, datetime]]:
    """Every date written in `text`, as (position, datetime), in order of position."""
    found: list[tuple[int, datetime]] = []
    for rx in (_NUMERIC, _CJK):
        for m in rx.finditer(text):
            dt = _build(int(m["y"]), int(m["m"]), int(m["d"]), m["H"], m["M"], m["S"])
            if dt is not None:
                found.append((m.start(), dt))
    for m in _HAN_DATE.finditer(text):
        try:
            y = int("".join(str(_HAN_DIGITS[c]) for c in m["y"]))
            dt = _build(y, _han_number(m["m"]), _han_number(m["d"]))
        except KeyError:
            dt = None
        if dt is not None:
            found.append((m.start(), dt))
    found.sort(key=lambda p: p[0])
    return found


def parse_datetime(value: str | int | float | None) -> datetime | None:
    """The first date in `value` (any format above, or epoch seconds), or None."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return from_epoch(value)
    text = str(value)
    if _EPOCH.match(text):
        return from_epoch(text)
    found = iter_datetimes(text)
    return found[0][1] if found else None


def parse_date(value: str | int | float | None) -> date | None:
    dt = parse_datetime(value)
    return dt.date() if dt else None


# --- where a page says when it was published ------------------------------------------------

_META_NAMES = ("pubdate", "publishdate", "firstpublishedtime", "publishtime", "createdate",
               "article:published_time", "dc.date", "dcterms.issued", "maketime")
_META = re.compile(r"<meta\b[^>]*>", re.I)
_META_NAME = re.compile(r"""\b(?:name|property|itemprop)\s*=\s*["']?([^"'\s>]+)""", re.I)
_META_CONTENT = re.compile(r"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_PAGE_LABELS = re.compile(r"(?:发布时间|发布日期|公开日期|成文日期|生成日期|日期|时间)\s*[:：]\s*"
                          r"(?:&nbsp;|\s)*")
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def html_to_text(html: str) -> str:
    text = _TAGS.sub(" ", html)
    return (text.replace("&nbsp;", " ").replace("&#160;", " ").replace("\u3000", " ")
            .replace("&amp;", "&"))


def meta_date(html: str) -> datetime | None:
    """The date of a publication <meta> (PubDate, firstpublishedtime…) in the page head."""
    best: tuple[int, datetime] | None = None
    for tag in _META.findall(html[:50_000]):
        name = _META_NAME.search(tag)
        if not name or name.group(1).lower() not in _META_NAMES:
            continue
        content = _META_CONTENT.search(tag)
        if not content:
            continue
        dt = parse_datetime(next(g for g in content.groups() if g is not None))
        rank = _META_NAMES.index(name.group(1).lower())
        if dt and (best is None or rank < best[0]):
            best = (rank, dt)
    return best[1] if best else None


def labelled_date(text: str) -> datetime | None:
    """A date written after 发布时间：/公开日期：/时间： in the page text."""
    for m in _PAGE_LABELS.finditer(text):
        dt = parse_datetime(text[m.end():m.end() + 40])
        if dt is not None and text[m.end():m.end() + 40].lstrip()[:1] in "0123456789一二〇○[":
            return dt
    return None


def signature_date(text: str) -> datetime | None:
    """The last date in the report text, normally the one under the signature."""
    tail = text[-1500:]
    found = iter_datetimes(tail)
    return found[-1][1] if found else None


def publication_date(*, listing: datetime | date | None, html: str | None,
                     body_text: str | None = None) -> tuple[datetime | None, str]:
    """The most trusted publication date available and its source (see SOURCES)."""
    if listing is not None:
        if not isinstance(listing, datetime):
            listing = datetime(listing.year, listing.month, listing.day, tzinfo=SHANGHAI)
        return listing, "listing"
    if html:
        dt = meta_date(html)
        if dt is not None:
            return dt, "page_meta"
        text = body_text if body_text is not None else html_to_text(html)
        dt = labelled_date(text)
        if dt is not None:
            return dt, "page"
        dt = signature_date(text)
        if dt is not None:
            return dt, "signature"
    return None, "first_seen"


def plausible(dt: datetime | date | None, *, now: datetime | None = None) -> bool:
    """Dates from the future (beyond a day of clock skew) or before 2008 are not publication dates."""
    if dt is None:
        return False
    d = dt.date() if isinstance(dt, datetime) else dt
    now = now or datetime.now(SHANGHAI)
    return date(2008, 1, 1) <= d <= (now + timedelta(days=1)).date()


__all__ = ["SHANGHAI", "SOURCES", "from_epoch", "iter_datetimes", "parse_datetime", "parse_date",
           "meta_date", "labelled_date", "signature_date", "publication_date", "html_to_text",
           "plausible"]
