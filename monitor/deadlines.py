"""Due dates, and the deadline rules TIME-003 (late), TIME-004 (missing), TIME-005 (reminder).

Due dates (domain/rules.md): report years ≤ 2018 — 03-31 of the next year for every body (2008
条例); ≥ 2019 — 01-31 for departments, townships, streets (and other bodies), 03-31 for the county
government (2019 条例 第四十九、五十条). A county's `deadlines` (county > city > province, see
monitor.profiles) override these from `since_year` (default 2019) on. Dates are Asia/Shanghai
calendar dates; a report is due by the end of its due day.

`sweep()` evaluates every county (or some) for one report year in a few set-based queries:
expected bodies × due dates × reports × crawl runs → the wanted findings, reconciled with the
open ones (new, still firing, resolved). A body is expected in a year when the profile lists it
(and `first_year` ≤ year < `retired_year`), or when it published a report in an earlier year and
is not retired.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased, sessionmaker

from monitor.clock import SHANGHAI, Clock, today_shanghai
from monitor.config import DEFAULT_POLICY, Policy
from monitor.report import Finding
from monitor.rules.sched import SOURCE_LABELS, DueSoon, LatePublication, MissingReport  # noqa: F401
from storage.models import County, CrawlRun, Entity, Report, SeenUrl
from storage.models import Finding as FindingRow
from storage.repo import EventHook, FindingEvent, as_date, emit, finding_row, sync_findings

log = logging.getLogger(__name__)

LAW_2008 = "03-31"
LAW_2019 = {"county_gov": "03-31", "department": "01-31", "township": "01-31", "street": "01-31",
            "other": "01-31"}
DEFAULT_SINCE_YEAR = 2019
DEFAULT_REMINDER_DAYS = 14
SCHED_TIME_RULES = ("TIME-003", "TIME-004", "TIME-005")


def due_date(kind: str, year: int, overrides: Mapping[str, Any] | None = None) -> date:
    """The last day to publish the `year` report of a body of this kind."""
    overrides = overrides or {}
    if year >= int(overrides.get("since_year", DEFAULT_SINCE_YEAR)) and kind in overrides:
        mmdd = str(overrides[kind])
    elif year <= 2018:
        mmdd = LAW_2008
    else:
        mmdd = LAW_2019.get(kind, LAW_2019["other"])
    month, day = (int(x) for x in mmdd.split("-"))
    return date(year + 1, month, day)


def reminder_days(overrides: Mapping[str, Any] | None, default: int = DEFAULT_REMINDER_DAYS) -> int:
    return int((overrides or {}).get("reminder_days", default))


def shanghai_date(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


@dataclass(slots=True)
class CrawlState:
    """What the crawl runs say about a county's portal."""

    last_ok: datetime | None = None  # when the latest ok run started
    first_ok: datetime | None = None  # the first one: since when the portal is watched
    last_status: str | None = None  # status of the latest finished run
    last_finished: datetime | None = None
    ingesting: bool = False  # documents fetched but not ingested yet: what the crawl saw is not known


@dataclass(slots=True)
class Cell:
    """One body × year, as the sweep and `status` see it."""

    entity_id: int
    entity: str
    kind: str
    county_code: str
    year: int
    due: date
    report_id: int | None = None
    published: date | None = None
    published_source: str | None = None
    # on_time | late | published (date unknown) | missing | blocked | reminder | not_due | unknown
    state: str = "not_due"
    rule: str | None = None  # the sched rule the cell fires (finding built by `finding()`)
    checked: date | None = None  # the last successful crawl (TIME-004)
    frozen: bool = False  # the portal's state is unknown: keep the open TIME-004 as it is

    def finding(self, today: date) -> Finding | None:
        if self.rule == "TIME-003":
            assert self.published is not None
            return LatePublication().build(entity=self.entity, year=self.year, due=self.due,
                                           published=self.published,
                                           source=self.published_source or "first_seen")
        if self.rule == "TIME-004":
            assert self.checked is not None
            return MissingReport().build(entity=self.entity, year=self.year, due=self.due,
                                         checked=self.checked, today=today)
        if self.rule == "TIME-005":
            return DueSoon().build(entity=self.entity, year=self.year, due=self.due, today=today)
        return None


