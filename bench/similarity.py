"""Prose-similarity benchmark (YOY-003 / TEXT-003): milliseconds per pair at the largest report
size (20,000 characters each), texts prepared once as the pipeline does.

    .venv/bin/python bench/similarity.py
"""

from __future__ import annotations

import random
import time

from monitor.history import check_history
from monitor.report import ParsedReport
from monitor.similarity import compare, prepare

CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def text(n: int, seed: str) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(CJK) for _ in range(n))


def main() -> None:
    shared = text(10_000, "s")
    a = ParsedReport(entity="甲镇", year=2024, template="2021", prose=[shared, text(10_000, "u")])
    b = ParsedReport(entity="乙镇", year=2024, template="2021", prose=[text(10_000, "v"), shared])
    t0 = time.process_time()
    check_history(a, None, [("乙镇", b)])
    first = time.process_time() - t0
    pa, pb = prepare(a.prose, ("甲镇",)), prepare(b.prose, ("乙镇",))
    n = 20
    t0 = time.process_time()
    for _ in range(n):
        compare(pa, pb)
    per_pair = (time.process_time() - t0) / n
    print(f"first comparison incl. preparing both texts: {first * 1000:.1f} ms")
    print(f"one pair, 20k + 20k characters, half shared: {per_pair * 1000:.2f} ms (CPU)")
    print(f"a county of 45 bodies (990 pairs) at that size: {per_pair * 990:.1f} s")


if __name__ == "__main__":
    main()
