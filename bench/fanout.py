"""Fan-out: 10,000 alerts to 1,000 subscribers through the fake Telegram Bot API server (tests/fakebotapi.py,
in a process of its own on 127.0.0.1), which enforces
Telegram's flood limits (30 messages/s per bot, 1/s per private chat, 20/min per group) and answers
429 with retry_after beyond them.

Every subscriber follows `--counties` counties with one open finding each, so each alert is its own
message (alerts of one county are grouped; here no two share a subscriber and a county). Some
subscribers are group chats (`--groups`, negative chat ids). The sender drains the outbox through
the real Telegram channel (python-telegram-bot, AIORateLimiter) until nothing is pending; a 429 puts
the alert back with its retry_after.

Prints: messages/s over the drain (target ≥ 90 % of 30/s = 27/s), 429s received, lost (alerts whose
message never arrived) and doubled (messages that arrived twice).

    PYTHONPATH=. python bench/fanout.py                      # 10,000 alerts, SQLite in a temp dir
    PYTHONPATH=. python bench/fanout.py --subscribers 100    # a quicker look
    PYTHONPATH=. python bench/fanout.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from monitor.clock import SystemClock  # noqa: E402
from notifier import outbox  # noqa: E402
from notifier.channels.telegram import TelegramChannel  # noqa: E402
from storage import repo  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import Alert, County, Entity, Finding, Subscriber  # noqa: E402


def seed(sf, subscribers: int, counties: int, groups: float, seed_: int) -> int:
    rng = random.Random(seed_)
    now = datetime.now(UTC)
    codes = [f"99{i:04d}" for i in range(counties)]
    with sf() as s, s.begin():
        for i, code in enumerate(codes):
            s.add(County(code=code, name=f"测试{i}县"))
        s.flush()
        ents = []
        for i, code in enumerate(codes):
            e = Entity(county_code=code, name=f"测试{i}县教育局", kind="department", aliases=[])
            s.add(e)
            ents.append(e)
        n_groups = int(subscribers * groups)
        chats = [-(1_000_000 + i) for i in range(n_groups)] + [10_000 + i for i in range(subscribers - n_groups)]
        rng.shuffle(chats)
        s.add_all([Subscriber(channel="telegram", address=str(c), scope={"counties": codes},
                              min_severity="warning") for c in chats])
        s.flush()
        events = []
        for i, (code, e) in enumerate(zip(codes, ents, strict=True)):
            events += repo.sync_findings(s, [{
                "fingerprint": f"bench-{code}", "rule_id": "ARITH-003", "severity": "error", "scope": "doc",
                "county_code": code, "entity_id": e.id, "year": 2024,
                "message": f"表三“总计”列：（一）至（六）各项之和为{12 + i}，“（七）总计”却填10",
                "details": {"table": "requests", "row": "total", "column": "总计", "expected": 12 + i, "actual": 10}}],
                Finding.county_code == code, now=now)
        outbox.write_alerts(s, events, now=now)
    with sf() as s:
        return s.scalar(select(func.count()).select_from(Alert))


async def drain_all(sf, token: str, base_url: str, rate: float) -> tuple[int, float, int, float]:
    ch = TelegramChannel(token, base_url=base_url, rate=rate)
    clock = SystemClock()
    sent = drains = 0
    t0, c0 = time.monotonic(), time.process_time()
    while True:
        stats = await outbox.drain_async(sf, {"telegram": ch}, clock, concurrency=64)
        sent += stats.messages
        drains += 1
        with sf() as s:
            left = s.scalar(select(func.count()).select_from(Alert).where(Alert.status == "pending"))
            nxt = s.scalar(select(func.min(Alert.next_attempt_at)).where(Alert.status == "pending"))
        if not left:
            break
        if nxt is not None:
            await asyncio.sleep(max(0.0, (nxt - clock.now()).total_seconds()))
    return sent, time.monotonic() - t0, drains, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--counties", type=int, default=10, help="counties each subscriber follows (alerts each)")
    ap.add_argument("--groups", type=float, default=0.05, help="share of subscribers that are group chats")
    ap.add_argument("--rate", type=float, default=29.0, help="the sender's messages/s (Telegram allows 30)")
    ap.add_argument("--db-url", default=None)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db_url or f"sqlite+pysqlite:///{Path(tmp) / 'fanout.db'}"
        engine = make_engine(url)
        if args.db_url:
            from storage.models import Base

            Base.metadata.drop_all(engine)
            with engine.begin() as c:
                c.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(engine)
        sf = session_factory(engine)
        n = seed(sf, args.subscribers, args.counties, args.groups, args.seed)
        print(f"{n} alerts to {args.subscribers} subscribers ({int(args.subscribers * args.groups)} group chats), "
              f"{args.counties} counties each; database {engine.url.get_backend_name()}")
        # The fake Telegram runs in a process of its own, as the real one is elsewhere.
        proc = subprocess.Popen([sys.executable, "-m", "tests.fakebotapi", "--limits"], stdout=subprocess.PIPE,
                                text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            port, token = proc.stdout.readline().split()
            base = f"http://127.0.0.1:{port}"
            sent, secs, drains, cpu = asyncio.run(drain_all(sf, token, base + "/bot", args.rate))
            with urllib.request.urlopen(base + "/_records") as r:
                records = json.load(r)
        finally:
            proc.terminate()
            proc.wait(10)
        got = Counter()
        for m in records["sent"]:
            county = re.search(r"测试(\d+)县", m["text"])
            got[(m["chat_id"], county.group(1) if county else "?")] += 1
        rejected = records["rejected_429"]
        with sf() as s:
            expected = {(int(a), c[-4:].lstrip("0") or "0") for a, c in s.execute(
                select(Subscriber.address, Finding.county_code).join(Alert, Alert.subscriber_id == Subscriber.id)
                .join(Finding, Finding.id == Alert.finding_id))}
        engine.dispose()
    lost = len(expected - set(got))
    doubled = sum(v - 1 for v in got.values() if v > 1)
    rate = sent / secs if secs else 0.0
    print(f"messages sent: {sent} in {secs:.1f} s over {drains} drain(s): {rate:.1f} messages/s "
          f"({rate / 30:.0%} of Telegram's 30/s; target ≥ 90 %)")
    print(f"429s received: {rejected}; lost: {lost}; doubled: {doubled}")
    print(f"sender CPU: {cpu:.1f} s, {1000 * cpu / max(sent, 1):.1f} ms per message "
          f"(one free core would allow {sent / cpu if cpu else 0:.0f} messages/s); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