def sched_fingerprint(rule: str, entity_id: int, year: int) -> str:
    """`Finding.fingerprint(entity_id, year)` of a TIME-00x finding (empty subject), without
    building the finding: the sweep computes one per firing cell of the nation every day."""
    raw = f'["{rule}", "{entity_id}", {year}, ""]'  # json.dumps of the same list
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def classify(cell: Cell, today: date, crawl: CrawlState, remind_days: int) -> Cell:
    """Decide the cell's state and the sched rule it fires (pure: no database)."""
    if cell.report_id is not None:
        if cell.published_source == "first_seen" and cell.published is not None \
                and cell.published > cell.due \
                and (crawl.first_ok is None or shanghai_date(crawl.first_ok) > cell.due):
            # Only the date we first saw it, and we were not watching at the due date: it may
            # well have been published on time (e.g. a county added to the monitor later).
            cell.state = "published"
        elif cell.published is not None and cell.published > cell.due:
            cell.state, cell.rule = "late", "TIME-003"
        else:
            cell.state = "on_time"
        return cell
    if today <= cell.due:
        if (cell.due - today).days <= remind_days:
            cell.state, cell.rule = "reminder", "TIME-005"
        else:
            cell.state = "not_due"
        return cell
    checked = shanghai_date(crawl.last_ok) if crawl.last_ok else None
    latest_bad = crawl.last_status in ("blocked", "failed") and crawl.last_finished is not None \
        and shanghai_date(crawl.last_finished) > cell.due
    if latest_bad:
        cell.state, cell.frozen = ("blocked" if crawl.last_status == "blocked" else "unknown"), True
    elif crawl.ingesting:
        # a crawl finished but its documents wait for ingestion (the crawl child is processing
        # them): its reports may be among them, so nothing is missing until they are read
        cell.state, cell.frozen = "unknown", True
    elif checked is not None and checked > cell.due:
        cell.state, cell.rule, cell.checked = "missing", "TIME-004", checked
    else:
        cell.state = "unknown"  # due, but no successful crawl since: nothing can be said yet
    return cell


def crawl_states(session: Session, county_codes: Iterable[str] | None = None) -> dict[str, CrawlState]:
    """Per county: when the latest (and the first) ok run started, and the latest finished run
    (grouped queries)."""
    codes = list(county_codes) if county_codes is not None else None
    finished = CrawlRun.finished_at.is_not(None)
    scope = CrawlRun.county_code.in_(codes) if codes is not None else finished
    states: dict[str, CrawlState] = {}
    # an ok run shows the portal as it was when the run started (a run that began before a due
    # date and ended after it has not seen the portal after the due date)
    seen = func.coalesce(CrawlRun.started_at, CrawlRun.finished_at)
    ok_q = (select(CrawlRun.county_code, func.max(seen), func.min(seen))
            .where(CrawlRun.status == "ok", finished, scope).group_by(CrawlRun.county_code))
    for code, last, first in session.execute(ok_q):
        st = states.setdefault(code, CrawlState())
        st.last_ok, st.first_ok = last, first
    latest = (select(CrawlRun.county_code, func.max(CrawlRun.finished_at).label("at"))
              .where(finished, scope).group_by(CrawlRun.county_code).subquery())
    last_q = (select(CrawlRun.county_code, CrawlRun.finished_at, CrawlRun.status)
              .join(latest, and_(latest.c.county_code == CrawlRun.county_code,
                                 latest.c.at == CrawlRun.finished_at)))
    for code, at, status in session.execute(last_q):
        st = states.setdefault(code, CrawlState())
        st.last_finished, st.last_status = at, status
    for code in ingesting_counties(session, codes):
        states.setdefault(code, CrawlState()).ingesting = True
    return states


