"""Shapes of published reports that defeated the reader (issue 14), on a hand-written report
(tests/fixtures/shapes/base_2022.txt, tab-separated, clean: no finding) and the variations of it
that real documents show. Each test asserts the cells read and the exact set of findings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler.sim.reportgen import expected, make_spec, render
from monitor.engine import check_bytes
from monitor.textnorm import squash

BASE = (Path(__file__).parent / "fixtures" / "shapes" / "base_2022.txt").read_text("utf-8")


def check(text: str, name: str = "r.txt"):
    result = check_bytes(text.encode("utf-8"), filename=name)
    assert result.error is None
    return result


def rules(result) -> set[str]:
    return {f.rule for f in result.findings}


def finding(result, rule: str):
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, (rule, result.findings)
    return found[0]


BASE_RESULT = check(BASE)
BASE_TABLES = BASE_RESULT.report.tables


def test_the_base_report_is_clean_and_read_cell_for_cell():
    r = BASE_RESULT.report
    assert rules(BASE_RESULT) == set()
    assert (r.entity, r.year, r.template, r.published_at) == ("白沙乡", 2022, "2021", "2023-01-18")
    assert BASE_TABLES["requests"]["granted"] == [12, 0, 0, 0, 1, 0, 13]
    assert BASE_TABLES["requests"]["unable_not_held"] == [1, 0, 0, 0, 1, 0, 2]
    assert BASE_TABLES["requests"]["total"] == [15, 0, 0, 0, 2, 0, 17]
    assert BASE_TABLES["active"]["normative_docs"] == {"issued": 2, "repealed": 1, "in_force": 5}
    assert BASE_TABLES["active"]["licensing"] == {"decisions": 12}
    assert BASE_TABLES["review_litigation"]["review"] == [1, 0, 0, 0, 1]


# ---- 1. misspelt or garbled row labels ----------------------------------------------------------

TYPOS = {
    "2．其他法律行政法规禁止公开": "2．其他法律行政止公开",  # a character dropped
    "5．属于三类内部事务信息": "5．属于三类部内事务信息",  # two characters swapped
    "1．本机关不掌握相关政府信息": "1．本机关不掌相关政府信息",
    "3．要求提供公开出版物": "3．要求提供公开出物",
}


def test_misspelt_labels_keep_their_rows_and_give_text_001():
    text = BASE
    for right, wrong in TYPOS.items():
        text = text.replace(right, wrong)
    result = check(text)
    assert result.report.tables == BASE_TABLES  # every cell of the misspelt rows kept
    assert rules(result) == {"TEXT-001"}
    variants = finding(result, "TEXT-001").details["variants"]
    assert {(v["row"], v["found"]) for v in variants} == {
        ("refused_law", "其他法律行政止公开"), ("refused_internal", "属于三类部内事务信息"),
        ("unable_not_held", "本机关不掌相关政府信息"), ("rejected_publication", "要求提供公开出物")}
    assert "表三“三（三）2.其他法律行政法规禁止公开”行写成了“其他法律行政止公开”" in finding(result, "TEXT-001").message


def test_a_row_really_absent_is_still_struct_002():
    text = "\n".join(line for line in BASE.splitlines() if "保护第三方合法权益" not in line)
    result = check(text)
    assert rules(result) == {"STRUCT-002"}
    assert finding(result, "STRUCT-002").details["missing_rows"] == ["refused_third_party"]
    assert result.report.tables["requests"]["refused_third_party"] == [None] * 7


def test_a_misspelt_label_is_not_taken_for_a_row_with_another_number():
    # "3." under （三） is 危及…; a label numbered 3 that looks like 4．保护第三方 is not placed there
    text = BASE.replace("4．保护第三方合法权益", "3．保护第三合法权益")
    result = check(text)
    assert "refused_third_party" in finding(result, "STRUCT-002").details["missing_rows"]


# ---- 2. a 2021 table 三 that keeps the 2019 （六）其他处理 row -------------------------------------

OTHER_ROWS = re.compile(r"\t（六）其他处理\t1．申请人.*?\n\t\t3．其他(?:\t0){7}\n", re.S)


def _unsplit(total: str, forward: str) -> str:
    text = OTHER_ROWS.sub("\t（六）其他处理\t1\t0\t0\t0\t0\t0\t1\n", BASE)
    assert text != BASE
    text = text.replace("\t（七）总计\t15\t0\t0\t0\t2\t0\t17", "\t（七）总计\t" + total)
    return text.replace("四、结转下年度继续办理\t\t1\t0\t0\t0\t0\t0\t1", "四、结转下年度继续办理\t\t" + forward)


def test_unsplit_other_row_is_counted_and_the_missing_split_reported():
    result = check(_unsplit("16\t0\t0\t0\t2\t0\t18", "0\t0\t0\t0\t0\t0\t0"))
    req = result.report.tables["requests"]
    assert req["other"] == [1, 0, 0, 0, 0, 0, 1]
    assert req["other_no_correction"] == req["other_no_fee"] == req["other_other"] == [None] * 7
    assert req["total"] == [16, 0, 0, 0, 2, 0, 18]
    assert rules(result) == {"STRUCT-002"}  # ARITH-003 counted the row: the sums hold
    f = finding(result, "STRUCT-002")
    assert f.details["other_split_missing"] is True
    assert f.details["missing_rows"] == ["other_no_correction", "other_no_fee", "other_other"]
    assert "缺少2021年格式要求的三个分项" in f.message


def test_unsplit_other_row_that_breaks_the_sum_says_so_in_arith_003():
    result = check(_unsplit("15\t0\t0\t0\t2\t0\t17", "1\t0\t0\t0\t0\t0\t1"))
    assert rules(result) == {"STRUCT-002", "ARITH-003"}
    found = [f for f in result.findings if f.rule == "ARITH-003"]
    assert {f.details["column"] for f in found} == {0, 6}  # 自然人, 总计
    assert all(f.details["other_split_missing"] and f.details["expected"] - f.details["actual"] == 1
               for f in found)
    assert all("缺少2021年格式的三个分项" in f.message for f in found)


# ---- 3. text with no line breaks --------------------------------------------------------------------

FLAT = " ".join(" ".join(line.split()) for line in BASE.splitlines() if line.strip())


@pytest.mark.parametrize("name, data", [
    ("flat.txt", FLAT),
    ("flat.html", "<html><head><meta charset='utf-8'></head><body><div class='TRS_Editor'>"
                  + FLAT + "</div></body></html>"),
])
def test_flattened_report_reads_like_the_original(name, data):
    assert "\n" not in data.strip()
    result = check(data, name)
    r = result.report
    assert [s.key for s in r.sections] == ["overview", "active", "requests", "review_litigation",
                                            "problems", "other"]
    assert r.tables == BASE_TABLES
    assert (r.entity, r.year, r.period, r.published_at) == (
        "白沙乡", 2022, ["2022-01-01", "2022-12-31"], "2023-01-18")
    assert rules(result) == set()


def test_flattened_report_without_its_tables_is_struct_002_not_struct_001():
    text = FLAT
    for start, end in (("第二十条", "三、收到和处理"), ("（本列数据", "四、政府信息公开行政复议"),
                       ("行政复议 行政诉讼", "五、存在的主要问题")):
        text = text[:text.index(start)] + text[text.index(end):]
    result = check(text)
    assert [s.key for s in result.report.sections] == ["overview", "active", "requests", "review_litigation",
                                                        "problems", "other"]
    assert rules(result) == {"STRUCT-002"}
    assert {f.details["table"] for f in result.findings} == {"active", "requests", "review_litigation"}


# ---- 4. table cells that run together -----------------------------------------------------------------

def _glue_table_3(text: str) -> str:
    """Every row of table 三 written as its label followed by its numbers, no separators."""
    out = []
    inside = False
    for line in text.splitlines():
        inside = inside or line.startswith("一、本年新收")
        cells = line.split("\t")
        if inside and cells[-1].isdigit():
            labels = [c for c in cells if c and not c.isdigit()]
            out.append("\t".join(labels[:-1] + [labels[-1] + "".join(c for c in cells if c.isdigit())]))
        else:
            out.append(line)
        inside = inside and not line.startswith("四、结转下年度")
    return "\n".join(out)


def test_numbers_that_run_together_are_split_by_the_relations():
    text = _glue_table_3(BASE)
    assert "（一）予以公开120001013" in text
    result = check(text)
    assert result.report.tables == BASE_TABLES
    assert rules(result) == set()
    runs = {r["row"]: r["readings"] for r in result.report.notes["digit_runs"]}
    assert runs["granted"] == 2  # 12,0,0,0,1,0,13 or 1,2,0,0,0,10,13: （七）总计 chose
    assert runs["partial"] == 1


def test_flattened_and_run_together():
    flat = " ".join(" ".join(line.split()) for line in _glue_table_3(BASE).splitlines() if line.strip())
    assert "2．其他法律行政法规禁止公开1000001" in flat
    result = check(flat)
    assert result.report.tables == BASE_TABLES
    assert rules(result) == set()


def test_a_run_with_no_reading_stays_unread():
    text = BASE.replace("（二）部分公开（区分处理的，只计这一情形，不计其他情形）\t1\t0\t0\t0\t0\t0\t1",
                        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）\t10001")
    result = check(text)
    assert rules(result) == {"STRUCT-002"}
    assert finding(result, "STRUCT-002").details["missing_rows"] == ["partial"]
    assert result.report.tables["requests"]["partial"] == [None] * 7


def test_two_ambiguous_rows_in_one_relation_stay_unread():
    # 12,0,0,0,1,0,13 and 1,2,0,0,0,10,13 both hold for each row; two unknowns, one relation
    text = BASE.replace("（二）部分公开（区分处理的，只计这一情形，不计其他情形）\t1\t0\t0\t0\t0\t0\t1",
                        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）\t120001013")
    text = text.replace("（一）予以公开\t12\t0\t0\t0\t1\t0\t13", "（一）予以公开120001013")
    result = check(text)
    assert rules(result) >= {"STRUCT-002"}
    f = finding(result, "STRUCT-002")
    assert f.details["unread_digit_runs"] == ["granted", "partial"]
    assert "数字连在一起" in f.message
    assert not rules(result) & {"ARITH-001", "ARITH-003", "STRUCT-007"}


def test_procurement_in_yuan_with_its_numbers_run_together_is_still_plaus_003():
    spec = make_spec(4, entity="青石镇人民政府", year=2020)
    text = render(spec, "txt-tabs").decode("utf-8")
    text, n = re.subn(r"(?m)^政府集中采购\t.*$", "政府集中采购1251000元\t\t\t", text)
    assert n == 1
    result = check(text)
    assert rules(result) - spec.meta["expected_findings"] == {"STRUCT-002", "PLAUS-003"}
    assert finding(result, "STRUCT-002").details["missing_rows"] == ["procurement"]
    plaus = finding(result, "PLAUS-003")
    assert plaus.details["row"] == "procurement" and plaus.details["wan_yuan"] is None
    assert result.report.tables["active"]["procurement"] == {"count": None, "amount": None}


# ---- 6. the 主动公开 total in prose ---------------------------------------------------------------------

@pytest.mark.parametrize("sentence, total", [
    ("全年共公布政府信息86条，其中工作动态40条、采购信息25条、其他应主动公开政府信息21条。", 86),
    ("2022年，白沙乡主动公开政府信息86条，其中采购信息25条，其他应主动公开政府信息1053条。", 86),
    ("本年度主动发布各类政府信息 86 条，其中工作动态40条。", 86),
    ("全年累计主动公开政府信息86余条，政策文件2条。", 86),
])
def test_active_total_comes_from_the_sentence_about_the_total(sentence, total):
    text = BASE.replace("全年共公布政府信息86条，其中工作动态40条、采购信息25条、其他应主动公开政府信息21条。",
                        sentence)
    narrative = check(text).report.narrative
    assert narrative["active_count"] == total
    assert narrative["_sources"]["active_count"]["quote"].startswith(squash(sentence).replace(" ", "")[:12])


# ---- 7. TEXT-004 in every format ------------------------------------------------------------------------

REPEATED = "2022年，白沙乡围绕群众关心的事项做好政府信息公开工作，完善了信息发布审核流程，及时更新公开目录。"


def _html(text: str) -> str:
    body = []
    for line in text.splitlines():
        cells = line.split("\t")
        body.append("<table><tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr></table>"
                    if len(cells) > 2 else f"<p>{line}</p>")
    return "<html><head><meta charset='utf-8'></head><body>" + "".join(body) + "</body></html>"


@pytest.mark.parametrize("form", ["lines", "tab-indented", "wrapped", "html"])
def test_a_paragraph_repeated_next_to_itself_is_text_004_in_every_format(form):
    if form == "lines":
        text, name = BASE.replace(REPEATED, REPEATED + "\n" + REPEATED), "r.txt"
    elif form == "tab-indented":  # Word's text export: paragraphs indented with a TAB, one cell per line
        text, name = BASE.replace(REPEATED, "\t" + REPEATED + "\n\t" + REPEATED), "r.txt"
    elif form == "wrapped":  # a hard line break inside the repeated words
        text, name = BASE.replace("及时更新公开目录。", "及时更新公开目录，\n及时更新公开目录。"), "r.txt"
    else:
        text, name = _html(BASE.replace(REPEATED, REPEATED + "\n" + REPEATED)), "r.html"
    result = check(text, name)
    assert rules(result) == {"TEXT-004"}
    assert result.report.tables["requests"] == BASE_TABLES["requests"]


# ---- 8. the same shapes as generator variants, in the text exports ----------------------------------

SHAPE_VARIANTS = {  # variant → the doc findings it must cause (and nothing else of these families)
    "garbled_labels": {"TEXT-001"}, "other_unsplit": {"STRUCT-002"}, "flat_text": set(),
    "run_together": set(), "prose_breakdown": set(), "repeated_paragraph": {"TEXT-004"},
}
WATCHED = ("STRUCT-", "ARITH-", "TIME-", "TEXT-001", "TEXT-004", "PLAUS-003")


@pytest.mark.parametrize("fmt", ["txt-cells", "txt-tabs"])
@pytest.mark.parametrize("variant", sorted(SHAPE_VARIANTS))
@pytest.mark.parametrize("seed, year", [(11, 2022), (3, 2023), (5, 2020)])
def test_generated_shape_reads_to_ground_truth_with_exact_findings(fmt, variant, seed, year):
    if variant == "other_unsplit" and year < 2021:
        pytest.skip("a 2021-template variant")
    spec = make_spec(seed, entity="青石镇人民政府", year=year, variants=[variant])
    assert spec.meta["expected_findings"] == SHAPE_VARIANTS[variant]
    want = expected(spec)
    result = check(render(spec, fmt).decode("utf-8"))
    r = result.report
    assert r.tables == want["tables"]
    assert (r.year, r.template, r.period, r.published_at) == (
        want["year"], want["template"], want["period"], want["published_at"])
    assert r.narrative.get("active_count") == want["narrative"]["active_count"]
    assert {f for f in rules(result) if f.startswith(WATCHED)} == SHAPE_VARIANTS[variant]


def test_all_shapes_at_once_in_flattened_text():
    spec = make_spec(8, entity="青石镇人民政府", year=2022,
                     variants=["flat_text", "run_together", "garbled_labels", "other_unsplit", "prose_breakdown"])
    result = check(render(spec, "txt-tabs").decode("utf-8"))
    assert "\n" not in render(spec, "txt-tabs").decode("utf-8").strip()
    assert result.report.tables == expected(spec)["tables"]
    assert {f for f in rules(result) if f.startswith(WATCHED)} == {"TEXT-001", "STRUCT-002"}


def test_a_single_reading_that_breaks_a_column_relation_is_not_taken():
    # "2000002" has one reading (2,0,0,0,0,0,2), but then （一）…（六） no longer add up to （七）总计:
    # the glued rows of that relation stay unread (STRUCT-002), no ARITH-003 from a guessed split
    text = _glue_table_3(BASE).replace("（二）部分公开（区分处理的，只计这一情形，不计其他情形）1000001",
                                       "（二）部分公开（区分处理的，只计这一情形，不计其他情形）2000002")
    result = check(text)
    assert rules(result) == {"STRUCT-002"}
    f = finding(result, "STRUCT-002")
    assert "partial" in f.details["unread_digit_runs"] and "total" in f.details["unread_digit_runs"]
    assert result.report.tables["requests"]["new"] == [15, 0, 0, 0, 2, 0, 17]  # its relation holds
