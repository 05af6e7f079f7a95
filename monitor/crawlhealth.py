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
from monitor.config import DEFAULT_POLICY, Policy
from monitor.report import Finding
from monitor.rules.sched import EmptyListPage, PortalBlocked, PortalFailing
from storage.models import CrawlRun
from storage.models import Finding as FindingRow
from storage.repo import EventHook, FindingEvent, emit, finding_row, sync_findings

log = logging.getLogger(__name__)

CRAWL_RULES = ("CRAWL-001", "CRAWL-002", "CRAWL-003")


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
             policy: Policy = DEFAULT_POLICY, names: dict[str, str] | None = None,
             on_events: EventHook | None = None) -> list[FindingEvent]:
    """Crawl-health findings of the counties, in the caller's transaction. Returns their events
    (also handed to `on_events`, in the same transaction).
    CRAWL-002 needs `policy.crawl_failure_threshold` failed scheduled runs in a row."""
    threshold = policy.crawl_failure_threshold
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
    events = emit(session, sync_findings(session, wanted, owned, now=clock.now(), refresh=False), on_events)
    log.info("crawl health", extra={"events": len(events)})
    return events


__all__ = ["evaluate", "PortalBlocked", "PortalFailing", "EmptyListPage", "CRAWL_RULES"]