def ingesting_counties(session: Session, county_codes: Iterable[str] | None = None) -> set[str]:
    """Counties with a crawled document the pipeline has not ingested in its current content. The
    condition is the one of the partial index `ix_seen_urls_pending` (storage.models.SEEN_PENDING,
    written the same way so that SQLite and PostgreSQL both prove the index usable): the query
    reads the few pending rows, not the whole table."""
    return set(session.scalars(ingesting_query(county_codes)))


def ingesting_query(county_codes: Iterable[str] | None = None) -> Select[tuple[str]]:
    q = select(SeenUrl.county_code).where(
        SeenUrl.document_id.is_not(None),
        SeenUrl.ingested_document_id.is_(None) | (SeenUrl.ingested_document_id != SeenUrl.document_id))
    if county_codes is not None:
        q = q.where(SeenUrl.county_code.in_(list(county_codes)))
    return q.distinct()


def parse_utc(v: Any) -> datetime:
    if isinstance(v, str):  # SQLite: naive UTC text, parsed here at C speed
        v = datetime.fromisoformat(v)
    return v if v.tzinfo else v.replace(tzinfo=UTC)


def cells_for_year(session: Session, year: int, county_codes: Iterable[str] | None = None, *,
                   actionable_only: bool = False) -> list[tuple[Cell, dict[str, Any] | None]]:
    """Every (expected or reporting) body of the year with its report, in one query. Columns are
    read raw (dates parsed here) because this runs over every body of the nation daily.
    `actionable_only` leaves out reports published before the earliest possible due date of the
    year (on time whatever the body): the sweep's daily work is then the few that can fire."""
    codes = list(county_codes) if county_codes is not None else None
    oq = select(County.code, County.deadlines).where(County.deadlines.is_not(None))
    if codes is not None:
        oq = oq.where(County.code.in_(codes))
    overrides = {code: d for code, d in session.execute(oq) if d}
    earlier = aliased(Report)
    published_before = exists().where(earlier.entity_id == Entity.id, earlier.year < year)
    q = (select(Entity.id, Entity.name, Entity.kind, Entity.county_code, Report.id,
                type_coerce(Report.published_at, String), Report.published_source,
                type_coerce(Report.first_seen_at, String))
         .outerjoin(Report, and_(Report.entity_id == Entity.id, Report.year == year))
         .where(or_(Report.id.is_not(None),
                    and_(or_(Entity.discovered.is_(False), published_before),
                         or_(Entity.first_year.is_(None), Entity.first_year <= year),
                         or_(Entity.retired_year.is_(None), Entity.retired_year > year)))))
    if codes is not None:
        q = q.where(Entity.county_code.in_(codes))
    if actionable_only:
        earliest = min(due_date(k, year, o) for o in [None, *overrides.values()] for k in LAW_2019)
        q = q.where(or_(Report.id.is_(None), Report.published_at.is_(None), Report.published_at > earliest))
    dues: dict[tuple[str, str | None], date] = {}
    out = []
    for eid, name, kind, code, rid, pub, src, first_seen in session.connection().execute(q):
        key = (kind, code if code in overrides else None)
        due = dues.get(key)
        if due is None:
            due = dues[key] = due_date(kind, year, overrides.get(code))
        cell = Cell(entity_id=eid, entity=name, kind=kind, county_code=code, year=year, due=due,
                    report_id=rid)
        if rid is not None:
            if pub is not None:
                cell.published, cell.published_source = as_date(pub), src or "page"
            else:
                cell.published = shanghai_date(parse_utc(first_seen))
                cell.published_source = "first_seen"
        out.append((cell, overrides.get(code)))
    return out


