"""The report generator: determinism, the arithmetic of its specs, every format readable."""

from __future__ import annotations

import io
import os
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.sim.reportgen import FORMATS, VARIANTS, expected, make_spec, render, render_many
from crawler.sim.reportgen.layout import request_keys, result_keys
from crawler.sim.reportgen.numbers import arith_breaks

KINDS = ("township", "street", "department", "county_gov")
ENTITY = {"township": "刘楼镇人民政府", "street": "城关街道办事处", "department": "汶上县财政局",
          "county_gov": "汶上县人民政府"}


def spec_for(seed: int, year: int = 2019, kind: str = "township", variants=()):
    return make_spec(seed, entity=ENTITY[kind], year=year, entity_kind=kind, variants=variants)


# ------------------------------------------------------------------------------- specs


@pytest.mark.parametrize("year,template", [(2017, "2008"), (2018, "2008"), (2019, "2019"), (2020, "2019"),
                                           (2021, "2021"), (2024, "2021")])
def test_template_defaults_from_year(year, template):
    assert spec_for(1, year).template == template


def test_same_seed_same_spec_and_different_seed_differs():
    a, b, c = spec_for(11), spec_for(11), spec_for(12)
    assert expected(a) == expected(b)
    assert a.sections == b.sections
    assert (expected(a), a.sections) != (expected(c), c.sections)


@pytest.mark.parametrize("year", [2019, 2021])
@pytest.mark.parametrize("kind", KINDS)
def test_tables_satisfy_every_relation(year, kind):
    for seed in range(60):
        spec = spec_for(seed, year, kind)
        t = spec.tables
        assert arith_breaks(t, spec.template) == {}
        assert spec.meta["expected_findings"] == set()
        req = t["requests"]
        assert set(req) == set(request_keys(spec.template))
        for key, row in req.items():
            assert len(row) == 7 and all(isinstance(v, int) and v >= 0 for v in row), key
            assert row[6] == sum(row[:6]), key
        for c in range(7):
            assert req["new"][c] + req["carried_over"][c] == req["total"][c] + req["carried_forward"][c]
            assert req["total"][c] == sum(req[k][c] for k in result_keys(spec.template))
        for block in t["review_litigation"].values():
            assert len(block) == 5 and block[4] == sum(block[:4])
        rules = t["active"]["rules"]
        assert set(rules.values()) == {0}  # no body below 设区的市 makes 规章
        if year == 2019:
            nd = t["active"]["normative_docs"]
            assert nd["made"] <= nd["published"] <= nd["total"]


def test_county_governments_get_larger_numbers():
    county = sum(spec_for(s, 2021, "county_gov").tables["requests"]["new"][6] for s in range(30))
    town = sum(spec_for(s, 2021, "township").tables["requests"]["new"][6] for s in range(30))
    assert county > 5 * town
    zeros = sum(spec_for(s, 2021, "township").tables["requests"]["new"][6] == 0 for s in range(60))
    assert 5 < zeros < 55  # some townships receive nothing, most receive a few


def test_prose_states_period_counts_and_signature():
    spec = spec_for(4, 2021)
    text = render(spec, "txt-tabs").decode()
    assert "本报告中所列数据的统计期限自2021年1月1日起至2021年12月31日止" in text
    assert f"收到政府信息公开申请{spec.tables['requests']['new'][6]}件" in text
    assert f"主动公开政府信息{spec.narrative['active_count']}条" in text
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    assert lines[-2] == spec.entity
    assert lines[-1].startswith("2022年") and spec.published_at.startswith("2022-0")
    assert expected(spec)["narrative"]["requests_new"] == spec.tables["requests"]["new"][6]


