"""Ingest: stored document → report engine → body and year → Report / ReportVersion → findings.

One transaction per document: either the document's report, version and findings are all
stored, or none of them (a crash loses at most the document being processed, which stays
pending and is picked up by the next run). A failing document is logged, marked with its error
and the batch goes on.

- Body: matched against the county's bodies and their aliases, from the explicit hint, the
  portal column's body, the report's own entity, its title, then the listing title (exact name
  first, then the longest name contained in the text). An unknown body is recorded as a
  discovered `Entity`, never dropped.
- Year: explicit > the report's year > a year in the listing title.
- Versions: a document not yet attached to the report becomes a new current version (the previous
  one is kept, `is_current=False`); YOY-004 says what changed.
- Findings: doc rules (engine) and hist rules (monitor.history) upserted by fingerprint; the
  report's findings that stop firing are resolved. The next year's report of the same body is
  re-checked too (its YOY rules depend on this one).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.titles import entity_from_title, match_body, title_year
from monitor.clock import Clock, SystemClock
from monitor.config import DEFAULT_POLICY, Policy
from monitor.errors import NianbaoError
from monitor.report import Finding as RuleFinding
from monitor.report import ParsedReport
from monitor.review import record_fixed
from storage import repo
from storage.blobs import BlobStore
from storage.models import County, CrawlRun, Document, Entity, Report, ReportVersion, SeenUrl
from storage.models import Finding as FindingRow

log = logging.getLogger(__name__)

HIST_RULES = ("YOY-001", "YOY-002", "YOY-003", "TEXT-003")


class IngestError(NianbaoError):
    """A document could not be ingested (unknown county, unreadable file…)."""


@dataclass(slots=True)
class IngestOutcome:
    document_id: int | None = None
    status: str = "stored"  # stored | unchanged | unreadable | unattributed | failed
    entity: str | None = None
    entity_id: int | None = None
    discovered: bool = False
    year: int | None = None
    report_id: int | None = None
    version_id: int | None = None
    new_version: bool = False
    findings: list[RuleFinding] = field(default_factory=list)
    error: str | None = None
    events: list[repo.FindingEvent] = field(default_factory=list)  # findings changed by this ingest


# ---- body and year -------------------------------------------------------------------------------

def match_entity(entities: Sequence[Entity], texts: Iterable[str | None]) -> Entity | None:
    """The stored body the first useful text names (crawler.titles.match_body, names contained in
    a longer text included)."""
    return match_body(texts, [(e, e.name, e.aliases or [], e.kind) for e in entities], contained=True)


def guess_kind(name: str) -> str:
    if "街道" in name:
        return "street"
    if re.search(r"[镇乡](人民政府)?$", name):
        return "township"
    if re.search(r"[县市区旗](人民政府)?$", name):
        return "county_gov"
    if re.search(r"(局|委员会|委|办公室|办|中心|院|所|队|站|署|厅|会)$", name):
        return "department"
    return "other"


def _filename(url: str | None) -> str | None:
    if not url:
        return None
    path = urlsplit(url).path if "://" in url else url.split(":", 1)[-1]
    return unquote(path.rsplit("/", 1)[-1]) or None


# ---- the per-document work (inside the caller's transaction) ------------------------------------

@dataclass(slots=True)
class _Source:
    county_code: str
    listing_title: str | None = None
    body_name: str | None = None
    entity_hint: str | None = None
    year_hint: int | None = None
    published_at: date | None = None
    published_source: str | None = None
    url: str | None = None  # where the crawler fetched it (None: ingested by hand)


def _check(data: bytes, doc: Document, src: _Source, year_hint: int | None) -> Any:
    from monitor.engine import check_bytes

    return check_bytes(data, filename=_filename(doc.final_url or doc.url), content_type=doc.content_type,
                       title_hint=src.listing_title, year_hint=year_hint,
                       entity_hint=src.entity_hint or src.body_name)


def _parser_version() -> str:
    try:
        from monitor.parse import PARSER_VERSION
    except ImportError:  # pragma: no cover
        return "0"
    return str(PARSER_VERSION)


def ingest_document(session: Session, blobs: BlobStore, doc: Document, src: _Source, *, now: datetime,
                    policy: Policy = DEFAULT_POLICY, data: bytes | None = None,
                    on_events: repo.EventHook | None = None) -> IngestOutcome:
    """Check one stored document and store its report, version and findings, inside the caller's
    transaction. The finding events (this report's, and those of the peers and next year's report
    it re-checks) are in `IngestOutcome.events` and handed to `on_events` before returning."""
    out = IngestOutcome(document_id=doc.id)
    data = blobs.get(doc.sha256) if data is None else data
    year_hint = src.year_hint or title_year(src.listing_title)
    result = _check(data, doc, src, year_hint)
    if result.report is None:
        out.status, out.error = "unreadable", result.error or "unreadable"
        log.info("document unreadable", extra={"url": doc.url, "error": out.error})
        return out
    parsed: ParsedReport = result.report
    entities = list(session.scalars(select(Entity).where(Entity.county_code == src.county_code)))
    entity = match_entity(entities, [src.entity_hint, src.body_name, parsed.entity, parsed.title,
                                     src.listing_title])
    year = src.year_hint or parsed.year or title_year(src.listing_title) or title_year(parsed.title)
    if year is None:
        out.status, out.error = "unattributed", "no report year in the document or its listing"
        out.entity = entity.name if entity is not None else None
        return out
    if entity is None:
        name = src.entity_hint or parsed.entity or entity_from_title(parsed.title) \
            or entity_from_title(src.listing_title)
        if not name:
            out.status, out.error = "unattributed", "no body name in the document or its listing"
            return out
        entity = Entity(county_code=src.county_code, name=name[:200], kind=guess_kind(name), aliases=[],
                        discovered=True)
        session.add(entity)
        session.flush()
        out.discovered = True
        log.info("body discovered", extra={"county": src.county_code, "entity": name})
    out.entity, out.entity_id, out.year = entity.name, entity.id, year

    meta = result.document.meta if result.document is not None else {}
    if src.published_at is None and meta.get("published_at"):
        # the page's own publication date, read by the extractor (a saved portal page)
        src.published_at = repo.as_date(meta["published_at"])
        src.published_source = str(meta.get("published_source") or "page_meta")
    report, version, created, previous = _store_version(session, doc, parsed, entity, year, src, now)
    out.report_id, out.version_id, out.new_version = report.id, version.id, created
    if not created:
        out.status = "unchanged"
    findings = list(result.findings)
    events = out.events
    doc_events = _sync_doc_findings(session, report, version, entity, result.findings, now)
    if previous is not None:  # a new version: what stopped firing was corrected by the publisher
        record_fixed(session, doc_events, now=now)
    events += doc_events
    hist = refresh_history(session, report, version, entity, parsed, now=now, policy=policy, events=events)
    findings += hist
    _refresh_peers(session, entity, year, {f.subject for f in hist if f.rule == "TEXT-003"}, now=now,
                   policy=policy, events=events)
    if previous is not None and _same_source(previous[2], src.url):
        change = _describe_change(previous[1], parsed)
        if change is not None:
            change.subject = f"{change.subject}|{previous[0]}>{doc.sha256[:16]}"
            findings.append(change)
            events += repo.sync_findings(session, [repo.finding_row(change, scope="hist", county_code=entity.county_code,
                                                          entity_id=entity.id, year=year, report_id=report.id,
                                                          report_version_id=version.id)],
                               and_(FindingRow.report_id == report.id, FindingRow.rule_id == "YOY-004"),
                               now=now, close=False)
    nxt = session.scalar(select(Report).where(Report.entity_id == entity.id, Report.year == year + 1))
    if nxt is not None:
        nv = _current(session, nxt.id)
        if nv is not None:
            refresh_history(session, nxt, nv, entity, ParsedReport.from_dict(nv.parsed), now=now,
                            policy=policy, events=events)
    out.findings = findings
    repo.emit(session, events, on_events)
    return out


def _same_source(old_url: str, new_url: str | None) -> bool:
    """YOY-004 is about a page or file edited in place. The same report published twice (an HTML
    page and its PDF attachment) gives two versions but no "changed" finding: two formats of one
    report never parse identically. A report ingested by hand replaces whatever was there."""
    if new_url is None or not old_url.startswith(("http://", "https://")):
        return True
    return old_url == new_url


def _current(session: Session, report_id: int) -> ReportVersion | None:
    return session.scalar(select(ReportVersion).where(ReportVersion.report_id == report_id,
                                                      ReportVersion.is_current.is_(True)))


def _store_version(session: Session, doc: Document, parsed: ParsedReport, entity: Entity, year: int,
                   src: _Source, now: datetime,
                   ) -> tuple[Report, ReportVersion, bool, tuple[str, ParsedReport, str] | None]:
    """The report's current version for this document; a new one if the document is new to it.
    Returns (report, version, created, (previous document's sha prefix, previous parse, its URL)
    or None)."""
    report = session.scalar(select(Report).where(Report.entity_id == entity.id, Report.year == year))
    pub, pub_src = src.published_at, src.published_source
    if doc.page_published_at is not None and src.published_source != "manual":
        pub, pub_src = doc.page_published_at, doc.published_source or "page"
    if pub is None and doc.listing_date is not None:
        pub, pub_src = doc.listing_date, "listing"
    if report is None:
        report = Report(entity_id=entity.id, year=year, first_seen_at=now, published_at=pub,
                        published_source=pub_src if pub else None)
        session.add(report)
        session.flush()
    elif report.published_at is None and pub is not None:
        report.published_at, report.published_source = pub, pub_src
    current = _current(session, report.id)
    if current is not None and current.document_id == doc.id:
        return report, current, False, None
    previous = None
    if current is not None:
        old_doc = session.get_one(Document, current.document_id)
        previous = (old_doc.sha256[:16], ParsedReport.from_dict(current.parsed), old_doc.url)
        current.is_current = False
        session.flush()  # the partial unique index allows one current version per report
    version = ReportVersion(report_id=report.id, document_id=doc.id, template=parsed.template,
                            parsed=repo.jsonable(parsed.to_dict()), parser_version=_parser_version(),
                            parsed_at=now, is_current=True)
    session.add(version)
    session.flush()
    log.info("report version stored", extra={"report_id": report.id, "version_id": version.id,
                                             "entity": entity.name, "year": year})
    return report, version, True, previous


def _sync_doc_findings(session: Session, report: Report, version: ReportVersion, entity: Entity,
                       findings: Iterable[RuleFinding], now: datetime) -> list[repo.FindingEvent]:
    rows = [repo.finding_row(f, scope="doc", county_code=entity.county_code, entity_id=entity.id,
                             year=report.year, report_id=report.id, report_version_id=version.id)
            for f in findings]
    return repo.sync_findings(session, rows, and_(FindingRow.report_id == report.id, FindingRow.scope == "doc"),
                              now=now)


def refresh_history(session: Session, report: Report, version: ReportVersion, entity: Entity,
                    parsed: ParsedReport, *, now: datetime, policy: Policy = DEFAULT_POLICY,
                    events: list[repo.FindingEvent] | None = None) -> list[RuleFinding]:
    """YOY-001/002/003 and TEXT-003 of one report against the stored history; stored findings
    synced (their events appended to `events`)."""
    from monitor.history import check_history

    prev_report = session.scalar(select(Report).where(Report.entity_id == entity.id,
                                                      Report.year == report.year - 1))
    prev_version = _current(session, prev_report.id) if prev_report is not None else None
    previous = ParsedReport.from_dict(prev_version.parsed) if prev_version is not None else None
    peer_rows = session.execute(
        select(Entity.name, ReportVersion.parsed)
        .join(Report, Report.entity_id == Entity.id)
        .join(ReportVersion, and_(ReportVersion.report_id == Report.id, ReportVersion.is_current.is_(True)))
        .where(Entity.county_code == entity.county_code, Report.year == report.year,
               Entity.id != entity.id))
    peers = [(name, ParsedReport.from_dict(p)) for name, p in peer_rows]
    findings = check_history(parsed, previous, peers, threshold=policy.similarity_threshold)
    rows = [repo.finding_row(f, scope="hist", county_code=entity.county_code, entity_id=entity.id,
                             year=report.year, report_id=report.id, report_version_id=version.id)
            for f in findings]
    changed = repo.sync_findings(session, rows, and_(FindingRow.report_id == report.id, FindingRow.scope == "hist",
                                                     FindingRow.rule_id.in_(HIST_RULES)), now=now)
    if events is not None:
        events += changed
    return findings


def _refresh_peers(session: Session, entity: Entity, year: int, named: set[str], *, now: datetime,
                   policy: Policy, events: list[repo.FindingEvent]) -> None:
    """TEXT-003 cannot tell who copied whom, so both reports carry it: re-check the peers this
    report was found alike to, and those that had an open TEXT-003 about this body (it may have
    been corrected)."""
    open_rows = session.execute(select(FindingRow.entity_id, FindingRow.details).where(
        FindingRow.rule_id == "TEXT-003", FindingRow.county_code == entity.county_code,
        FindingRow.year == year, FindingRow.resolved_at.is_(None), FindingRow.entity_id != entity.id))
    candidates = {eid for eid, details in open_rows if (details or {}).get("other") == entity.name}
    if not named and not candidates:
        return
    rows = session.execute(select(Entity, Report, ReportVersion)
                           .join(Report, Report.entity_id == Entity.id)
                           .join(ReportVersion, and_(ReportVersion.report_id == Report.id,
                                                     ReportVersion.is_current.is_(True)))
                           .where(Entity.county_code == entity.county_code, Report.year == year,
                                  Entity.id != entity.id))
    for peer, report, version in rows:
        if peer.name not in named and peer.id not in candidates:
            continue
        refresh_history(session, report, version, peer, ParsedReport.from_dict(version.parsed), now=now,
                        policy=policy, events=events)


def _describe_change(old: ParsedReport, new: ParsedReport) -> RuleFinding | None:
    from monitor.history import describe_change

    return describe_change(old, new)


# ---- entry points ------------------------------------------------------------------------------

class _Refused(Exception):
    """Rolls back the transaction of a by-hand ingest whose file cannot be read."""

    def __init__(self, outcome: IngestOutcome, new_blob: str | None) -> None:
        self.outcome, self.new_blob = outcome, new_blob


def ingest_bytes(session_factory: sessionmaker[Session], blobs: BlobStore, data: bytes, *,
                 county_code: str, filename: str | None = None, content_type: str | None = None,
                 entity: str | None = None, year: int | None = None,
                 published_at: date | str | None = None, clock: Clock | None = None,
                 policy: Policy = DEFAULT_POLICY, sweep: bool = True,
                 on_events: repo.EventHook | None = None) -> IngestOutcome:
    """A report received by mail or downloaded by hand (`nianbao ingest`), in one transaction."""
    clock = clock or SystemClock()
    now = clock.now()
    pub = repo.as_date(published_at)
    try:
        with session_factory() as s, s.begin():
            if s.get(County, county_code) is None:
                raise IngestError(f"county {county_code} is not in the database: add its profile to the "
                                  "counties directory and run `nianbao init`")
            doc, status = repo.record_document(
                s, blobs, run_id=None, county_code=county_code, url=f"file:{filename or 'stdin'}",
                final_url=None, content_type=content_type, body=data, listing_title=None, listing_date=None,
                page_published_at=None, published_source=None, etag=None, last_modified=None, now=now)
            src = _Source(county_code=county_code, entity_hint=entity, year_hint=year, published_at=pub,
                          published_source="manual" if pub else None)
            out = ingest_document(s, blobs, doc, src, now=now, policy=policy, data=data, on_events=on_events)
            if out.status == "unreadable":
                # a file handed in by hand that cannot be read is refused, not kept: roll back
                raise _Refused(out, blobs.sha256(data) if status == "new" else None)
    except _Refused as refused:
        if refused.new_blob is not None:
            blobs.path(refused.new_blob).unlink(missing_ok=True)
        refused.outcome.document_id = None
        return refused.outcome
    if sweep and out.year is not None and out.report_id is not None:
        from monitor.deadlines import sweep as run_sweep

        out.events += run_sweep(session_factory, clock, out.year, [county_code], policy=policy,
                                on_events=on_events).events
    return out


@dataclass(slots=True)
class RunOutcome:
    run_id: int
    county_code: str
    outcomes: list[IngestOutcome] = field(default_factory=list)
    failed: int = 0
    vanished: int = 0
    events: list[repo.FindingEvent] = field(default_factory=list)  # every finding the run changed


def _pending(session: Session, county_code: str) -> list[int]:
    return list(session.scalars(
        select(SeenUrl.id).where(SeenUrl.county_code == county_code, SeenUrl.document_id.is_not(None),
                                 (SeenUrl.ingested_document_id.is_(None))
                                 | (SeenUrl.ingested_document_id != SeenUrl.document_id))
        .order_by(SeenUrl.id)))


def process_pending(session_factory: sessionmaker[Session], blobs: BlobStore, county_code: str,
                    clock: Clock, *, policy: Policy = DEFAULT_POLICY,
                    on_events: repo.EventHook | None = None) -> list[IngestOutcome]:
    """Ingest every document of the county not ingested yet in its current content."""
    with session_factory() as s:
        pending = _pending(s, county_code)
    outcomes: list[IngestOutcome] = []
    for seen_id in pending:
        now = clock.now()
        try:
            with session_factory() as s, s.begin():
                seen = s.get_one(SeenUrl, seen_id)
                doc = s.get_one(Document, seen.document_id)
                src = _Source(county_code=county_code, listing_title=seen.listing_title or doc.listing_title,
                              body_name=doc.body_name, url=seen.url)
                if seen.listing_date and not doc.listing_date:
                    doc.listing_date = seen.listing_date
                out = ingest_document(s, blobs, doc, src, now=now, policy=policy, on_events=on_events)
                seen.ingested_document_id, seen.ingest_error = doc.id, out.error
        except Exception as exc:  # one bad document must not stop the batch
            log.exception("ingest failed", extra={"county": county_code, "seen_url_id": seen_id})
            out = IngestOutcome(status="failed", error=f"{type(exc).__name__}: {exc}"[:1000])
            with session_factory() as s, s.begin():
                seen = s.get_one(SeenUrl, seen_id)
                seen.ingested_document_id, seen.ingest_error = seen.document_id, out.error
        outcomes.append(out)
    return outcomes


def check_vanished(session: Session, county_code: str, run_id: int, now: datetime,
                   events: list[repo.FindingEvent] | None = None) -> int:
    """YOY-005 after a successful run: reports seen on the portal before whose documents the run
    did not see at any URL. A report seen again resolves its finding."""
    from monitor.history import disappeared

    rows = session.execute(
        select(Report.id, Report.year, Entity.id, Entity.name, SeenUrl.url, SeenUrl.last_seen_at,
               SeenUrl.last_run_id)
        .join(ReportVersion, ReportVersion.document_id == SeenUrl.document_id)
        .join(Report, Report.id == ReportVersion.report_id)
        .join(Entity, Entity.id == Report.entity_id)
        .where(SeenUrl.county_code == county_code, Entity.county_code == county_code))
    by_report: dict[int, list[Any]] = {}
    for row in rows:
        by_report.setdefault(row[0], []).append(row)
    wanted = []
    for report_id, seen in by_report.items():
        if any(r.last_run_id == run_id for r in seen):
            continue
        last = max(seen, key=lambda r: r.last_seen_at)
        f = disappeared(last.name, last.year, last.url, repo.as_date(last.last_seen_at).isoformat())
        wanted.append(repo.finding_row(f, scope="hist", county_code=county_code, entity_id=last[2],
                                       year=last.year, report_id=report_id))
    changed = repo.sync_findings(session, wanted, and_(FindingRow.rule_id == "YOY-005",
                                                       FindingRow.county_code == county_code),
                                 now=now, refresh=False)
    if events is not None:
        events += changed
    return len(wanted)


def process_run(session_factory: sessionmaker[Session], blobs: BlobStore, run_id: int, clock: Clock, *,
                policy: Policy = DEFAULT_POLICY, on_events: repo.EventHook | None = None) -> RunOutcome:
    """Ingest what a crawl run fetched, then YOY-005 (after an ok run), crawl health and the
    deadline rules of the county for the years touched."""
    from monitor import crawlhealth, deadlines

    with session_factory() as s:
        run = s.get_one(CrawlRun, run_id)
        code, status = run.county_code, run.status
    result = RunOutcome(run_id=run_id, county_code=code)
    result.outcomes = process_pending(session_factory, blobs, code, clock, policy=policy, on_events=on_events)
    for o in result.outcomes:
        result.events += o.events
    result.failed = sum(o.status == "failed" for o in result.outcomes)
    years = {o.year for o in result.outcomes if o.year is not None}
    years.add(deadlines.season_year(clock))
    with session_factory() as s, s.begin():
        events: list[repo.FindingEvent] = []
        if status == "ok":
            result.vanished = check_vanished(s, code, run_id, clock.now(), events)
        for y in sorted(years):
            events += deadlines.evaluate(s, clock, y, [code], policy=policy).events
        events += crawlhealth.evaluate(s, clock, [code], policy=policy)
        result.events += repo.emit(s, events, on_events)
    log.info("run processed", extra={"run_id": run_id, "county": code, "documents": len(result.outcomes),
                                     "failed": result.failed, "vanished": result.vanished})
    return result


def revalidate(session_factory: sessionmaker[Session], blobs: BlobStore, clock: Clock, *,
               county_code: str | None = None, policy: Policy = DEFAULT_POLICY,
               on_events: repo.EventHook | None = None) -> int:
    """Re-run extraction, parsing and every doc and hist rule on the stored documents (after a
    rule or the parser changed), without crawling. Current versions are re-parsed in place (same
    document, new `parser_version`); documents that failed before are tried again. Returns the
    number of reports re-checked."""
    q = (select(ReportVersion.id).join(Report, Report.id == ReportVersion.report_id)
         .join(Entity, Entity.id == Report.entity_id).where(ReportVersion.is_current.is_(True))
         .order_by(Report.year, ReportVersion.id))
    if county_code is not None:
        q = q.where(Entity.county_code == county_code)
    with session_factory() as s:
        version_ids = list(s.scalars(q))
    done = 0
    for vid in version_ids:
        now = clock.now()
        try:
            with session_factory() as s, s.begin():
                version = s.get_one(ReportVersion, vid)
                report = s.get_one(Report, version.report_id)
                entity = s.get_one(Entity, report.entity_id)
                doc = s.get_one(Document, version.document_id)
                src = _Source(county_code=entity.county_code, listing_title=doc.listing_title,
                              body_name=doc.body_name, entity_hint=entity.name)
                result = _check(blobs.get(doc.sha256), doc, src, report.year)
                if result.report is None:
                    continue
                version.parsed = repo.jsonable(result.report.to_dict())
                version.template = result.report.template
                version.parser_version, version.parsed_at = _parser_version(), now
                events = _sync_doc_findings(s, report, version, entity, result.findings, now)
                refresh_history(s, report, version, entity, result.report, now=now, policy=policy,
                                events=events)
                repo.emit(s, events, on_events)
                done += 1
        except Exception:
            log.exception("revalidate failed", extra={"report_version_id": vid})
    with session_factory() as s, s.begin():
        q2 = select(SeenUrl).where(SeenUrl.ingest_error.is_not(None))
        if county_code is not None:
            q2 = q2.where(SeenUrl.county_code == county_code)
        codes = set()
        for seen in s.scalars(q2):
            seen.ingested_document_id = None
            codes.add(seen.county_code)
    for code in sorted(codes):
        process_pending(session_factory, blobs, code, clock, policy=policy, on_events=on_events)
    return done


__all__ = ["ingest_bytes", "ingest_document", "process_run", "process_pending", "revalidate",
           "check_vanished", "refresh_history", "match_entity", "guess_kind", "IngestOutcome",
           "RunOutcome", "IngestError"]
