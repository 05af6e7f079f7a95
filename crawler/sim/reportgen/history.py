"""What carries over from one year's report to the next, as a function of the body and the year.

A body's reports must agree with each other from year to year (domain/rules.md, YOY-001/002):
table 三's 上年结转 is last year's 结转下年度继续办理, the `2021` 现行有效件数 grows by 本年制发 −
本年废止, and the `2019` 上一年项目数量 is last year's 上一年项目数量 + 本年增/减. The simulator asks
for each report with its own `seed`, so these figures cannot come from the seed: they come from a
per-body random walk seeded by a stable hash of the body's name (hashlib, never `hash()`), the kind
and an optional `history_seed`. Everything else in the tables still varies with the seed.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["carried_forward", "carried_over", "normative_2021", "items_2019", "ANCHOR_YEAR"]

ANCHOR_YEAR = 2018  # the walks start here (the year before the 2019 template)
ITEMS_2019 = ("licensing", "other_services", "penalty", "enforcement", "fees")

# (probability that 自然人 applications are still open at the year's end, most of them)
_CF_NATURAL = {"township": (0.3, 2), "street": (0.35, 3), "department": (0.4, 4), "county_gov": (0.85, 25)}
_CF_ORG = {"township": 0.15, "street": 0.2, "department": 0.35, "county_gov": 1.0}


def history_rng(entity: str, kind: str, history_seed: int, *parts: object) -> random.Random:
    key = ":".join(str(p) for p in ("reportgen-history", history_seed, entity, kind, *parts))
    return random.Random(int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big"))


def _maybe(rng: random.Random, p: float, lo: int, hi: int) -> int:
    return rng.randint(lo, hi) if rng.random() < p else 0


def carried_forward(entity: str, kind: str, year: int, history_seed: int = 0) -> list[int]:
    """四、结转下年度继续办理 of `year` (7 numbers, 总计 last)."""
    rng = history_rng(entity, kind, history_seed, "carried_forward", year)
    p, hi = _CF_NATURAL[kind]
    org = _CF_ORG[kind]
    cols = [_maybe(rng, p, 1, hi)]
    cols += [_maybe(rng, p * org * q, 1, max(1, round(hi * org * h))) for q, h in
             ((0.8, 0.6), (0.1, 0.2), (0.15, 0.2), (0.4, 0.4), (0.3, 0.3))]
    return cols + [sum(cols)]


def carried_over(entity: str, kind: str, year: int, history_seed: int = 0) -> list[int]:
    """二、上年结转 of `year`: last year's 结转下年度继续办理."""
    return carried_forward(entity, kind, year - 1, history_seed)


def normative_2021(entity: str, kind: str, year: int, history_seed: int = 0) -> dict[str, int]:
    """行政规范性文件 of the `2021` table 二: issued, repealed, in_force (in_force(Y) =
    in_force(Y−1) + issued(Y) − repealed(Y) for every Y after the anchor year)."""
    big = kind == "county_gov"
    rng = history_rng(entity, kind, history_seed, "normative", "base")
    in_force = _maybe(rng, 0.85, 1, 150 if big else 30)
    issued = repealed = 0
    for y in range(ANCHOR_YEAR + 1, max(year, ANCHOR_YEAR) + 1):
        r = history_rng(entity, kind, history_seed, "normative", y)
        issued = _maybe(r, 0.5, 1, 20 if big else 5)
        repealed = min(_maybe(r, 0.3, 1, 8 if big else 2), in_force)
        in_force += issued - repealed
    return {"issued": issued, "repealed": repealed, "in_force": in_force}


_ITEM_HI = {"licensing": (400, 30), "other_services": (200, 20), "penalty": (300, 15), "enforcement": (60, 5)}


def items_2019(entity: str, kind: str, year: int, history_seed: int = 0) -> dict[str, dict[str, int]]:
    """上一年项目数量 `prev` and 本年增/减 `change` of the `2019` table 二 rows that carry
    (prev(Y) = prev(Y−1) + change(Y−1))."""
    big = kind == "county_gov"
    out = {}
    for row in ITEMS_2019:
        base = history_rng(entity, kind, history_seed, "items", row, "base")
        if row == "fees":
            prev = _maybe(base, 0.3, 1, 30 if big else 3)
        else:
            prev = _maybe(base, 0.6, 1, _ITEM_HI[row][0 if big else 1])
        change = 0
        for y in range(ANCHOR_YEAR, max(year, ANCHOR_YEAR) + 1):
            if y > ANCHOR_YEAR:
                prev += change
            r = history_rng(entity, kind, history_seed, "items", row, y)
            if row == "fees":
                change = r.randint(-min(prev, 2), 0) if prev and r.random() < 0.3 else 0
            else:
                change = r.randint(-min(prev, 3), 3) if r.random() < 0.4 else 0
        out[row] = {"prev": prev, "change": change}
    return out
