"""The outbox: alert rows written with the finding events, one per covering subscriber and
occurrence, and the sender draining them through the real Telegram client to the fake Bot API
server (429 retry_after, 403 deactivation, a 502 burst with backoff and jitter)."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.clock import FixedClock
from notifier import outbox, service
from notifier.channels.console import ConsoleChannel
from notifier.channels.telegram import TelegramChannel
from storage import repo
from storage.db import session_factory
from storage.models import Alert, Finding, Subscriber
from tests.fakebotapi import FakeBotAPI
from tests.notifyworld import NOW, seed


@pytest.fixture
def sf(engine: Any) -> Any:
    return session_factory(engine)


@pytest.fixture
def ids(sf: Any) -> dict[str, Any]:
    with sf() as s, s.begin():
        return seed(s)


def desired(ids: dict[str, Any], rule: str = "ARITH-003", severity: str = "error", county: str = "370828",
            entity: str = "金乡县教育局", fp: str | None = None) -> dict[str, Any]:
    return {"fingerprint": fp or f"{rule}-{entity}", "rule_id": rule, "severity": severity, "scope": "doc",
            "county_code": county, "entity_id": ids[entity], "year": 2024, "report_id": None,
            "report_version_id": None, "message": f"{rule} 的问题", "details": {"expected": 12, "actual": 10}}


def sync(sf: Any, rows: list[dict[str, Any]], county: str = "370828", at: Any = NOW) -> list[Any]:
    with sf() as s, s.begin():
        events = repo.sync_findings(s, rows, Finding.county_code == county, now=at)
        outbox.write_alerts(s, events, now=at)
        return events


def subscribe(sf: Any, address: str, channel: str = "telegram", **kw: Any) -> int:
    with sf() as s, s.begin():
        sub, _ = service.subscribe(s, channel, address, **kw)
        return sub.id


def alerts(sf: Any) -> list[Alert]:
    with sf() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def test_one_alert_per_covering_subscriber(sf: Any, ids: dict[str, Any]) -> None:
    a = subscribe(sf, "1", county="金乡县")
    subscribe(sf, "2", county="汶上县")  # other county
    c = subscribe(sf, "3", county="金乡县", body="金乡县教育局")  # the body itself
    subscribe(sf, "4", county="金乡县", min_severity="error")
    op = subscribe(sf, "5", role="operator")
    sync(sf, [desired(ids, "STRUCT-005", "warning", fp="w")])
    assert sorted(x.subscriber_id for x in alerts(sf)) == sorted([a, c, op])
    assert {(x.kind, x.occurrence, x.status) for x in alerts(sf)} == {("new", 1, "pending")}


def test_crawl_health_goes_to_operators_and_health_subscribers(sf: Any, ids: dict[str, Any]) -> None:
    subscribe(sf, "1", county="金乡县")
    h = subscribe(sf, "2", county="金乡县", health=True)
    subscribe(sf, "3", county="汶上县", health=True)
    op = subscribe(sf, "4", role="operator")
    sync(sf, [{**desired(ids, "CRAWL-003", "warning", fp="c"), "scope": "sched", "entity_id": None}])
    assert sorted(x.subscriber_id for x in alerts(sf)) == sorted([h, op])


def test_blocked_and_failing_portals_wait_for_the_escalation(sf: Any, ids: dict[str, Any]) -> None:
    """CRAWL-001/002 open at once (for /status) but write no alert: notifier.health.escalate does,
    after N bad crawls in a row (tests/test_ops.py)."""
    subscribe(sf, "2", county="金乡县", health=True)
    subscribe(sf, "4", role="operator")
    events = sync(sf, [{**desired(ids, "CRAWL-001", fp="c1"), "scope": "sched", "entity_id": None},
                       {**desired(ids, "CRAWL-002", "warning", fp="c2"), "scope": "sched", "entity_id": None}])
    assert {e.kind for e in events} == {"opened"}
    assert alerts(sf) == []


def test_struct006_from_our_extractor_goes_to_operators_only(sf: Any, ids: dict[str, Any]) -> None:
    a = subscribe(sf, "1", county="金乡县")
    op = subscribe(sf, "4", role="operator")
    sync(sf, [{**desired(ids, "STRUCT-006", fp="ours"), "details": {"reason": "需要 LibreOffice", "cause": "extractor"}}])
    assert [x.subscriber_id for x in alerts(sf)] == [op]
    sync(sf, [{**desired(ids, "STRUCT-006", fp="ours"), "details": {"reason": "需要 LibreOffice", "cause": "extractor"}},
              {**desired(ids, "STRUCT-006", entity="鸡黍镇人民政府", fp="theirs"),
               "details": {"reason": "文档为空", "cause": "document"}}])
    theirs = [x.subscriber_id for x in alerts(sf)][1:]
    assert sorted(theirs) == sorted([a, op])  # the document's own fault: its subscribers too


def test_same_event_twice_is_one_row(sf: Any, ids: dict[str, Any]) -> None:
    subscribe(sf, "1", county="金乡县")
    events = sync(sf, [desired(ids)])
    with sf() as s, s.begin():
        outbox.write_alerts(s, events, now=NOW)
    assert len(alerts(sf)) == 1


def drain(sf: Any, clock: FixedClock, out: io.StringIO | None = None, **kw: Any) -> outbox.DrainStats:
    return outbox.drain(sf, {"console": ConsoleChannel(out or io.StringIO())}, clock, **kw)


def test_resolved_then_firing_again_is_exactly_one_new_alert(sf: Any, ids: dict[str, Any]) -> None:
    sid = subscribe(sf, "-", channel="console", county="金乡县")
    clock = FixedClock(NOW)
    sync(sf, [desired(ids)])
    out = io.StringIO()
    assert drain(sf, clock, out).alerts_sent == 1
    sync(sf, [], at=NOW + timedelta(days=1))  # corrected
    assert drain(sf, clock, out).alerts_sent == 1
    assert "✅ 已更正：ARITH-003" in out.getvalue()
    events = sync(sf, [desired(ids)], at=NOW + timedelta(days=2))  # fires again
    assert [(e.kind, e.occurrence) for e in events] == [("reopened", 2)]
    new = [x for x in alerts(sf) if x.status == "pending"]
    assert [(x.subscriber_id, x.kind, x.occurrence) for x in new] == [(sid, "new", 2)]
    sync(sf, [desired(ids)], at=NOW + timedelta(days=3))  # still firing: nothing more
    assert len(alerts(sf)) == 3


def test_resolved_before_sending_drops_the_alert(sf: Any, ids: dict[str, Any]) -> None:
    subscribe(sf, "-", channel="console", county="金乡县")
    sync(sf, [desired(ids)])
    sync(sf, [], at=NOW + timedelta(hours=1))
    assert [(x.kind, x.status) for x in alerts(sf)] == [("new", "dropped")]
    assert drain(sf, FixedClock(NOW)).messages == 0


def test_same_bytes_reingested_give_no_alert(sf: Any, ids: dict[str, Any], blobs: Any) -> None:
    from crawler.sim.reportgen import make_spec, render
    from monitor.pipeline import ingest_bytes

    subscribe(sf, "-", channel="console", county="金乡县")
    clock = FixedClock(NOW)
    data = render(make_spec(3, entity="金乡县教育局", year=2023, variants=["broken_arith:ARITH-003"]), "html")
    first = ingest_bytes(sf, blobs, data, county_code="370828", filename="r.html", clock=clock,
                         on_events=outbox.hook(clock))
    n = len(alerts(sf))
    assert n >= 1 and any(e.kind == "opened" for e in first.events)
    assert any(x.kind == "new" for x in alerts(sf))
    clock.advance(days=1)
    again = ingest_bytes(sf, blobs, data, county_code="370828", filename="r.html", clock=clock,
                         on_events=outbox.hook(clock))
    assert not [e for e in again.events if e.kind in ("opened", "reopened")]
    assert len(alerts(sf)) == n


def test_one_message_per_county_and_digest(sf: Any, ids: dict[str, Any]) -> None:
    subscribe(sf, "-", channel="console", county="金乡县")
    subscribe(sf, "-", channel="console", county="汶上县")
    sync(sf, [desired(ids, fp="a"), desired(ids, "STRUCT-005", "warning", fp="b")])
    sync(sf, [desired(ids, county="370830", entity="汶上县财政局", fp="c")], county="370830")
    out = io.StringIO()
    stats = drain(sf, FixedClock(NOW), out)
    assert (stats.messages, stats.alerts_sent) == (2, 3)
    assert "金乡县（370828）：2个问题" in out.getvalue() and "汶上县（370830）：1个问题" in out.getvalue()
    # digest: nothing at once except errors (daily+errors); the digest drain sends the rest in one
    d = subscribe(sf, "d", channel="console", county="金乡县", digest="daily+errors")
    sync(sf, [desired(ids, fp="a"), desired(ids, "STRUCT-005", "warning", fp="b"),
              desired(ids, "STRUCT-003", "warning", fp="e"), desired(ids, "ARITH-001", "error", fp="f")])
    out = io.StringIO()
    stats = drain(sf, FixedClock(NOW), out)
    with sf() as s:
        pending = list(s.scalars(select(Alert).where(Alert.subscriber_id == d, Alert.status == "pending")))
    assert len(pending) == 1 and "ARITH-001" in out.getvalue()
    out = io.StringIO()
    stats = drain(sf, FixedClock(NOW), out, digest=True)
    assert stats.messages == 1 and "每日摘要" in out.getvalue() and "STRUCT-003" in out.getvalue()


def test_muted_subscriber_hears_after_the_mute(sf: Any, ids: dict[str, Any]) -> None:
    subscribe(sf, "-", channel="console", county="金乡县")
    with sf() as s, s.begin():
        service.mute(s, "console", "-", 2, NOW)
    sync(sf, [desired(ids)])
    clock = FixedClock(NOW)
    assert drain(sf, clock).messages == 0
    clock.advance(hours=2)
    assert drain(sf, clock).messages == 1


# ---- the Telegram channel's failures --------------------------------------------------------------

@pytest.fixture
def tg() -> Any:
    with FakeBotAPI() as server:
        yield server


def tdrain(sf: Any, server: FakeBotAPI, clock: FixedClock, **kw: Any) -> outbox.DrainStats:
    ch = TelegramChannel(server.token, base_url=server.base_url, rate=0, chat_interval=0, max_retries=0)
    return outbox.drain(sf, {"telegram": ch}, clock, rng=random.Random(7), **kw)


def test_429_waits_retry_after(sf: Any, ids: dict[str, Any], tg: FakeBotAPI) -> None:
    subscribe(sf, "1001", county="金乡县")
    sync(sf, [desired(ids)])
    tg.fail_next(1, 429, retry_after=17)
    clock = FixedClock(NOW)
    stats = tdrain(sf, tg, clock)
    assert (stats.rate_limited, stats.messages) == (1, 0)
    (a,) = alerts(sf)
    assert (a.status, a.attempts, a.next_attempt_at) == ("pending", 0, NOW + timedelta(seconds=17))
    clock.advance(seconds=16)
    assert tdrain(sf, tg, clock).messages == 0
    clock.advance(seconds=1)
    assert tdrain(sf, tg, clock).messages == 1 and len(tg.messages(1001)) == 1


def test_403_makes_the_subscriber_inactive(sf: Any, ids: dict[str, Any], tg: FakeBotAPI) -> None:
    sid = subscribe(sf, "1001", county="金乡县")
    other = subscribe(sf, "1002", county="金乡县")
    sync(sf, [desired(ids), desired(ids, county="370828", entity="鸡黍镇人民政府", fp="x")])
    tg.block(1001)
    stats = tdrain(sf, tg, FixedClock(NOW))
    assert stats.deactivated == 1 and stats.messages == 1
    with sf() as s:
        assert s.get(Subscriber, sid).active is False and s.get(Subscriber, other).active is True
    assert {x.status for x in alerts(sf) if x.subscriber_id == sid} == {"dropped"}
    sync(sf, [desired(ids, entity="金乡县人民政府", fp="later")])  # no more alerts for it
    assert {x.subscriber_id for x in alerts(sf) if x.status == "pending"} == {other}


def test_502_burst_retries_with_backoff_and_jitter(sf: Any, ids: dict[str, Any], tg: FakeBotAPI) -> None:
    for i in range(5):
        subscribe(sf, str(2000 + i), county="金乡县")
    sync(sf, [desired(ids)])
    tg.fail_next(12, 502)
    clock = FixedClock(NOW)
    policy = outbox.RetryPolicy(max_attempts=6, base_delay=30, max_delay=3600, jitter=0.5)
    stats = tdrain(sf, tg, clock, policy=policy)
    assert stats.retried == 5 and stats.messages == 0
    delays = [(a.next_attempt_at - NOW).total_seconds() for a in alerts(sf)]
    assert all(15 <= d <= 30 for d in delays) and len(set(delays)) > 1  # jittered
    delivered = 0
    for _ in range(4):
        clock.advance(seconds=3600)
        delivered += tdrain(sf, tg, clock, policy=policy).messages
    assert delivered == 5 and len(tg.messages()) == 5
    # 12 failures over 5 alerts: rounds of 5, 5, 2 failures, then sent
    assert sorted((a.status, a.attempts) for a in alerts(sf)) == [("sent", 3)] * 3 + [("sent", 4)] * 2


def test_gives_up_after_max_attempts(sf: Any, ids: dict[str, Any], tg: FakeBotAPI) -> None:
    subscribe(sf, "1001", county="金乡县")
    sync(sf, [desired(ids)])
    tg.fail_next(100, 502)
    clock = FixedClock(NOW)
    policy = outbox.RetryPolicy(max_attempts=3, base_delay=1)
    for _ in range(5):
        tdrain(sf, tg, clock, policy=policy)
        clock.advance(hours=1)
    (a,) = alerts(sf)
    assert (a.status, a.attempts) == ("failed", 3) and "Bad Gateway" in a.last_error
    with sf() as s, s.begin():
        assert outbox.retry_failed(s) == 1


def test_message_over_4096_is_split(sf: Any, ids: dict[str, Any], tg: FakeBotAPI) -> None:
    subscribe(sf, "1001", county="金乡县")
    rows = [{**desired(ids, "TEXT-001", "info", fp=f"t{i}"), "message": f"第{i}处" + "改写" * 150}
            for i in range(30)]
    with sf() as s, s.begin():
        s.execute(Subscriber.__table__.update().values(min_severity="info"))
    sync(sf, rows)
    stats = tdrain(sf, tg, FixedClock(NOW))
    sent = tg.messages(1001)
    assert stats.messages == 1 and stats.parts == len(sent) >= 2
    assert all(len(m.text) <= 4096 and m.parse_mode == "HTML" for m in sent)
    assert all(f"第{i}处" in "".join(m.text for m in sent) for i in range(30))


def test_severity_raised_reaches_those_it_now_covers(sf: Any, ids: dict[str, Any]) -> None:
    low = subscribe(sf, "1", county="金乡县")
    high = subscribe(sf, "2", county="金乡县", min_severity="error")
    sync(sf, [desired(ids, "STRUCT-002", "warning", fp="s")])
    assert [x.subscriber_id for x in alerts(sf)] == [low]
    events = sync(sf, [desired(ids, "STRUCT-002", "error", fp="s")], at=NOW + timedelta(days=1))
    assert [e.kind for e in events] == ["severity_changed"]
    assert sorted(x.subscriber_id for x in alerts(sf)) == [low, high]  # no second alert for `low`


def test_telegram_channel_keeps_the_per_chat_limit() -> None:
    import asyncio

    with FakeBotAPI(limits=True) as server:
        ch = TelegramChannel(server.token, base_url=server.base_url)

        async def burst() -> None:
            await ch.start()
            await asyncio.gather(*(ch.deliver("1001", f"第{i}条") for i in range(4)),
                                 *(ch.deliver(str(2000 + i), "x") for i in range(40)))
            await ch.close()

        asyncio.run(burst())
        one = server.messages(1001)
    assert server.rejected_429 == 0 and len(server.messages()) == 44
    assert [m.text for m in one] == [f"第{i}条" for i in range(4)]
    assert all(b.at - a.at >= 1.0 for a, b in zip(one, one[1:], strict=False))


def test_confirmed_is_marked_in_the_digest_and_dismissed_is_never_alerted(sf: Any, ids: dict[str, Any]) -> None:
    from monitor.review import set_state

    subscribe(sf, "d", channel="console", county="金乡县", digest="daily")
    sync(sf, [desired(ids, "STRUCT-005", "warning", fp="kept"), desired(ids, "STRUCT-003", "warning", fp="gone")])
    with sf() as s, s.begin():
        kept = s.scalar(select(Finding.id).where(Finding.fingerprint == "kept"))
        gone = s.scalar(select(Finding.id).where(Finding.fingerprint == "gone"))
        set_state(s, kept, "confirmed", by="a", now=NOW)
        set_state(s, gone, "dismissed", by="a", now=NOW, reason="不是问题")
    out = io.StringIO()
    stats = drain(sf, FixedClock(NOW), out, digest=True)
    text = out.getvalue()
    assert stats.alerts_sent == 1 and "🟠 警告：STRUCT-005（已确认） 金乡县教育局 2024年度" in text
    assert "STRUCT-003" not in text
    # resolved, then firing again: still nothing for the dismissed one, of any kind
    sync(sf, [desired(ids, "STRUCT-005", "warning", fp="kept")], at=NOW + timedelta(days=1))
    sync(sf, [desired(ids, "STRUCT-005", "warning", fp="kept"), desired(ids, "STRUCT-003", "warning", fp="gone")],
         at=NOW + timedelta(days=2))
    with sf() as s:
        assert [(a.kind, a.status) for a in s.scalars(select(Alert).where(Alert.finding_id == gone))] == \
            [("new", "dropped")]
