"""Due dates, the deadline season (TIME-003/004/005) and crawl health (CRAWL-001/002/003), with an
injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from crawler.sim.reportgen import make_spec, render
from monitor import crawlhealth, deadlines
from monitor.clock import SHANGHAI, FixedClock
from monitor.config import Policy
from monitor.deadlines import due_date, sweep
from monitor.pipeline import ingest_bytes
from monitor.profiles import Body as ProfileBody
from monitor.profiles import CountyProfile, sync_profiles
from monitor.rules.base import registry
from storage import repo
from storage.db import session_factory
from storage.models import Finding


@pytest.mark.parametrize(("kind", "year", "due"), [
    ("township", 2018, date(2019, 3, 31)),
    ("department", 2018, date(2019, 3, 31)),
    ("county_gov", 2018, date(2019, 3, 31)),
    ("township", 2019, date(2020, 1, 31)),
    ("street", 2019, date(2020, 1, 31)),
    ("department", 2024, date(2025, 1, 31)),
    ("other", 2024, date(2025, 1, 31)),
    ("county_gov", 2019, date(2020, 3, 31)),
])
def test_due_dates_by_law(kind: str, year: int, due: date) -> None:
    assert due_date(kind, year) == due


def test_overrides_apply_from_since_year() -> None:
    o = {"township": "01-20", "since_year": 2022}
    assert due_date("township", 2021, o) == date(2022, 1, 31)
    assert due_date("township", 2022, o) == date(2023, 1, 20)


def test_sched_rules_are_declared() -> None:
    rules = registry()
    for rid, sev in (("TIME-003", "warning"), ("TIME-004", "error"), ("TIME-005", "info"),
                     ("CRAWL-001", "error"), ("CRAWL-002", "warning"), ("CRAWL-003", "warning")):
        assert rules[rid].scope == "sched" and rules[rid].severity == sev
        assert rules[rid].explanation()


def at(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, tzinfo=SHANGHAI)


def _setup(engine, code: str = "370830", bodies=(("刘楼镇人民政府", "township", ["刘楼镇"]),)):
    sf = session_factory(engine)
    profile = CountyProfile(code=code, name="汶上县", province="山东省", city="济宁市",
                            bodies=[ProfileBody(name=n, kind=k, aliases=a) for n, k, a in bodies],
                            portals=[])
    with sf() as s, s.begin():
        sync_profiles(s, [profile])
    return sf


def _run(sf, code: str, status: str, when: datetime, trigger: str = "schedule", stats=None) -> int:
    with sf() as s, s.begin():
        run = repo.create_crawl_run(s, code, trigger, now=when)
        repo.finish_crawl_run(s, run.id, status, stats or {}, error=None if status == "ok" else status,
                              now=when)
        return run.id


def _open(sf, rule: str | None = None, code: str = "370830") -> list[Finding]:
    with sf() as s:
        q = select(Finding).where(Finding.resolved_at.is_(None), Finding.county_code == code)
        if rule:
            q = q.where(Finding.rule_id == rule)
        return list(s.scalars(q))


def _all(sf, rule: str) -> list[Finding]:
    with sf() as s:
        return list(s.scalars(select(Finding).where(Finding.rule_id == rule)))


def test_deadline_season_reminder_missing_late_resolved(engine, blobs) -> None:
    sf = _setup(engine)
    clock = FixedClock(at(2020, 12, 1))
    _run(sf, "370830", "ok", at(2020, 12, 1, 8))

    sweep(sf, clock, 2020)  # due 2021-01-31: far away
    assert {f.rule_id for f in _open(sf)} == set()

    clock.set(at(2021, 1, 17))  # 14 days before: reminder
    r = sweep(sf, clock, 2020)
    assert r.states == {"reminder": 1}
    (rem,) = _open(sf, "TIME-005")
    assert rem.details["due_date"] == "2021-01-31" and rem.severity == "info"

    clock.set(at(2021, 1, 31, 23))  # the due day itself: still a reminder, never missing
    sweep(sf, clock, 2020)
    assert [f.rule_id for f in _open(sf)] == ["TIME-005"]

    clock.set(at(2021, 2, 1))  # due passed, but no crawl since: nothing can be said
    sweep(sf, clock, 2020)
    assert _open(sf) == []
    assert _all(sf, "TIME-005")[0].resolved_at is not None

    _run(sf, "370830", "ok", at(2021, 2, 2, 3))
    clock.set(at(2021, 2, 2, 7))
    sweep(sf, clock, 2020)
    (missing,) = _open(sf, "TIME-004")
    assert missing.details["due_date"] == "2021-01-31" and missing.details["last_successful_crawl"] == "2021-02-02"

    clock.set(at(2021, 2, 3, 7))  # still missing: the same row, seen again
    sweep(sf, clock, 2020)
    (again,) = _open(sf, "TIME-004")
    assert again.id == missing.id and again.last_seen_at > missing.last_seen_at

    spec = make_spec(3, entity="刘楼镇人民政府", year=2020)
    clock.set(at(2021, 2, 20))
    out = ingest_bytes(sf, blobs, render(spec, "txt-cells"), county_code="370830", filename="r.txt",
                       published_at="2021-02-15", clock=clock)
    assert (out.entity, out.year, out.status) == ("刘楼镇人民政府", 2020, "stored")
    (late,) = _open(sf, "TIME-003")
    assert late.details == {"due_date": "2021-01-31", "published_at": "2021-02-15", "source": "manual",
                            "days_late": 15}
    assert _open(sf, "TIME-004") == []
    assert _all(sf, "TIME-004")[0].resolved_at is not None


def test_published_on_time_from_the_portal_date_beats_first_seen(engine, blobs) -> None:
    sf = _setup(engine)
    spec = make_spec(4, entity="刘楼镇人民政府", year=2020)
    clock = FixedClock(at(2021, 3, 1))  # first seen long after the due date…
    with sf() as s, s.begin():
        run = repo.create_crawl_run(s, "370830", "schedule", now=clock.now())
        repo.record_document(s, blobs, run_id=run.id, url="http://p/a.txt", final_url=None,
                             content_type="text/plain", body=render(spec, "txt-cells"),
                             listing_title="刘楼镇人民政府2020年政府信息公开工作年度报告",
                             listing_date="2021-01-30", page_published_at=None, published_source=None,
                             etag=None, last_modified=None, now=clock.now())
        repo.finish_crawl_run(s, run.id, "ok", {}, now=clock.now())
    from monitor.pipeline import process_run

    process_run(sf, blobs, run.id, clock)
    sweep(sf, clock, 2020)
    assert _open(sf, "TIME-003") == []  # …but the listing says 2021-01-30: on time
    assert _open(sf, "TIME-004") == []


def test_blocked_county_never_reports_missing(engine) -> None:
    sf = _setup(engine)
    clock = FixedClock(at(2021, 2, 10))
    _run(sf, "370830", "ok", at(2021, 1, 10))  # before the due date
    for day in (2, 5, 9):
        _run(sf, "370830", "blocked", at(2021, 2, day))
    r = sweep(sf, clock, 2020)
    assert r.states == {"blocked": 1}
    assert _open(sf, "TIME-004") == []
    (blocked,) = _open(sf, "CRAWL-001")
    assert blocked.entity_id is None and blocked.year is None

    _run(sf, "370830", "ok", at(2021, 2, 11))  # the portal answers again: now it can be said
    clock.set(at(2021, 2, 12))
    sweep(sf, clock, 2020)
    assert len(_open(sf, "TIME-004")) == 1
    assert _open(sf, "CRAWL-001") == []


def test_missing_report_stays_open_while_the_portal_is_blocked_again(engine) -> None:
    sf = _setup(engine)
    _run(sf, "370830", "ok", at(2021, 2, 5))
    clock = FixedClock(at(2021, 2, 6))
    sweep(sf, clock, 2020)
    assert len(_open(sf, "TIME-004")) == 1
    _run(sf, "370830", "blocked", at(2021, 2, 7))
    clock.set(at(2021, 2, 8))
    sweep(sf, clock, 2020)
    assert len(_open(sf, "TIME-004")) == 1  # unknown, not resolved
    assert len(_open(sf, "CRAWL-001")) == 1


@pytest.mark.parametrize(("failures", "fires"), [(1, False), (2, True), (3, True)])
def test_consecutive_failed_scheduled_crawls(engine, failures: int, fires: bool) -> None:
    sf = _setup(engine)
    clock = FixedClock(at(2021, 5, 10))
    _run(sf, "370830", "ok", at(2021, 5, 1))
    _run(sf, "370830", "failed", at(2021, 5, 2), trigger="cli")  # not a scheduled run
    for day in range(failures):
        _run(sf, "370830", "failed", at(2021, 5, 3 + day))
    with sf() as s, s.begin():
        crawlhealth.evaluate(s, clock, policy=Policy(crawl_failure_threshold=2))
    assert len(_open(sf, "CRAWL-002")) == (1 if fires else 0)
    _run(sf, "370830", "ok", at(2021, 5, 9))
    with sf() as s, s.begin():
        crawlhealth.evaluate(s, clock, policy=Policy(crawl_failure_threshold=2))
    assert _open(sf, "CRAWL-002") == []


def test_empty_list_pages_are_reported_per_url(engine) -> None:
    sf = _setup(engine)
    clock = FixedClock(at(2021, 5, 10))
    _run(sf, "370830", "ok", at(2021, 5, 1), stats={"empty_lists": ["http://p/l1", "http://p/l2"]})
    with sf() as s, s.begin():
        crawlhealth.evaluate(s, clock)
    assert sorted(f.details["url"] for f in _open(sf, "CRAWL-003")) == ["http://p/l1", "http://p/l2"]
    _run(sf, "370830", "partial", at(2021, 5, 2), stats={"empty_lists": ["http://p/l2"]})
    with sf() as s, s.begin():
        crawlhealth.evaluate(s, clock)
    assert [f.details["url"] for f in _open(sf, "CRAWL-003")] == ["http://p/l2"]


def test_expected_bodies_profile_or_earlier_report_not_retired(engine, blobs) -> None:
    sf = _setup(engine, bodies=(("刘楼镇人民政府", "township", []), ("旧镇人民政府", "township", [])))
    with sf() as s, s.begin():
        from storage.models import Entity

        old = s.scalar(select(Entity).where(Entity.name == "旧镇人民政府"))
        old.retired_year = 2020
    clock = FixedClock(at(2020, 5, 1))
    spec = make_spec(5, entity="城关街道办事处", year=2019, entity_kind="street")
    out = ingest_bytes(sf, blobs, render(spec, "txt-cells"), county_code="370830", filename="c.txt", clock=clock)
    assert out.discovered
    _run(sf, "370830", "ok", at(2021, 2, 5))
    clock.set(at(2021, 2, 6))
    r = sweep(sf, clock, 2020)
    names = {f.details.get("due_date") and f.message.split("2020")[0] for f in _open(sf, "TIME-004")}
    assert names == {"刘楼镇人民政府", out.entity}  # the retired body is not expected
    assert r.cells == 2
    with sf() as s:
        cells = {c.entity for c, _ in deadlines.cells_for_year(s, 2019)}
    assert cells == {"刘楼镇人民政府", "旧镇人民政府", out.entity}


@pytest.mark.parametrize(("watched_since", "late"), [(at(2021, 1, 5), True), (at(2021, 3, 1), False)])
def test_first_seen_date_counts_only_if_the_portal_was_watched_at_the_due_date(
        engine, blobs, watched_since: datetime, late: bool) -> None:
    sf = _setup(engine)
    _run(sf, "370830", "ok", watched_since)
    clock = FixedClock(at(2021, 3, 2))
    spec = make_spec(6, entity="刘楼镇人民政府", year=2020)
    ingest_bytes(sf, blobs, render(spec, "txt-cells"), county_code="370830", filename="r.txt", clock=clock)
    r = sweep(sf, clock, 2020)
    found = _open(sf, "TIME-003")
    assert len(found) == (1 if late else 0)
    if late:
        assert found[0].details["source"] == "first_seen" and found[0].details["published_at"] == "2021-03-02"
    assert r.states == ({"late": 1} if late else {"published": 1})


def test_sweep_fingerprint_equals_the_findings_own() -> None:
    from monitor.deadlines import sched_fingerprint

    for rule in ("TIME-003", "TIME-004", "TIME-005"):
        f = registry()[rule]().finding("任意措辞")
        assert sched_fingerprint(rule, 12345, 2024) == f.fingerprint(12345, 2024)


@pytest.mark.parametrize("ingesting, state, rule", [(False, "missing", "TIME-004"), (True, "unknown", None)])
def test_a_crawl_whose_documents_wait_for_ingestion_says_nothing_is_missing(ingesting: bool, state: str,
                                                                            rule: str | None) -> None:
    # the crawl child stored its documents after the due date but has not read them yet: a sweep
    # in between must not call a report missing that may be among them
    crawl = deadlines.CrawlState(last_ok=datetime(2025, 2, 10, 9, tzinfo=SHANGHAI),
                                 first_ok=datetime(2024, 2, 1, tzinfo=SHANGHAI), last_status="ok",
                                 last_finished=datetime(2025, 2, 10, 10, tzinfo=SHANGHAI), ingesting=ingesting)
    cell = deadlines.Cell(entity_id=1, entity="甲镇人民政府", kind="township", county_code="990101", year=2024,
                          due=date(2025, 1, 31))
    out = deadlines.classify(cell, date(2025, 2, 11), crawl, 14)
    assert (out.state, out.rule, out.frozen) == (state, rule, ingesting)
