"""Realistic, arithmetically consistent figures for tables 二, 三 and 四, and an independent
checker of the 勾稽关系 (ARITH-001…004) used to derive the expected findings.

Scale depends on the body kind: townships and streets mostly report zeros and single digits,
departments a little more, county governments dozens to hundreds of requests.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from .layout import REVIEW_BLOCKS, request_keys, result_keys

# Relative frequency of each outcome of a request (rows of 三、本年度办理结果)
OUTCOME_WEIGHTS: dict[str, float] = {
    "granted": 40, "partial": 9,
    "refused_state_secret": 0.3, "refused_law": 0.6, "refused_security": 0.3,
    "refused_third_party": 2, "refused_internal": 1.5, "refused_process": 2,
    "refused_enforcement_file": 0.6, "refused_query": 2,
    "unable_not_held": 16, "unable_needs_creation": 4, "unable_unclear": 3,
    "rejected_petition": 5, "rejected_duplicate": 4, "rejected_publication": 1,
    "rejected_mass": 1, "rejected_confirmation": 1,
    "other": 5, "other_no_correction": 3, "other_no_fee": 0.3, "other_other": 2,
}

# (probability of any, low, high) for 自然人 new requests per kind
_NATURAL = {"township": (0.55, 1, 12), "street": (0.6, 1, 15), "department": (0.7, 1, 40),
            "county_gov": (0.97, 15, 400)}
_ORG_SCALE = {"township": 0.15, "street": 0.2, "department": 0.35, "county_gov": 1.0}


def _maybe(rng: random.Random, p: float, lo: int, hi: int) -> int:
    return rng.randint(lo, hi) if rng.random() < p else 0


def gen_requests(rng: random.Random, kind: str, template: str,
                 carry: tuple[Sequence[int], Sequence[int]] | None = None) -> dict[str, list[int]]:
    """Table 三. `carry` = (上年结转, 结转下年度) per applicant column, when they are given (they come
    from the body's history, see history.py); 本年新收 is raised where it must be to allow them."""
    keys = request_keys(template)
    outcomes = result_keys(template)
    weights = [OUTCOME_WEIGHTS[k] for k in outcomes]
    p, lo, hi = _NATURAL[kind]
    org = _ORG_SCALE[kind]
    new = [_maybe(rng, p, lo, hi)]
    new += [_maybe(rng, org * q, 1, max(1, round(h * org))) for q, h in
            ((0.5, 20), (0.08, 2), (0.1, 3), (0.25, 10), (0.2, 5))]
    rows: dict[str, list[int]] = {k: [0] * 7 for k in keys}
    for c in range(6):
        co = _maybe(rng, 0.5, 1, max(1, new[c] // 4)) if new[c] else 0
        avail = new[c] + co
        cf = _maybe(rng, 0.3, 1, max(1, avail // 5)) if avail else 0
        if carry is not None:
            co, cf = carry[0][c], carry[1][c]
            new[c] = max(new[c], cf - co)
            avail = new[c] + co
        rows["new"][c], rows["carried_over"][c], rows["carried_forward"][c] = new[c], co, cf
        handled = avail - cf
        rows["total"][c] = handled
        for k in rng.choices(outcomes, weights, k=handled):
            rows[k][c] += 1
    for row in rows.values():
        row[6] = sum(row[:6])
    return rows


def gen_review(rng: random.Random, kind: str) -> dict[str, list[int]]:
    p, hi = (0.6, 12) if kind == "county_gov" else (0.15, 2)
    out = {}
    for block in REVIEW_BLOCKS:
        vals = [_maybe(rng, p * w, 1, max(1, round(hi * w))) for w in (0.6, 0.3, 0.2, 0.3)]
        out[block] = vals + [sum(vals)]
    return out


def _amount(rng: random.Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), rng.choice((1, 2, 2, 4)))


def gen_active(rng: random.Random, kind: str, template: str) -> dict[str, dict[str, Any]]:
    big = kind == "county_gov"
    if template == "2019":
        made = _maybe(rng, 0.6, 1, 30 if big else 6)
        published = made + _maybe(rng, 0.2, 1, 3)
        def item(prev_hi: int, dec_hi: int) -> dict[str, int]:
            prev = _maybe(rng, 0.6, 1, prev_hi)
            change = rng.randint(-min(prev, 3), 3) if rng.random() < 0.4 else 0
            return {"prev": prev, "change": change, "decisions": _maybe(rng, 0.5, 1, dec_hi)}
        count = _maybe(rng, 0.4, 1, 12 if big else 4)
        return {
            "rules": {"made": 0, "published": 0, "total": 0},
            "normative_docs": {"made": made, "published": published,
                               "total": published + _maybe(rng, 0.7, 1, 300 if big else 60)},
            "licensing": item(400 if big else 30, 5000 if big else 200),
            "other_services": item(200 if big else 20, 800 if big else 60),
            "penalty": item(300 if big else 15, 900 if big else 40),
            "enforcement": item(60 if big else 5, 50 if big else 5),
            "fees": {"prev": (prev := _maybe(rng, 0.3, 1, 30 if big else 3)),
                     "change": rng.randint(-min(prev, 2), 0) if prev and rng.random() < 0.3 else 0},
            "procurement": {"count": count, "amount": _amount(rng, 1, 2000 if big else 300) if count else 0},
        }
    issued = _maybe(rng, 0.5, 1, 20 if big else 5)
    return {
        "rules": {"issued": 0, "repealed": 0, "in_force": 0},
        "normative_docs": {"issued": issued, "repealed": _maybe(rng, 0.3, 1, 8 if big else 2),
                           "in_force": issued + _maybe(rng, 0.8, 1, 150 if big else 30)},
        "licensing": {"decisions": _maybe(rng, 0.5, 1, 5000 if big else 200)},
        "penalty": {"decisions": _maybe(rng, 0.5, 1, 900 if big else 40)},
        "enforcement": {"decisions": _maybe(rng, 0.3, 1, 50 if big else 5)},
        "fees": {"amount": _amount(rng, 0.5, 3000 if big else 50) if rng.random() < 0.25 else 0},
    }


def active_count(rng: random.Random, kind: str) -> int:
    return rng.randint(800, 15000) if kind == "county_gov" else rng.randint(30, 600)


# ---------------------------------------------------------------------------------------------
# 勾稽关系


def _known(vals: Sequence[Any]) -> bool:
    return all(isinstance(v, int) for v in vals)


def arith_breaks(tables: dict[str, Any], template: str) -> dict[str, list[str]]:
    """Which of ARITH-001…004 the tables break, with the places (columns, rows, blocks).

    Cells that are null (blank in the report) make their relation unknown, never broken."""
    out: dict[str, list[str]] = {}
    req = tables.get("requests")
    if req:
        for c in range(7):
            vals = [req[k][c] for k in ("new", "carried_over", "total", "carried_forward")]
            if _known(vals) and vals[0] + vals[1] != vals[2] + vals[3]:
                out.setdefault("ARITH-001", []).append(f"col{c}")
        for key, row in req.items():
            if _known(row) and sum(row[:6]) != row[6]:
                out.setdefault("ARITH-002", []).append(key)
        for key, sub in (tables.get("requests_org_subtotal") or {}).items():
            orgs = req[key][1:6]
            if _known(orgs) and isinstance(sub, int) and sum(orgs) != sub:
                out.setdefault("ARITH-002", []).append(f"subtotal:{key}")
        parts = result_keys(template)
        for c in range(7):
            vals = [req[k][c] for k in parts]
            if _known(vals) and isinstance(req["total"][c], int) and sum(vals) != req["total"][c]:
                out.setdefault("ARITH-003", []).append(f"col{c}")
    rl = tables.get("review_litigation")
    if rl:
        for block, vals in rl.items():
            if _known(vals) and sum(vals[:4]) != vals[4]:
                out.setdefault("ARITH-004", []).append(block)
    return out
