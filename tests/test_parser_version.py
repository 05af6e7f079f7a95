"""`monitor.parse.PARSER_VERSION` changes whenever parse output changes, so stored versions parsed
by an older parser can be told apart (revalidate re-parses them). The test pins a hash of the
parse output of a fixed set of generated reports for the current version: when parsing changes,
it fails until PARSER_VERSION is bumped and the new hash is recorded next to it below."""

from __future__ import annotations

import hashlib
import json

from crawler.sim.reportgen import make_spec, render
from monitor.engine import check_bytes
from monitor.parse import PARSER_VERSION

# PARSER_VERSION → sha256 of the parse output of CORPUS (keep the old lines: a version's output
# never changes once released)
GOLDEN = {
    "1": "51d379d303fc730ddc09964c7a6837a9abcf2bd65dbd0fda0dae6f510e7553d7",
    "2": "2f15a2962921be279e53a6a7006e34ff1c6626e75aea6bc21810a669fc034a65",  # round 2 of the report engine
}
CORPUS = [
    (1, "刘楼镇人民政府", 2022, "township", (), "txt-cells"),
    (2, "刘楼镇人民政府", 2021, "township", ("label_typos", "blank_cells"), "html"),
    (3, "汶上县人民政府", 2020, "county_gov", ("no_period",), "txt-tabs"),
    (4, "汶上县教育局", 2018, "department", (), "html"),
    (5, "东关街道办事处", 2023, "street", ("broken_arith:ARITH-001",), "docx"),
    (6, "白沙乡人民政府", 2024, "township", ("early_date",), "html-gbk"),
]


def corpus_hash() -> str:
    out = []
    for seed, entity, year, kind, variants, fmt in CORPUS:
        spec = make_spec(seed, entity=entity, year=year, entity_kind=kind, variants=variants)
        result = check_bytes(render(spec, fmt), filename=f"r.{fmt.split('-')[0]}")
        assert result.report is not None, result.error
        out.append(result.report.to_dict())
    return hashlib.sha256(json.dumps(out, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def test_parse_output_changes_only_with_the_parser_version() -> None:
    got = corpus_hash()
    assert GOLDEN.get(PARSER_VERSION) == got, (
        f"parse output changed (sha256 {got}): bump monitor.parse.PARSER_VERSION and add "
        f'"<new version>": "{got}" to GOLDEN in {__file__}')
