"""The sender as a child process for the crash test: drains the outbox to the fake Bot API server,
one message at a time, and stops at every step (`send`, `answered`, `committed`) to print a marker
and wait for the parent's "go" — so the parent can SIGKILL it at an exact point.

    python -m tests.crash_sender DB_URL BASE_URL   (the token in NIANBAO_BOT_TOKEN)
"""

from __future__ import annotations

import os
import sys

from monitor.clock import SystemClock
from notifier import outbox
from notifier.channels.telegram import TelegramChannel
from storage.db import make_engine, session_factory


def main() -> None:
    db_url, base_url = sys.argv[1:3]
    sf = session_factory(make_engine(db_url))

    def probe(stage: str, batch: outbox.Batch) -> None:
        sys.stdout.write(f"{stage} {batch.address}\n")
        sys.stdout.flush()
        if sys.stdin.readline().strip() != "go":
            os._exit(3)

    while True:
        ch = TelegramChannel(os.environ["NIANBAO_BOT_TOKEN"], base_url=base_url, rate=0, chat_interval=0)
        stats = outbox.drain(sf, {"telegram": ch}, SystemClock(), probe=probe, concurrency=1)
        if stats.messages == 0 and stats.retried == 0:
            break
    sys.stdout.write("DONE\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