@dataclass(slots=True)
class SweepResult:
    year: int
    cells: int = 0
    new: int = 0  # opened or reopened
    resolved: int = 0
    states: dict[str, int] = field(default_factory=dict)
    events: list[FindingEvent] = field(default_factory=list)  # the findings changed (sched and crawl)


def evaluate(session: Session, clock: Clock, year: int, county_codes: Iterable[str] | None = None,
             *, policy: Policy = DEFAULT_POLICY, on_events: EventHook | None = None) -> SweepResult:
    """The sweep inside the caller's transaction; its finding events are returned in
    `SweepResult.events` and handed to `on_events` (same transaction). Findings are built only for cells that fire
    and are not open already (the daily case is "still firing": its fingerprint is enough).
    `SweepResult.cells`/`states` count the cells evaluated; reports published before the
    earliest due date of the year are on time without evaluation and not counted."""
    codes = list(county_codes) if county_codes is not None else None
    today = today_shanghai(clock)
    now = clock.now()
    crawl = crawl_states(session, codes)
    owned = and_(FindingRow.rule_id.in_(SCHED_TIME_RULES), FindingRow.year == year)
    if codes is not None:
        owned = and_(owned, FindingRow.county_code.in_(codes))
    already = set(session.scalars(select(FindingRow.fingerprint).where(owned, FindingRow.resolved_at.is_(None))))
    result = SweepResult(year=year)
    wanted: list[dict[str, Any]] = []
    keep: list[str] = []
    no_crawl = CrawlState()
    for cell, overrides in cells_for_year(session, year, codes, actionable_only=True):
        classify(cell, today, crawl.get(cell.county_code, no_crawl),
                 reminder_days(overrides, policy.reminder_days) if overrides else policy.reminder_days)
        result.cells += 1
        result.states[cell.state] = result.states.get(cell.state, 0) + 1
        if cell.frozen:
            keep.append(sched_fingerprint("TIME-004", cell.entity_id, year))
        if cell.rule is None:
            continue
        fp = sched_fingerprint(cell.rule, cell.entity_id, year)
        if fp in already:
            wanted.append({"fingerprint": fp})
            continue
        f = cell.finding(today)
        assert f is not None
        wanted.append(finding_row(f, scope="sched", county_code=cell.county_code, entity_id=cell.entity_id,
                                  year=year, report_id=cell.report_id, fingerprint=fp))
    result.events = emit(session, sync_findings(session, wanted, owned, now=now, keep=keep, refresh=False),
                         on_events)
    result.new = sum(e.kind in ("opened", "reopened") for e in result.events)
    result.resolved = sum(e.kind == "resolved" for e in result.events)
    return result


def sweep(session_factory: sessionmaker[Session], clock: Clock, year: int,
          county_codes: Iterable[str] | None = None, *,
          policy: Policy = DEFAULT_POLICY, on_events: EventHook | None = None) -> SweepResult:
    """The daily deadline sweep for one report year (all counties, or some), plus crawl health,
    in one transaction. `SweepResult.events` holds both's finding events; `on_events` receives
    them inside the transaction."""
    from monitor import crawlhealth

    with session_factory() as s, s.begin():
        result = evaluate(s, clock, year, county_codes, policy=policy, on_events=on_events)
        result.events += crawlhealth.evaluate(s, clock, county_codes, policy=policy, on_events=on_events)
    log.info("deadline sweep", extra={"year": year, "cells": result.cells, "new": result.new,
                                      "resolved": result.resolved})
    return result


def season_year(clock: Clock) -> int:
    """The report year whose deadlines fall in the current calendar year."""
    return today_shanghai(clock).year - 1


def reminder_window(due: date, days: int) -> tuple[date, date]:
    return due - timedelta(days=days), due


__all__ = ["due_date", "reminder_days", "classify", "Cell", "CrawlState", "crawl_states", "ingesting_counties",
           "ingesting_query", "cells_for_year", "evaluate", "sweep", "SweepResult", "season_year", "LatePublication",
           "MissingReport", "DueSoon"]
