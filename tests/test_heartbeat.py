"""The operators' daily heartbeat: its content on a seeded database, field by field; its delivery to
operators only (configured and by role) through the fake Bot API server; and the daemon's /healthz,
which fails when the heartbeat has been silent for two periods."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import select

from monitor.clock import FixedClock
from monitor.config import load_config
from notifier import service
from notifier.channels.console import ConsoleChannel
from notifier.channels.telegram import TelegramChannel
from notifier.health import OperatorNotices, heartbeat, heartbeat_text, sync_operators
from storage.db import session_factory
from storage.models import Alert, CrawlRun, Document, Report, ReportVersion, Subscriber
from tests.fakebotapi import FakeBotAPI
from tests.notifyworld import NOW, add_finding, seed

AT = NOW + timedelta(hours=8)  # 2025-06-01 12:00 UTC = 20:00 in Shanghai
H = timedelta(hours=1)


def _run(s: Any, code: str, status: str, finished: Any) -> None:
    s.add(CrawlRun(county_code=code, trigger="schedule", queued_at=finished - H, started_at=finished - H,
                   finished_at=finished, status=status, stats={}))


def _seeded(s: Any) -> dict[str, Any]:
    ids = seed(s)  # one report of 金乡县教育局, first seen (and its version parsed) at NOW: new
    _run(s, "370828", "ok", NOW - 2 * H)
    _run(s, "370828", "ok", NOW + 2 * H)  # the same county twice: one county crawled
    _run(s, "370830", "blocked", NOW + 3 * H)
    _run(s, "441581", "failed", NOW - 30 * H)  # before the period: not counted
    s.add(CrawlRun(county_code="441581", trigger="schedule", queued_at=NOW, started_at=NOW,
                   status="running", stats={}))  # not finished
    old = Report(entity_id=ids["汶上县财政局"], year=2024, first_seen_at=NOW - timedelta(days=20))
    s.add(old)
    s.flush()
    doc = Document(sha256="b" * 64, url="http://127.0.0.1:9/ws.html", size=5, first_seen_at=NOW, last_seen_at=NOW)
    s.add(doc)
    s.flush()
    s.add(ReportVersion(report_id=old.id, document_id=doc.id, template="2021", parsed={}, parser_version="t",
                        parsed_at=NOW + H, is_current=True))  # an older report edited: changed
    arith = add_finding(s, ids)  # opened at NOW
    add_finding(s, ids, rule="STRUCT-005", severity="warning", fp="old").first_seen_at = NOW - timedelta(days=3)
    gone = add_finding(s, ids, rule="STRUCT-002", severity="warning", fp="gone")
    gone.first_seen_at, gone.resolved_at = NOW - timedelta(days=5), NOW + 4 * H  # resolved in the period
    blocked = add_finding(s, ids, rule="CRAWL-001", severity="error", county="370830", entity="x", year=None,
                          fp="blk", scope="sched")
    blocked.first_seen_at = NOW - timedelta(days=2)  # 2025-05-30 04:00 UTC = 12:00 in Shanghai
    sub = Subscriber(channel="console", address="-", role="subscriber", scope={"counties": ["370828"]},
                     min_severity="info", health=False, digest=None, active=True)
    s.add(sub)
    s.flush()
    s.add_all([Alert(subscriber_id=sub.id, finding_id=arith.id, kind="new", status="pending", attempts=0,
                     created_at=NOW - 6 * H),
               Alert(subscriber_id=sub.id, finding_id=gone.id, kind="resolved", status="pending", attempts=2,
                     created_at=NOW + 4 * H),
               Alert(subscriber_id=sub.id, finding_id=blocked.id, kind="new", status="sent", attempts=1,
                     created_at=NOW - 40 * H, sent_at=NOW - 40 * H)])
    s.flush()
    return ids


EXPECTED = """年报监测 · 每日心跳（2025-06-01 20:00）
过去24小时：
抓取的县：2（成功 2，部分 0，被拦截 1，失败 0）
报告：新增 1，更新 1
问题：新发现 1，已解决 1
被拦截的门户：1
  汶上县（370830），自 2025-05-30 12:00
