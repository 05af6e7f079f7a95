"""Operators hear of crawl trouble, subscribers are not flooded: real crawls of the portal simulator
(blocked with a script challenge, then answering again), the outbox escalation and the sender through
the real Telegram client to the fake Bot API server, on a clock the test moves day by day."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from sqlalchemy import select

from crawler.sim.server import SimServer
from crawler.sim.world import SimWorld
from monitor import jobs
from monitor.clock import SHANGHAI, FixedClock
from monitor.config import load_config
from monitor.profiles import load_profiles, sync_profiles
from notifier import outbox, service
from notifier.channels.telegram import TelegramChannel
from notifier.health import HealthPolicy, escalate_once
from storage.db import session_factory, upgrade
from storage.models import Alert, Finding
from tests.fakebotapi import FakeBotAPI

FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0}
CODE = "990501"
BODIES = [("云岭县人民政府", "county_gov"), ("甲镇人民政府", "township"), ("丙街道办事处", "street")]
OPERATOR, SUBSCRIBER, HEALTH_SUB = 2002, 1001, 1003


class World:
    """The simulator serving one county, the settings, the database and the fake Bot API server."""

    def __init__(self, tmp: Path, db_url: str, api: FakeBotAPI, server: SimServer, sim: SimWorld,
                 clock: FixedClock, profile_extra: dict[str, Any] | None = None, **health: Any) -> None:
        self.api, self.server, self.sim, self.clock = api, server, sim, clock
        counties = tmp / "counties"
        counties.mkdir(exist_ok=True)
        profile = sim.profile(CODE, server.base_url(CODE))
        profile.update(profile_extra or {})
        (counties / f"{CODE}.toml").write_text(tomli_w.dumps(profile), "utf-8")
        cfg = tmp / "nianbao.toml"
        cfg.write_text(tomli_w.dumps({"data_dir": str(tmp / "data"), "counties_dir": str(counties),
                                      "database_url": db_url, "health": health}), "utf-8")
        self.settings = load_config(cfg, env={})
        self.policy = HealthPolicy.from_settings(self.settings)
        self.engine = self.settings.engine()
        upgrade(self.engine)
        with session_factory(self.engine)() as s, s.begin():  # the county and its bodies
            sync_profiles(s, load_profiles(counties))
        self.sf = session_factory(self.engine)
        self.hook = outbox.hook(clock)
        self.channel = TelegramChannel(api.token, base_url=api.base_url, rate=0, chat_interval=0, max_retries=0)

    def crawl(self, day: datetime, fault: str | None) -> str:
        """The county's scheduled crawl at `day`, the portal blocked (`fault="412"`) or answering."""
        self.clock.set(day)
        self.sim.set_fault(CODE, fault)
        out = jobs.crawl_county(CODE, self.settings, trigger="schedule", clock=self.clock, crawl_overrides=FAST,
                                on_events=self.hook)
        self.tick()
        return out.crawl.status

    def sweep(self, day: datetime) -> None:
        self.clock.set(day)
        jobs.sweep(None, self.settings, clock=self.clock, on_events=self.hook)
        self.tick()

    def tick(self) -> None:
        """What the daemon's sender loop does: the escalation, then one drain of the outbox."""
        escalate_once(self.sf, self.clock, self.policy)
        outbox.drain(self.sf, {"telegram": self.channel}, self.clock, rng=random.Random(1))

    def texts(self, chat: int) -> list[str]:
        return [m.text for m in self.api.messages(chat)]

    def subscribe(self) -> None:
        with self.sf() as s, s.begin():
            service.subscribe(s, "telegram", str(OPERATOR), role="operator")
            service.subscribe(s, "telegram", str(SUBSCRIBER), county=CODE)
            service.subscribe(s, "telegram", str(HEALTH_SUB), county=CODE, health=True)


def count(texts: list[str], needle: str) -> int:
    return sum(t.count(needle) for t in texts)