def test_expected_has_the_check_json_shape():
    e = expected(spec_for(2, 2019))
    assert {"entity", "year", "template", "period", "published_at", "tables"} <= set(e)
    assert set(e["tables"]) == {"active", "requests", "review_litigation"}
    assert set(e["tables"]["active"]["procurement"]) == {"count", "amount"}
    assert set(expected(spec_for(2, 2021))["tables"]["active"]["fees"]) == {"amount"}
    assert e["sections"] == ["overview", "active", "requests", "review_litigation", "problems", "other"]


def test_2008_template_has_prose_parts_and_no_tables():
    spec = spec_for(3, 2017)
    e = expected(spec)
    assert e["template"] == "2008" and e["tables"] == {}
    assert "active_count" in e["narrative"]
    text = render(spec, "txt-cells").decode()
    assert "一、" in text and "\t" not in text


# ------------------------------------------------------------------------------- formats


@pytest.mark.parametrize("fmt", ["txt-cells", "txt-tabs", "html", "html-gbk", "docx"])
@pytest.mark.parametrize("year", [2019, 2021])
def test_same_seed_same_bytes(fmt, year):
    assert render(spec_for(9, year), fmt) == render(spec_for(9, year), fmt)


def test_txt_cells_writes_one_cell_per_line_with_blank_line_between_rows():
    text = render(spec_for(5, 2019), "txt-cells").decode()
    assert "\t（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\n\t申请人情况\n\n" in text
    assert "\t三、本年度办理结果\n\t（一）予以公开\n" in text
    assert "\t\n\t（三）不予公开\n\t1．属于国家秘密\n" in text


def test_txt_tabs_writes_rows_on_one_line():
    text = render(spec_for(5, 2021), "txt-tabs").decode()
    row = next(ln for ln in text.splitlines() if ln.startswith("一、本年新收政府信息公开申请数量"))
    assert len(row.split("\t")) == 10


def test_html_page_is_a_word_export_with_official_spans():
    spec = spec_for(6, 2021)
    html = render(spec, "html").decode("utf-8")
    assert '<meta name="PubDate" content="' in html and "发布时间：" in html
    assert 'class="TRS_Editor"' in html and 'class="MsoNormal"' in html and "<o:p></o:p>" in html
    assert "网站标识码" in html and "ICP备" in html and "政府信息公开年报</a>" in html
    assert '<td colspan="7"' in html and ">申请人情况<" in html
    assert '<td rowspan="2"' in html and ">自然人<" in html
    assert '<td colspan="5"' in html and ">法人或其他组织<" in html
    assert '<td rowspan="8"' in html and ">（三）不予公开<" in html
    assert '<td colspan="10"' in html and ">行政诉讼<" in html
    assert "charset=utf-8" in html


