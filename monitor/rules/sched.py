"""The sched rules, declared without the database: the deadline rules TIME-003/004/005 (evaluated
by monitor.deadlines) and the crawl-health rules CRAWL-001/002/003 (evaluated by
monitor.crawlhealth). Declaring them here registers them with the catalogue without importing the
SQL modules, so the report engine (`import monitor.engine`, `nianbao check`) stays pure."""

from __future__ import annotations

from datetime import date
from typing import Any

from monitor.report import Finding
from monitor.rules.base import Rule, register

SOURCE_LABELS = {"page": "页面发布时间", "page_meta": "页面元数据中的发布时间", "listing": "栏目列表日期",
                 "url": "网址中的发布日期", "signature": "报告落款日期", "first_seen": "首次发现日期",
                 "manual": "手工录入日期"}


# What the crawl stats count (`nianbao/blocked/<kind>`, `nianbao/failed/<reason>`), in the words of
# the messages; the run's English `error` stays in details for operators.
BLOCK_KINDS = {"412": "412脚本验证", "521": "521脚本验证", "waf": "防火墙拦截页", "captcha": "验证码",
               "maintenance": "维护页面", "403": "403拒绝访问", "robots": "robots.txt禁止抓取"}
FAIL_REASONS = {"TimeoutError": "超时", "TCPTimedOutError": "超时", "DNSLookupError": "域名解析失败",
                "ConnectionRefusedError": "连接被拒绝", "ConnectionLost": "连接中断",
                "ConnectionDone": "连接中断", "ResponseNeverReceived": "没有响应", "ConnectError": "无法连接",
                "too_large": "文件超过大小上限"}


def _counted(counts: dict[str, Any] | None, words: dict[str, str], other: str) -> str:
    """"412脚本验证3次、验证码1次" from a stats count of kinds or reasons (most frequent first)."""
    parts: dict[str, int] = {}
    for key, n in sorted((counts or {}).items(), key=lambda kv: -_int(kv[1])):
        word = words.get(key) or (f"服务器返回{key[5:]}" if key.startswith("http_") else other)
        parts[word] = parts.get(word, 0) + _int(n)
    return "、".join(f"{w}{n}次" if n else w for w, n in list(parts.items())[:3]) or other


def _int(v: Any) -> int:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0


def _split_source(source: str | None) -> tuple[str, dict[str, str]]:
    """`published_source` as the crawler stores it: the source used, then `;name=YYYY-MM-DD` for
    each source it overruled (crawler.dates.encode_source)."""
    head, *rest = (source or "").split(";")
    return head, dict(p.split("=", 1) for p in rest if "=" in p)


def _source_label(source: str | None) -> str:
    head, overruled = _split_source(source)
    label = SOURCE_LABELS.get(head, "未知来源")
    if overruled:
        label += "；未采用：" + "、".join(f"{SOURCE_LABELS.get(k, '其他来源')}{v}" for k, v in overruled.items())
    return label


@register
class LatePublication(Rule):
    """年报公开时间晚于规定期限：2019年及以后年度的部门、乡镇（街道）年报应于次年1月31日前公开，
    县级人民政府年报应于次年3月31日前公开（2018年及以前年度均为次年3月31日；省、市、县另有规定的从其规定）。
    公开时间优先采用门户网站页面或栏目列表的发布日期，其次为首次发现日期。"""

    id = "TIME-003"
    severity = "warning"
    scope = "sched"

    def build(self, *, entity: str, year: int, due: date, published: date, source: str) -> Finding:
        days = (published - due).days
        used, overruled = _split_source(source)
        return self.finding(
            f"{entity}{year}年度报告于{published.isoformat()}公开（依据：{_source_label(source)}），"
            f"晚于规定期限{due.isoformat()}，逾期{days}天。",
            due_date=due.isoformat(), published_at=published.isoformat(), source=used,
            days_late=days, **({"overruled": overruled} if overruled else {}))


@register
class MissingReport(Rule):
    """规定期限已过，且此后已成功检查门户网站，仍未发现该主体本年度的年报（应公开而未公开）。
    门户被拦截或访问失败时不作此判断（见 CRAWL-001、CRAWL-002）。"""

    id = "TIME-004"
    severity = "error"
    scope = "sched"

    def build(self, *, entity: str, year: int, due: date, checked: date, today: date) -> Finding:
        return self.finding(
            f"{entity}{year}年度报告应于{due.isoformat()}前公开，{checked.isoformat()}检查门户网站仍未发现"
            f"（已逾期{(today - due).days}天）。",
            due_date=due.isoformat(), last_successful_crawl=checked.isoformat(),
            days_overdue=(today - due).days)


@register
class DueSoon(Rule):
    """提醒：年报公开期限临近（默认提前14天，可配置），该主体本年度年报尚未发现。"""

    id = "TIME-005"
    severity = "info"
    scope = "sched"

    def build(self, *, entity: str, year: int, due: date, today: date) -> Finding:
        return self.finding(
            f"提醒：{entity}{year}年度报告应于{due.isoformat()}前公开，还有{(due - today).days}天，目前尚未发现。",
            due_date=due.isoformat(), days_left=(due - today).days)


@register
class PortalBlocked(Rule):
    """门户网站返回了验证或拦截页面（412、521状态码的脚本验证、网站防火墙拦截页、验证码）：该县的年报公开情况
    暂时无法判断，这期间不会据此判定“未公开”（TIME-004）。"""

    id = "CRAWL-001"
    severity = "error"
    scope = "sched"

    def build(self, *, county: str, run_id: int, finished_at: str, error: str | None,
              kinds: dict[str, int] | None = None) -> Finding:
        return self.finding(f"{county}门户网站拦截了抓取（{_counted(kinds, BLOCK_KINDS, '验证或拦截页面')}），"
                            "年报公开情况暂时无法判断。",
                            run_id=run_id, finished_at=finished_at, error=error, kinds=kinds or {})


@register
class PortalFailing(Rule):
    """门户网站在连续多次定时抓取中访问失败（超时、服务器错误、域名解析失败），次数阈值可配置。"""

    id = "CRAWL-002"
    severity = "warning"
    scope = "sched"

    def build(self, *, county: str, runs: list[int], errors: list[str | None],
              reasons: dict[str, int] | None = None) -> Finding:
        return self.finding(f"{county}门户网站连续{len(runs)}次定时抓取失败"
                            f"（最近一次：{_counted(reasons, FAIL_REASONS, '访问失败')}）。",
                            run_ids=runs, errors=errors, consecutive=len(runs), reasons=reasons or {})


@register
class EmptyListPage(Rule):
    """配置的年报栏目页面没有找到任何年报链接，栏目可能已改版或迁移，需要更新县的门户配置。"""

    id = "CRAWL-003"
    severity = "warning"
    scope = "sched"

    def build(self, *, county: str, url: str, run_id: int, moved_to: str | None = None) -> Finding:
        if moved_to:
            return self.finding(f"{county}年报栏目 {url} 已跳转到配置之外的地址 {moved_to}（网站可能已迁移），"
                                "请更新门户配置。", subject=url, url=url, run_id=run_id, moved_to=moved_to)
        return self.finding(f"{county}年报栏目 {url} 没有找到任何年报链接，栏目可能已改版。",
                            subject=url, url=url, run_id=run_id)


__all__ = ["LatePublication", "MissingReport", "DueSoon", "PortalBlocked", "PortalFailing", "EmptyListPage",
           "SOURCE_LABELS"]