def at(month: int, day: int, hour: int = 2, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Any]:
    """World(db_url, profile_extra, **health); the database is SQLite unless a test passes `db_url`
    (real crawls are slow: the main scenario runs on both backends, the others on SQLite)."""
    made: list[World] = []
    stack: list[Any] = []

    def make(db_url: str | None = None, profile_extra: dict[str, Any] | None = None, **health: Any) -> World:
        clock = FixedClock(at(1, 10))
        sim = SimWorld(11, clock)  # type: ignore[arg-type]
        sim.add_county(CODE, "云岭县", "generic", BODIES, [2025, 2026], page_size=20, distractors=False)
        sim.populate(CODE, [2025], published_at_fn=lambda body, year: datetime(2026, 1, 10, 9, tzinfo=SHANGHAI))
        sim.publish(CODE, "云岭县人民政府", 2026, at=datetime(2027, 1, 12, 10, tzinfo=SHANGHAI))
        sim.publish(CODE, "甲镇人民政府", 2026, at=datetime(2027, 1, 12, 10, tzinfo=SHANGHAI))
        # 丙街道办事处 never publishes its 2026 report (due 2027-01-31): TIME-004 once seen missing
        api, server = FakeBotAPI().start(), SimServer(sim)
        server.start()
        stack.extend([api, server])
        w = World(tmp_path, db_url or f"sqlite+pysqlite:///{tmp_path / 'ops.db'}", api, server, sim, clock,
                  profile_extra, **health)
        w.subscribe()
        made.append(w)
        return w

    yield make
    for w in made:
        w.engine.dispose()
    for part in reversed(stack):
        part.stop()


def test_blocked_for_five_crawls_operators_told_once_reminded_daily_then_recovered(make_world: Any,
                                                                                    db_url: str) -> None:
    w = make_world(db_url)
    assert w.crawl(at(1, 20), None) == "ok"
    w.sweep(at(1, 20, 9))
    for chat in (OPERATOR, SUBSCRIBER, HEALTH_SUB):
        assert not any("CRAWL-" in t for t in w.texts(chat))
    for n, day in enumerate(range(1, 6), 1):  # blocked from 1 February, the day after the due date
        assert w.crawl(at(2, day), "412") == "blocked"
        w.clock.set(at(2, day, 14))  # later the same day: the sender runs again, nothing more
        w.tick()
        w.sweep(at(2, day, 9))
        ops = w.texts(OPERATOR)
        assert count(ops, "错误：CRAWL-001") == (1 if n >= 3 else 0), (n, ops)  # after the 3rd blocked crawl
        assert count(ops, "⏰ 提醒：CRAWL-001") == max(0, n - 3), (n, ops)  # then once a day
        with w.sf() as s:  # the finding itself opened at the first blocked crawl (for /status)
            assert s.scalar(select(Finding.first_seen_at).where(Finding.rule_id == "CRAWL-001",
                                                                Finding.resolved_at.is_(None))) == at(2, 1)
        # the portal's state is unknown: 丙街道办事处's missing report is not told to subscribers
        assert not any("TIME-004" in t for t in w.texts(SUBSCRIBER))
    ops = w.texts(OPERATOR)
    reminders = [t for t in ops if "⏰ 提醒：CRAWL-001" in t]
    assert "自 2027-02-01 02:00 起，已持续 3 天" in reminders[0] and "已持续 4 天" in reminders[1], reminders

    assert w.crawl(at(2, 6), None) == "ok"  # answering again
    w.sweep(at(2, 6, 9))
    w.clock.set(at(2, 8, 9))
    w.tick()
    ops = w.texts(OPERATOR)
    assert count(ops, "错误：CRAWL-001") == 1
    assert count(ops, "⏰ 提醒：CRAWL-001") == 2
    assert count(ops, "✅ 已恢复：CRAWL-001") == 1
    sub = w.texts(SUBSCRIBER)
    assert not any("CRAWL-" in t for t in sub)  # subscribers of the county: nothing of the outage
    health = w.texts(HEALTH_SUB)  # opted in: the alert and the recovery, no daily reminders
    assert count(health, "错误：CRAWL-001") == 1 and count(health, "✅ 已恢复：CRAWL-001") == 1
    assert count(health, "提醒：CRAWL-001") == 0
    # the missing report reaches the subscriber only after the first successful crawl
    t004 = [m for m in w.api.messages(SUBSCRIBER) if "TIME-004" in m.text]
    assert len(t004) == 1 and "丙街道办事处" in t004[0].text