def test_html_gbk_declares_and_uses_gbk():
    spec = spec_for(6, 2019)
    data = render(spec, "html-gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    html = data.decode("gb18030")
    assert "charset=gbk" in html and spec.entity in html and "本年新<br>" in html


@pytest.mark.parametrize("year", [2019, 2021])
def test_docx_has_merged_tables(year):
    import docx
    spec = spec_for(7, year)
    d = docx.Document(io.BytesIO(render(spec, "docx")))
    assert len(d.tables) >= 4
    req = next(t for t in d.tables if len(t.rows) > 20)
    assert len(req.columns) == 10
    xml = req._tbl.xml
    assert 'w:gridSpan w:val="7"' in xml and 'w:vMerge w:val="restart"' in xml
    text = "\n".join(p.text for p in d.paragraphs)
    assert spec.entity in text and "统计期限" in text
    new = req.rows[3].cells
    assert new[0].text == "一、本年新收政府信息公开申请数量"
    assert [int(c.text) for c in new[3:]] == spec.tables["requests"]["new"]


@pytest.mark.parametrize("year", [2017, 2019, 2021])
def test_pdf_text_layer_is_extractable(year):
    import pypdfium2
    spec = spec_for(8, year, "county_gov")
    pdf = pypdfium2.PdfDocument(render(spec, "pdf"))
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert spec.entity in text
    assert "- 1 -" in text
    if year >= 2019:
        assert "总计" in text and "予以公开" in text and len(pdf) >= 2


@pytest.mark.parametrize("fmt", FORMATS[:-1])
@pytest.mark.parametrize("year", [2017, 2019, 2021])
def test_every_format_renders_something_substantial(fmt, year):
    data = render(spec_for(10, year), fmt)
    assert len(data) > (2000 if year < 2019 else 5000)


def _soffice_or_skip() -> None:
    if shutil.which("soffice") is None and os.environ.get("CI") != "true":
        pytest.skip("LibreOffice (soffice) not installed")


@pytest.mark.libreoffice
def test_doc_is_a_legacy_word_file():
    _soffice_or_skip()
    spec = spec_for(12, 2021)
    data = render(spec, "doc")
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound file
    assert len(data) > 10000


@pytest.mark.libreoffice
def test_doc_batch_converts_in_one_run():
    _soffice_or_skip()
    specs = [spec_for(s, 2019) for s in range(3)]
    out = render_many(specs, "doc")
    assert len(out) == 3 and all(d[:4] == b"\xd0\xcf\x11\xe0" for d in out)


# ------------------------------------------------------------------------------- variants


def test_variant_list_is_documented():
    from crawler.sim.reportgen.spec import VARIANT_DOCS
    assert set(VARIANTS) == set(VARIANT_DOCS)


def test_unknown_or_misplaced_variant_is_refused():
    with pytest.raises(ValueError):
        spec_for(1, variants=["nope"])
    with pytest.raises(ValueError):
        spec_for(1, 2017, variants=["blank_cells"])
    with pytest.raises(ValueError):
        spec_for(1, variants=["missing_section:nope"])


SIMPLE_FINDINGS = {
    "no_period": {"STRUCT-005"}, "label_typos": {"TEXT-001"}, "blank_cells": {"STRUCT-007"},
    "yuan_amount": {"PLAUS-003"}, "arabic_section_numbers": {"STRUCT-003"}, "early_date": {"TIME-002"},
    "missing_section:requests": {"STRUCT-001"}, "missing_table:review_litigation": {"STRUCT-002"},
    "no_headings": {"STRUCT-001"}, "wrong_year_plans": {"TEXT-002"}, "repeated_phrase": {"TEXT-004"},
    "table_image": {"STRUCT-002"}, "subtotal_column": set(), "subtotal_rows": set(), "thousands": set(),
    "fullwidth_digits": set(), "unit_suffix": set(),
}


@pytest.mark.parametrize("variant,findings", sorted(SIMPLE_FINDINGS.items()))
@pytest.mark.parametrize("year", [2019, 2021])
def test_variant_declares_the_findings_it_causes(variant, findings, year):
    for seed in range(5):
        spec = spec_for(seed, year, variants=[variant])
        assert spec.meta["expected_findings"] == findings
        assert render(spec, "html") == render(spec_for(seed, year, variants=[variant]), "html")


@pytest.mark.parametrize("rule", ["ARITH-001", "ARITH-002", "ARITH-003", "ARITH-004"])
@pytest.mark.parametrize("kind", ["township", "county_gov"])
def test_broken_arith_breaks_that_relation_only(rule, kind):
    for seed in range(20):
        spec = spec_for(seed, 2021, kind, variants=[f"broken_arith:{rule}"])
        assert set(arith_breaks(spec.tables, "2021")) == {rule} == spec.meta["expected_findings"]
        assert spec.meta["perturbed_cells"]
        assert all(v >= 0 for row in spec.tables["requests"].values() for v in row)


def test_template_year_mismatch_expects_struct_004():
    spec = make_spec(1, entity="刘楼镇人民政府", year=2022, template="2019")
    assert spec.meta["expected_findings"] == {"STRUCT-004"}


def test_blank_cells_are_null_in_truth_and_marked_in_the_report():
    spec = spec_for(3, 2019, variants=["blank_cells"])
    assert spec.meta["blank_cells"]
    for path in spec.meta["blank_cells"]:
        table, key, col = path.split(".")
        assert expected(spec)["tables"][table][key][int(col)] is None
        assert spec.meta["cell_text"][path] in ("", "/", "-", "—")


@pytest.mark.parametrize("year,money", [(2019, "procurement"), (2021, "fees")])
def test_yuan_amount_is_written_in_yuan_and_true_in_wanyuan(year, money):
    spec = spec_for(4, year, variants=["yuan_amount"])
    amount = expected(spec)["tables"]["active"][money]["amount"]
    assert amount > 0
    assert f"{round(amount * 10000)}元" in render(spec, "txt-tabs").decode()


def test_subtotal_column_and_rows_add_up_and_are_drawn():
    spec = spec_for(1, 2021, "county_gov", variants=["subtotal_column", "subtotal_rows"])
    t = expected(spec)["tables"]
    req = t["requests"]
    assert all(len(row) == 7 for row in req.values())
    assert t["requests_org_subtotal"]["new"] == sum(req["new"][1:6])
    assert t["requests_subtotals"]["unable"] == [sum(req[k][c] for k in req if k.startswith("unable_"))
                                                 for c in range(7)]
    assert set(t["requests_subtotals"]) == {"refused", "unable", "rejected", "other"}
    text = render(spec, "txt-tabs").decode()
    row = next(ln for ln in text.splitlines() if ln.startswith("一、本年新收政府信息公开申请数量"))
    assert len(row.split("\t")) == 11 and "\t小计\t" in text
    assert arith_breaks(t, "2021") == {}


def test_table_image_replaces_table_three():
    spec = spec_for(2, 2019, variants=["table_image"])
    html = render(spec, "html").decode()
    assert "<img" in html and "（一）予以公开" not in html
    assert "requests" not in expected(spec)["tables"]


def test_missing_section_drops_heading_and_its_figures():
    spec = spec_for(2, 2019, variants=["missing_section:active"])
    e = expected(spec)
    assert "active" not in e["sections"] and "active_count" not in e["narrative"]
    assert "二、主动公开政府信息情况" not in render(spec, "txt-cells").decode()
    assert "active" in e["tables"]


def test_text_variants_apply_to_2008_reports():
    spec = spec_for(1, 2017, variants=["repeated_phrase", "wrong_year_plans", "no_period", "early_date"])
    assert spec.meta["expected_findings"] == {"TEXT-004", "TEXT-002", "STRUCT-005", "TIME-002"}
    text = render(spec, "txt-cells").decode()
    assert "统计期限" not in text and "2017年，我镇将" in text


@pytest.mark.parametrize("variants,findings", [
    (["label_typos", "missing_table:requests"], {"STRUCT-002"}),
    (["blank_cells", "table_image"], {"STRUCT-002"}),
    (["wrong_year_plans", "missing_section:problems"], {"STRUCT-001"}),
    (["repeated_phrase", "missing_section:overview"], {"STRUCT-001"}),
    (["arabic_section_numbers", "no_headings"], {"STRUCT-001"}),
    (["yuan_amount", "missing_table:active"], {"STRUCT-002"}),
    (["broken_arith:ARITH-001", "missing_table:requests"], {"STRUCT-002"}),
])
def test_combined_variants_count_only_what_the_report_still_contains(variants, findings):
    for seed in range(4):
        assert spec_for(seed, 2021, variants=variants).meta["expected_findings"] == findings


SAFE_VARIANTS = ["subtotal_column", "subtotal_rows", "blank_cells", "thousands", "fullwidth_digits",
                 "unit_suffix", "label_typos", "no_period", "early_date", "repeated_phrase"]


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10**6), year=st.sampled_from([2019, 2020, 2021, 2023]),
       kind=st.sampled_from(KINDS), variants=st.sets(st.sampled_from(SAFE_VARIANTS), max_size=4))
