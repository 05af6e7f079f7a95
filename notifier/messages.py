"""Alert messages in Chinese: short and exact, one message per county and drain.

An alert is shown as a few lines: the rule ID with its plain meaning, the body and year, the finding's
own message, the numbers from `details` (cell, expected, actual) and the report's link. Resolved
notices say 已更正 (a report's problem is gone), 已公开 (a missing or late report is now there) or 已恢复
(a portal answers again).

Two renderings: `html` for Telegram (parse mode HTML, every text escaped) and `text` for the console
and apprise. Splitting (`split`) cuts on line boundaries only; each line of the HTML rendering closes
every tag it opens, so a part never ends inside a tag. A single line longer than the limit is cut
into plain-text pieces, escaped after cutting.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

TELEGRAM_LIMIT = 4096

SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
SEVERITY_MARKS = {"error": "🔴", "warning": "🟠", "info": "🔵"}
TABLE_LABELS = {"requests": "表三", "review_litigation": "表四", "active": "表二"}
# Rules whose resolution means the report appeared (已公开) rather than was corrected (已更正).
PUBLISHED_RULES = frozenset({"TIME-004", "TIME-005", "YOY-005"})


@dataclass(slots=True)
class AlertView:
    """What one alert shows: read from the alert, its finding, county, body and report."""

    alert_id: int
    kind: str  # new | resolved | reminder
    rule_id: str
    severity: str
    county_code: str | None = None
    county_name: str | None = None
    entity: str | None = None
    year: int | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    link: str | None = None
    seq: int = 0  # a reminder's number
    since: datetime | None = None  # when the problem began (the finding's occurrence)
    at: datetime | None = None  # when the alert was written
    finding_id: int | None = None  # shown so an admin can answer /confirm ID or /dismiss ID 原因
    review: str = "open"  # the finding's review state (monitor.review): confirmed ones are marked 已确认


def lasting(v: AlertView) -> str:
    """"自 2027-01-03 10:00 起，已持续 5 天" for a reminder ("" without the times)."""
    if v.since is None or v.at is None:
        return ""
    from monitor.clock import SHANGHAI

    days = max(1, round((v.at - v.since).total_seconds() / 86400))
    return f"自 {v.since.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 起，已持续 {days} 天"


@cache
def explanation(rule_id: str) -> str:
    """The rule's plain meaning (its docstring in the catalogue), or "" for an unknown ID."""
    from monitor.rules import registry

    cls = registry().get(rule_id)
    if cls is None:
        return ""
    text = re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", cls.explanation())  # docstring line joins
    first, dot, _rest = text.partition("。")
    return first + dot  # the first sentence: short


def resolved_label(rule_id: str) -> str:
    if rule_id.startswith("CRAWL-"):
        return "已恢复"
    return "已公开" if rule_id in PUBLISHED_RULES else "已更正"


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def numbers(details: dict[str, Any]) -> str:
    """"位置 表三 总计行 · 申请人 列；应为 12，实为 10" from a finding's details ("" when it has none)."""
    where = []
    if details.get("cell"):
        where.append(str(details["cell"]))
    else:
        if details.get("table"):
            where.append(TABLE_LABELS.get(str(details["table"]), str(details["table"])))
        if details.get("row") is not None:
            where.append(f"{details['row']}行")
        if details.get("column") is not None:
            where.append(f"{details['column']}列")
    parts = []
    if where:
        parts.append("位置：" + " ".join(where))
    if "expected" in details and details["expected"] is not None:
        parts.append(f"应为 {_num(details['expected'])}")
    if "actual" in details and details["actual"] is not None:
        parts.append(f"实为 {_num(details['actual'])}")
    if details.get("difference") not in (None, 0):
        parts.append(f"相差 {_num(details['difference'])}")
    return "；".join(parts)


def _esc(s: Any, fmt: str) -> str:
    return html.escape(str(s), quote=False) if fmt == "html" else str(s)


def _bold(s: str, fmt: str) -> str:
    return f"<b>{s}</b>" if fmt == "html" else s


