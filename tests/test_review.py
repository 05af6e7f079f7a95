"""Review of findings end to end (monitor.review): a dismissal is tied to the fingerprint, so it
outlives revalidate, a recrawl of the same bytes and new parser versions, and sends nothing; another
value in the same cell is a new finding that alerts once; a rule that stops firing on a new
version makes the finding `fixed`; every change is in the audit trail, in order."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from sqlalchemy import func, select

from crawler.sim.server import SimServer
from crawler.sim.world import SimWorld
from monitor import jobs
from monitor.clock import SHANGHAI, FixedClock
from monitor.config import load_config
from monitor.review import (
    ReviewError,
    audit,
    county_summary,
    list_reviewed,
    set_state,
    state_of,
    write_summary,
)
from monitor.templates import APPLICANT_COLUMNS
from notifier import outbox
from storage import repo
from storage.db import session_factory, upgrade
from storage.models import Alert, Entity, Finding, Review, Subscriber

FIX = Path(__file__).parent / "fixtures" / "review"
CODE = "370830"
BODY = "白沙乡人民政府"
NEW_ROW = "一、本年新收政府信息公开申请数量\t\t{}\t0\t0\t0\t2\t0\t{}"


def _settings(tmp_path: Path, db_url: str) -> Any:
    cfg = tmp_path / "nianbao.toml"
    cfg.write_text(tomli_w.dumps({"data_dir": str(tmp_path / "data"), "counties_dir": str(tmp_path / "counties"),
                                  "database_url": db_url}), "utf-8")
    return load_config(cfg, env={})


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Any:
    settings = _settings(tmp_path, db_url)
    engine = settings.engine()
    upgrade(engine)
    sf = session_factory(engine)
    with sf() as s, s.begin():
        repo.ensure_county(s, CODE, "汶上县")
        s.add(Entity(county_code=CODE, name=BODY, kind="township", aliases=[]))
        s.add(Subscriber(channel="console", address="office", role="subscriber", scope={"counties": [CODE]},
                         min_severity="info"))
    yield settings, sf
    engine.dispose()


def _ingest(settings: Any, data: bytes, clock: FixedClock) -> Any:
    return jobs.ingest_file(data, settings, county_code=CODE, filename="r.txt", entity=BODY, year=2022,
                            published_at="2023-01-18", clock=clock, on_events=outbox.hook(clock))


def _arith(sf: Any, column: str) -> list[Finding]:
    with sf() as s:
        return [f for f in s.scalars(select(Finding).where(Finding.rule_id == "ARITH-001").order_by(Finding.id))
                if f.details.get("column") == APPLICANT_COLUMNS.index(column)]


def _alerts(sf: Any, finding_id: int) -> list[tuple[str, str]]:
    with sf() as s:
        return [(a.kind, a.status) for a in s.scalars(select(Alert).where(Alert.finding_id == finding_id)
                                                        .order_by(Alert.id))]


def _count_alerts(sf: Any) -> int:
    with sf() as s:
        return s.scalar(select(func.count()).select_from(Alert)) or 0


def test_dismissed_stays_dismissed_changed_cell_reopens_and_fixed_is_recorded(world: Any) -> None:
    settings, sf = world
    clock = FixedClock(datetime(2023, 2, 1, 10, tzinfo=SHANGHAI))
    original = (FIX / "arith_2022.txt").read_bytes()
    _ingest(settings, original, clock)
    [f1] = _arith(sf, "自然人")
    assert _alerts(sf, f1.id) == [("new", "pending")]

    with sf() as s, s.begin():
        with pytest.raises(ReviewError, match="须说明原因"):
            set_state(s, f1.id, "dismissed", by="cli:li", now=clock.now(), reason=" ")
        summary = set_state(s, f1.id, "dismissed", by="cli:li", now=clock.now(), reason="表格印刷错误，已与原件核对")
    assert summary["state"] == "dismissed" and summary["evidence"][0].startswith("公式：本年新收")
    assert _alerts(sf, f1.id) == [("new", "dropped")]  # not sent yet: never sent
    before = _count_alerts(sf)

    # revalidate (a new parser would re-parse the same way) and the same bytes again
    clock.advance(days=1)
    assert jobs.revalidate(settings, clock=clock, on_events=outbox.hook(clock)) == 1
    _ingest(settings, original, clock)
    [again] = _arith(sf, "自然人")
    assert again.id == f1.id and again.resolved_at is None
    with sf() as s:
        assert state_of(s, again) == "dismissed"
    assert _count_alerts(sf) == before

    # a new version: another value in the same cell → a new finding, alerted once
    clock.advance(days=1)
    changed = original.decode().replace(NEW_ROW.format(16, 18), NEW_ROW.format(19, 21)).encode()
    assert changed != original
    _ingest(settings, changed, clock)
    old, new = _arith(sf, "自然人")
    assert old.id == f1.id and old.resolved_at is not None and new.resolved_at is None
    assert _alerts(sf, new.id) == [("new", "pending")] and _alerts(sf, f1.id) == [("new", "dropped")]
    jobs.revalidate(settings, clock=clock, on_events=outbox.hook(clock))
    _ingest(settings, changed, clock)
    assert _alerts(sf, new.id) == [("new", "pending")]
    with sf() as s, s.begin():
        assert state_of(s, new) == "open"
        set_state(s, new.id, "confirmed", by="telegram:9002", now=clock.now())

    # the publisher corrects the table: every ARITH finding of the report is fixed
    clock.advance(days=1)
    fixed = changed.decode().replace(NEW_ROW.format(19, 21), NEW_ROW.format(15, 17)).encode()
    _ingest(settings, fixed, clock)
    with sf() as s:
        rows = list_reviewed(s, county=CODE, state="fixed")
        assert {r["id"] for r in rows} >= {new.id}
        assert all(r["resolved"] for r in rows)
        trail = audit(s, county=CODE)
    mine = [(a["finding_id"], a["from"], a["to"], a["by"]) for a in trail if a["finding_id"] in (f1.id, new.id)]
    assert mine == [(f1.id, "open", "dismissed", "cli:li"),
                    (f1.id, "dismissed", "fixed", "nianbao"),
                    (new.id, "open", "confirmed", "telegram:9002"),
                    (new.id, "confirmed", "fixed", "nianbao")]
    assert [a["id"] for a in trail] == sorted(a["id"] for a in trail)
    assert trail[0]["reason"] == "表格印刷错误，已与原件核对"


def test_dismissed_finding_fires_again_after_a_fix_and_stays_silent(world: Any) -> None:
    """fixed holds only while the finding is resolved: when the same numbers come back, the
    dismissal applies again (no alert), not `open`."""
    settings, sf = world
    clock = FixedClock(datetime(2023, 2, 1, 10, tzinfo=SHANGHAI))
    original = (FIX / "arith_2022.txt").read_bytes()
    _ingest(settings, original, clock)
    [f1] = _arith(sf, "自然人")
    with sf() as s, s.begin():
        set_state(s, f1.id, "dismissed", by="cli:li", now=clock.now(), reason="核实无误")
    clock.advance(days=1)
    _ingest(settings, (FIX / "current_2022.txt").read_bytes(), clock)  # the corrected table
    with sf() as s:
        assert state_of(s, s.get(Finding, f1.id)) == "fixed"
    clock.advance(days=1)
    n = _count_alerts(sf)
    _ingest(settings, original, clock)  # the wrong table again
    with sf() as s:
        f = s.get(Finding, f1.id)
        assert f.resolved_at is None and f.occurrence == 2 and state_of(s, f) == "dismissed"
    assert _alerts(sf, f1.id) == [("new", "dropped")] and _count_alerts(sf) >= n


def test_reviews_are_only_appended(world: Any) -> None:
    settings, sf = world
    clock = FixedClock(datetime(2023, 2, 1, 10, tzinfo=SHANGHAI))
    _ingest(settings, (FIX / "arith_2022.txt").read_bytes(), clock)
    [f1] = _arith(sf, "总计")
    with sf() as s, s.begin():
        set_state(s, f1.id, "confirmed", by="a", now=clock.now())
        with pytest.raises(ReviewError, match="已经是"):
            set_state(s, f1.id, "confirmed", by="a", now=clock.now())
        set_state(s, f1.id, "dismissed", by="b", now=clock.now(), reason="口径不同")
        set_state(s, f1.id, "open", by="c", now=clock.now())
        with pytest.raises(ReviewError):
            set_state(s, f1.id, "fixed", by="c", now=clock.now())
        with pytest.raises(ReviewError, match="没有编号"):
            set_state(s, 10**9, "confirmed", by="c", now=clock.now())
    with sf() as s:
        assert [(r.previous_state, r.state, r.by) for r in s.scalars(select(Review).order_by(Review.id))] == [
            ("open", "confirmed", "a"), ("confirmed", "dismissed", "b"), ("dismissed", "open", "c")]
        assert state_of(s, s.get(Finding, f1.id)) == "open"


def test_summary_export_csv_and_xlsx(world: Any, tmp_path: Path) -> None:
    settings, sf = world
    clock = FixedClock(datetime(2023, 2, 1, 10, tzinfo=SHANGHAI))
    with sf() as s, s.begin():
        s.add(Entity(county_code=CODE, name="刘楼镇人民政府", kind="township", aliases=[]))
    # published after the townships' due date (01-31)
    jobs.ingest_file((FIX / "arith_2022.txt").read_bytes(), settings, county_code=CODE, filename="r.txt",
                     entity=BODY, year=2022, published_at="2023-02-01", clock=clock)
    with sf() as s, s.begin():  # the portal crawled after the due date: a body not found is missing
        run = repo.create_crawl_run(s, CODE, "schedule", now=clock.now())
        repo.finish_crawl_run(s, run.id, "ok", {}, None, now=clock.now())
    jobs.sweep(2022, settings, clock=clock)
    [f1] = _arith(sf, "自然人")
    with sf() as s, s.begin():
        set_state(s, f1.id, "confirmed", by="a", now=clock.now())
    with sf() as s:
        [row] = county_summary(s, clock, 2022, county=CODE, policy=settings.policy)
    assert (row["bodies"], row["published"], row["late"], row["missing"], row["unknown"]) == (2, 1, 1, 1, 0)
    assert row["late_bodies"] == f"{BODY}（2023-02-01）" and row["missing_bodies"] == "刘楼镇人民政府"
    assert row["confirmed_findings"] == 1 and row["open_findings"] >= 2  # the other ARITH-001, ARITH-006
    text = write_summary([row], None, "csv")
    assert text is not None
    got = list(csv.reader(io.StringIO(text)))
    assert got[0][:4] == ["县代码", "县", "年度", "应公开单位数"] and got[1][:4] == [CODE, "汶上县", "2022", "2"]
    out = tmp_path / "summary.xlsx"
    write_summary([row], out, "xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    assert ws.title == "年报公开情况汇总" and [c.value for c in ws[2]][:4] == [CODE, "汶上县", 2022, 2]
    with pytest.raises(ReviewError):
        write_summary([row], None, "xlsx")


BODIES = [("白沙乡人民政府", "township")]
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0}


def test_recrawl_of_the_same_bytes_keeps_the_dismissal_and_sends_nothing(tmp_path: Path, db_url: str) -> None:
    code = "990041"
    settings = _settings(tmp_path, db_url)
    world = SimWorld(11, FixedClock(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)))
    world.add_county(code, "模拟县", "generic", BODIES, [2025], page_size=20, distractors=False)
    world.populate(code, published_at_fn=lambda body, year: datetime(2026, 1, 10, 9, tzinfo=SHANGHAI))
    world.edit(code, BODIES[0][0], 2025, at=datetime(2026, 1, 10, 9, tzinfo=SHANGHAI),
               variants=("broken_arith:ARITH-001",))
    (tmp_path / "counties").mkdir()
    clock = FixedClock(datetime(2026, 4, 2, 10, tzinfo=SHANGHAI))
    engine = settings.engine()
    upgrade(engine)
    sf = session_factory(engine)
    try:
        with SimServer(world) as server:
            (tmp_path / "counties" / f"{code}.toml").write_bytes(
                tomli_w.dumps(world.profile(code, server.base_url(code))).encode())
            with sf() as s, s.begin():
                s.add(Subscriber(channel="console", address="office", scope={"counties": [code]}, min_severity="info"))
            first = jobs.crawl_county(code, settings, clock=clock, crawl_overrides=FAST,
                                      on_events=outbox.hook(clock))
            assert first.crawl.status == "ok"
            with sf() as s, s.begin():
                arith = list(s.scalars(select(Finding).where(Finding.rule_id == "ARITH-001")))
                assert arith, "the generated report must break ARITH-001"
                for f in arith:
                    set_state(s, f.id, "dismissed", by="cli:li", now=clock.now(), reason="已核实")
                ids = sorted(f.id for f in arith)
            clock.advance(days=1)
            second = jobs.crawl_county(code, settings, clock=clock, full=True, crawl_overrides=FAST,
                                       on_events=outbox.hook(clock))
            assert second.crawl.status == "ok"
            jobs.revalidate(settings, clock=clock, on_events=outbox.hook(clock))
        with sf() as s:
            again = list(s.scalars(select(Finding).where(Finding.rule_id == "ARITH-001")))
            assert sorted(f.id for f in again) == ids and all(f.resolved_at is None for f in again)
            assert all(state_of(s, f) == "dismissed" for f in again)
            # one alert each from the first crawl, dropped by the dismissal before it was sent; no more
            assert [a.status for a in s.scalars(select(Alert).where(Alert.finding_id.in_(ids)))] == \
                ["dropped"] * len(ids)
    finally:
        engine.dispose()
