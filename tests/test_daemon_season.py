"""End to end: the daemon process, the portal simulator and the fake Telegram Bot API server through
a January–April season on an accelerated clock. A subscriber subscribes from the chat, the expected
alerts arrive once each, and an admin's /recrawl crawls the county and answers with the summary."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from monitor.clock import SHANGHAI, AcceleratedClock
from storage.models import Finding
from tests.daemonworld import DaemonWorld
from tests.fakebotapi import FakeBotAPI

RATE = 86400 * 1.5  # one and a half simulated days per second
START = datetime(2026, 12, 20, 0, 0, tzinfo=SHANGHAI)
END = datetime(2027, 5, 3, 0, 0, tzinfo=SHANGHAI)
SUBSCRIBER, ADMIN = 1001, 2002
BODIES = [("云岭县人民政府", "county_gov"), ("甲镇人民政府", "township"), ("乙镇人民政府", "township"),
          ("丙街道办事处", "street")]
HEAD = re.compile(r"(?:错误|警告|提示)：([A-Z]+-\d{3}) (\S+) (\d{4})年度</b>\n规则：[^\n]*\n([^\n]*)")


def alerts(texts: list[str]) -> Counter[tuple[str, str, str, str]]:
    """(rule, body, year, finding message) of every new-problem alert in the messages (resolved
    notices left out)."""
    out: Counter[tuple[str, str, str, str]] = Counter()
    for text in texts:
        for m in HEAD.finditer(text):
            out[m.groups()] += 1  # type: ignore[index]
    return out


def heads(texts: list[str]) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    for (rule, body, year, _msg), n in alerts(texts).items():
        out[(rule, body, year)] += n
    return out


def wait_until(clock: AcceleratedClock, at: datetime) -> None:
    while clock.now() < at:
        time.sleep(min(1.0, max(0.05, (at - clock.now()).total_seconds() / clock.rate)))


def test_a_season_alerts_once_each_and_an_admin_recrawl_answers(tmp_path: Path) -> None:
    clock = AcceleratedClock(START, RATE)
    with FakeBotAPI() as api, DaemonWorld(tmp_path, clock) as dw:
        w = dw.world
        w.add_county("990401", "云岭县", "trs", BODIES, [2025, 2026])
        w.populate("990401", [2025])
        on_time = datetime(2027, 1, 12, 10, tzinfo=SHANGHAI)
        w.publish("990401", "甲镇人民政府", 2026, at=on_time, variants=("broken_arith:ARITH-003",))
        w.publish("990401", "乙镇人民政府", 2026, at=datetime(2027, 2, 16, 10, tzinfo=SHANGHAI))  # late
        w.publish("990401", "云岭县人民政府", 2026, at=datetime(2027, 3, 5, 10, tzinfo=SHANGHAI))
        # 丙街道办事处 never publishes its 2026 report
        w.add_county("990402", "雾山县", "hanweb", [("雾山县人民政府", "county_gov")], [2026])
        w.set_fault("990402", "412")  # a script challenge all season: blocked, never "missing"
        dw.write_profile("990401")
        dw.write_profile("990402")
        dw.write_config(telegram={"api_url": api.base_url, "admin_chat_ids": [ADMIN]},
                        daemon={"max_concurrent_crawls": 2})
        d = dw.start(env=dw.env(NIANBAO_BOT_TOKEN=api.token)).started()

        api.push_command("/subscribe 990401", chat_id=SUBSCRIBER)
        assert "订阅成功" in api.wait_messages(1, chat_id=SUBSCRIBER, timeout=60)[0].text
        api.push_command("/subscribe 990402", chat_id=ADMIN)
        api.wait_messages(1, chat_id=ADMIN, timeout=60)
        from notifier import service  # the admin hears of portal problems too (an operator)

        with dw.session_factory()() as s, s.begin():
            service.subscribe(s, "telegram", str(ADMIN), role="operator", health=True)

        wait_until(clock, END)
        api.push_command("/recrawl 990401", chat_id=ADMIN)
        done = None
        deadline = time.monotonic() + 180
        while done is None and time.monotonic() < deadline:
            done = next((m for m in api.messages(ADMIN) if "抓取完成" in m.text), None)
            time.sleep(0.5)
        assert done is not None, [m.text for m in api.messages(ADMIN)]
        admin_texts = [m.text for m in api.messages(ADMIN)]
        assert any("开始抓取" in t for t in admin_texts)
        assert "成功" in done.text

        texts = [m.text for m in api.messages(SUBSCRIBER)]
        assert all(n == 1 for n in alerts(texts).values()), alerts(texts)  # no finding told twice
        sub = heads(texts)
        with dw.session_factory()() as s:
            arith = s.scalar(select(func.count()).select_from(Finding).where(Finding.rule_id == "ARITH-003"))
        assert sub[("ARITH-003", "甲镇人民政府", "2026")] == arith >= 1  # one alert per broken cell
        assert sub[("TIME-003", "乙镇人民政府", "2026")] == 1
        assert sub[("TIME-004", "丙街道办事处", "2026")] == 1
        assert not any(rule == "TIME-004" and body == "甲镇人民政府" for rule, body, _ in sub)
        assert not any(body == "云岭县人民政府" for _, body, _ in sub)  # on time and correct
        blocked = [t for t in admin_texts if re.search(r"错误：CRAWL-001", t)]
        assert len(blocked) == 1 and "雾山县" in blocked[0], admin_texts  # blocked: told once
        assert not any(body.startswith("雾山县") for _, body, _ in heads(admin_texts))  # never "missing"
        assert d.stop() == 0