def alert_lines(v: AlertView, fmt: str = "html") -> list[str]:
    """The lines of one alert; each HTML line is balanced (opens and closes its own tags)."""
    who = " ".join(str(x) for x in (v.entity, f"{v.year}年度" if v.year else None) if x)
    sev = SEVERITY_LABELS.get(v.severity, v.severity)
    if v.kind == "resolved":
        head = f"✅ {resolved_label(v.rule_id)}：{v.rule_id}"
    elif v.kind == "reminder":
        head = f"⏰ 提醒：{v.rule_id}"
    else:
        head = f"{SEVERITY_MARKS.get(v.severity, '•')} {sev}：{v.rule_id}"
    if v.review == "confirmed":
        head += "（已确认）"
    meaning = explanation(v.rule_id)
    lines = [_bold(_esc(head + (f" {who}" if who else ""), fmt), fmt)]
    if v.kind == "reminder" and (since := lasting(v)):
        lines.append(_esc(since, fmt))
    if meaning and v.kind != "resolved":
        lines.append(_esc(f"规则：{meaning}", fmt))
    if v.message:
        lines.append(_esc(("原问题：" if v.kind == "resolved" else "") + v.message, fmt))
    nums = numbers(v.details or {}) if v.kind != "resolved" else ""
    if nums:
        lines.append(_esc(nums, fmt))
    if v.finding_id is not None and v.kind == "new" and v.review != "confirmed":
        lines.append(_esc(f"问题编号 {v.finding_id}：管理员可回复 /confirm {v.finding_id} 确认，"
                          f"或 /dismiss {v.finding_id} 原因 排除", fmt))
    if v.link:
        if fmt == "html":
            lines.append(f'<a href="{html.escape(v.link, quote=True)}">报告链接</a>')
        else:
            lines.append(f"报告链接：{v.link}")
    return lines


def render(views: Sequence[AlertView], fmt: str = "html", *, title: str | None = None) -> str:
    """One message for several alerts (one county's, or a digest's): a heading, then each alert."""
    if not views:
        return ""
    if title is None:
        counties = {(v.county_code, v.county_name) for v in views}
        if len(counties) == 1:
            code, name = next(iter(counties))
            place = f"{name or ''}（{code}）" if code else (name or "全部")
        else:
            place = f"{len(counties)}个县"
        opened = sum(v.kind != "resolved" for v in views)
        resolved = len(views) - opened
        counts = "，".join(x for x in (f"{opened}个问题" if opened else "",
                                       f"{resolved}个已解决" if resolved else "") if x)
        title = f"年报监测 · {place}：{counts}"
    out = [_bold(_esc(title, fmt), fmt)]
    for v in views:
        out.append("")
        out.extend(alert_lines(v, fmt))
    return "\n".join(out)


def _cut_line(line: str, limit: int, fmt: str) -> list[str]:
    """A line longer than the limit, as pieces of its plain text (escaped again for HTML)."""
    if fmt == "html":
        plain = html.unescape(re.sub(r"<[^>]+>", "", line))
    else:
        plain = line
    pieces: list[str] = []
    cur: list[str] = []
    size = 0
    for ch in plain:
        n = len(_esc(ch, fmt))
        if cur and size + n > limit:
            pieces.append("".join(cur))
            cur, size = [], 0
        cur.append(_esc(ch, fmt))
        size += n
    if cur:
        pieces.append("".join(cur))
    return pieces


def split(text: str, limit: int = TELEGRAM_LIMIT, fmt: str = "html") -> list[str]:
    """Parts of at most `limit` characters, cut on line boundaries (blank lines preferred)."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    cur: list[str] = []
    size = 0
    for line in _lines(text.split("\n"), limit, fmt):
        add = len(line) + (1 if cur else 0)
        if cur and size + add > limit:
            parts.append("\n".join(cur).strip("\n"))
            cur, size = [], 0
            add = len(line)
        cur.append(line)
        size += add
    if cur:
        parts.append("\n".join(cur).strip("\n"))
    return [p for p in parts if p]


def _lines(lines: Iterable[str], limit: int, fmt: str) -> Iterable[str]:
    for line in lines:
        if len(line) <= limit:
            yield line
        else:
            yield from _cut_line(line, limit, fmt)


__all__ = ["AlertView", "TELEGRAM_LIMIT", "alert_lines", "explanation", "numbers", "render",
           "resolved_label", "split"]
