"""Dates as county portals write them, and where a page's publication date comes from.

Formats seen (../shared/domain/portals.md): ``2026-01-27``, ``[2026-01-27]``, ``2026/01/27``,
``2026.01.27``, ``2026年01月27日`` (also ``二〇二六年一月二十七日`` under signatures),
``2026-01-27 09:42:13``, ``2026-01-27 09:42``, epoch seconds (gkmlpt JSON; milliseconds too),
and none at all. Every datetime returned is aware, in Asia/Shanghai.

Publication-date sources (the names stored in ``published_source``):

    listing    the list page or API item's date
    page_meta  <meta name="PubDate"> / firstpublishedtime / … in the page head
    page       发布时间：/ 发布日期：/ 公开日期：/ 生成日期：/ 时间： written in the page
    url        the date in the page's address: TRS `t20260115_…` (the day) or a `/202601/` month
               folder (Kaipu, TRS; read as the month's last day — due dates are month ends, so the
               verdict on time / late is the same as with the exact day)
    signature  the date under the report's signature (the report's own date)
    first_seen none of the above: the crawl's own time stands in

Every source a page offers is kept. The one used is the earliest of listing, page_meta, page and
url: a `<meta name="PubDate">` is often the time the page was last *generated* (it moves forward
by months or years when a site is migrated or republished, on Kaipu and TRS), while the visible
发布日期, the list's date and the URL folder keep the real one, so a later meta stamp never wins
over them. The signature date counts only when none of those four exists. Sources that disagree
with the one used (another day) are its *overruled* sources, stored with it as
``page;page_meta=2025-06-01`` (`encode_source` / `split_source`) so that TIME-003 can say which
source it used and which it set aside.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

SOURCES = ("listing", "page_meta", "page", "url", "signature", "first_seen")
_CREDIBLE = ("listing", "page_meta", "page", "url")  # the order breaks ties between equal days

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
# 成文日期 is the report's own date (like the signature's), not when it was published
_PAGE_LABELS = re.compile(r"(?<!成文)(?:发布时间|发布日期|公开日期|公开时间|生成日期|发文日期|日期|时间)\s*[:：]\s*"
                          r"(?:&nbsp;|\s)*")
_URL_DAY = re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+")
_URL_MONTH = re.compile(r"/((?:19|20)\d{2})(\d{2})/")
_SCRIPTS = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")


def html_to_text(html: str) -> str:
    # two passes: one alternation tried at every "<" of a page costs more than both
    text = _TAGS.sub(" ", _SCRIPTS.sub(" ", html))
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


def url_date(url: str | None) -> datetime | None:
    """The date a page's address carries: TRS `t20260115_…` gives the day, a `/202601/` month
    folder the month (as its last day, see the module's note)."""
    found = _url_date(url)
    return found[0] if found else None


def _url_date(url: str | None) -> tuple[datetime, bool] | None:
    """(date, month only) of url_date."""
    if not url:
        return None
    m = _URL_DAY.search(url)
    if m:
        dt = _build(int(m[1]), int(m[2]), int(m[3]))
        return (dt, False) if dt else None
    m = _URL_MONTH.search(url)
    if m and 1 <= int(m[2]) <= 12:
        y, mo = int(m[1]), int(m[2])
        nxt = date(y + (mo == 12), mo % 12 + 1, 1)
        dt = _build(y, mo, (nxt - timedelta(days=1)).day)
        return (dt, True) if dt else None
    return None


# 统计期限 sentences and ranges: "…统计期限自2022年1月1日起至2022年12月31日止", "1月1日至12月31日"
_PERIOD_WORDS = re.compile(r"统计期限|统计时限|统计期间|统计时段|统计区间|统计周期|起止时间|期限")
_PERIOD_GLUE = re.compile(r"[\s自从起至到止为是:：,，、（）()的~～—-]*")


def signature_date(text: str) -> datetime | None:
    """The last date in the report text that can be the one under the signature: dates after
    至/到 or before 止, and dates inside a 统计期限 sentence, are the statistical period's ends."""
    tail = text[-1500:]
    for pos, dt in reversed(iter_datetimes(tail)):
        before = tail[max(0, pos - 4):pos]
        after = tail[pos:pos + 16]
        if re.search(r"[至到]\s*$|起\s*$", before) or re.search(r"日\s*[止至]", after):
            continue
        if _in_period(tail, pos):
            continue
        return dt
    return None


def _in_period(text: str, pos: int) -> bool:
    """Whether the date at `pos` belongs to a 统计期限 phrase: a period word, then only dates and
    range words (自, 起, 至, 到, 止…) up to it."""
    window = text[max(0, pos - 60):pos]
    words = list(_PERIOD_WORDS.finditer(window))
    if not words:
        return False
    between = _CJK.sub("", _NUMERIC.sub("", window[words[-1].end():]))
    return _PERIOD_GLUE.fullmatch(between) is not None


_HEAD = 30_000


def date_sources(*, listing: datetime | date | None, html: str | None, url: str | None = None,
                 body_text: str | None = None, head_text: str | None = None,
                 signature: bool = True) -> dict[str, datetime]:
    """Every publication date a document offers, by source (SOURCES; signature only when none of
    the others is there, and `signature` is true). `head_text` / `body_text`: the page's first
    30,000 characters / whole page as text, when the caller has them already."""
    found: dict[str, datetime] = {}
    if listing is not None:
        if not isinstance(listing, datetime):
            listing = datetime(listing.year, listing.month, listing.day, tzinfo=SHANGHAI)
        found["listing"] = listing
    at = _url_date(url)
    if at is not None:
        found["url"] = at[0]
    if html:
        dt = meta_date(html)
        if dt is not None:
            found["page_meta"] = dt
        # 发布日期 and its kin sit above the report: the page's head is enough (a Word export
        # runs to hundreds of KB), the whole text only for the signature, the last resort
        head = html_to_text(html[:_HEAD]) if head_text is None else head_text
        dt = labelled_date(head)
        if dt is not None:
            found["page"] = dt
        if not found and signature:
            text = body_text if body_text is not None else (head if len(html) <= _HEAD else html_to_text(html))
            dt = signature_date(text)
            if dt is not None:
                found["signature"] = dt
    return found


def choose_date(found: dict[str, datetime], *, month_only: frozenset[str] = frozenset()
                ) -> tuple[datetime | None, str, dict[str, date]]:
    """(date used, its source, overruled sources → their day): the earliest credible source. A
    source in `month_only` (a URL month folder) agrees with any day of its month."""
    credible = [(found[s].date(), i, s) for i, s in enumerate(_CREDIBLE) if s in found]
    if credible:
        day, _i, source = min(credible)
    elif "signature" in found:
        day, source = found["signature"].date(), "signature"
    else:
        return None, "first_seen", {}
    def agrees(s: str, d: date) -> bool:
        return (d.year, d.month) == (day.year, day.month) if s in month_only else d == day

    overruled = {s: d.date() for s, d in found.items() if s != source and not agrees(s, d.date())}
    return found[source], source, overruled


def encode_source(source: str, overruled: dict[str, date]) -> str:
    """`published_source` as stored: the source used, then `;name=YYYY-MM-DD` per overruled one
    (at most 50 characters, the column's width: the latest overruled dates first)."""
    out = source
    for name, day in sorted(overruled.items(), key=lambda p: p[1], reverse=True):
        part = f";{name}={day.isoformat()}"
        if len(out) + len(part) > 50:
            break
        out += part
    return out


def split_source(value: str | None) -> tuple[str | None, dict[str, str]]:
    """The inverse of encode_source: (source used, overruled source → ISO day)."""
    if not value:
        return value, {}
    head, *rest = value.split(";")
    overruled = dict(p.split("=", 1) for p in rest if "=" in p)
    return head, overruled


def publication_date(*, listing: datetime | date | None, html: str | None, url: str | None = None,
                     body_text: str | None = None, head_text: str | None = None,
                     signature: bool = True) -> tuple[datetime | None, str]:
    """The publication date used and its `published_source` (with what it overruled). The
    crawler's pages and the engine's saved HTML pages (monitor.extract.html, `signature=False`:
    the parsed report keeps its signature date apart) are dated by this one ranking."""
    at = _url_date(url)
    when, source, overruled = choose_date(
        date_sources(listing=listing, html=html, url=url, body_text=body_text, head_text=head_text,
                     signature=signature),
        month_only=frozenset({"url"}) if at is not None and at[1] else frozenset())
    return when, encode_source(source, overruled)


def plausible(dt: datetime | date | None, *, now: datetime | None = None) -> bool:
    """Dates from the future (beyond a day of clock skew) or before 2008 are not publication dates."""
    if dt is None:
        return False
    d = dt.date() if isinstance(dt, datetime) else dt
    now = now or datetime.now(SHANGHAI)
    return date(2008, 1, 1) <= d <= (now + timedelta(days=1)).date()


__all__ = ["SHANGHAI", "SOURCES", "from_epoch", "iter_datetimes", "parse_datetime", "parse_date",
           "meta_date", "labelled_date", "signature_date", "url_date", "date_sources", "choose_date",
           "encode_source", "split_source", "publication_date", "html_to_text", "plausible"]
