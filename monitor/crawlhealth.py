"""Crawl health: CRAWL-001 (blocked), CRAWL-002 (failing), CRAWL-003 (a list page yields nothing).

These findings are about a county's portal, not a report: `entity_id` and `year` are empty and the
fingerprint is keyed on the county code. They are read from `crawl_runs`:
- CRAWL-001: the county's latest finished run has status `blocked`;
- CRAWL-002: its last `threshold` finished *scheduled* runs all have status `failed`;
- CRAWL-003: its latest run that reached the lists (ok or partial) reports list pages without a
  single report link in `stats["empty_lists"]` (one finding per list URL); or its latest run
  found URLs redirected off the portal's hosts (`stats["moved"]`, a site merger), whatever its status.
A later run that does not show the problem resolves the finding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from monitor.clock import Clock
from monitor.report import Finding
from monitor.rules.base import Rule, register
from storage.models import CrawlRun
from storage.models import Finding as FindingRow
from storage.repo import finding_row, sync_findings

log = logging.getLogger(__name__)

CRAWL_RULES = ("CRAWL-001", "CRAWL-002", "CRAWL-003")

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
        return self.finding(f"{county}门户网站连续{len(runs)}次定时抓取失败（最近一次：{_counted(reasons, FAIL_REASONS, '访问失败')}）。",
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


def _latest_runs(session: Session, codes: list[str] | None, statuses: tuple[str, ...] | None,
                 triggers: tuple[str, ...] | None, depth: int, *, with_stats: bool = False,
                 ) -> dict[str, list[Any]]:
    """The last `depth` finished runs of each county, newest first (one windowed query, plain rows:
    id, county_code, status, finished_at, error[, stats])."""
    rn = func.row_number().over(partition_by=CrawlRun.county_code,
                                order_by=(CrawlRun.finished_at.desc(), CrawlRun.id.desc())).label("rn")
    conds = [CrawlRun.finished_at.is_not(None)]
    if codes is not None:
        conds.append(CrawlRun.county_code.in_(codes))
    if statuses:
        conds.append(CrawlRun.status.in_(statuses))
    if triggers:
        conds.append(CrawlRun.trigger.in_(triggers))
    cols = [CrawlRun.id, CrawlRun.county_code, CrawlRun.status, CrawlRun.finished_at, CrawlRun.error]
    if with_stats:
        cols.append(CrawlRun.stats)
    inner = select(*cols, rn).where(and_(*conds)).subquery()
    q = (select(*(inner.c[c.key] for c in cols)).where(inner.c.rn <= depth)
         .order_by(inner.c.county_code, inner.c.rn))
    out: dict[str, list[Any]] = {}
    for run in session.execute(q):
        out.setdefault(run.county_code, []).append(run)
    return out


def evaluate(session: Session, clock: Clock, county_codes: Iterable[str] | None = None, *,
             threshold: int = 2, names: dict[str, str] | None = None) -> tuple[int, int]:
    """Crawl-health findings of the counties, in the caller's transaction. Returns (new, resolved)."""
    from storage.models import County

    codes = list(county_codes) if county_codes is not None else None
    if names is None:
        q = select(County.code, County.name)
        if codes is not None:
            q = q.where(County.code.in_(codes))
        names = {code: name for code, name in session.execute(q)}
    wanted: list[dict[str, Any]] = []

    def add(f: Finding, code: str) -> None:
        wanted.append(finding_row(f, scope="sched", county_code=code, entity_id=None, year=None,
                                  key=code))

    for code, (run,) in _latest_runs(session, codes, None, None, 1, with_stats=True).items():
        if run.status == "blocked":
            add(PortalBlocked().build(county=names.get(code, code), run_id=run.id,
                                      finished_at=run.finished_at.isoformat() if run.finished_at else "",
                                      error=run.error, kinds=(run.stats or {}).get("blocked_kinds")), code)
    for code, runs in _latest_runs(session, codes, None, ("schedule",), threshold, with_stats=True).items():
        if len(runs) >= threshold and all(r.status == "failed" for r in runs):
            add(PortalFailing().build(county=names.get(code, code), runs=[r.id for r in runs],
                                      errors=[r.error for r in runs],
                                      reasons=(runs[0].stats or {}).get("failed_reasons")), code)
    reported: set[tuple[str, str]] = set()
    for code, (run,) in _latest_runs(session, codes, ("ok", "partial"), None, 1, with_stats=True).items():
        for url in (run.stats or {}).get("empty_lists", []) or []:
            reported.add((code, str(url)))
            add(EmptyListPage().build(county=names.get(code, code), url=str(url), run_id=run.id), code)
    # A configured URL that now redirects off the portal's hosts (site merger), whatever the
    # latest run's status: it reached no list at all, and only a new profile brings it back.
    for code, (run,) in _latest_runs(session, codes, None, None, 1, with_stats=True).items():
        for pair in (run.stats or {}).get("moved", []) or []:
            origin, _, target = str(pair).partition(" → ")
            if (code, origin) not in reported:
                reported.add((code, origin))
                add(EmptyListPage().build(county=names.get(code, code), url=origin, run_id=run.id,
                                          moved_to=target), code)

    owned = FindingRow.rule_id.in_(CRAWL_RULES)
    if codes is not None:
        owned = and_(owned, FindingRow.county_code.in_(codes))
    new, resolved = sync_findings(session, wanted, owned, now=clock.now(), refresh=False)
    log.info("crawl health", extra={"new": new, "resolved": resolved})
    return new, resolved


__all__ = ["evaluate", "PortalBlocked", "PortalFailing", "EmptyListPage", "CRAWL_RULES"]
