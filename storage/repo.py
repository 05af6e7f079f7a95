"""The small storage functions other packages call (crawl runs, documents, seen URLs).

Every function works inside the caller's session and transaction: the caller decides where a
transaction begins and ends (`with Session(engine) as s, s.begin():`). Blobs are written before
the rows that name them, so the database never points at a missing blob.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import ColumnElement, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.blobs import BlobStore
from storage.models import RUN_STATUSES, RUN_TRIGGERS, County, CrawlRun, Document, Finding, SeenUrl

log = logging.getLogger(__name__)

KnownDocument = tuple[str | None, str | None, str | None, str | None, date | None]


def _now() -> datetime:
    """Now on this process's clock: the system clock, or the one `NIANBAO_CLOCK` names (a crawl
    child of the daemon running on an accelerated clock writes its times on that clock)."""
    from monitor.clock import clock_from_env

    return clock_from_env().now().astimezone(UTC)


def as_date(value: date | datetime | str | None) -> date | None:
    """A calendar date from a date, a datetime or an ISO string ("2021-01-28", "2021-01-28 10:00")."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip().replace("/", "-")
    try:
        return date.fromisoformat(s[:10])
    except ValueError:
        log.warning("unparseable date", extra={"value": s})
        return None


def ensure_county(session: Session, code: str, name: str | None = None, *,
                  province: str | None = None, city: str | None = None) -> County:
    county = session.get(County, code)
    if county is None:
        county = County(code=code, name=name or code, province=province, city=city)
        session.add(county)
        session.flush()
    return county


class CountyBusy(Exception):
    """A crawl of the county is already running (at most one `running` run per county)."""

    def __init__(self, county_code: str, run_id: int | None) -> None:
        self.county_code, self.run_id = county_code, run_id
        super().__init__(f"a crawl of county {county_code} is already running (run {run_id})")


def running_run(session: Session, county_code: str) -> CrawlRun | None:
    return session.scalar(select(CrawlRun).where(CrawlRun.county_code == county_code,
                                                 CrawlRun.status == "running"))


def _claim(session: Session, run: CrawlRun) -> None:
    """Flush a run that is (becoming) `running` in a savepoint: the partial unique index
    uq_crawl_runs_running refuses a second one for the county, also against another process."""
    with session.no_autoflush:
        busy = running_run(session, run.county_code)
    if busy is not None and busy is not run:
        raise CountyBusy(run.county_code, busy.id)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        other = running_run(session, run.county_code)
        raise CountyBusy(run.county_code, other.id if other is not None else None) from None


def create_crawl_run(session: Session, county_code: str, trigger: str,
                     requested_by: str | None = None, *, status: str = "running",
                     now: datetime | None = None, host: str | None = None,
                     pid: int | None = None) -> CrawlRun:
    """A new crawl run (status `running`, or `queued` for a /recrawl request). A running one
    raises `CountyBusy` while another run of the county is running."""
    if trigger not in RUN_TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}; one of {RUN_TRIGGERS}")
    if status not in ("queued", "running"):
        raise ValueError("a new run is queued or running")
    now = now or _now()
    if session.get(County, county_code) is None:
        raise LookupError(f"county {county_code} is not in the database (run `nianbao init`)")
    run = CrawlRun(county_code=county_code, trigger=trigger, requested_by=requested_by,
                   queued_at=now, started_at=now if status == "running" else None,
                   status=status, stats={}, host=host, pid=pid)
    session.add(run)
    if status == "running":
        try:
            _claim(session, run)
        except CountyBusy:
            session.expunge(run)
            raise
    else:
        session.flush()
    return run


def start_crawl_run(session: Session, run_id: int, now: datetime | None = None, *,
                    host: str | None = None, pid: int | None = None) -> CrawlRun:
    """Move a queued run to running (`CountyBusy` while another run of the county runs)."""
    run = session.get_one(CrawlRun, run_id)
    if run.status != "queued":
        raise ValueError(f"run {run_id} is {run.status}, not queued")
    run.status = "running"
    run.started_at = now or _now()
    run.host, run.pid = host, pid
    try:
        _claim(session, run)
    except CountyBusy:
        run.status, run.started_at, run.host, run.pid = "queued", None, None, None
        raise
    return run