def test_a_flapping_portal_is_not_alerted_again_inside_the_quiet_period(make_world: Any) -> None:
    """The profile's threshold (2) overrides the configured default (3); after the 已恢复, the
    portal failing again is quiet for 60 hours, and alerted once that is over."""
    w = make_world(None, {"health": {"crawl_alert_threshold": 2}}, quiet_hours=60)
    assert w.crawl(at(2, 1), "412") == "blocked"
    assert w.texts(OPERATOR) == []
    assert w.crawl(at(2, 2), "412") == "blocked"
    assert count(w.texts(OPERATOR), "错误：CRAWL-001") == 1  # the county's own threshold: 2
    assert w.crawl(at(2, 3), None) == "ok"
    assert count(w.texts(OPERATOR), "✅ 已恢复：CRAWL-001") == 1
    assert w.crawl(at(2, 4), "412") == "blocked"  # fail / ok / fail
    assert w.crawl(at(2, 5), "412") == "blocked"  # two in a row again, 48 h after the recovery
    w.clock.set(at(2, 5, 12))  # 58 h after it
    w.tick()
    assert count(w.texts(OPERATOR), "错误：CRAWL-001") == 1  # quiet
    with w.sf() as s:
        reopened = s.scalar(select(Finding).where(Finding.rule_id == "CRAWL-001", Finding.resolved_at.is_(None)))
        assert reopened is not None and reopened.occurrence == 2
    assert w.crawl(at(2, 6), "412") == "blocked"  # 72 h after the recovery: the quiet period is over
    assert count(w.texts(OPERATOR), "错误：CRAWL-001") == 2
    assert not any("CRAWL-" in t for t in w.texts(SUBSCRIBER))


def test_a_pending_missing_report_waits_while_the_portal_is_blocked(make_world: Any) -> None:
    """A TIME-004 written before the portal was blocked (the subscriber was muted) is not sent while
    the portal's state is unknown, stays pending, and goes once a crawl succeeds; operators get theirs."""
    w = make_world()
    with w.sf() as s, s.begin():
        service.mute(s, "telegram", str(SUBSCRIBER), 72, at(2, 1, 0))  # until 4 February
    assert w.crawl(at(2, 1), None) == "ok"
    w.sweep(at(2, 1, 9))  # 丙街道办事处 missing: TIME-004 opens, the subscriber is muted until 4 Feb 02:00
    assert any("TIME-004" in t for t in w.texts(OPERATOR))
    for day in (2, 3, 4, 5):
        w.crawl(at(2, day), "412")
        w.sweep(at(2, day, 9))
    w.clock.set(at(2, 5, 20))
    w.tick()
    assert not any("TIME-004" in t for t in w.texts(SUBSCRIBER))  # muted no longer, but held back
    with w.sf() as s:
        held = s.scalars(select(Alert.status).join(Finding, Finding.id == Alert.finding_id)
                         .where(Finding.rule_id == "TIME-004")).all()
    assert "pending" in held
    assert w.crawl(at(2, 6), None) == "ok"
    assert count(w.texts(SUBSCRIBER), "TIME-004") == 1


def test_status_names_the_blocked_portal_since_when(make_world: Any) -> None:
    from notifier.bot import portal_lines, portal_problems

    w = make_world()
    w.crawl(at(2, 1, 3), "412")
    with w.sf() as s:
        assert portal_lines(portal_problems(s, CODE)) == ["门户被拦截（自 2027-02-01 03:00）"]
    w.crawl(at(2, 2, 3), None)
    with w.sf() as s:
        assert portal_lines(portal_problems(s, CODE)) == []


def test_reminders_stop_when_the_problem_is_over(make_world: Any) -> None:
    """A reminder still pending when the portal recovers is dropped (not sent after the 已恢复)."""
    w = make_world()
    for day in (1, 2, 3):
        w.crawl(at(2, day), "412")
    w.clock.set(at(2, 4, 3))
    with w.sf() as s, s.begin():
        from notifier.health import escalate

        escalate(s, w.clock.now(), w.policy)
        assert s.scalars(select(Alert.status).where(Alert.kind == "reminder")).all() == ["pending"]
    assert w.crawl(at(2, 4, 4), None) == "ok"
    with w.sf() as s:
        assert s.scalars(select(Alert.status).where(Alert.kind == "reminder")).all() == ["dropped"]
