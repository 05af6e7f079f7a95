"""Ingest: bodies and years, versions, the life of findings and the history rules, on SQLite and
PostgreSQL, with reports from the generator (crawler.sim.reportgen) and the seeds."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.sim.reportgen import make_spec, render
from monitor import pipeline
from monitor.clock import SHANGHAI, FixedClock
from monitor.pipeline import ingest_bytes, process_run, revalidate
from monitor.profiles import Body, CountyProfile, sync_profiles
from storage import repo
from storage.db import session_factory
from storage.models import Document, Entity, Finding, Report, ReportVersion, SeenUrl

SEEDS = Path("/work/shared/seeds")
CODE = "370830"


@pytest.fixture
def sf(engine):
    sf = session_factory(engine)
    profile = CountyProfile(code=CODE, name="汶上县", province="山东省", city="济宁市", portals=[], bodies=[
        Body(name="刘楼镇人民政府", kind="township", aliases=["刘楼镇"]),
        Body(name="汶上县人民政府", kind="county_gov")])
    with sf() as s, s.begin():
        sync_profiles(s, [profile])
    return sf


@pytest.fixture
def clock():
    return FixedClock(datetime(2022, 2, 10, 9, tzinfo=SHANGHAI))


def findings(sf, rule: str | None = None, *, open_only: bool = True) -> list[Finding]:
    with sf() as s:
        q = select(Finding)
        if rule:
            q = q.where(Finding.rule_id == rule)
        if open_only:
            q = q.where(Finding.resolved_at.is_(None))
        return list(s.scalars(q.order_by(Finding.id)))


def crawl(sf, blobs, clock, docs: dict[str, bytes], *, status: str = "ok", seen: list[str] = (),
          titles: dict[str, str] | None = None) -> int:
    """One crawl run that fetched `docs` (url → bytes) and saw `seen` without fetching them."""
    with sf() as s, s.begin():
        run = repo.create_crawl_run(s, CODE, "schedule", now=clock.now())
        for url, body in docs.items():
            repo.record_document(s, blobs, run_id=run.id, url=url, final_url=None, content_type="text/plain",
                                 body=body, listing_title=(titles or {}).get(url), listing_date="2022-01-20",
                                 page_published_at=None, published_source=None, etag=None,
                                 last_modified=None, now=clock.now())
        repo.mark_seen(s, run.id, ["http://p/list.html", *seen], now=clock.now())
        repo.finish_crawl_run(s, run.id, status, {}, now=clock.now())
    process_run(sf, blobs, run.id, clock)
    return run.id


def test_body_and_year_from_the_report_and_aliases(sf, blobs, clock) -> None:
    spec = make_spec(11, entity="刘楼镇人民政府", year=2021)
    out = ingest_bytes(sf, blobs, render(spec, "html"), county_code=CODE, filename="r.html", clock=clock)
    assert (out.entity, out.year, out.discovered, out.status) == ("刘楼镇人民政府", 2021, False, "stored")
    with sf() as s:
        report = s.get_one(Report, out.report_id)
    assert report.published_source == "page_meta"  # the saved page's own date


def test_unknown_body_is_recorded_as_discovered(sf, blobs, clock) -> None:
    spec = make_spec(12, entity="城关街道办事处", year=2021, entity_kind="street")
    out = ingest_bytes(sf, blobs, render(spec, "txt-cells"), county_code=CODE, filename="c.txt", clock=clock)
    assert out.discovered and out.status == "stored"
    with sf() as s:
        e = s.get_one(Entity, out.entity_id)
    assert (e.discovered, e.kind) == (True, "street")
    again = ingest_bytes(sf, blobs, render(spec, "txt-cells"), county_code=CODE, filename="c.txt", clock=clock)
    assert not again.discovered and again.entity_id == out.entity_id and again.status == "unchanged"


def test_unknown_county_is_a_clear_error(sf, blobs, clock) -> None:
    with pytest.raises(pipeline.IngestError, match="county 110101 is not in the database"):
        ingest_bytes(sf, blobs, b"x", county_code="110101", clock=clock)


def _pair(carry: bool) -> tuple[bytes, bytes]:
    s20 = make_spec(21, entity="刘楼镇人民政府", year=2020)
    s21 = make_spec(22, entity="刘楼镇人民政府", year=2021)
    forward = list(s20.tables["requests"]["carried_forward"])
    over = forward if carry else [forward[0] + 3, *forward[1:6], forward[6] + 3]
    s21.tables["requests"]["carried_over"] = list(over)
    return render(s20, "txt-cells"), render(s21, "txt-cells")


@pytest.mark.parametrize("order", ["2020 first", "2021 first"])
def test_carry_over_break_is_stored_as_yoy001(sf, blobs, clock, order: str) -> None:
    r20, r21 = _pair(carry=False)
    batch = [r20, r21] if order == "2020 first" else [r21, r20]
    for i, data in enumerate(batch):
        ingest_bytes(sf, blobs, data, county_code=CODE, filename=f"{i}.txt", clock=clock)
    (yoy,) = findings(sf, "YOY-001")
    assert yoy.year == 2021 and yoy.severity == "error" and yoy.scope == "hist"
    assert yoy.details["expected"] + 3 == yoy.details["actual"]


def test_carry_over_kept_gives_no_yoy001(sf, blobs, clock) -> None:
    for i, data in enumerate(_pair(carry=True)):
        ingest_bytes(sf, blobs, data, county_code=CODE, filename=f"{i}.txt", clock=clock)
    assert findings(sf, "YOY-001") == []


def test_changed_report_gets_a_second_version_and_yoy004(sf, blobs, clock) -> None:
    spec = make_spec(31, entity="刘楼镇人民政府", year=2021)
    crawl(sf, blobs, clock, {"http://p/r.txt": render(spec, "txt-cells")})
    edited = copy.deepcopy(spec)
    edited.tables["requests"]["new"][0] += 1
    edited.tables["requests"]["new"][6] += 1
    clock.advance(days=3)
    crawl(sf, blobs, clock, {"http://p/r.txt": render(edited, "txt-cells")})
    with sf() as s:
        versions = list(s.scalars(select(ReportVersion).order_by(ReportVersion.id)))
        assert s.scalar(select(func.count()).select_from(Report)) == 1
    assert [v.is_current for v in versions] == [False, True]
    assert versions[0].parsed["tables"]["requests"]["new"][0] + 1 == versions[1].parsed["tables"]["requests"]["new"][0]
    (change,) = findings(sf, "YOY-004")
    assert change.report_version_id == versions[1].id
    assert any(c["old"] + 1 == c["new"] for c in change.details["cells"])

    clock.advance(days=1)  # fetched again unchanged: nothing new
    crawl(sf, blobs, clock, {"http://p/r.txt": render(edited, "txt-cells")})
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(ReportVersion)) == 2
    assert len(findings(sf, "YOY-004", open_only=False)) == 1


def test_same_report_in_two_formats_is_not_a_change(sf, blobs, clock) -> None:
    spec = make_spec(32, entity="刘楼镇人民政府", year=2021)
    crawl(sf, blobs, clock, {"http://p/r.txt": render(spec, "txt-cells"),
                             "http://p/r.html": render(spec, "html")})
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 1
        assert s.scalar(select(func.count()).select_from(ReportVersion)) == 2
    assert findings(sf, "YOY-004", open_only=False) == []


def test_doc_finding_resolves_when_the_report_is_corrected(sf, blobs, clock) -> None:
    spec = make_spec(41, entity="刘楼镇人民政府", year=2021, variants=["broken_arith:ARITH-002"])
    crawl(sf, blobs, clock, {"http://p/r.txt": render(spec, "txt-cells")})
    arith = findings(sf, "ARITH-002")
    assert arith
    fixed = make_spec(41, entity="刘楼镇人民政府", year=2021)
    clock.advance(days=2)
    crawl(sf, blobs, clock, {"http://p/r.txt": render(fixed, "txt-cells")})
    assert findings(sf, "ARITH-002") == []
    resolved = [f for f in findings(sf, "ARITH-002", open_only=False) if f.resolved_at is not None]
    assert {f.id for f in resolved} == {f.id for f in arith}


@pytest.mark.skipif(not SEEDS.is_dir(), reason="/work/shared/seeds not available")
def test_seeds_000_and_004_stored_together_give_text003(sf, blobs, clock) -> None:
    for name in ("000_514bc75fed1bd9e9.txt", "004_37e0fe39c2827468.txt"):
        ingest_bytes(sf, blobs, (SEEDS / name).read_bytes(), county_code=CODE, filename=name, clock=clock)
    copied = findings(sf, "TEXT-003")
    with sf() as s:
        names = {s.get_one(Entity, f.entity_id).name for f in copied}
    assert names == {"刘二堡镇", "刘楼镇人民政府"}  # who copied whom is unknown: both carry it
    assert {f.details["other"] for f in copied} == names
    revalidate(sf, blobs, clock)  # nothing doubles
    again = findings(sf, "TEXT-003")
    with sf() as s:
        names = {s.get_one(Entity, f.entity_id).name for f in again}
    assert names == {"刘二堡镇", "刘楼镇人民政府"}
    assert len({f.fingerprint for f in again}) == len(again)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="/work/shared/seeds not available")
def test_text003_resolves_on_both_sides_when_one_report_is_replaced(sf, blobs, clock) -> None:
    for name in ("000_514bc75fed1bd9e9.txt", "004_37e0fe39c2827468.txt"):
        ingest_bytes(sf, blobs, (SEEDS / name).read_bytes(), county_code=CODE, filename=name, clock=clock)
    assert len(findings(sf, "TEXT-003")) == 2
    own = render(make_spec(81, entity="刘二堡镇人民政府", year=2019), "txt-cells")
    out = ingest_bytes(sf, blobs, own, county_code=CODE, filename="own.txt", entity="刘二堡镇", year=2019,
                       clock=clock)
    assert out.entity == "刘二堡镇" and out.new_version
    assert findings(sf, "TEXT-003") == []


def test_vanished_report_gives_yoy005_and_resolves_when_back(sf, blobs, clock) -> None:
    spec = make_spec(51, entity="刘楼镇人民政府", year=2021)
    crawl(sf, blobs, clock, {"http://p/r.txt": render(spec, "txt-cells")})
    clock.advance(days=1)
    crawl(sf, blobs, clock, {}, seen=["http://p/r.txt"])  # still linked, not fetched again
    assert findings(sf, "YOY-005") == []
    clock.advance(days=1)
    crawl(sf, blobs, clock, {}, status="partial")  # an incomplete run proves nothing
    assert findings(sf, "YOY-005") == []
    clock.advance(days=1)
    crawl(sf, blobs, clock, {})
    (gone,) = findings(sf, "YOY-005")
    assert gone.details["url"] == "http://p/r.txt" and gone.year == 2021
    clock.advance(days=1)
    crawl(sf, blobs, clock, {}, seen=["http://p/r.txt"])
    assert findings(sf, "YOY-005") == []


def test_a_failing_document_does_not_stop_the_batch(sf, blobs, clock, monkeypatch) -> None:
    import monitor.engine

    real = monitor.engine.check_bytes

    def flaky(data: bytes, **kw):
        if b"BOOM" in data:
            raise RuntimeError("parser crashed")
        return real(data, **kw)

    monkeypatch.setattr(monitor.engine, "check_bytes", flaky)
    good = render(make_spec(61, entity="刘楼镇人民政府", year=2021), "txt-cells")
    crawl(sf, blobs, clock, {"http://p/bad.txt": b"BOOM", "http://p/good.txt": good})
    with sf() as s:
        seen = {u.url: u for u in s.scalars(select(SeenUrl).where(SeenUrl.document_id.is_not(None)))}
        assert s.scalar(select(func.count()).select_from(Report)) == 1
    assert "parser crashed" in seen["http://p/bad.txt"].ingest_error
    assert seen["http://p/good.txt"].ingest_error is None


def test_revalidate_recreates_findings_without_duplicates(sf, blobs, clock) -> None:
    spec = make_spec(71, entity="刘楼镇人民政府", year=2021, variants=["no_period"])
    ingest_bytes(sf, blobs, render(spec, "txt-cells"), county_code=CODE, filename="a.txt", clock=clock)
    before = {(f.rule_id, f.fingerprint) for f in findings(sf) if f.scope != "sched"}
    assert ("STRUCT-005" in {r for r, _ in before})
    with sf() as s, s.begin():
        for f in s.scalars(select(Finding).where(Finding.scope != "sched")):
            s.delete(f)
    assert revalidate(sf, blobs, clock) == 1
    after = {(f.rule_id, f.fingerprint) for f in findings(sf) if f.scope != "sched"}
    assert after == before
    revalidate(sf, blobs, clock)
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(Finding).where(Finding.scope != "sched")) == len(before)
        assert s.scalar(select(func.count()).select_from(Document)) == 1