def queued_runs(session: Session) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).where(CrawlRun.status == "queued")
                                .order_by(CrawlRun.queued_at)))


def finish_crawl_run(session: Session, run_id: int, status: str, stats: dict[str, Any],
                     error: str | None = None, *, now: datetime | None = None) -> CrawlRun:
    if status not in RUN_STATUSES or status in ("queued", "running"):
        raise ValueError(f"a finished run is ok, partial, blocked or failed, not {status!r}")
    run = session.get_one(CrawlRun, run_id)
    run.status = status
    run.stats = dict(stats)
    run.error = error
    run.finished_at = now or _now()
    session.flush()
    return run


def record_document(session: Session, blobs: BlobStore, *, run_id: int | None, url: str,
                    final_url: str | None, content_type: str | None, body: bytes,
                    listing_title: str | None, listing_date: date | str | None,
                    page_published_at: date | datetime | str | None, published_source: str | None,
                    etag: str | None, last_modified: str | None, body_name: str | None = None,
                    county_code: str | None = None,
                    now: datetime | None = None) -> tuple[Document, str]:
    """Store one fetched document. Returns it and "new" (URL never seen), "changed" (the URL now
    serves other bytes) or "unchanged". The county comes from the run (or `county_code` for a
    document ingested by hand). Within a crawl run this is `record_documents` for one item."""
    now = now or _now()
    if run_id is not None:
        (status,) = record_documents(session, blobs, run_id, [{
            "url": url, "final_url": final_url, "content_type": content_type, "body": body,
            "listing_title": listing_title, "listing_date": listing_date,
            "page_published_at": page_published_at, "published_source": published_source,
            "etag": etag, "last_modified": last_modified, "body_name": body_name}], now=now)
        doc = session.scalars(select(Document).where(Document.sha256 == blobs.sha256(body))
                              .execution_options(populate_existing=True)).one()
        return doc, status
    if county_code is None:
        raise ValueError("record_document needs a run or a county")
    # a document ingested by hand: no portal URL to remember, the same document rows and merge
    item = {"url": url, "final_url": final_url, "content_type": content_type, "body": body,
            "listing_title": listing_title, "listing_date": listing_date, "page_published_at": page_published_at,
            "published_source": published_source, "etag": etag, "last_modified": last_modified,
            "body_name": body_name}
    sha = blobs.put(body)  # before the row: the row never names a missing blob
    session.flush()
    conn = session.connection()
    found = conn.execute(select(*_DOC_COLS, Document.first_seen_at).where(Document.sha256 == sha)).first()
    if found is None:
        conn.execute(insert(Document.__table__), [_new_doc(item, sha, now, None)])
        status = "new"
    else:
        doc = dict(found._mapping)
        _merge_doc(doc, item, now)
        conn.execute(update(Document.__table__).where(Document.__table__.c.id == doc["id"])
                     .values(**{k: doc[k] for k in _MERGED}))
        status = "new" if doc["first_seen_at"] == now else "unchanged"
    return session.scalars(select(Document).where(Document.sha256 == sha)
                           .execution_options(populate_existing=True)).one(), status


_DOC_COLS = (Document.id, Document.sha256, Document.etag, Document.last_modified, Document.page_published_at,
             Document.published_source, Document.listing_title, Document.listing_date, Document.body_name)
# the columns a document seen again may update
_MERGED = ("last_seen_at", "etag", "last_modified", "page_published_at", "published_source", "listing_title",
           "listing_date", "body_name")


