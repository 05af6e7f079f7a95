"""storage: migrations, models, blob store and the repo functions — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.report import Finding as RuleFinding
from storage import repo
from storage.blobs import BlobStore
from storage.db import current_revision, make_engine, session_factory, upgrade
from storage.models import (
    Base,
    CrawlRun,
    Document,
    Entity,
    Finding,
    Report,
    ReportVersion,
    SeenUrl,
)

T0 = datetime(2021, 2, 1, 2, 0, tzinfo=UTC)


HEAD = "0007_seen_pending"


def test_migration_0006_numbers_reminders_and_keeps_alerts(db_url) -> None:
    """From 0003 with an alert: it gets seq 0; reminders of one occurrence differ by seq; the
    county's [health] overrides have a column; down again drops the reminders beyond the key."""
    eng = make_engine(db_url)
    try:
        upgrade(eng, "0003_service_layer")
        with eng.begin() as c:
            c.execute(text("insert into counties (code, name) values ('370830', 'x')"))
            c.execute(text("insert into findings (fingerprint, rule_id, severity, scope, county_code, message, "
                           "details, first_seen_at, last_seen_at) values ('fp', 'CRAWL-001', 'error', 'sched', "
                           "'370830', 'm', '{}', :t, :t)"), {"t": T0})
            c.execute(text("insert into subscribers (channel, address, role, scope, min_severity, health, active) "
                           "values ('console', 'a', 'operator', '{}', 'info', false, true)"))
            c.execute(text("insert into alerts (subscriber_id, finding_id, kind, status, attempts, created_at) "
                           "select s.id, f.id, 'new', 'sent', 1, :t from subscribers s, findings f"), {"t": T0})
        upgrade(eng)
        assert current_revision(eng) == HEAD
        with eng.begin() as c:
            assert c.execute(text("select kind, seq from alerts")).all() == [("new", 0)]
            for seq in (1, 2):
                c.execute(text("insert into alerts (subscriber_id, finding_id, occurrence, kind, seq, status, "
                               "attempts, created_at) select s.id, f.id, 1, 'reminder', :n, 'pending', 0, :t "
                               "from subscribers s, findings f"), {"t": T0, "n": seq})
            c.execute(text("update counties set health = :h"), {"h": '{"crawl_alert_threshold": 5}'})
        with pytest.raises(IntegrityError), eng.begin() as c:
            c.execute(text("insert into alerts (subscriber_id, finding_id, occurrence, kind, seq, status, "
                           "attempts, created_at) select s.id, f.id, 1, 'reminder', 2, 'pending', 0, :t "
                           "from subscribers s, findings f"), {"t": T0})
        from alembic import command

        from storage.db import alembic_config

        with eng.begin() as conn:
            cfg = alembic_config(eng.url.render_as_string(hide_password=False))
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003_service_layer")
        assert current_revision(eng) == "0003_service_layer"
        with eng.begin() as c:
            assert c.execute(text("select kind from alerts order by id")).scalars().all() == ["new"]
    finally:
        eng.dispose()


def _county(engine, code: str = "370830") -> None:
    with session_factory(engine)() as s, s.begin():
        repo.ensure_county(s, code, "汶上县", province="山东省", city="济宁市")


def test_migrations_create_every_table_of_the_model(engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revision(engine) == HEAD
    upgrade(engine)  # idempotent
    assert current_revision(engine) == HEAD
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            opts = c.execute(text("select reloptions from pg_class where relname = 'findings' "
                                  "and relnamespace = current_schema()::regnamespace")).scalar()
        assert "fillfactor=80" in opts


def test_the_documents_waiting_to_be_ingested_are_read_from_the_partial_index(engine) -> None:
    """The sweep's crawl-state query and the pipeline's pending list can read ix_seen_urls_pending
    (migration 0007), which holds only the waiting rows, instead of the whole seen_urls table."""
    from monitor.deadlines import ingesting_counties, ingesting_query
    from monitor.pipeline import _pending

    _county(engine)
    _county(engine, "370831")
    sf = session_factory(engine)
    with sf() as s, s.begin():
        docs = [Document(sha256=f"{i:064x}", url=f"http://x/{i}", size=1) for i in range(3)]
        s.add_all(docs)
        s.flush()
        s.add_all([SeenUrl(county_code="370830", url="http://x/list"),  # a list page: no document
                   SeenUrl(county_code="370830", url="http://x/0", document_id=docs[0].id,
                           ingested_document_id=docs[0].id),  # ingested
                   SeenUrl(county_code="370831", url="http://x/1", document_id=docs[1].id),  # waiting
                   SeenUrl(county_code="370830", url="http://x/2", document_id=docs[2].id,
                           ingested_document_id=docs[0].id)])  # changed since: waiting
    with sf() as s:
        assert ingesting_counties(s) == {"370830", "370831"}
        assert ingesting_counties(s, ["370831"]) == {"370831"}
        assert len(_pending(s, "370830")) == 1
    pending = select(SeenUrl.id).where(SeenUrl.county_code == "370830", SeenUrl.document_id.is_not(None),
                                       SeenUrl.ingested_document_id.is_(None)
                                       | (SeenUrl.ingested_document_id != SeenUrl.document_id))
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("SET enable_seqscan = off"))  # a tiny table: ask whether the index can serve
        plans = [" ".join(str(r[-1]) for r in c.execute(text(explain + str(q.compile(
                 engine, compile_kwargs={"literal_binds": True}))))) for q in
                 (ingesting_query(), ingesting_query(["370830", "370831"]), pending)]
    assert all("ix_seen_urls_pending" in p for p in plans), plans


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with eng.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_foreign_keys_are_enforced(engine) -> None:
    with pytest.raises(IntegrityError), session_factory(engine)() as s, s.begin():
        s.add(Entity(county_code="999999", name="x", kind="township", aliases=[]))


