"""Property tests of the arithmetic rules: tables that satisfy every relation give no ARITH
finding; one perturbed cell gives exactly the ARITH rules whose relation it enters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.report import ParsedReport
from monitor.rules import run_doc_rules
from monitor.templates import TEMPLATES

PARTS = {tid: [d.key for d in TEMPLATES[tid].requests
               if d.key not in ("new", "carried_over", "total", "carried_forward")] for tid in ("2019", "2021")}
small = st.integers(min_value=0, max_value=40)


@st.composite
def consistent_tables(draw, template: str):
    rows: dict[str, list[int]] = {k: [] for k in PARTS[template] + ["new", "carried_over", "total", "carried_forward"]}
    for _col in range(6):
        parts = {k: draw(small) for k in PARTS[template]}
        total = sum(parts.values())
        fwd = draw(small)
        over = draw(st.integers(min_value=0, max_value=total + fwd))
        for k, v in parts.items():
            rows[k].append(v)
        rows["total"].append(total)
        rows["carried_forward"].append(fwd)
        rows["carried_over"].append(over)
        rows["new"].append(total + fwd - over)
    for row in rows.values():
        row.append(sum(row))
    review = {}
    for key in ("review", "litigation_direct", "litigation_after_review"):
        four = [draw(small) for _ in range(4)]
        review[key] = four + [sum(four)]
    return {"requests": rows, "review_litigation": review}


def _report(template: str, tables: dict) -> ParsedReport:
    return ParsedReport(entity="测试镇", year=2019 if template == "2019" else 2022, template=template,
                        tables=tables, period=None)


def _arith(report: ParsedReport) -> set[str]:
    return {f.rule for f in run_doc_rules(report) if f.rule.startswith("ARITH")}


def expected_broken(row: str, col: int) -> set[str]:
    broken = {"ARITH-002"}  # every row's 总计 column relation
    if row in ("new", "carried_over", "carried_forward"):
        broken.add("ARITH-001")
    elif row == "total":
        broken |= {"ARITH-001", "ARITH-003"}
    else:
        broken.add("ARITH-003")
    return broken


@settings(max_examples=60, deadline=None)
@given(data=st.data(), template=st.sampled_from(["2019", "2021"]))
def test_consistent_tables_give_no_arith_finding(data, template: str) -> None:
    tables = data.draw(consistent_tables(template))
    assert _arith(_report(template, tables)) == set()


@settings(max_examples=150, deadline=None)
@given(data=st.data(), template=st.sampled_from(["2019", "2021"]),
       delta=st.integers(min_value=1, max_value=9))
def test_one_perturbed_request_cell_breaks_its_relations(data, template: str, delta: int) -> None:
    tables = data.draw(consistent_tables(template))
    row = data.draw(st.sampled_from(sorted(tables["requests"])))
    col = data.draw(st.integers(min_value=0, max_value=6))
    tables["requests"][row][col] += delta
    assert _arith(_report(template, tables)) == expected_broken(row, col)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), delta=st.integers(min_value=1, max_value=9))
def test_one_perturbed_review_cell_breaks_arith_004(data, delta: int) -> None:
    tables = data.draw(consistent_tables("2021"))
    block = data.draw(st.sampled_from(["review", "litigation_direct", "litigation_after_review"]))
    tables["review_litigation"][block][data.draw(st.integers(0, 4))] += delta
    report = _report("2021", tables)
    assert _arith(report) == {"ARITH-004"}
    (f,) = [f for f in run_doc_rules(report) if f.rule == "ARITH-004"]
    assert f.details["row"] == block


def test_null_cell_silences_only_that_cell() -> None:
    tables = {"requests": {k: [0] * 7 for k in PARTS["2019"] + ["new", "carried_over", "total", "carried_forward"]}}
    tables["requests"]["granted"][0] = None  # blank cell: column 0 relations cannot be checked
    tables["requests"]["new"][1] = 5  # column 1 is still checked
    assert _arith(_report("2019", tables)) == {"ARITH-001", "ARITH-002"}
