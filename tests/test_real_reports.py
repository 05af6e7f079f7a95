"""Real published reports (tests/fixtures/real, origins in SOURCES): what the engine must read from
each and the findings it must give, checked by hand against the text. The stored texts stop after
about 1,500 characters, so most are cut before their last sections and tables: STRUCT-001/002 on
them are right (the file lacks those parts), and the rows before the cut must be read."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from monitor.engine import check_bytes

REAL = Path(__file__).parent / "fixtures" / "real"
Z7 = [0] * 7
NONE7 = [None] * 7

# file → (year, template, period, {rule: count}, narrative figures, checks of fields and cells)
EXPECTED = {
    "gansu_qinan_xingguo_2025.txt": (
        # the title sits below the portal's chrome and the period lost its 年/月 ("2025111231日"):
        # no year is read, so no template rule can apply (page chrome in titles: a separate item)
        None, "2008", [None, None], {}, {}, {"sections": ["overview"]}),
    "shandong_wenshang_guocang_2025.txt": (
        2025, "2021", ["2025-01-01", "2025-12-31"], {"STRUCT-001": 1, "STRUCT-002": 3},
        {"active_count": 53, "requests_new": 0}, {"entity": "郭仓镇", "sections": ["overview"]}),
    "xinjiang_xjnlk_township_2023.txt": (
        None, "2021", None, {"STRUCT-001": 1, "STRUCT-002": 2, "STRUCT-005": 1}, {},
        {"sections": ["overview", "active", "requests"],
         "active": {"rules": {"issued": 0, "repealed": 0, "in_force": 6},
                    "normative_docs": {"issued": 0, "repealed": 0, "in_force": 0},
                    "licensing": {"decisions": 0}, "penalty": {"decisions": 0},
                    "enforcement": {"decisions": 0}, "fees": {"amount": 0}},
         "requests": {"new": Z7, "carried_over": Z7, "granted": Z7, "partial": Z7,
                      "refused_state_secret": Z7, "refused_law": Z7, "refused_security": Z7,
                      "refused_third_party": Z7, "refused_internal": Z7,
                      "refused_process": NONE7, "total": NONE7}}),
    "shandong_weishan_liangcheng_2020.txt": (
        2020, "2019", ["2020-01-01", "2020-12-31"], {"STRUCT-001": 1, "STRUCT-002": 2}, {},
        {"sections": ["overview", "active", "requests"],
         "active": {"rules": {"made": 0, "published": 0, "total": 0},
                    "normative_docs": {"made": 0, "published": 0, "total": 0},
                    "licensing": {"prev": 0, "change": 0, "decisions": 0},
                    "other_services": {"prev": 0, "change": 0, "decisions": 0},
                    "penalty": {"prev": 0, "change": 0, "decisions": 0},
                    "enforcement": {"prev": 0, "change": 0, "decisions": 0},
                    "fees": {"prev": 0, "change": 0}, "procurement": {"count": 0, "amount": 0}},
         "requests": {"new": Z7, "carried_over": Z7, "granted": NONE7}}),
    "jilin_dongchang_jinchang_2025.txt": (
        # "所列数据截止日期为20251231日": the 年/月 were lost, no period can be read
        2025, "2021", None, {"STRUCT-001": 1, "STRUCT-002": 3, "STRUCT-005": 1}, {"active_count": 23},
        {"entity": "金厂镇", "sections": ["overview"]}),
    "sichuan_dazhu_chaoyang_2016.txt": (
        2016, "2008", ["2016-01-01", "2016-12-31"], {}, {"active_count": 138, "requests_new": 0},
        {"entity": "朝阳乡", "sections": ["overview", "active", "requests", "review_litigation", "problems"]}),
    "hubei_jingmen_dongbao_2021.txt": (
        # cites 国办公开办函〔2021〕30号; "全区全年主动公开…8659条" is the whole district's figure
        2021, "2021", ["2021-01-01", "2021-12-31"], {"STRUCT-001": 1, "STRUCT-002": 3}, {},
        {"sections": ["overview"]}),
    "chongqing_tongliang_government_2021.txt": (
        2021, "2021", ["2021-01-01", "2021-12-31"], {"STRUCT-001": 1, "STRUCT-002": 3}, {},
        {"sections": ["overview"]}),
    "fujian_fuzhou_jinan_2016.txt": (
        2016, "2008", ["2016-01-01", "2016-12-31"], {}, {}, {"sections": ["overview"]}),
    "fujian_chengxiang_development_2021.txt": (
        # the preamble lists the six parts of the 2021 format; the text stops inside section 一
        2021, "2021", ["2021-01-01", "2021-12-31"], {"STRUCT-001": 1, "STRUCT-002": 3},
        {"active_count": 89, "requests_new": 0}, {"sections": ["overview"]}),
    "shaanxi_yangling_statistics_2020.txt": (
        # "截至2020年12月31日" is no statement of the period; the title is not in the text
        None, "2019", None, {"STRUCT-001": 1, "STRUCT-002": 3, "STRUCT-005": 1}, {},
        {"sections": ["overview", "active"],
         "active": {"rules": {"made": 0, "published": 0, "total": 0},
                    "normative_docs": {"made": 0, "published": 0, "total": 0},
                    "licensing": {"prev": 0, "change": 0, "decisions": 0},
                    "other_services": {"prev": 0, "change": 0, "decisions": 0},
                    "penalty": {"prev": 0, "change": 0, "decisions": 0},
                    "enforcement": {"prev": 0, "change": 0, "decisions": 0},
                    "fees": {"prev": None, "change": None},
                    "procurement": {"count": None, "amount": None}}}),
    "hainan_tunchang_department_2015.txt": (
        2015, "2008", None, {"STRUCT-005": 1}, {"active_count": 62, "requests_new": 0},
        {"sections": ["active", "requests", "problems"]}),
}


def test_every_real_report_has_its_expectations_and_a_source():
    files = sorted(p.name for p in REAL.glob("*.txt"))
    assert files == sorted(EXPECTED)
    sources = (REAL / "SOURCES").read_text("utf-8")
    assert all(f in sources for f in files)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_report(name):
    year, template, period, findings, narrative, checks = EXPECTED[name]
    result = check_bytes((REAL / name).read_bytes(), filename=name)
    assert result.error is None
    r = result.report
    assert (r.year, r.template, r.period) == (year, template, period)
    assert Counter(f.rule for f in result.findings) == Counter(findings)
    assert {k: v for k, v in r.narrative.items() if k in ("active_count", "requests_new")} == narrative
    if "entity" in checks:
        assert r.entity == checks["entity"]
    assert [s.key for s in r.sections] == checks["sections"]
    for table in ("active", "requests"):
        for row, cells in checks.get(table, {}).items():
            assert r.tables[table][row] == cells, (table, row)
