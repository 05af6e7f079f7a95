"""Crash: the sender is SIGKILLed 10 times at seeded random points while draining 1,000 alerts.
At the end every alert arrived, and the duplicates are at most the kills that fell between the
channel's answer and the commit."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from notifier import outbox
from storage import repo
from storage.db import session_factory
from storage.models import Alert, Finding, Subscriber
from tests.fakebotapi import FakeBotAPI
from tests.notifyworld import NOW, seed

ROOT = Path(__file__).parents[1]
N = 1000
KILLS = 10


def test_sender_killed_ten_times_loses_nothing(engine: Any, capsys: Any) -> None:
    sf = session_factory(engine)
    with sf() as s, s.begin():
        ids = seed(s)
        s.add_all([Subscriber(channel="telegram", address=str(10_000 + i), scope={"counties": ["370828"]},
                              min_severity="warning") for i in range(N)])
        s.flush()
        events = repo.sync_findings(s, [{
            "fingerprint": "crash", "rule_id": "ARITH-003", "severity": "error", "scope": "doc",
            "county_code": "370828", "entity_id": ids["金乡县教育局"], "year": 2024, "message": "表三合计不符",
            "details": {}}], Finding.county_code == "370828", now=NOW)
        outbox.write_alerts(s, events, now=NOW)
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == N

    rng = random.Random(20261207)
    kills: Counter[str] = Counter()
    with FakeBotAPI() as server:
        env = {**os.environ, "NIANBAO_BOT_TOKEN": server.token, "PYTHONPATH": str(ROOT)}
        url = engine.url.render_as_string(hide_password=False)
        for run in range(KILLS + 1):
            child = subprocess.Popen([sys.executable, "-m", "tests.crash_sender", url, server.base_url],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
            assert child.stdin is not None and child.stdout is not None
            kill_at = rng.randint(1, 3 * N // (KILLS + 1)) if run < KILLS else None
            seen = 0
            for line in child.stdout:
                if line.strip() == "DONE":
                    break
                seen += 1
                if seen == kill_at:
                    os.kill(child.pid, signal.SIGKILL)
                    kills[line.split()[0]] += 1
                    break
                child.stdin.write("go\n")
                child.stdin.flush()
            child.wait(60)
            if run < KILLS:
                assert child.returncode == -signal.SIGKILL, f"run {run} ended before its kill point"
            else:
                assert child.returncode == 0
        per_chat = Counter(m.chat_id for m in server.messages())
    missing = N - len(per_chat)
    duplicates = sum(n - 1 for n in per_chat.values())
    with capsys.disabled():
        print(f"\ncrash test: {sum(kills.values())} kills {dict(kills)}; "
              f"kills between answer and commit: {kills['answered']}; duplicates: {duplicates}; missing: {missing}")
    assert sum(kills.values()) == KILLS
    assert missing == 0
    assert duplicates <= kills["answered"]
    with sf() as s:
        assert dict(s.execute(select(Alert.status, func.count()).group_by(Alert.status)).all()) == {"sent": N}