def _new_doc(item: dict[str, Any], sha: str, now: datetime, run_id: int | None) -> dict[str, Any]:
    """The row of a document never seen before."""
    p_date = as_date(item.get("page_published_at"))
    return {"sha256": sha, "url": item["url"], "final_url": item.get("final_url"),
            "content_type": item.get("content_type"), "size": len(item["body"]), "first_seen_at": now,
            "last_seen_at": now, "etag": item.get("etag"), "last_modified": item.get("last_modified"),
            "page_published_at": p_date, "published_source": item.get("published_source") if p_date else None,
            "listing_title": item.get("listing_title"), "listing_date": as_date(item.get("listing_date")),
            "body_name": item.get("body_name"), "crawl_run_id": run_id}


def _merge_doc(doc: dict[str, Any], item: dict[str, Any], now: datetime) -> None:
    """A known document seen again: new validators win, what was known before is kept."""
    p_date = as_date(item.get("page_published_at"))
    doc["last_seen_at"] = now
    doc["etag"] = item.get("etag") or doc["etag"]
    doc["last_modified"] = item.get("last_modified") or doc["last_modified"]
    if doc["page_published_at"] is None and p_date is not None:
        doc["page_published_at"], doc["published_source"] = p_date, item.get("published_source")
    doc["listing_title"] = doc["listing_title"] or item.get("listing_title")
    doc["listing_date"] = doc["listing_date"] or as_date(item.get("listing_date"))
    doc["body_name"] = doc["body_name"] or item.get("body_name")


def record_documents(session: Session, blobs: BlobStore, run_id: int, items: Iterable[dict[str, Any]], *,
                     now: datetime | None = None) -> list[str]:
    """`record_document` for many documents of one crawl run, set-based: the same rows and the same
    verdicts ("new" | "changed" | "unchanged", one per item, in order) as calling it for each item
    in turn, with a handful of statements for the whole batch instead of several per item. Each
    item has record_document's keyword arguments (url, final_url, content_type, body,
    listing_title, listing_date, page_published_at, published_source, etag, last_modified,
    body_name). Runs inside the caller's transaction like every function here."""
    now = now or _now()
    items = list(items)
    if not items:
        return []
    county_code = session.get_one(CrawlRun, run_id).county_code
    session.flush()  # pending ORM rows must be visible to the statements below
    conn = session.connection()
    docs_t, seen_t = Document.__table__, SeenUrl.__table__
    shas = [blobs.put(item["body"]) for item in items]  # blobs before the rows that name them

    # The batch's documents and seen URLs as they are in the database: one query each.
    docs: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(dict.fromkeys(shas)), 500):
        for row in conn.execute(select(*_DOC_COLS).where(Document.sha256.in_(chunk))):
            docs[row.sha256] = dict(row._mapping)
    seen: dict[str, dict[str, Any]] = {}
    urls = list(dict.fromkeys(item["url"] for item in items))
    for chunk in _chunks(urls, 500):
        for row in conn.execute(select(SeenUrl.id, SeenUrl.url, SeenUrl.document_id, Document.sha256,
                                       SeenUrl.listing_title, SeenUrl.listing_date)
                                .outerjoin(Document, Document.id == SeenUrl.document_id)
                                .where(SeenUrl.county_code == county_code, SeenUrl.url.in_(chunk))):
            seen[row.url] = {"id": row.id, "url": row.url, "doc": row.sha256,
                             "had_document": row.document_id is not None,
                             "listing_title": row.listing_title, "listing_date": row.listing_date}

    # Item by item, in memory, exactly as record_document decides.
    new_docs: list[dict[str, Any]] = []
    new_seen: list[dict[str, Any]] = []
    statuses: list[str] = []
    for item, sha in zip(items, shas, strict=True):
        etag, last_modified = item.get("etag"), item.get("last_modified")
        listing_title = item.get("listing_title")
        l_date = as_date(item.get("listing_date"))
        doc = docs.get(sha)
        if doc is None:
            doc = {"id": None, **_new_doc(item, sha, now, run_id)}
            docs[sha] = doc
            new_docs.append(doc)
        else:
            _merge_doc(doc, item, now)
            if doc["id"] is not None:  # a row of the database (a new one is inserted as it ends up)
                doc["dirty"] = True
        s = seen.get(item["url"])
        if s is None:
            status = "new"
            s = {"id": None, "url": item["url"], "first_seen_at": now, "first_run_id": run_id,
                 "listing_title": None, "listing_date": None}
            seen[item["url"]] = s
            new_seen.append(s)
        elif s["doc"] != sha:
            status = "changed" if s["had_document"] else "new"
        else:
            status = "unchanged"
        s["doc"], s["had_document"] = sha, True
        s["etag"], s["last_modified"] = etag, last_modified
        s["listing_title"] = listing_title or s["listing_title"]
        s["listing_date"] = l_date or s["listing_date"]
        s["last_seen_at"] = now
        s["last_run_id"] = run_id
        statuses.append(status)

    # Writes: new documents (their ids read back by sha256), changed documents, seen URLs.
    if new_docs:
        conn.execute(insert(docs_t), [{k: v for k, v in d.items() if k != "id"}
                                      for d in new_docs])
        for chunk in _chunks([d["sha256"] for d in new_docs], 500):
            for doc_id, sha in conn.execute(select(Document.id, Document.sha256)
                                            .where(Document.sha256.in_(chunk))):
                docs[sha]["id"] = doc_id
    updated = [d for d in docs.values() if d.get("dirty")]
    if updated:
        conn.execute(update(docs_t).where(docs_t.c.id == bindparam("_id")).values(
            **{k: bindparam(k) for k in _MERGED}), [{"_id": d["id"], **{k: d[k] for k in _MERGED}} for d in updated])
    fields = ("etag", "last_modified", "listing_title", "listing_date", "last_seen_at", "last_run_id")
    if new_seen:
        conn.execute(insert(seen_t), [{"county_code": county_code, "url": s["url"],
                                       "document_id": docs[s["doc"]]["id"],
                                       "first_seen_at": s["first_seen_at"], "first_run_id": s["first_run_id"],
                                       **{k: s[k] for k in fields}} for s in new_seen])
    old_seen = [s for s in seen.values() if s["id"] is not None]
    if old_seen:
        conn.execute(update(seen_t).where(seen_t.c.id == bindparam("_id")).values(
            document_id=bindparam("document_id"), **{k: bindparam(k) for k in fields}),
            [{"_id": s["id"], "document_id": docs[s["doc"]]["id"], **{k: s[k] for k in fields}}
             for s in old_seen])
    log.debug("documents recorded", extra={"run_id": run_id, "items": len(items)})
    return statuses


