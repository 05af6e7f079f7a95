"""Whose report is it, and for which year? The one place that decides, for the crawler (listing
titles, `resolve_body`), the report engine (monitor.parse: the report's own title) and the pipeline
(monitor.pipeline: matching a stored body, naming a discovered one). Pure functions of strings.

Is a listing title an annual report (政府信息公开工作年度报告)?

Reports are told from other items by their title, never by their position in a list. Titles seen
on real portals (../shared/domain/portals.md):

    XX镇2025年政府信息公开工作年度报告
    2025年度XX镇政府信息公开工作年报
    XX县人民政府办公室2025年政务公开工作年度报告
    关于XX局2025年政府信息公开工作年度报告的公告

and distractors that are *not* reports:

    关于做好2025年政府信息公开工作年度报告编制发布工作的通知   (a notice)
    企业年度报告公示 / 社会组织年报 / 2025年统计年报 / 部门决算 / 预算 / 年度报告格式（模板）
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# The report's subject: government information disclosure (or its newer name, 政务公开).
_SUBJECT = re.compile(r"(?:政府)?信息公开|政务公开")
# The report itself.
_REPORT = re.compile(r"年度报告|年度工作报告|工作年报|年报|工作报告")
# Words that make a title something else; checked before anything else.
_DISTRACTORS = re.compile(
    r"通知|编制|报送|做好|培训|部署|统计年报|企业年度报告|企业年报|年报公示|社会组织|"
    r"决算|预算|模板|格式|样本|范本|参考|解读|考核|通报|目录|指南|意见|方案|工作要点|"
    r"征集|申请表"
)
# a year: "2025年", "2025年度", or "2025" right before the report's subject ("2025政府信息公开…")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*(?:年(度)?|(?=政府|政务|信息公开|年度))")
_HAN_YEAR = re.compile(r"([〇○零一二三四五六七八九]{4})\s*年(度)?")
_HAN = {"〇": "0", "○": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
        "六": "6", "七": "7", "八": "8", "九": "9"}
_JUNK = re.compile(r"[\s\u3000【】\[\]（）()《》<>“”\"'：:，,、·\-—_]+")
_LEADING = re.compile(r"^(?:关于(?:公布|发布|印发)?|公布|发布)")
_TRAILING = re.compile(r"(?:关于|的|度)$")


@dataclass(frozen=True, slots=True)
class TitleInfo:
    is_report: bool
    year: int | None
    body: str | None


_BRACKETED_TAG = re.compile(r"[【\[](?:下载|置顶|新|最新|原创|转载|附件|PDF|WORD|Word|pdf|word)?[】\]]")
# Page chrome in front of a title: a "标题：" label, the site's name ("XX县人民政府网 - ").
_CHROME = re.compile(r"^(?:标题[:：]|[\u4e00-\u9fa5]{2,24}?(?:门户)?网(?:站)?[-—_|｜>›»]+)")


def normalize(title: str) -> str:
    """Whitespace, full-width spaces, `&nbsp;`, tags such as 【下载】【置顶】 and empty 【】, and page
    chrome in front ("标题：", "XX县人民政府网 -") removed."""
    t = _BRACKETED_TAG.sub("", re.sub(r"[\s\u3000\u00a0]+", "", title.replace("&nbsp;", "")))
    while True:
        m = _CHROME.match(t)
        if m is None or len(t) == m.end():
            return t
        t = t[m.end():]


def title_year(title: str | None) -> int | None:
    """The report year: the one written "YYYY年度", else the first "YYYY年" (or "YYYY" right
    before 政府/政务/信息公开), in Arabic or Chinese numerals."""
    if not title:
        return None
    t = normalize(title)
    years: list[tuple[int, bool]] = [(int(m.group(1)), bool(m.group(2))) for m in _YEAR.finditer(t)]
    for m in _HAN_YEAR.finditer(t):
        years.append((int("".join(_HAN[c] for c in m.group(1))), bool(m.group(2))))
    if not years:
        return None
    for y, annual in years:
        if annual:
            return y
    return years[0][0]


def is_annual_report(title: str) -> bool:
    t = normalize(title)
    if not t or _DISTRACTORS.search(t):
        return False
    return bool(_SUBJECT.search(t) and _REPORT.search(t))


def title_body(title: str) -> str | None:
    """Whose report: the words before the year, else those between the year and 政府信息公开/政务公开.

    "XX镇人民政府信息公开工作年度报告" keeps 人民政府 (the body), not 人民 + 政府信息公开.
    """
    t = normalize(title)
    year = _YEAR.search(t) or _HAN_YEAR.search(t)
    subject = _SUBJECT.search(t)
    if subject is None:
        return None
    if year is not None and year.start() < subject.start():
        before = t[:year.start()]
        between = t[year.end():subject.start()]
        candidate = before if _JUNK.sub("", _LEADING.sub("", before)) else between
    else:
        candidate = t[:subject.start()]
    if candidate.endswith("人民") and t[subject.start():].startswith("政府"):
        candidate += "政府"
    candidate = _LEADING.sub("", _JUNK.sub("", candidate))
    candidate = _TRAILING.sub("", candidate)
    return candidate or None


def classify_title(title: str) -> TitleInfo:
    if not is_annual_report(title):
        return TitleInfo(False, title_year(title), None)
    return TitleInfo(True, title_year(title), title_body(title))


# ---- the body's name as a report names it ----------------------------------------------------------

_REPORT_WORDS = re.compile(
    r"(?:人民政府|政府)?(?:信息公开|政务公开)?(?:信息公开)?工?作?(?:年度)?(?:工作)?(?:报告|年报)(?:的?公告)?$")
_REGION_PREFIX = re.compile(r"^[\u4e00-\u9fa5]{1,7}?(?:省|自治区|市|自治州|地区|州|盟|区|县|旗)")
_TOWNSHIP = re.compile(r"(镇|乡|街道)(?:人民政府|政府|办事处)?$")


def canonical_entity(name: str) -> str:
    """The short name of a body: "沈阳市辽中区刘二堡镇人民政府" → "刘二堡镇", "云溪县人民政府" →
    "云溪县"; departments ("云溪县人民政府办公室", "云溪县教育局") are kept as written."""
    name = normalize(name).strip("的:：")
    name = re.sub(r"(?<=[县区市旗州省])(?:人民政府|政府)$", "", name)
    if _TOWNSHIP.search(name):
        name = _TOWNSHIP.sub(r"\1", name)
        while True:
            m = _REGION_PREFIX.match(name)
            if not m or not _TOWNSHIP.search(name[m.end():]) or len(name) - m.end() < 2:
                break
            name = name[m.end():]
    return name


def _arabic_years(text: str) -> str:
    return _HAN_YEAR.sub(lambda m: "".join(_HAN[c] for c in m.group(1)) + "年" + (m.group(2) or ""), text)


def entity_from_title(title: str | None) -> str | None:
    """The body a report's title names, as its short canonical name (monitor.parse, and the name
    of a body the pipeline discovers): the title less the year, "关于…", notes in brackets and the
    report words."""
    if not title:
        return None
    t = normalize(_arabic_years(title))
    t = re.sub(r"^关于(?:印发|公布|发布)?", "", t)
    t = _YEAR.sub("", t, count=1)
    t = re.sub(r"[(\[（【].*?[)\]）】]", "", t)
    t = _REPORT_WORDS.sub("", t)
    t = re.sub(r"关于$", "", t)
    t = re.sub(r"(?:政府信息公开|政务公开|信息公开)$", "", t)
    t = _JUNK.sub("", t)
    return canonical_entity(t) if len(t) >= 2 else None


# ---- which known body ---------------------------------------------------------------------------------

def _short(s: str) -> str:
    for suffix in ("人民政府办公室", "人民政府", "办事处", "政府"):
        if s.endswith(suffix) and len(s) > len(suffix) + 1:
            return s[: -len(suffix)]
    return s


def match_body(texts: Iterable[str | None], bodies: Iterable[tuple[Any, str, Iterable[str], str]], *,
               county_name: str | None = None, contained: bool = False) -> Any | None:
    """The key of the known body that the first useful text names. `bodies` are (key, name,
    aliases, kind). For each text in turn: its name or an alias exactly; the same name in short
    form (刘楼镇 ↔ 刘楼镇人民政府); with `contained`, the longest name or alias the text contains;
    the county's own name for the county government. None when no text names a known body."""
    rows = [(key, name, [a for a in aliases or [] if a], kind) for key, name, aliases, kind in bodies]
    for text in texts:
        n = normalize(text or "")
        if not n:
            continue
        for key, name, aliases, _kind in rows:
            if n == normalize(name) or n in (normalize(a) for a in aliases):
                return key
        for key, name, aliases, _kind in rows:
            if any(_short(n) == _short(normalize(x)) for x in [name, *aliases]):
                return key
        if contained:
            hits = [(len(normalize(x)), key) for key, name, aliases, _kind in rows for x in [name, *aliases]
                    if normalize(x) and normalize(x) in n]
            if hits:
                return max(hits, key=lambda h: h[0])[1]
        if county_name and _short(n) in (county_name, _short(county_name)):
            for key, _name, _aliases, kind in rows:
                if kind == "county_gov":
                    return key
    return None


__all__ = ["TitleInfo", "classify_title", "is_annual_report", "title_year", "title_body", "normalize",
           "canonical_entity", "entity_from_title", "match_body"]