def test_timestamps_come_back_aware_utc(engine) -> None:
    _county(engine)
    shanghai = timezone(timedelta(hours=8))
    with session_factory(engine)() as s, s.begin():
        run = repo.create_crawl_run(s, "370830", "cli", now=datetime(2021, 2, 1, 10, 0, tzinfo=shanghai))
        rid = run.id
    with session_factory(engine)() as s:
        got = s.get_one(CrawlRun, rid).queued_at
    assert got == datetime(2021, 2, 1, 2, 0, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive"), session_factory(engine)() as s, s.begin():
        repo.create_crawl_run(s, "370830", "cli", now=datetime(2021, 2, 1), status="queued")


def test_blob_store_is_content_addressed_atomic_and_deduplicated(tmp_path) -> None:
    store = BlobStore(tmp_path / "blobs")
    sha = store.put(b"report bytes")
    assert store.path(sha) == tmp_path / "blobs" / sha[:2] / sha[2:]
    assert store.get(sha) == b"report bytes"
    mtime = store.path(sha).stat().st_mtime_ns
    assert store.put(b"report bytes") == sha
    assert store.path(sha).stat().st_mtime_ns == mtime  # not rewritten
    assert not [p for p in (tmp_path / "blobs").rglob(".tmp-*")]
    with pytest.raises(KeyError):
        store.get("0" * 64)
    with pytest.raises(ValueError):
        store.path("../etc/passwd")


def _record(s: Session, blobs: BlobStore, run_id: int, url: str, body: bytes, **kw):
    args = dict(final_url=None, content_type="text/html", listing_title="刘楼镇2020年政府信息公开工作年度报告",
                listing_date="2021-01-20", page_published_at=None, published_source=None, etag='"e1"',
                last_modified=None)
    args.update(kw)
    return repo.record_document(s, blobs, run_id=run_id, url=url, body=body, **args)


def test_record_document_reports_new_unchanged_changed(engine, blobs) -> None:
    _county(engine)
    with session_factory(engine)() as s, s.begin():
        run = repo.create_crawl_run(s, "370830", "schedule")
        d1, st1 = _record(s, blobs, run.id, "http://p/a.html", b"v1")
        d2, st2 = _record(s, blobs, run.id, "http://p/a.html", b"v1")
        d3, st3 = _record(s, blobs, run.id, "http://p/a.html", b"v2", etag='"e2"')
        d4, st4 = _record(s, blobs, run.id, "http://p/copy.html", b"v1")
        repo.finish_crawl_run(s, run.id, "ok", {"documents": 4})
    assert (st1, st2, st3, st4) == ("new", "unchanged", "changed", "new")
    assert d1.id == d2.id == d4.id != d3.id
    assert blobs.get(d3.sha256) == b"v2"
    with session_factory(engine)() as s:
        assert s.scalar(select(Document).where(Document.id == d1.id)).listing_date == date(2021, 1, 20)
        known = repo.known_documents(s, "370830")
        assert known["http://p/a.html"][:3] == ('"e2"', None, d3.sha256)
        assert known["http://p/copy.html"][2] == d1.sha256
        run = s.get_one(CrawlRun, run.id)
        assert run.status == "ok" and run.stats == {"documents": 4} and run.finished_at is not None


def test_mark_seen_records_list_pages_and_refreshes_documents(engine, blobs) -> None:
    _county(engine)
    with session_factory(engine)() as s, s.begin():
        r1 = repo.create_crawl_run(s, "370830", "schedule")
        _record(s, blobs, r1.id, "http://p/a.html", b"v1")
        repo.finish_crawl_run(s, r1.id, "ok", {})
    with session_factory(engine)() as s, s.begin():
        r2 = repo.create_crawl_run(s, "370830", "schedule")
        assert repo.mark_seen(s, r2.id, ["http://p/list.html", "http://p/a.html", "http://p/list.html"]) == 2
    with session_factory(engine)() as s:
        rows = {u.url: u for u in s.scalars(select(SeenUrl))}
    assert set(rows) == {"http://p/a.html", "http://p/list.html"}
    assert rows["http://p/a.html"].last_run_id == r2.id and rows["http://p/a.html"].first_run_id == r1.id
    assert rows["http://p/list.html"].document_id is None


def test_crawl_run_lifecycle_validates_states(engine) -> None:
    _county(engine)
    with session_factory(engine)() as s, s.begin():
        run = repo.create_crawl_run(s, "370830", "chat", requested_by="tg:42", status="queued")
        assert [r.id for r in repo.queued_runs(s)] == [run.id]
        repo.start_crawl_run(s, run.id)
        with pytest.raises(ValueError):
            repo.finish_crawl_run(s, run.id, "running", {})
        with pytest.raises(ValueError):
            repo.create_crawl_run(s, "370830", "cron")
        with pytest.raises(LookupError):
            repo.create_crawl_run(s, "110101", "cli")
        repo.finish_crawl_run(s, run.id, "blocked", {"nianbao/blocked/412": 3}, error="HTTP 412")
    with session_factory(engine)() as s:
        assert s.get_one(CrawlRun, run.id).status == "blocked"
        assert repo.queued_runs(s) == []


def test_a_report_has_at_most_one_current_version(engine, blobs) -> None:
    _county(engine)
    with session_factory(engine)() as s, s.begin():
        e = Entity(county_code="370830", name="刘楼镇人民政府", kind="township", aliases=[])
        s.add(e)
        d1, _ = repo.record_document(s, blobs, run_id=None, county_code="370830", url="file:a", final_url=None,
                                     content_type=None, body=b"1", listing_title=None, listing_date=None,
                                     page_published_at=None, published_source=None, etag=None,
                                     last_modified=None)
        s.flush()
        r = Report(entity_id=e.id, year=2020)
        s.add(r)
        s.flush()
        s.add(ReportVersion(report_id=r.id, document_id=d1.id, parsed={}, parser_version="1", is_current=True))
        rid, did = r.id, d1.id
    with pytest.raises(IntegrityError), session_factory(engine)() as s, s.begin():
        s.add(ReportVersion(report_id=rid, document_id=did, parsed={}, parser_version="1", is_current=True))
    with session_factory(engine)() as s, s.begin():  # an old version next to the current one is fine
        s.add(ReportVersion(report_id=rid, document_id=did, parsed={}, parser_version="1", is_current=False))
    with pytest.raises(IntegrityError), session_factory(engine)() as s, s.begin():
        s.add(Report(entity_id=r.entity_id, year=2020))


def test_sync_findings_inserts_keeps_resolves_and_reopens(engine) -> None:
    _county(engine)
    owned = Finding.county_code == "370830"

    def row(subject: str) -> dict:
        f = RuleFinding(rule="CRAWL-003", severity="warning", message=f"m {subject}", subject=subject)
        return repo.finding_row(f, scope="sched", county_code="370830", entity_id=None, year=None,
                                key="370830")

    sf = session_factory(engine)
    t = [T0 + timedelta(days=i) for i in range(4)]

    def kinds(events: list) -> list[tuple[str, str, int]]:
        return [(e.kind, e.rule_id, e.occurrence) for e in events]

    with sf() as s, s.begin():
        opened = repo.sync_findings(s, [row("a"), row("b")], owned, now=t[0])
    assert kinds(opened) == [("opened", "CRAWL-003", 1)] * 2
    ids = {e.finding_id for e in opened}
    assert len(ids) == 2 and all(e.county_code == "370830" and e.severity == "warning" for e in opened)
    with sf() as s, s.begin():
        resolved = repo.sync_findings(s, [row("a")], owned, now=t[1], keep=[])
    assert kinds(resolved) == [("resolved", "CRAWL-003", 1)] and resolved[0].finding_id in ids
    b_id = resolved[0].finding_id
    with sf() as s, s.begin():
        reopened = repo.sync_findings(s, [row("a"), row("b")], owned, now=t[2])
    assert kinds(reopened) == [("reopened", "CRAWL-003", 2)] and reopened[0].finding_id == b_id
    with sf() as s:
        rows = {f.message: f for f in s.scalars(select(Finding))}
    assert len(rows) == 2  # b was reopened, not duplicated
    assert rows["m a"].first_seen_at == t[0] and rows["m a"].last_seen_at == t[2]
    assert rows["m a"].occurrence == 1 and rows["m b"].occurrence == 2
    assert rows["m b"].resolved_at is None and rows["m b"].first_seen_at == t[2]  # of this occurrence
    with sf() as s, s.begin():  # a kept fingerprint is neither resolved nor refreshed
        assert kinds(repo.sync_findings(s, [], owned, now=t[3], keep=[row("a")["fingerprint"]])) == \
            [("resolved", "CRAWL-003", 2)]
    with sf() as s:
        rows = {f.message: f for f in s.scalars(select(Finding))}
    assert rows["m a"].resolved_at is None and rows["m b"].resolved_at == t[3]
    error = {**row("a"), "severity": "error"}
    with sf() as s, s.begin():
        changed = repo.sync_findings(s, [error], owned, now=t[3], keep=[row("b")["fingerprint"]])
    assert [(e.kind, e.severity, e.previous_severity) for e in changed] == [("severity_changed", "error", "warning")]
    with sf() as s, s.begin():
        assert repo.sync_findings(s, [error], owned, now=t[3]) == []  # nothing changed: no event


def test_events_reach_the_hook_inside_the_ingest_transaction(engine, blobs) -> None:
    """The hook writes in the same transaction: a failing hook leaves nothing stored."""
    from crawler.sim.reportgen import make_spec, render
    from monitor.clock import FixedClock
    from monitor.pipeline import ingest_bytes

    _county(engine)
    sf = session_factory(engine)
    seen: list = []

    def hook(session, events) -> None:
        assert session.in_transaction()
        ids = {e.finding_id for e in events}
        assert set(session.scalars(select(Finding.id).where(Finding.id.in_(ids)))) == ids
        seen.append(list(events))

    data = render(make_spec(5, entity="刘楼镇人民政府", year=2021, variants=["no_period"]), "txt-cells")
    clock = FixedClock(datetime(2022, 5, 1, 10, tzinfo=UTC))
    out = ingest_bytes(sf, blobs, data, county_code="370830", entity="刘楼镇人民政府", clock=clock,
                       on_events=hook, sweep=False)
    assert seen and seen[0] == out.events
    assert "STRUCT-005" in {e.rule_id for e in out.events if e.kind == "opened"}
    with sf() as s:
        assert {f.id for f in s.scalars(select(Finding))} == {e.finding_id for e in out.events}

    def broken(session, events) -> None:
        raise RuntimeError("outbox down")

    other = render(make_spec(6, entity="刘楼镇人民政府", year=2020, variants=["no_period"]), "txt-cells")
    with pytest.raises(RuntimeError):
        ingest_bytes(sf, blobs, other, county_code="370830", entity="刘楼镇人民政府", clock=clock,
                     on_events=broken, sweep=False)
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(Finding).where(Finding.year == 2020)) == 0