def known_documents(session: Session, county_code: str) -> dict[str, KnownDocument]:
    """url → (etag, last_modified, sha256, listing_title, listing_date) of the county's documents,
    for conditional requests and for deciding what to fetch again."""
    rows = session.execute(
        select(SeenUrl.url, SeenUrl.etag, SeenUrl.last_modified, Document.sha256,
               SeenUrl.listing_title, SeenUrl.listing_date)
        .join(Document, Document.id == SeenUrl.document_id)
        .where(SeenUrl.county_code == county_code))
    return {r.url: (r.etag, r.last_modified, r.sha256, r.listing_title, r.listing_date) for r in rows}


def mark_seen(session: Session, run_id: int, urls: Iterable[str], *,
              now: datetime | None = None) -> int:
    """Record that the run saw these URLs (list pages, and document links it did not fetch again
    because they were unchanged). A document URL that a successful run no longer sees is what
    YOY-005 (report vanished) is about, so the crawler must mark every document link it meets."""
    now = now or _now()
    run = session.get_one(CrawlRun, run_id)
    urls = list(dict.fromkeys(urls))
    if not urls:
        return 0
    existing: set[str] = set()
    for chunk in _chunks(urls, 500):
        existing.update(session.scalars(select(SeenUrl.url).where(
            SeenUrl.county_code == run.county_code, SeenUrl.url.in_(chunk))))
        session.execute(update(SeenUrl)
                        .where(SeenUrl.county_code == run.county_code, SeenUrl.url.in_(chunk))
                        .values(last_seen_at=now, last_run_id=run_id))
    fresh = [{"county_code": run.county_code, "url": url, "first_seen_at": now, "last_seen_at": now,
              "first_run_id": run_id, "last_run_id": run_id} for url in urls if url not in existing]
    if fresh:  # Core executemany: one statement, no ORM objects
        session.connection().execute(insert(SeenUrl.__table__), fresh)
    session.flush()
    return len(urls)


