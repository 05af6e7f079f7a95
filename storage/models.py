"""The data model of DESIGN.md, as SQLAlchemy 2.0 typed models.

Additions to DESIGN.md (all needed by the pipeline, the deadline sweep and the crawler):
- `County.deadlines`: the effective deadline overrides (county > city > province), copied from the
  profiles by `nianbao init` / profile sync so the sweep reads only the database.
- `Document.listing_date`, `Document.body_name`: what the crawler saw next to the link.
- `SeenUrl`: one row per (county, URL) the crawler met — documents and list pages. It remembers
  which document the URL served last (`document_id`), which one the pipeline ingested last
  (`ingested_document_id`: a document is pending while the two differ), and when the URL was last
  seen (`last_run_id`), which is what YOY-005 (report vanished) reads.
- `Finding.county_code`, `Finding.report_id`, `Finding.scope`: where a finding belongs, so that
  re-checking one report or sweeping one county resolves exactly its own findings.
- `Alert.created_at`, `Alert.last_error`.
- `CrawlRun.host`, `CrawlRun.pid`: the process running it, for the stale-run reaper; at most one
  `running` run per county (a partial unique index).
- `CrawlPage`: the crawler's memory of list pages (validators, links) and report pages'
  attachments, per county (it was a JSON file per county before migration 0003).
- `Finding.occurrence`: 1 when opened, +1 on each reopening (`first_seen_at` is that of the
  current occurrence); `Alert.occurrence` and the alerts' unique key follow it.
- `Alert.seq`: a reminder's day of the problem (one reminder per subscriber, occurrence and day);
  `County.health`: the profile's crawl-health overrides (migration 0006).
A `/recrawl` request is a `CrawlRun` with status `queued`.

Every timestamp is stored in UTC (`UTCDateTime` returns aware datetimes on SQLite too); calendar
dates (publication, listing) are `Date`s in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ENTITY_KINDS = ("county_gov", "department", "township", "street", "other")
RUN_TRIGGERS = ("schedule", "cli", "chat", "web")
RUN_STATUSES = ("queued", "running", "ok", "partial", "blocked", "failed")
# open (no review, or a person undid one) | confirmed | dismissed (with a reason) | fixed (the rule
# stopped firing on a new version of the report; written by nianbao)
REVIEW_STATES = ("open", "confirmed", "dismissed", "fixed")
ALERT_KINDS = ("new", "resolved", "reminder")
ALERT_STATUSES = ("pending", "sent", "failed", "dropped")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (see monitor.clock)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class County(Base):
    __tablename__ = "counties"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    # Effective due-date overrides {"township": "01-31", …, "reminder_days": 14, "since_year": 2019}.
    deadlines: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The profile's [health] overrides {"crawl_alert_threshold": 5} (migration 0006).
    health: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    entities: Mapped[list[Entity]] = relationship(back_populates="county")


class Entity(Base):
    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("county_code", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="other")
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    first_year: Mapped[int | None] = mapped_column(Integer)
    retired_year: Mapped[int | None] = mapped_column(Integer)
    discovered: Mapped[bool] = mapped_column(Boolean, default=False)

    county: Mapped[County] = relationship(back_populates="entities")


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_county_finished", "county_code", "finished_at"),
                      Index("ix_crawl_runs_status", "status"),
                      # One crawl per county at a time, enforced by the database (migration 0003).
                      Index("uq_crawl_runs_running", "county_code", unique=True,
                            sqlite_where=text("status = 'running'"),
                            postgresql_where=text("status = 'running'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))
    trigger: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str | None] = mapped_column(String(200))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="queued")
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # the process that runs it (host, pid): the reaper fails a `running` run whose process is gone
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)


class CrawlPage(Base):
    """The crawler's memory of a county's pages between runs (migration 0003): per list page
    (`kind="list"`) its validators and the report links it showed, under its configured start URL
    (`root`); per report page (`kind="page"`) the attachments it linked (`links`); per page that
    said it is no report (`kind="not_report"`) the listing title it had (`links[0]`)."""

    __tablename__ = "crawl_pages"
    __table_args__ = (UniqueConstraint("county_code", "kind", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))
    kind: Mapped[str] = mapped_column(String(10))  # list | page | not_report
    url: Mapped[str] = mapped_column(Text)
    root: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    page_published_at: Mapped[date | None] = mapped_column(Date)
    published_source: Mapped[str | None] = mapped_column(String(50))
    listing_title: Mapped[str | None] = mapped_column(Text)
    listing_date: Mapped[date | None] = mapped_column(Date)
    body_name: Mapped[str | None] = mapped_column(String(200))
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)


# A document the pipeline has not ingested in its current content (monitor.pipeline._pending,
# the deadline sweep's crawl states). Few rows match at any time, so a partial index holds only
# them (migration 0007): both queries read the index instead of the whole table.
SEEN_PENDING = text("document_id IS NOT NULL AND (ingested_document_id IS NULL "
                    "OR ingested_document_id <> document_id)")


class SeenUrl(Base):
    __tablename__ = "seen_urls"
    __table_args__ = (UniqueConstraint("county_code", "url"),
                      Index("ix_seen_urls_pending", "county_code",
                            sqlite_where=SEEN_PENDING, postgresql_where=SEEN_PENDING))

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))
    url: Mapped[str] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    ingested_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    ingest_error: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    listing_title: Mapped[str | None] = mapped_column(Text)
    listing_date: Mapped[date | None] = mapped_column(Date)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("entity_id", "year"), Index("ix_reports_year", "year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    year: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[date | None] = mapped_column(Date)
    published_source: Mapped[str | None] = mapped_column(String(50))

    entity: Mapped[Entity] = relationship()
    versions: Mapped[list[ReportVersion]] = relationship(back_populates="report",
                                                         order_by="ReportVersion.id")


class ReportVersion(Base):
    __tablename__ = "report_versions"
    __table_args__ = (
        # At most one current version per report, enforced by the database.
        Index("uq_report_versions_current", "report_id", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    template: Mapped[str | None] = mapped_column(String(10))
    parsed: Mapped[dict[str, Any]] = mapped_column(JSON)
    parser_version: Mapped[str] = mapped_column(String(50))
    parsed_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)

    report: Mapped[Report] = relationship(back_populates="versions")
    document: Mapped[Document] = relationship()


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_open", "rule_id", "year", "resolved_at"),
        Index("ix_findings_entity_year", "entity_id", "year"),
        Index("ix_findings_county", "county_code", "resolved_at"),
        # The daily sweep updates last_seen_at of every open finding: free room in each page lets
        # PostgreSQL do these as HOT updates (no index writes). Migration 0002.
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(10))  # doc | hist | sched
    county_code: Mapped[str | None] = mapped_column(ForeignKey("counties.code"))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    year: Mapped[int | None] = mapped_column(Integer)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    report_version_id: Mapped[int | None] = mapped_column(ForeignKey("report_versions.id"))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)  # of the current occurrence
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    # 1 when first opened, +1 each time it is reopened after being resolved (alerts key on it)
    occurrence: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class Review(Base):
    """The audit trail of reviews: rows are only ever appended (monitor.review). A finding's review
    state is the newest row of its fingerprint, so it outlives revalidate, recrawls and new parser
    versions, and a finding whose numbers changed (a new fingerprint) starts unreviewed."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_fingerprint_id", "finding_fingerprint", "id"),)  # migration 0005

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # the finding row the review was made on, and where it belongs (migration 0005)
    finding_id: Mapped[int | None] = mapped_column(Integer)
    rule_id: Mapped[str | None] = mapped_column(String(20))
    county_code: Mapped[str | None] = mapped_column(String(6), index=True)
    previous_state: Mapped[str | None] = mapped_column(String(20))


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20), default="subscriber")
    # {"counties": ["370830"], "entities": [12, 13]}
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    min_severity: Mapped[str] = mapped_column(String(10), default="warning")
    health: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str | None] = mapped_column(String(20))
    muted_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("subscriber_id", "finding_id", "occurrence", "kind", "seq"),
                      Index("ix_alerts_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"))
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    occurrence: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    kind: Mapped[str] = mapped_column(String(20))
    # 0 for `new`/`resolved`; a `reminder`'s day of the problem (1, 2, …): one reminder per day
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)


__all__ = ["Base", "County", "Entity", "CrawlRun", "CrawlPage", "Document", "SeenUrl", "Report", "ReportVersion",
           "Finding", "Review", "Subscriber", "Alert", "UTCDateTime", "utcnow", "ENTITY_KINDS",
           "RUN_TRIGGERS", "RUN_STATUSES", "REVIEW_STATES", "ALERT_KINDS", "ALERT_STATUSES"]
