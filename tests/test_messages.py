"""Every finding speaks the report's own words: messages name tables, rows and columns by the
template's printed labels (never by the keys of `tables`), `details` keep the keys, and
`nianbao rules` lists the whole catalogue of the registry with an example of each rule's wording."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from crawler.sim.reportgen import EXTENSIONS, FORMATS, concrete_variants, make_spec, render_many
from monitor.cli import app
from monitor.engine import check_bytes
from monitor.history import check_history, describe_change
from monitor.report import Finding, ParsedReport
from monitor.rules import registry
from monitor.rules.examples import EXAMPLES, example
from monitor.templates import (
    APPLICANT_COLUMNS,
    REVIEW_BLOCKS,
    REVIEW_COLUMNS,
    TEMPLATES,
    cell_label,
    column_label,
    quoted,
    row_label,
    table_label,
)
from monitor.templates.labels import UNKNOWN

# What a message may hold in ASCII letters: rule IDs, addresses and file names (CRAWL-003 names the
# list page, YOY-005 the report), and the names of file formats (扫描件/图片PDF, 需要OCR).
ALLOWED = re.compile(r"[A-Z]+-\d{3}|https?://[\x21-\x7e]+|[\w./-]+\.(?:txt|html?|docx?|pdf|wps)\b"
                     r"|(?<![A-Za-z])(?:PDF|OCR|DOCX?|WPS|HTML|TXT)(?![A-Za-z])")
IDENTIFIER = re.compile(r"[A-Za-z_]{3,}")
LISTED = 3  # places a message names before "等N处"
TABLE_KEYS = {"active", "requests", "requests_subtotals", "requests_org_subtotal", "review_litigation"}


def identifiers(message: str) -> list[str]:
    return IDENTIFIER.findall(ALLOWED.sub(" ", message))


def places(f: Finding) -> list[dict[str, Any]]:
    """The cells a finding is about, from its details (the machine keys)."""
    d = f.details
    out: list[dict[str, Any]] = []
    if d.get("table") in TABLE_KEYS and (d.get("row") is not None or d.get("column") is not None):
        out.append({"table": d["table"], "row": d.get("row"), "column": d.get("column")})
    if d.get("other_split_missing") and isinstance(d.get("missing_rows"), list):
        # a 2021 table with one （六）其他处理 row: the message names that row, not its three absent parts
        out.append({"table": d["table"], "row": "other", "column": None})
    elif isinstance(d.get("missing_rows"), list):
        out += [{"table": d["table"], "row": r, "column": None} for r in d["missing_rows"][:LISTED]]
    for key in ("cells", "variants"):
        if isinstance(d.get(key), list):
            out += [{"table": c.get("table", "requests"), "row": c["row"], "column": c.get("column")}
                    for c in d[key][:LISTED]]
    return out


def assert_speaks_labels(f: Finding, template: str) -> None:
    """No key in the message; each cell the details name is named by its printed label."""
    assert identifiers(f.message) == [], (f.rule, f.message)
    for p in places(f):
        table, row, column = p["table"], p["row"], p["column"]
        assert table in TABLE_KEYS, (f.rule, p)
        assert table_label(table) in f.message, (f.rule, f.message, p)
        if row is not None:
            label = row_label(template, table, row)
            assert label != UNKNOWN and quoted(label) in f.message, (f.rule, f.message, p)
        if column is not None:
            label = column_label(template, table, column, row)
            assert label != UNKNOWN and label in f.message, (f.rule, f.message, p)


# ---- the label function ------------------------------------------------------------------------

def test_cell_paths_become_the_printed_labels_of_both_templates() -> None:
    assert cell_label("2021", "requests", "refused_law", 0) == "表三“三（三）2.其他法律行政法规禁止公开”行“自然人”列"
    assert cell_label("2019", "requests", "refused_law", "自然人") == cell_label("2021", "requests", "refused_law", 0)
    assert cell_label("2021", "requests", "other_no_fee") == (
        "表三“三（六）2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请”行")
    assert cell_label("2019", "requests", "other") == "表三“三（六）其他处理”行"
    assert cell_label("2021", "requests", "other") == "表三“三（六）其他处理”行"  # a 2021 table keeping 2019's row
    assert cell_label("2021", "requests", "refused_security") == "表三“三（三）3.危及‘三安全一稳定’”行"
    assert cell_label("2021", "requests", "total", 6) == "表三“三（七）总计”行“总计”列"
    assert cell_label("2021", "requests", "carried_forward") == "表三“四、结转下年度继续办理”行"
    assert cell_label("2021", "requests_subtotals", "unable", 6) == "表三“三（四）无法提供（小计）”行“总计”列"
    assert cell_label("2021", "requests_org_subtotal", "granted") == "表三“三（一）予以公开”行“法人或其他组织小计”列"
    assert [cell_label("2021", "active", "rules", c) for c in ("issued", "repealed", "in_force")] == [
        "表二“规章”行“本年制发件数”列", "表二“规章”行“本年废止件数”列", "表二“规章”行“现行有效件数”列"]
    assert cell_label("2019", "active", "rules", "made") == "表二“规章”行“本年新制作数量”列"
    assert cell_label("2019", "active", "normative_docs") == "表二“规范性文件”行"
    assert cell_label("2021", "active", "normative_docs") == "表二“行政规范性文件”行"
    assert cell_label("2021", "active", "licensing", "decisions") == "表二“行政许可”行“本年处理决定数量”列"
    assert cell_label("2019", "active", "licensing", "decisions") == "表二“行政许可”行“处理决定数量”列"
    assert cell_label("2019", "review_litigation", "litigation_direct", 4) == "表四“行政诉讼（未经复议直接起诉）”的“总计”"
    assert cell_label("2019", "requests", None, 1) == "表三“商业企业”列"


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_every_declared_cell_has_a_printed_label(template: str) -> None:
    tpl = TEMPLATES[template]
    paths: list[tuple[str, str, Any]] = []
    paths += [("requests", d.key, i) for d in tpl.requests for i in range(len(APPLICANT_COLUMNS))]
    paths += [("requests_subtotals", d.key, 6) for d in tpl.request_subtotals]
    paths += [("active", key, c.key) for key, (g, _) in tpl.active_rows.items() for c in g.columns]
    paths += [("review_litigation", key, i) for key, _ in REVIEW_BLOCKS for i in range(len(REVIEW_COLUMNS))]
    for path in paths:
        label = cell_label(template, *path)
        assert UNKNOWN not in label and identifiers(label) == [], (path, label)
    numbered = [row_label(template, "requests", d.key) for d in tpl.requests]
    assert all(re.match(r"[一二三四]", label) for label in numbered), numbered


# ---- every rule, through its example ----------------------------------------------------------

def test_every_rule_of_the_registry_has_an_example_in_its_own_words() -> None:
    assert set(EXAMPLES) == set(registry())
    for rule_id in registry():
        f = example(rule_id)
        assert f is not None and f.rule == rule_id, rule_id
        assert_speaks_labels(f, "2019" if rule_id == "PLAUS-002" else "2021")
        assert len(f.message) <= 120, (rule_id, len(f.message), f.message)


def test_rule_explanations_have_no_keys() -> None:
    for rule_id, cls in registry().items():
        assert identifiers(cls.explanation()) == [], (rule_id, cls.explanation())


# ---- doc rules on generated defect reports, every template and format -------------------------

NEEDS_SOFFICE = pytest.mark.skipif(shutil.which("soffice") is None and os.environ.get("CI") != "true",
                                   reason="LibreOffice (soffice) is not installed")
GROUPS = (
    ("label_typos", "blank_cells", "yuan_amount", "arabic_section_numbers", "no_period", "early_date",
     "wrong_year_plans", "repeated_phrase"),
    ("subtotal_column", "subtotal_rows", "broken_arith:ARITH-002"),
    ("broken_arith:ARITH-001", "thousands", "fullwidth_digits", "unit_suffix"),
    ("broken_arith:ARITH-003",),
    ("broken_arith:ARITH-004", "missing_section:problems"),
    ("missing_table:active", "missing_table:review_litigation"),
    ("table_image",),
    ("no_headings",),
)
YEAR = {"2019": 2020, "2021": 2022}


def _rules_by_township(spec: Any) -> None:  # PLAUS-001: a township reports 规章
    spec.tables["active"]["rules"] = {k: 2 for k in spec.tables["active"]["rules"]}


def _negative(spec: Any) -> None:  # ARITH-005
    spec.tables["requests"]["granted"][0] = -1


def _prose_contradicts(spec: Any) -> None:  # ARITH-006: the prose keeps the old 本年新收 figure
    spec.tables["requests"]["new"][6] += 5


def _normative_unpublished(spec: Any) -> None:  # PLAUS-002 (2019)
    row = spec.tables["active"]["normative_docs"]
    row["made"], row["total"] = row["published"] + 3, row["total"] + 3


def _specs(template: str, fmt: str) -> list[Any]:
    year = YEAR[template]
    specs = []
    for i, group in enumerate(GROUPS):
        if fmt == "pdf":  # lone full-width digits need a CJK font in PDFium (see test_engine_formats)
            group = tuple(v for v in group if v != "fullwidth_digits")
        specs.append(make_spec(40 + i, entity="青石镇人民政府", year=year, variants=group))
    edits = [_rules_by_township, _negative, _prose_contradicts]
    if template == "2019":
        edits.append(_normative_unpublished)
    for i, edit in enumerate(edits):
        spec = make_spec(60 + i, entity="青石镇人民政府", year=year)
        edit(spec)
        specs.append(spec)
    other = {"2019": ("2021", 2020), "2021": ("2019", 2022)}[template]  # STRUCT-004
    specs.append(make_spec(70, entity="青石镇人民政府", year=other[1], template=other[0]))
    return specs


def _check_generated(template: str, fmt: str) -> None:
    specs = _specs(template, fmt)
    fired: set[str] = set()
    for spec, data in zip(specs, render_many(specs, fmt), strict=True):
        result = check_bytes(data, filename=f"r.{EXTENSIONS[fmt]}")
        assert result.report is not None, result.error
        rules = {f.rule for f in result.findings}
        assert set(spec.meta["expected_findings"]) <= rules, (spec.variants, rules)
        fired |= rules
        for f in result.findings:
            assert_speaks_labels(f, result.report.template or template)
    must = {"STRUCT-001", "STRUCT-002", "STRUCT-003", "STRUCT-004", "STRUCT-005", "STRUCT-007",
            "ARITH-001", "ARITH-002", "ARITH-003", "ARITH-004", "ARITH-005", "ARITH-006",
            "PLAUS-001", "PLAUS-003", "TIME-002", "TEXT-001", "TEXT-002", "TEXT-004"}
    assert must | ({"PLAUS-002"} if template == "2019" else set()) <= fired, sorted(fired)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "doc"])
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_doc_rules_on_generated_defect_reports_name_printed_labels(template: str, fmt: str) -> None:
    _check_generated(template, fmt)


@NEEDS_SOFFICE
@pytest.mark.libreoffice
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_doc_rules_on_generated_legacy_doc_reports_name_printed_labels(template: str) -> None:
    _check_generated(template, "doc")


@pytest.mark.parametrize("fmt", ["txt-tabs", "html"])
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_every_variant_of_the_generator_gives_messages_in_printed_labels(template: str, fmt: str) -> None:
    """Each variant alone (new ones included as the generator learns them)."""
    specs = [make_spec(80, entity="青石镇人民政府", year=YEAR[template], variants=[v])
             for v in concrete_variants(template)]
    for spec, data in zip(specs, render_many(specs, fmt), strict=True):
        result = check_bytes(data, filename=f"r.{EXTENSIONS[fmt]}")
        assert result.report is not None, (spec.variants, result.error)
        for f in result.findings:
            assert_speaks_labels(f, result.report.template or template)


# ---- hist rules on generated reports of consecutive years -------------------------------------

def _parsed(seed: int, year: int) -> ParsedReport:
    result = check_bytes(render_many([make_spec(seed, entity="青石镇人民政府", year=year)], "html")[0],
                         filename="r.html")
    assert result.report is not None
    return result.report


@pytest.mark.parametrize("template, year", [("2019", 2020), ("2021", 2022)])
def test_hist_rules_on_generated_reports_name_printed_labels(template: str, year: int) -> None:
    previous, current = _parsed(1, year - 1), _parsed(2, year)
    assert check_history(current, previous, []) == []  # consecutive generated years agree
    changed = copy.deepcopy(current)
    changed.tables["requests"]["carried_over"][6] += 2  # YOY-001
    if template == "2021":
        changed.tables["active"]["normative_docs"]["in_force"] += 1  # YOY-002
    else:
        changed.tables["active"]["licensing"]["prev"] += 1
    same_prose = copy.deepcopy(changed)
    same_prose.year = year - 1
    peer = copy.deepcopy(current)
    peer.entity = "白沙镇人民政府"
    findings = check_history(changed, previous, [("白沙镇", peer)])  # TEXT-003: the same prose
    findings += [f for f in check_history(changed, same_prose, []) if f.rule == "YOY-003"]
    change = describe_change(current, changed)
    assert change is not None
    findings.append(change)
    assert {f.rule for f in findings} >= {"YOY-001", "YOY-002", "YOY-003", "YOY-004", "TEXT-003"}
    for f in findings:
        assert_speaks_labels(f, template)


# ---- nianbao rules -----------------------------------------------------------------------------

def test_rules_command_lists_the_registry() -> None:
    out = CliRunner().invoke(app, ["rules", "--json"])
    assert out.exit_code == 0, out.output
    entries = json.loads(out.stdout)
    reg = registry()
    assert [e["id"] for e in entries] == sorted(reg, key=lambda i: (
        ("STRUCT", "ARITH", "PLAUS", "TIME", "YOY", "TEXT", "CRAWL").index(i.split("-")[0]), i))
    for e in entries:
        cls = reg[e["id"]]
        assert (e["severity"], e["scope"], e["explanation"]) == (cls.severity, cls.scope, cls.explanation())
        assert e["example"] == example(e["id"]).message
    text = CliRunner().invoke(app, ["rules"], env={"COLUMNS": "300"}).stdout
    for rule_id in reg:
        assert f"{rule_id}  " in text
    assert "示例：表三“三（一）予以公开”行“总计”列填2，应为前六列之和1" in text


def test_rules_command_shows_the_rules_asked_for_and_refuses_an_unknown_one() -> None:
    out = CliRunner().invoke(app, ["rules", "--json", "time-004", "ARITH-002"])
    assert [e["id"] for e in json.loads(out.stdout)] == ["ARITH-002", "TIME-004"]
    bad = subprocess.run([sys.executable, "-c", "from monitor.cli import main; main()", "rules", "NOPE-001"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip() == "错误: 没有规则 NOPE-001；可用 nianbao rules 查看全部规则"