def _chunks(items: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]



# ---- findings: one row per fingerprint, open while its rule keeps firing -------------------------

EVENT_KINDS = ("opened", "reopened", "resolved", "severity_changed")


@dataclass(frozen=True, slots=True)
class FindingEvent:
    """A change of one finding, returned by `sync_findings` to the caller that holds the
    transaction (who hands it on, e.g. to the notifier's `on_events` hook writing outbox rows)."""

    finding_id: int
    kind: str  # opened | reopened | resolved | severity_changed
    occurrence: int
    rule_id: str
    severity: str
    county_code: str | None
    entity_id: int | None
    year: int | None
    previous_severity: str | None = None  # severity_changed only


# on_events(session, events): called inside the transaction that made the changes
EventHook = Callable[[Session, list[FindingEvent]], None]


def emit(session: Session, events: list[FindingEvent], on_events: EventHook | None) -> list[FindingEvent]:
    """Hand the events of a transaction to the hook (if any) and return them."""
    if on_events is not None and events:
        on_events(session, events)
    return events


def sync_findings(session: Session, desired: Iterable[dict[str, Any]], owned: ColumnElement[bool],
                  *, now: datetime, keep: Iterable[str] = (), refresh: bool = True,
                  close: bool = True) -> list[FindingEvent]:
    """Make the open findings selected by `owned` equal `desired` (rows of Finding columns, each
    with its `fingerprint`). Still firing → `last_seen_at` (and with `refresh` message, details,
    severity and version) updated; new → inserted (occurrence 1), or reopened when the same
    fingerprint was resolved before (occurrence + 1, `first_seen_at` = now); no longer firing →
    `resolved_at` set, except fingerprints in `keep` (state unknown). Set-based: a handful of
    statements whatever the number of rows. Returns the changes as events (opened, reopened,
    resolved, severity_changed), in that order."""
    want = {d["fingerprint"]: d for d in desired}
    cols = (Finding.fingerprint, Finding.id, Finding.occurrence, Finding.rule_id, Finding.severity,
            Finding.county_code, Finding.entity_id, Finding.year)
    open_rows = {r.fingerprint: r for r in session.execute(select(*cols).where(owned, Finding.resolved_at.is_(None)))}
    keep_set = set(keep)
    resolved = [r for fp, r in open_rows.items() if fp not in want and fp not in keep_set]
    still = [fp for fp in want if fp in open_rows]
    fresh = [fp for fp in want if fp not in open_rows]

    known: dict[str, Any] = {}
    for chunk in _chunks(fresh, 500):
        known.update((r.fingerprint, r) for r in session.execute(select(*cols).where(Finding.fingerprint.in_(chunk))))
    events: list[FindingEvent] = []

    def event(kind: str, finding_id: int, occurrence: int, d: Any, previous: str | None = None) -> None:
        get = d.get if isinstance(d, dict) else lambda k: getattr(d, k)
        events.append(FindingEvent(finding_id, kind, occurrence, get("rule_id"), get("severity"),
                                   get("county_code"), get("entity_id"), get("year"), previous))

    inserts = [{**want[fp], "first_seen_at": now, "last_seen_at": now, "resolved_at": None, "occurrence": 1}
               for fp in fresh if fp not in known]
    if inserts:
        # Core executemany with RETURNING (SQLite ≥ 3.35 and PostgreSQL): the ids of the rows this
        # statement inserted; a row another process inserted meanwhile is left to it.
        stmt = _insert_ignoring_duplicates(session, Finding.__table__, "fingerprint") \
            .returning(Finding.__table__.c.id, Finding.__table__.c.fingerprint)
        for fid, fp in session.connection().execute(stmt, inserts):
            event("opened", fid, 1, want[fp])
    reopen = [{**{k: v for k, v in want[fp].items() if k != "fingerprint"}, "id": known[fp].id,
               "first_seen_at": now, "last_seen_at": now, "resolved_at": None,
               "occurrence": known[fp].occurrence + 1} for fp in fresh if fp in known]
    if reopen:
        session.execute(update(Finding), reopen)
        for fp, r in zip([fp for fp in fresh if fp in known], reopen, strict=True):
            event("reopened", r["id"], r["occurrence"], {**want[fp], **{
                k: getattr(known[fp], k) for k in ("rule_id", "county_code", "entity_id", "year")
                if k not in want[fp]}, "severity": want[fp].get("severity", known[fp].severity)})
    if refresh and still:
        session.execute(update(Finding), [
            {"id": open_rows[fp].id, "last_seen_at": now, "message": want[fp]["message"],
             "details": want[fp].get("details", {}), "severity": want[fp]["severity"],
             "report_version_id": want[fp].get("report_version_id")} for fp in still])
        for fp in still:
            r = open_rows[fp]
            if want[fp]["severity"] != r.severity:
                event("severity_changed", r.id, r.occurrence, {**r._asdict(), "severity": want[fp]["severity"]},
                      previous=r.severity)
    elif still:
        for chunk in _chunks([open_rows[fp].id for fp in still], 1000):
            session.execute(update(Finding).where(Finding.id.in_(chunk)).values(last_seen_at=now),
                            execution_options={"synchronize_session": False})
    if close:
        for chunk in _chunks([r.id for r in resolved], 1000):
            session.execute(update(Finding).where(Finding.id.in_(chunk)).values(resolved_at=now),
                            execution_options={"synchronize_session": False})
        for r in resolved:
            event("resolved", r.id, r.occurrence, r._asdict())
    session.flush()
    order = {k: i for i, k in enumerate(EVENT_KINDS)}
    return sorted(events, key=lambda e: order[e.kind])


