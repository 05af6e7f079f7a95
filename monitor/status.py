"""The service layer behind `nianbao status/findings/export` and the bot's commands, so the CLI and
the bot cannot disagree. Functions take a session (read-only) and a clock, return plain data.

A cell (body × year) is one of:
  on_time  按时    published by the due date
  late     逾期    published after it (TIME-003)
  published 已公开 published, date unknown: only first seen after the due date, by a monitor
                   that was not watching the portal at the due date (no TIME-003)
  errors   有错误  published, with open error findings (takes precedence over on_time/late)
  missing  缺失    due, crawled successfully since, not found (TIME-004)
  blocked  被拦截  due, but the portal's latest crawl was blocked (CRAWL-001)
  not_due  未到期  not due yet (`reminder` when inside the reminder window)
  unknown  待检查  due, but no successful crawl since
  —                the body was not expected that year
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import String, bindparam, case, func, select, type_coerce
from sqlalchemy.orm import Session

from monitor.clock import Clock, today_shanghai
from monitor.config import DEFAULT_POLICY, Policy
from monitor.deadlines import (
    Cell,
    CrawlState,
    classify,
    crawl_states,
    due_date,
    parse_utc,
    reminder_days,
    season_year,
    shanghai_date,
)
from monitor.errors import NianbaoError
from storage.models import County, CrawlRun, Entity, Report, Review
from storage.models import Finding as FindingRow
from storage.repo import as_date

log = logging.getLogger(__name__)

STATE_LABELS = {"on_time": "按时", "late": "逾期", "published": "已公开", "errors": "有错误", "missing": "缺失",
                "blocked": "被拦截", "not_due": "未到期", "reminder": "未到期", "unknown": "待检查",
                "not_expected": "—"}
DEFAULT_YEARS = 6


class UnknownCounty(NianbaoError):
    """No such county in the database."""


@dataclass(slots=True)
class CellStatus:
    state: str
    due: date | None = None
    report_id: int | None = None
    published: date | None = None
    published_source: str | None = None
    errors: int = 0
    warnings: int = 0

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(slots=True)
class BodyRow:
    entity_id: int
    name: str
    kind: str
    discovered: bool
    cells: dict[int, CellStatus] = field(default_factory=dict)


@dataclass(slots=True)
class CountyStatus:
    code: str
    name: str
    years: list[int]
    bodies: list[BodyRow]
    crawl: CrawlState
    crawl_findings: list[dict[str, Any]] = field(default_factory=list)

    def counts(self, year: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for b in self.bodies:
            c = b.cells.get(year)
            if c is not None and c.state != "not_expected":
                out[c.state] = out.get(c.state, 0) + 1
        return out


def _years(clock: Clock, year: int | None, n: int = DEFAULT_YEARS) -> list[int]:
    last = season_year(clock)
    if year is not None:
        return [year]
    return list(range(last - n + 1, last + 1))


def _expected(e: Any, year: int, report_years: set[int]) -> bool:
    if year in report_years:
        return True
    if e.first_year is not None and year < e.first_year:
        return False
    if e.retired_year is not None and year >= e.retired_year:
        return False
    return not e.discovered or any(y < year for y in report_years)


# Built once: `status` runs for every bot request, so the statements are compiled once and the
# rows read without the ORM (dates as text on SQLite, parsed by the C date parser).
_CODE = bindparam("code")
_COUNTY = select(County.name, County.deadlines).where(County.code == _CODE)
_ENTITIES = (select(Entity.id, Entity.name, Entity.kind, Entity.discovered, Entity.first_year,
                    Entity.retired_year)
             .where(Entity.county_code == _CODE).order_by(Entity.discovered, Entity.kind, Entity.name))
_REPORTS = (select(Report.id, Report.entity_id, Report.year, type_coerce(Report.published_at, String),
                   Report.published_source, type_coerce(Report.first_seen_at, String))
            .join(Entity, Entity.id == Report.entity_id).where(Entity.county_code == _CODE))
_FINDINGS = (select(FindingRow.entity_id, FindingRow.year, FindingRow.severity, FindingRow.rule_id,
                    FindingRow.scope, FindingRow.message)
             .where(FindingRow.county_code == _CODE, FindingRow.resolved_at.is_(None)))
_LAST_RUN = (select(CrawlRun.status, CrawlRun.finished_at)
             .where(CrawlRun.county_code == _CODE, CrawlRun.finished_at.is_not(None))
             .order_by(CrawlRun.finished_at.desc()).limit(1))
_OK_RUNS = (select(func.min(CrawlRun.finished_at), func.max(CrawlRun.finished_at))
            .where(CrawlRun.county_code == _CODE, CrawlRun.status == "ok", CrawlRun.finished_at.is_not(None)))


def county_status(session: Session, code: str, clock: Clock, years: list[int] | None = None,
                  *, policy: Policy = DEFAULT_POLICY) -> CountyStatus:
    conn = session.connection()
    params = {"code": code}
    county = conn.execute(_COUNTY, params).first()
    if county is None:
        raise UnknownCounty(f"county {code} is not in the database (profiles are loaded by `nianbao init`)")
    name, overrides = county
    years = sorted(years or _years(clock, None))
    today = today_shanghai(clock)
    entities = conn.execute(_ENTITIES, params).all()
    reports: dict[tuple[int, int], Any] = {}
    report_years: dict[int, set[int]] = {}
    for r in conn.execute(_REPORTS, params):
        reports[(r[1], r[2])] = r
        report_years.setdefault(r[1], set()).add(r[2])
    counts: dict[tuple[int, int], dict[str, int]] = {}
    crawl_findings = []
    for eid, year, sev, rule, scope, message in conn.execute(_FINDINGS, params):
        if scope in ("doc", "hist"):
            c = counts.setdefault((eid, year), {})
            c[sev] = c.get(sev, 0) + 1
        elif rule.startswith("CRAWL-"):
            crawl_findings.append({"rule": rule, "severity": sev, "message": message})
    crawl = CrawlState()
    last = conn.execute(_LAST_RUN, params).first()
    if last is not None:
        crawl.last_status, crawl.last_finished = last
    crawl.first_ok, crawl.last_ok = conn.execute(_OK_RUNS, params).one()
    remind = reminder_days(overrides, policy.reminder_days)
    dues = {(k, y): due_date(k, y, overrides) for k in {e.kind for e in entities} for y in years}
    rows: list[BodyRow] = []
    for e in entities:
        row = BodyRow(entity_id=e.id, name=e.name, kind=e.kind, discovered=e.discovered)
        ry = report_years.get(e.id, set())
        for y in years:
            if not _expected(e, y, ry):
                row.cells[y] = CellStatus(state="not_expected")
                continue
            cell = Cell(entity_id=e.id, entity=e.name, kind=e.kind, county_code=code, year=y,
                        due=dues[(e.kind, y)])
            r = reports.get((e.id, y))
            if r is not None:
                cell.report_id = r[0]
                if r[3] is not None:
                    cell.published, cell.published_source = as_date(r[3]), r[4]
                else:
                    cell.published, cell.published_source = shanghai_date(parse_utc(r[5])), "first_seen"
            classify(cell, today, crawl, remind)
            c = counts.get((e.id, y), {})
            st = CellStatus(state=cell.state, due=cell.due, report_id=cell.report_id,
                            published=cell.published, published_source=cell.published_source,
                            errors=c.get("error", 0), warnings=c.get("warning", 0))
            if st.report_id is not None and st.errors:
                st.state = "errors"
            row.cells[y] = st
        rows.append(row)
    return CountyStatus(code=code, name=name, years=years, bodies=rows, crawl=crawl,
                        crawl_findings=crawl_findings)


def overview(session: Session, clock: Clock, year: int | None = None, *,
             policy: Policy = DEFAULT_POLICY) -> list[dict[str, Any]]:
    """Per county: the number of bodies in each state for one report year (all counties)."""
    from monitor.deadlines import cells_for_year

    year = year or season_year(clock)
    today = today_shanghai(clock)
    crawl = crawl_states(session)
    names = {c: n for c, n in session.execute(select(County.code, County.name))}
    errors = {eid for (eid,) in session.execute(
        select(FindingRow.entity_id).where(FindingRow.year == year, FindingRow.resolved_at.is_(None),
                                           FindingRow.severity == "error",
                                           FindingRow.scope.in_(("doc", "hist"))).distinct())}
    out: dict[str, dict[str, Any]] = {}
    for cell, overrides in cells_for_year(session, year):
        classify(cell, today, crawl.get(cell.county_code, CrawlState()),
                 reminder_days(overrides, policy.reminder_days))
        state = "errors" if cell.report_id is not None and cell.entity_id in errors else cell.state
        row = out.setdefault(cell.county_code, {"code": cell.county_code,
                                                "name": names.get(cell.county_code, ""), "year": year,
                                                "bodies": 0})
        row["bodies"] += 1
        row[state] = row.get(state, 0) + 1
    return [out[k] for k in sorted(out)]


def list_findings(session: Session, *, county: str | None = None, severity: str | None = None,
                  open_only: bool = False, year: int | None = None, limit: int | None = None,
                  ) -> list[dict[str, Any]]:
    """Findings, most severe and newest first; `severity` is a minimum (info < warning < error)."""
    from monitor.report import SEVERITIES, SEVERITY_RANK

    q = (select(FindingRow, Entity.name, County.name)
         .outerjoin(Entity, Entity.id == FindingRow.entity_id)
         .outerjoin(County, County.code == FindingRow.county_code))
    if county:
        q = q.where(FindingRow.county_code == county)
    if severity:
        if severity not in SEVERITIES:
            raise NianbaoError(f"unknown severity {severity!r}; one of {', '.join(SEVERITIES)}")
        q = q.where(FindingRow.severity.in_([s for s in SEVERITIES
                                             if SEVERITY_RANK[s] >= SEVERITY_RANK[severity]]))
    if open_only:
        q = q.where(FindingRow.resolved_at.is_(None))
    if year is not None:
        q = q.where(FindingRow.year == year)
    q = q.order_by(FindingRow.resolved_at.is_not(None), FindingRow.county_code, FindingRow.year.desc(),
                   FindingRow.rule_id, FindingRow.id)
    if limit:
        q = q.limit(limit)
    rows = []
    for f, entity, county_name in session.execute(q):
        rows.append({"id": f.id, "fingerprint": f.fingerprint, "rule": f.rule_id, "severity": f.severity,
                     "scope": f.scope, "county": f.county_code, "county_name": county_name,
                     "entity": entity, "year": f.year, "message": f.message, "details": f.details,
                     "first_seen_at": f.first_seen_at.isoformat(),
                     "last_seen_at": f.last_seen_at.isoformat(),
                     "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None})
    rows.sort(key=lambda r: (r["resolved_at"] is not None, -SEVERITY_RANK[r["severity"]]))
    return rows


def report_rows(session: Session, clock: Clock, *, county: str | None = None,
                years: list[int] | None = None, policy: Policy = DEFAULT_POLICY) -> list[dict[str, Any]]:
    """One row per body × year (the status grid, flattened) — for `export`."""
    codes = [county] if county else list(session.scalars(select(County.code).order_by(County.code)))
    out = []
    for code in codes:
        st = county_status(session, code, clock, years, policy=policy)
        for b in st.bodies:
            for y, c in b.cells.items():
                if c.state == "not_expected":
                    continue
                out.append({"county": code, "county_name": st.name, "entity": b.name, "kind": b.kind,
                            "discovered": b.discovered, "year": y, "state": c.state, "label": c.label,
                            "due": c.due.isoformat() if c.due else None,
                            "published": c.published.isoformat() if c.published else None,
                            "published_source": c.published_source, "errors": c.errors,
                            "warnings": c.warnings})
    return out


def request_recrawl(session: Session, code: str, requested_by: str, *, trigger: str = "chat") -> tuple[Any, bool]:
    """Queue a crawl of the county (bot `/recrawl`, CLI). Returns (run, created): a request already
    queued for the county is returned instead of queuing a second one."""
    from storage import repo

    if session.get(County, code) is None:
        raise UnknownCounty(f"county {code} is not in the database (profiles are loaded by `nianbao init`)")
    queued = session.scalar(select(CrawlRun).where(CrawlRun.county_code == code, CrawlRun.status == "queued"))
    if queued is not None:
        return queued, False
    return repo.create_crawl_run(session, code, trigger, requested_by, status="queued"), True


# ---- read functions of the web pages (monitor/web) ---------------------------------------------

FINDINGS_PAGE_MAX = 500  # rows of one page of `search_findings` (the page size comes from a URL)
# Review filter values: "none" is a finding nobody reviewed; the others are models.REVIEW_STATES
# (the state of the latest review of the finding's fingerprint).
# (`fixed` is written by nianbao when a new version stops the rule: monitor.review)
REVIEW_FILTERS = {"none": "未复核", "open": "已重开", "confirmed": "已确认", "dismissed": "已排除", "fixed": "已更正"}


def list_counties(session: Session, q: str | None = None) -> list[dict[str, Any]]:
    """Every county (code, name, province, city), by code; `q` matches code, name, province or city."""
    query = select(County.code, County.name, County.province, County.city).order_by(County.code)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(County.code.like(like) | County.name.like(like) | County.province.like(like)
                            | County.city.like(like))
    return [{"code": c, "name": n, "province": p, "city": ci} for c, n, p, ci in session.execute(query)]


def finding_rules(session: Session, county: str | None = None) -> list[str]:
    """The rule IDs that have findings, in one county or anywhere (for a filter's choices)."""
    q = select(FindingRow.rule_id).distinct()
    if county:
        q = q.where(FindingRow.county_code == county)
    return sorted(session.scalars(q))


def reviews_exist(session: Session) -> bool:
    """Has a person reviewed a finding (nianbao's own `fixed` rows do not count)?"""
    from monitor.review import SYSTEM

    return session.scalar(select(Review.id).where(Review.by.is_(None) | (Review.by != SYSTEM)).limit(1)) is not None


def _latest_reviews():  # type: ignore[no-untyped-def]
    ranked = select(Review.finding_fingerprint.label("fp"), Review.state.label("state"),
                    func.row_number().over(partition_by=Review.finding_fingerprint,
                                           order_by=(Review.at.desc(), Review.id.desc())).label("n")).subquery()
    return select(ranked.c.fp, ranked.c.state).where(ranked.c.n == 1).subquery()


def _finding_dict(f: Any, entity: str | None, county_name: str | None) -> dict[str, Any]:
    return {"id": f.id, "fingerprint": f.fingerprint, "rule": f.rule_id, "severity": f.severity,
            "scope": f.scope, "county": f.county_code, "county_name": county_name, "entity": entity,
            "year": f.year, "report_id": f.report_id, "message": f.message, "details": f.details,
            "first_seen_at": f.first_seen_at.isoformat(), "last_seen_at": f.last_seen_at.isoformat(),
            "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None}


def search_findings(session: Session, *, county: str | None = None, entity: int | None = None,
                    rule: str | None = None,
                    severity: str | None = None, review: str | None = None, open_only: bool = False,
                    year: int | None = None, limit: int | None = 100, offset: int = 0,
                    ) -> tuple[list[dict[str, Any]], int]:
    """Findings filtered by county, body (entity id), rule, minimum severity, review state and year, open before
    resolved and most severe first — one page (`limit` ≤ FINDINGS_PAGE_MAX rows from `offset`;
    `limit=None`: every row, for exports) and the number of matching findings. Each row is
    `list_findings`'s plus `report_id` and `review` (the latest review's state, or None)."""
    from monitor.report import SEVERITIES, SEVERITY_RANK

    conds = []
    if county:
        conds.append(FindingRow.county_code == county)
    if entity is not None:
        conds.append(FindingRow.entity_id == entity)
    if rule:
        conds.append(FindingRow.rule_id == rule)
    if severity:
        if severity not in SEVERITIES:
            raise NianbaoError(f"unknown severity {severity!r}; one of {', '.join(SEVERITIES)}")
        conds.append(FindingRow.severity.in_([s for s in SEVERITIES
                                              if SEVERITY_RANK[s] >= SEVERITY_RANK[severity]]))
    if open_only:
        conds.append(FindingRow.resolved_at.is_(None))
    if year is not None:
        conds.append(FindingRow.year == year)
    if review:
        if review not in REVIEW_FILTERS:
            raise NianbaoError(f"unknown review state {review!r}; one of {', '.join(REVIEW_FILTERS)}")
        latest = _latest_reviews()
        reviewed = select(latest.c.fp)
        if review == "none":  # no person reviewed it (nianbao's own `fixed` rows do not count)
            from monitor.review import SYSTEM

            conds.append(FindingRow.fingerprint.not_in(select(Review.finding_fingerprint)
                                                       .where(Review.by.is_(None) | (Review.by != SYSTEM))))
        else:
            conds.append(FindingRow.fingerprint.in_(reviewed.where(latest.c.state == review)))
    total = session.scalar(select(func.count()).select_from(FindingRow).where(*conds)) or 0
    rank = case((FindingRow.severity == "error", 0), (FindingRow.severity == "warning", 1), else_=2)
    order = (FindingRow.resolved_at.is_not(None), rank, FindingRow.county_code, FindingRow.year.desc(),
             FindingRow.rule_id, FindingRow.id)
    # The page's ids are chosen on the findings table alone, then joined: the database sorts
    # findings, not findings joined to their bodies and counties.
    page = select(FindingRow.id).where(*conds).order_by(*order)
    if limit is not None:
        page = page.limit(max(1, min(limit, FINDINGS_PAGE_MAX))).offset(max(0, offset))
    ids = page.subquery()
    q = (select(FindingRow, Entity.name, County.name)
         .join(ids, ids.c.id == FindingRow.id)
         .outerjoin(Entity, Entity.id == FindingRow.entity_id)
         .outerjoin(County, County.code == FindingRow.county_code)
         .order_by(*order))
    rows = [_finding_dict(f, entity, county_name) for f, entity, county_name in session.execute(q)]
    states = _review_states(session, [r["fingerprint"] for r in rows])
    for r in rows:
        r["review"] = states.get(r["fingerprint"])
    return rows, total


def _review_states(session: Session, fingerprints: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(fingerprints), 500):
        chunk = fingerprints[i:i + 500]
        q = (select(Review.finding_fingerprint, Review.state).where(Review.finding_fingerprint.in_(chunk))
             .order_by(Review.at, Review.id))
        for fp, state in session.execute(q):
            out[fp] = state  # the latest wins
    return out


def findings_per_rule_year(session: Session, *, county: str | None = None,
                           open_only: bool = False) -> list[dict[str, Any]]:
    """How many findings each rule has in each report year (`rule`, `year`, `n`), for the plot."""
    q = select(FindingRow.rule_id, FindingRow.year, func.count()).where(FindingRow.year.is_not(None))
    if county:
        q = q.where(FindingRow.county_code == county)
    if open_only:
        q = q.where(FindingRow.resolved_at.is_(None))
    q = q.group_by(FindingRow.rule_id, FindingRow.year).order_by(FindingRow.rule_id, FindingRow.year)
    return [{"rule": r, "year": y, "n": n} for r, y, n in session.execute(q)]


RUNS_PAGE_MAX = 500


def list_crawl_runs(session: Session, *, county: str | None = None, status: str | None = None,
                    limit: int | None = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Crawl runs, newest first (one page, and how many match): status, pages read, blocked and
    failed requests per run (from the run's stats, `crawler.runner.summarize`)."""
    conds = []
    if county:
        conds.append(CrawlRun.county_code == county)
    if status:
        conds.append(CrawlRun.status == status)
    total = session.scalar(select(func.count()).select_from(CrawlRun).where(*conds)) or 0
    q = (select(CrawlRun, County.name).join(County, County.code == CrawlRun.county_code).where(*conds)
         .order_by(CrawlRun.queued_at.desc(), CrawlRun.id.desc()))
    if limit is not None:
        q = q.limit(max(1, min(limit, RUNS_PAGE_MAX))).offset(max(0, offset))
    out = []
    for run, county_name in session.execute(q):
        stats = run.stats if isinstance(run.stats, dict) else {}

        def n(key: str, stats: dict[str, Any] = stats) -> int:
            v = stats.get(key, 0)
            return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0

        out.append({"id": run.id, "county": run.county_code, "county_name": county_name,
                    "trigger": run.trigger, "requested_by": run.requested_by, "status": run.status,
                    "queued_at": run.queued_at.isoformat(),
                    "started_at": run.started_at.isoformat() if run.started_at else None,
                    "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                    "pages": n("pages"), "fetched": n("fetched"), "blocked": n("blocked"),
                    "failed": n("failed"), "new": n("new"), "changed": n("changed"), "error": run.error})
    return out, total


def report_detail(session: Session, report_id: int) -> dict[str, Any] | None:
    """One report: its body and county, the due date, every version (newest first) with its
    document and what changed from the version before, the publication date with every source
    that gave one (the one used and the ones overruled), and its findings (open first)."""
    from monitor.history import describe_change
    from monitor.report import ParsedReport
    from storage.models import Document, ReportVersion

    row = session.execute(select(Report, Entity, County).join(Entity, Entity.id == Report.entity_id)
                          .join(County, County.code == Entity.county_code)
                          .where(Report.id == report_id)).first()
    if row is None:
        return None
    report, entity, county = row
    versions = []
    previous: ParsedReport | None = None
    for v, doc in session.execute(select(ReportVersion, Document).join(Document, Document.id == ReportVersion.document_id)
                                  .where(ReportVersion.report_id == report_id).order_by(ReportVersion.id)):
        parsed = v.parsed if isinstance(v.parsed, dict) else {}
        pr = ParsedReport.from_dict(parsed)
        change = None
        if previous is not None:
            f = describe_change(previous, pr)
            change = {"message": f.message, **f.details} if f is not None else {"message": "内容未变"}
        previous = pr
        versions.append({"id": v.id, "is_current": v.is_current, "template": v.template,
                         "parser_version": v.parser_version, "parsed_at": v.parsed_at, "parsed": parsed,
                         "change": change,
                         "document": {"id": doc.id, "url": doc.url, "final_url": doc.final_url,
                                      "sha256": doc.sha256, "content_type": doc.content_type,
                                      "size": doc.size, "first_seen_at": doc.first_seen_at,
                                      "page_published_at": doc.page_published_at,
                                      "published_source": doc.published_source,
                                      "listing_date": doc.listing_date, "listing_title": doc.listing_title}})
    versions.reverse()
    current = next((v for v in versions if v["is_current"]), versions[0] if versions else None)
    due = due_date(entity.kind, report.year, county.deadlines)
    candidates = []
    if current is not None:
        d = current["document"]
        if d["page_published_at"] is not None:
            candidates.append((d["published_source"] or "page", d["page_published_at"]))
        if d["listing_date"] is not None:
            candidates.append(("listing", d["listing_date"]))
        if current["parsed"].get("published_at"):
            candidates.append(("signature", as_date(current["parsed"]["published_at"])))
    candidates.append(("first_seen", shanghai_date(report.first_seen_at)))
    used = report.published_source if report.published_at is not None else "first_seen"
    if report.published_at is not None and not any(s == used for s, _ in candidates):
        candidates.insert(0, (used, report.published_at))
    sources = [{"source": s, "date": d, "used": s == used and (report.published_at is None
                                                               or d == report.published_at)}
               for s, d in candidates]
    found = [_finding_dict(f, entity.name, county.name) for f in session.scalars(
        select(FindingRow).where((FindingRow.report_id == report_id)
                                 | ((FindingRow.entity_id == entity.id) & (FindingRow.year == report.year)
                                    & FindingRow.report_id.is_(None)))
        .order_by(FindingRow.resolved_at.is_not(None), FindingRow.rule_id, FindingRow.id))]
    return {"id": report.id, "year": report.year, "county": county.code, "county_name": county.name,
            "entity": entity.name, "entity_id": entity.id, "kind": entity.kind, "due": due,
            "published": report.published_at or shanghai_date(report.first_seen_at),
            "published_source": used, "sources": sources, "first_seen_at": report.first_seen_at,
            "versions": versions, "current": current, "findings": found}


__all__ = ["county_status", "overview", "list_findings", "report_rows", "request_recrawl", "CountyStatus", "BodyRow",
           "CellStatus", "STATE_LABELS", "UnknownCounty", "list_counties", "finding_rules", "reviews_exist",
           "search_findings", "findings_per_rule_year", "list_crawl_runs", "report_detail", "REVIEW_FILTERS"]