def test_schema_upgrade_from_url_creates_the_sqlite_file(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'n.db'}"
    upgrade(url)
    eng = make_engine(url)
    with eng.connect() as c:
        assert c.execute(text("select version_num from alembic_version")).scalar() == HEAD


def test_recrawl_request_is_a_queued_run_and_not_doubled(engine) -> None:
    from monitor.status import UnknownCounty, request_recrawl

    _county(engine)
    sf = session_factory(engine)
    with sf() as s, s.begin():
        run, created = request_recrawl(s, "370830", "tg:42")
        again, created2 = request_recrawl(s, "370830", "tg:43")
        with pytest.raises(UnknownCounty):
            request_recrawl(s, "110101", "tg:42")
    assert created and not created2 and again.id == run.id
    assert (run.status, run.trigger, run.requested_by) == ("queued", "chat", "tg:42")


def test_migration_0003_keeps_rows_and_keys_alerts_on_the_occurrence(db_url) -> None:
    """From 0002 with data: findings and alerts get occurrence 1, a run left running is failed,
    and the alerts' unique key now includes the occurrence."""
    eng = make_engine(db_url)
    try:
        upgrade(eng, "0002")
        with eng.begin() as c:
            c.execute(text("insert into counties (code, name) values ('370830', 'x')"))
            c.execute(text("insert into crawl_runs (county_code, trigger, queued_at, status, stats) "
                           "values ('370830', 'cli', :t, 'running', '{}')"), {"t": T0})
            c.execute(text("insert into findings (fingerprint, rule_id, severity, scope, county_code, message, "
                           "details, first_seen_at, last_seen_at) values ('fp', 'CRAWL-001', 'error', 'sched', "
                           "'370830', 'm', '{}', :t, :t)"), {"t": T0})
            c.execute(text("insert into subscribers (channel, address, role, scope, min_severity, health, active) "
                           "values ('console', 'a', 'subscriber', '{}', 'info', false, true)"))
            c.execute(text("insert into alerts (subscriber_id, finding_id, kind, status, attempts, created_at) "
                           "select s.id, f.id, 'new', 'sent', 1, :t from subscribers s, findings f"), {"t": T0})
        upgrade(eng, "0003_service_layer")
        assert current_revision(eng) == "0003_service_layer"
        with eng.begin() as c:
            assert c.execute(text("select occurrence from findings")).scalar() == 1
            assert c.execute(text("select occurrence from alerts")).scalar() == 1
            assert c.execute(text("select status from crawl_runs")).scalar() == "failed"
            c.execute(text("insert into alerts (subscriber_id, finding_id, occurrence, kind, status, attempts, "
                           "created_at) select subscriber_id, finding_id, 2, kind, 'pending', 0, created_at "
                           "from alerts"))
        with pytest.raises(IntegrityError), eng.begin() as c:
            c.execute(text("insert into alerts (subscriber_id, finding_id, occurrence, kind, status, attempts, "
                           "created_at) select subscriber_id, finding_id, 2, kind, 'pending', 0, created_at "
                           "from alerts where occurrence = 2"))
    finally:
        eng.dispose()