def test_property_variants_never_break_the_arithmetic(seed, year, kind, variants):
    spec = spec_for(seed, year, kind, variants=sorted(variants))
    assert arith_breaks(spec.tables, spec.template) == {}
    assert not any(r.startswith("ARITH") for r in spec.meta["expected_findings"])
    base = spec_for(seed, year, kind)
    assert spec.narrative.get("requests_new") == base.narrative.get("requests_new")


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10**6), kind=st.sampled_from(KINDS),
       rule=st.sampled_from(["ARITH-001", "ARITH-002", "ARITH-003", "ARITH-004"]))
def test_property_perturbed_cells_are_exactly_the_changed_ones(seed, kind, rule):
    base = spec_for(seed, 2020, kind)
    spec = spec_for(seed, 2020, kind, variants=[f"broken_arith:{rule}"])
    changed = {f"{table}.{key}.{c}"
               for table in ("requests", "review_litigation")
               for key, row in base.tables[table].items()
               for c, v in enumerate(row) if spec.tables[table][key][c] != v}
    assert changed == set(spec.meta["perturbed_cells"])
    assert set(arith_breaks(spec.tables, "2019")) == {rule}


def test_bytes_do_not_depend_on_the_process_hash_seed():
    import subprocess
    import sys
    code = ("import hashlib;from crawler.sim.reportgen import make_spec, render;"
            "s = make_spec(5, entity='刘楼镇人民政府', year=2021, variants=['broken_arith:ARITH-001', "
            "'broken_arith:ARITH-004', 'blank_cells', 'missing_section:other', 'missing_section:problems']);"
            "print(hashlib.sha256(b''.join(render(s, f) for f in ('txt-cells', 'html', 'docx', 'pdf'))).hexdigest())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outs) == 1


@pytest.mark.parametrize("variant,changed", [
    ("wrong_year_plans", {"problems"}), ("repeated_phrase", {"overview"}), ("no_period", {"overview"}),
    ("early_date", set()), ("label_typos", set()), ("blank_cells", set()),
])
@pytest.mark.parametrize("year", [2017, 2021])
def test_a_variant_changes_only_what_it_says(variant, changed, year):
    for seed in range(6):
        try:
            spec = spec_for(seed, year, variants=[variant])
        except ValueError:
            return  # not a 2008 variant
        base = spec_for(seed, year)
        assert {k for k in base.sections if base.sections[k] != spec.sections[k]} <= changed
        assert spec.title == base.title


def test_doc_without_libreoffice_says_what_to_install(monkeypatch):
    from crawler.sim.reportgen import render_doc
    monkeypatch.setattr(render_doc.shutil, "which", lambda name: None)
    with pytest.raises(render_doc.ConverterMissing, match="LibreOffice"):
        render(spec_for(1, 2021), "doc")


# ------------------------------------------------------------------------------- history


HISTORY_BODIES = [("青石镇人民政府", "township"), ("白沙乡人民政府", "township"), ("东关街道办事处", "street"),
                  ("云溪县教育局", "department"), ("云溪县市场监督管理局", "department"),
                  ("云溪县人民政府", "county_gov")]
HISTORY_YEARS = range(2019, 2026)


def _hist_spec(body: int, year: int, salt: int = 0):
    entity, kind = HISTORY_BODIES[body]
    return make_spec(salt + 1009 * body + 31 * year, entity=entity, year=year, entity_kind=kind)


@pytest.mark.parametrize("body", range(len(HISTORY_BODIES)))
def test_carried_figures_agree_between_years_whatever_the_seeds(body):
    for year in range(2019, 2026):
        now, before = _hist_spec(body, year, salt=5), _hist_spec(body, year - 1, salt=77)
        if before.template != "2008":  # 2018 has no table 三; 2020 → 2021 still carries over
            assert now.tables["requests"]["carried_over"] == before.tables["requests"]["carried_forward"]
        if now.template == "2021" and before.template == "2021":
            for row in ("rules", "normative_docs"):
                cur, old = now.tables["active"][row], before.tables["active"][row]
                assert cur["in_force"] == old["in_force"] + cur["issued"] - cur["repealed"]
        if now.template == "2019" and before.template == "2019":
            for row in ("licensing", "other_services", "penalty", "enforcement", "fees"):
                cur, old = now.tables["active"][row], before.tables["active"][row]
                assert cur["prev"] == old["prev"] + old["change"] >= 0
        assert arith_breaks(now.tables, now.template) == {}


def test_history_figures_follow_history_seed_and_other_cells_follow_seed():
    a = make_spec(1, entity="青石镇人民政府", year=2022, entity_kind="county_gov")
    b = make_spec(2, entity="青石镇人民政府", year=2022, entity_kind="county_gov")
    assert a.tables["requests"]["carried_forward"] == b.tables["requests"]["carried_forward"]
    assert a.tables["active"]["normative_docs"] == b.tables["active"]["normative_docs"]
    assert a.tables["requests"] != b.tables["requests"]  # new requests and outcomes still vary
    others = [make_spec(1, entity="青石镇人民政府", year=2022, entity_kind="county_gov", history_seed=h)
              for h in range(1, 6)]
    assert any(o.tables["active"]["normative_docs"] != a.tables["active"]["normative_docs"] for o in others)


def test_broken_arith_on_carried_forward_keeps_its_ground_truth():
    base = make_spec(3, entity="青石镇人民政府", year=2022)
    spec = make_spec(3, entity="青石镇人民政府", year=2022, variants=["broken_arith:ARITH-001"])
    assert spec.tables["requests"]["carried_forward"] != base.tables["requests"]["carried_forward"]
    assert expected(spec)["tables"]["requests"]["carried_forward"] == spec.tables["requests"]["carried_forward"]
    assert spec.meta["expected_findings"] == {"ARITH-001"}


@pytest.fixture(scope="module")
def parsed_history():
    from monitor.engine import check_bytes
    out = {}
    for body in range(len(HISTORY_BODIES)):
        for year in HISTORY_YEARS:
            result = check_bytes(render(_hist_spec(body, year), "txt-cells"))
            assert result.report is not None
            out[body, year] = result.report
    return out


def test_a_countys_generated_reports_raise_no_history_findings(parsed_history):
    from monitor.history import check_history, similarity_pair
    worst = 0.0
    for (body, year), report in parsed_history.items():
        previous = parsed_history.get((body, year - 1))
        peers = [(HISTORY_BODIES[b][0], parsed_history[b, year]) for b in range(len(HISTORY_BODIES)) if b != body]
        fired = [f for f in check_history(report, previous, peers)
                 if f.rule in ("YOY-001", "YOY-002", "YOY-003", "TEXT-003")]
        assert not fired, (HISTORY_BODIES[body][0], year, [(f.rule, f.message) for f in fired])
        for name, peer in peers:
            mine, theirs = similarity_pair(report, peer, b_names=(name,))
            worst = max(worst, mine.score, theirs.score)
        if previous is not None:
            worst = max(worst, similarity_pair(report, previous)[0].score)
    assert worst < 0.35  # well below the 50 % of YOY-003 / TEXT-003 (typically < 30 %)


def test_a_copied_report_still_fires_text_003():
    from monitor.engine import check_bytes
    from monitor.history import check_history
    original = _hist_spec(0, 2022)
    copy_ = _hist_spec(1, 2022)
    copy_.sections = {k: [p.replace(original.entity_short, copy_.entity_short) for p in paras]
                      for k, paras in original.sections.items()}
    a = check_bytes(render(original, "txt-cells")).report
    b = check_bytes(render(copy_, "txt-cells")).report
    fired = check_history(b, None, [(original.entity, a)])
    assert [f.rule for f in fired] == ["TEXT-003"]
