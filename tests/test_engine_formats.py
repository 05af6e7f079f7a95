"""The report engine on generated reports in every format and template: the parsed fields equal
the generator's ground truth, and each variant gives the findings it must."""

from __future__ import annotations

import os
import shutil

import pytest

from crawler.sim.reportgen import FORMATS, VARIANTS, expected, make_spec, render
from monitor.engine import check_bytes
from monitor.parse import canonical_entity
from tests.conftest import require_cjk_font

FAST_FORMATS = [f for f in FORMATS if f != "doc"]
NEEDS_SOFFICE = pytest.mark.skipif(shutil.which("soffice") is None and os.environ.get("CI") != "true",
                                   reason="LibreOffice (soffice) is not installed")
EXT = {"txt-cells": "r.txt", "txt-tabs": "r.txt", "html": "r.html", "html-gbk": "r.html",
       "docx": "r.docx", "pdf": "r.pdf", "doc": "r.doc"}


def _parsed(spec, fmt):
    result = check_bytes(render(spec, fmt), filename=EXT[fmt])
    assert result.error is None, result.error
    return result


def _compare(spec, result) -> None:
    want = dict(expected(spec))
    want["entity"] = canonical_entity(want["entity"])
    r = result.report
    got = {"entity": r.entity, "year": r.year, "template": r.template, "period": r.period,
           "published_at": r.published_at, "tables": r.tables}
    for key in ("entity", "year", "template", "period", "published_at"):
        assert got[key] == want[key], key
    assert got["tables"] == want["tables"]


@pytest.mark.parametrize("fmt", FAST_FORMATS)
@pytest.mark.parametrize("year", [2018, 2020, 2023])
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_report_parses_to_ground_truth(fmt: str, year: int, seed: int) -> None:
    spec = make_spec(seed, entity="青石镇人民政府", year=year)
    result = _parsed(spec, fmt)
    _compare(spec, result)
    assert [f.rule for f in result.findings if f.severity == "error"] == []


@pytest.mark.parametrize("kind, entity", [("county_gov", "云溪县人民政府"), ("department", "云溪县教育局"),
                                          ("street", "东关街道办事处")])
def test_other_bodies_parse(kind: str, entity: str) -> None:
    spec = make_spec(7, entity=entity, year=2022, entity_kind=kind)
    _compare(spec, _parsed(spec, "html"))


@NEEDS_SOFFICE
@pytest.mark.libreoffice
def test_legacy_doc_parses_to_ground_truth() -> None:
    spec = make_spec(3, entity="青石镇人民政府", year=2021)
    _compare(spec, _parsed(spec, "doc"))


SIMPLE_VARIANTS = [v for v in VARIANTS if v not in ("missing_section", "missing_table", "broken_arith")]


@pytest.mark.parametrize("fmt", ["txt-cells", "html", "docx", "pdf"])
@pytest.mark.parametrize("variant", SIMPLE_VARIANTS + ["broken_arith:ARITH-001", "broken_arith:ARITH-002",
                                                      "broken_arith:ARITH-003", "broken_arith:ARITH-004",
                                                      "missing_section:problems", "missing_table:requests"])
def test_variant_gives_its_findings(fmt: str, variant: str) -> None:
    if fmt == "pdf" and variant == "fullwidth_digits":
        require_cjk_font()  # lone full-width digits are one-glyph runs of a non-embedded CJK font
    spec = make_spec(11, entity="青石镇人民政府", year=2022, variants=[variant])
    result = _parsed(spec, fmt)
    fired = {f.rule for f in result.findings}
    must = set(spec.meta["expected_findings"])
    assert must <= fired, (variant, fired)
    unexpected = {r for r in fired - must if r.startswith(("ARITH", "STRUCT-001", "STRUCT-002", "TIME"))}
    assert unexpected == set(), (variant, fired)
    if "table_image" not in variant and "missing_table" not in variant:
        _compare(spec, result)
