"""The five real seed reports: the ground truth table at the end of domain/rules.md, and every
table cell of seeds 001, 003 and 004 (read off the seed files by a person)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from monitor.engine import check_bytes

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="the team's seed reports are not beside the project")

ALL_STRUCT = [f"STRUCT-00{i}" for i in range(1, 9)]
ALL_ARITH = [f"ARITH-00{i}" for i in range(1, 7)]
ALL_TIME = [f"TIME-00{i}" for i in range(1, 6)]

CASES = {
    "000_514bc75fed1bd9e9.txt": dict(entity="刘楼镇", year=2019, template="2019",
                                     fire=["STRUCT-001", "STRUCT-002"],
                                     never=ALL_ARITH + ["TIME-001", "TIME-002"]),
    "001_ef34a76a822e6c07.txt": dict(entity="齐都镇", year=2019, template="2019",
                                     fire=["PLAUS-001", "PLAUS-002", "STRUCT-005"],
                                     never=["STRUCT-001", "STRUCT-002", "STRUCT-003", "STRUCT-004"]
                                     + ALL_ARITH + ALL_TIME),
    "002_3e22da8e01e2ae3d.txt": dict(entity="张家坡镇", year=2018, template="2008", fire=[],
                                     never=["STRUCT-004", "TIME-002"]),
    "003_66d5f44fd592b474.txt": dict(entity="吕店镇", year=2020, template="2019", fire=["TEXT-004"],
                                     never=ALL_STRUCT + ALL_ARITH + ALL_TIME + ["PLAUS-003"]),
    "004_37e0fe39c2827468.txt": dict(entity="刘二堡镇", year=2019, template="2019",
                                     fire=["TIME-002", "STRUCT-003", "STRUCT-005", "TEXT-001", "TEXT-002"],
                                     never=["STRUCT-001"] + ALL_ARITH),
}


def _check(name: str):
    result = check_bytes((SEEDS / name).read_bytes(), filename=name)
    assert result.error is None and result.report is not None
    return result


@pytest.mark.parametrize("name", sorted(CASES))
def test_seed_identity(name: str) -> None:
    case, r = CASES[name], _check(name).report
    assert (r.entity, r.year, r.template) == (case["entity"], case["year"], case["template"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_seed_must_fire(name: str) -> None:
    fired = {f.rule for f in _check(name).findings}
    assert set(CASES[name]["fire"]) <= fired


@pytest.mark.parametrize("name", sorted(CASES))
def test_seed_must_not_fire(name: str) -> None:
    fired = {f.rule for f in _check(name).findings}
    assert fired.isdisjoint(CASES[name]["never"]), fired & set(CASES[name]["never"])


def test_seed_002_has_no_error() -> None:
    assert [f.rule for f in _check("002_3e22da8e01e2ae3d.txt").findings if f.severity == "error"] == []


def test_seed_000_names_the_missing_sections_and_tables() -> None:
    findings = _check("000_514bc75fed1bd9e9.txt").findings
    s1 = next(f for f in findings if f.rule == "STRUCT-001")
    assert s1.details["missing"] == ["requests", "review_litigation", "problems"]
    s2 = {f.details["table"]: f.details["missing_rows"] for f in findings if f.rule == "STRUCT-002"}
    assert s2 == {"active": ["licensing", "other_services", "penalty", "enforcement", "fees", "procurement"],
                  "requests": "all", "review_litigation": "all"}


REQUEST_ROWS_2019 = ["new", "carried_over", "granted", "partial", "refused_state_secret", "refused_law",
                     "refused_security", "refused_third_party", "refused_internal", "refused_process",
                     "refused_enforcement_file", "refused_query", "unable_not_held", "unable_needs_creation",
                     "unable_unclear", "rejected_petition", "rejected_duplicate", "rejected_publication",
                     "rejected_mass", "rejected_confirmation", "other", "total", "carried_forward"]
ZERO_TABLES_2019 = {
    "active": {
        "rules": {"made": 0, "published": 0, "total": 0},
        "normative_docs": {"made": 0, "published": 0, "total": 0},
        "licensing": {"prev": 0, "change": 0, "decisions": 0},
        "other_services": {"prev": 0, "change": 0, "decisions": 0},
        "penalty": {"prev": 0, "change": 0, "decisions": 0},
        "enforcement": {"prev": 0, "change": 0, "decisions": 0},
        "fees": {"prev": 0, "change": 0},
        "procurement": {"count": 0, "amount": 0},
    },
    "requests": {k: [0] * 7 for k in REQUEST_ROWS_2019},
    "review_litigation": {"review": [0] * 5, "litigation_direct": [0] * 5, "litigation_after_review": [0] * 5},
}


def _expected(**active_overrides: dict) -> dict:
    t = copy.deepcopy(ZERO_TABLES_2019)
    for row, cells in active_overrides.items():
        t["active"][row].update(cells)
    return t


@pytest.mark.parametrize("name, expected", [
    ("001_ef34a76a822e6c07.txt", _expected(rules={"made": 1}, normative_docs={"made": 11, "published": 4, "total": 194})),
    ("003_66d5f44fd592b474.txt", _expected(procurement={"count": 3, "amount": 359.7})),
    ("004_37e0fe39c2827468.txt", _expected()),
])
def test_seed_every_table_cell(name: str, expected: dict) -> None:
    assert _check(name).report.tables == expected


def test_seed_004_label_variants_are_reported() -> None:
    f = next(f for f in _check("004_37e0fe39c2827468.txt").findings if f.rule == "TEXT-001")
    assert {v["row"] for v in f.details["variants"]} == {
        "new", "carried_over", "refused_security", "refused_enforcement_file", "unable_needs_creation"}


def test_seed_004_quotes_the_wrong_plan_year() -> None:
    f = next(f for f in _check("004_37e0fe39c2827468.txt").findings if f.rule == "TEXT-002")
    assert "2019年,将重点" in f.details["quotes"][0]["quote"]