抓取失败的门户：0
发件箱待发：2
最早待发提醒：2025-06-01 06:00（已等待 14.0 小时）"""


def test_heartbeat_content_field_by_field(engine: Any) -> None:
    sf = session_factory(engine)
    with sf() as s, s.begin():
        _seeded(s)
    with sf() as s:
        hb = heartbeat(s, AT, timedelta(days=1))
    assert hb.counties_crawled == 2
    assert hb.runs == {"ok": 2, "blocked": 1}
    assert (hb.reports_new, hb.reports_changed) == (1, 1)
    assert (hb.findings_opened, hb.findings_resolved) == (1, 1)
    assert [(code, name) for code, name, _ in hb.blocked] == [("370830", "汶上县")]
    assert hb.blocked[0][2] == NOW - timedelta(days=2)
    assert hb.failing == []
    assert hb.outbox_pending == 2
    assert hb.oldest_pending == NOW - 6 * H
    assert heartbeat_text(hb) == EXPECTED
    with sf() as s:  # an empty period says so
        quiet = heartbeat_text(heartbeat(s, AT + timedelta(days=30), timedelta(days=1)))
    assert "抓取的县：0（成功 0，部分 0，被拦截 0，失败 0）" in quiet and "问题：新发现 0，已解决 0" in quiet


def test_heartbeat_goes_to_operators_only(engine: Any) -> None:
    sf = session_factory(engine)
    with sf() as s, s.begin():
        _seeded(s)
        service.subscribe(s, "telegram", "1001", county="370828")  # a subscriber: no heartbeat
        service.subscribe(s, "telegram", "3003", role="operator")  # an operator by role
    settings = load_config(None, env={"NIANBAO_TELEGRAM__ADMIN_CHAT_IDS": "2002",
                                      "NIANBAO_HEALTH__OPERATORS": "console:-"})
    with sf() as s, s.begin():
        assert sync_operators(s, settings) == 2  # 2002 created, the console made an operator
        assert sync_operators(s, settings) == 0
    out = io.StringIO()
    with FakeBotAPI() as api:
        channels = {"telegram": TelegramChannel(api.token, base_url=api.base_url, rate=0, chat_interval=0,
                                                max_retries=0),
                    "console": ConsoleChannel(out)}
        with sf() as s:
            text = heartbeat_text(heartbeat(s, AT))
        assert asyncio.run(OperatorNotices(sf, channels).send(text)) == 3
        sent = {m.chat_id: m.text for m in api.messages()}
    assert set(sent) == {2002, 3003}
    head, _, rest = EXPECTED.partition("\n")
    assert sent[2002] == f"<b>{head}</b>\n{rest}" == sent[3003]
    assert EXPECTED in out.getvalue()


async def failing_job() -> None:
    raise RuntimeError("探测用的故障")


def test_healthz_fails_when_the_heartbeat_is_silent_for_two_periods(tmp_path: Path) -> None:
    """…and the daemon's start, stop and a failed job reach the configured operator at once."""
    from monitor.daemon import Daemon

    clock = FixedClock(NOW)
    with FakeBotAPI() as api:
        cfg = tmp_path / "nianbao.toml"
        cfg.write_text(tomli_w.dumps({
            "data_dir": str(tmp_path / "data"), "counties_dir": str(tmp_path / "counties"),
            "telegram": {"api_url": api.base_url, "admin_chat_ids": [2002]},
            "channels": {"console": False},
            "daemon": {"http": "", "poll_seconds": 0.2, "outbox_seconds": 0.2}}), "utf-8")
        (tmp_path / "data").mkdir()
        settings = load_config(cfg, env={"NIANBAO_BOT_TOKEN": api.token})
        d = Daemon(settings, clock=clock, config_path=cfg, bot_factory=lambda _d: None, http="")

        async def scenario() -> list[Any]:
            task = asyncio.create_task(d.run())
            while d.notices is None or d.scheduler is None or not d.scheduler.running:
                await asyncio.sleep(0.05)
                assert not task.done(), task
            while not api.messages(2002):  # the start notice
                await asyncio.sleep(0.05)
            out: list[Any] = [d.health()]
            clock.advance(days=2, minutes=1)  # no heartbeat for two days and a minute
            out.append(d.health())
            await d.heartbeat()
            out.append(d.health())
            assert d.scheduler is not None
            d.scheduler.add_job(f"{__name__}:failing_job", "date", run_date=clock.now(), id="failing")  # raises
            while not any("任务失败" in m.text for m in api.messages(2002)):
                await asyncio.sleep(0.05)
            d.request_stop()
            out.append(await task)
            return out

        ok, silent, again, rc = asyncio.run(scenario())
        texts = [m.text for m in api.messages(2002)]
    assert ok[0] == 200 and ok[1]["heartbeat"]["ok"] is True
    assert silent[0] == 503 and silent[1]["status"] == "failing" and silent[1]["heartbeat"]["ok"] is False
    assert silent[1]["heartbeat"]["age_seconds"] == 2 * 86400 + 60
    assert again[0] == 200 and again[1]["heartbeat"]["age_seconds"] == 0
    assert rc == 0
    assert "年报监测已启动" in texts[0]  # the daemon's start and stop: to the configured operator
    assert any("每日心跳" in t for t in texts)
    assert "年报监测正在停止" in texts[-1]
    failed = next(t for t in texts if "任务失败" in t)
    assert "failing" in failed and "探测用的故障" in failed
    engine = settings.engine()
    with session_factory(engine)() as s:
        assert s.scalar(select(Subscriber.role).where(Subscriber.address == "2002")) == "operator"
    engine.dispose()