def test_one_running_crawl_per_county_is_enforced_by_the_database(engine) -> None:
    _county(engine)
    sf = session_factory(engine)
    with sf() as s, s.begin():
        first = repo.create_crawl_run(s, "370830", "schedule")
        queued = repo.create_crawl_run(s, "370830", "chat", status="queued")
    with sf() as s, s.begin():
        with pytest.raises(repo.CountyBusy) as info:
            repo.create_crawl_run(s, "370830", "cli")
        assert info.value.run_id == first.id
        with pytest.raises(repo.CountyBusy):
            repo.start_crawl_run(s, queued.id)
    with pytest.raises(IntegrityError), sf() as s, s.begin():  # not only the check: the index itself
        s.add(CrawlRun(county_code="370830", trigger="cli", status="running", stats={}))
    with sf() as s, s.begin():
        repo.finish_crawl_run(s, first.id, "ok", {})
    with sf() as s, s.begin():
        assert repo.start_crawl_run(s, queued.id).status == "running"


def test_migration_0005_keeps_reviews_and_names_the_undo_state_open(db_url) -> None:
    """From 0003 with a review row: it keeps its fingerprint, reason, by and time; the old undo
    state `reopened` becomes `open`; the new columns are empty; the downgrade goes back."""
    from alembic import command

    from storage.db import alembic_config

    eng = make_engine(db_url)
    try:
        upgrade(eng, "0003_service_layer")
        with eng.begin() as c:
            for state in ("dismissed", "reopened"):
                c.execute(text("insert into reviews (finding_fingerprint, state, reason, by, at) "
                               "values ('fp', :s, 'why', 'li', :t)"), {"s": state, "t": T0})
        upgrade(eng, "0005_review")
        assert current_revision(eng) == "0005_review"
        with eng.begin() as c:
            rows = c.execute(text("select finding_fingerprint, state, reason, by, finding_id, previous_state "
                                  "from reviews order by id")).all()
        assert [tuple(r) for r in rows] == [("fp", "dismissed", "why", "li", None, None),
                                           ("fp", "open", "why", "li", None, None)]
        with eng.begin() as conn:
            cfg = alembic_config(eng.url.render_as_string(hide_password=False))
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003_service_layer")
        assert current_revision(eng) == "0003_service_layer"
        with eng.connect() as c:
            assert [r[0] for r in c.execute(text("select state from reviews order by id"))] == ["dismissed", "reopened"]
    finally:
        eng.dispose()


def test_schema_head_is_alembics_head() -> None:
    """storage.db.ensure_schema trusts SCHEMA_HEAD to skip loading the migrations: it must be the
    newest migration."""
    from alembic.script import ScriptDirectory

    from storage.db import SCHEMA_HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() == SCHEMA_HEAD == HEAD
