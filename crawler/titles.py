"""Is a listing title an annual report (政府信息公开工作年度报告)? Whose, and for which year?

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
from dataclasses import dataclass

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
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(度)?")
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


_BRACKETED_TAG = re.compile(r"[【\[](?:下载|置顶|新|最新|原创|转载|附件|PDF|WORD|Word|pdf|word)[】\]]")


def normalize(title: str) -> str:
    """Whitespace, full-width spaces, `&nbsp;` and tags such as 【下载】【置顶】 removed."""
    return _BRACKETED_TAG.sub("", re.sub(r"[\s\u3000\u00a0]+", "", title.replace("&nbsp;", "")))


def title_year(title: str) -> int | None:
    """The report year: the one written "YYYY年度", else the first "YYYY年"."""
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


__all__ = ["TitleInfo", "classify_title", "is_annual_report", "title_year", "title_body", "normalize"]