def _insert_ignoring_duplicates(session: Session, model: Any, key: str) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING: a row another process inserted meanwhile (the daemon's
    sweep and a crawl's pipeline can meet on the same finding) is left to it instead of failing."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model).on_conflict_do_nothing(index_elements=[key])
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(model).on_conflict_do_nothing(index_elements=[key])
    return insert(model)


def finding_row(f: Any, *, scope: str, county_code: str | None, entity_id: int | None,
                year: int | None, report_id: int | None = None,
                report_version_id: int | None = None, key: str | int | None = None,
                fingerprint: str | None = None) -> dict[str, Any]:
    """A Finding row from a rule's finding (a `monitor.report.Finding`). The fingerprint covers
    rule, body (entity id, or the county code for county-level findings), year and subject."""
    fp = fingerprint or f.fingerprint(key if key is not None else entity_id, year)
    return {"fingerprint": fp,
            "rule_id": f.rule, "severity": f.severity, "scope": scope, "county_code": county_code,
            "entity_id": entity_id, "year": year, "report_id": report_id,
            "report_version_id": report_version_id, "message": f.message,
            "details": jsonable(f.details)}


def jsonable(value: Any) -> Any:
    """A value made of JSON types: dates and datetimes as ISO strings, paths as strings, tuples
    and sets as lists, keys as strings. The one converter for JSON columns, stats and job files."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    return value

__all__ = ["CountyBusy", "running_run", "create_crawl_run", "start_crawl_run", "queued_runs", "finish_crawl_run",
           "record_document", "record_documents", "known_documents", "mark_seen", "ensure_county", "as_date",
           "sync_findings", "finding_row", "jsonable", "FindingEvent", "EventHook", "emit", "EVENT_KINDS"]
