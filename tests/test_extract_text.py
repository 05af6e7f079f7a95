"""Plain-text reports: the real seeds in both serialisations, encodings, paragraphs vs tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.document import Paragraph, Table
from monitor.extract import extract, sniff_format

SEEDS = Path("/work/shared/seeds")
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="seed folder /work/shared/seeds is absent")


def _seed(prefix: str) -> bytes:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_bytes()


@needs_seeds
def test_seed_001_cell_per_line_tables_rebuilt_as_grids() -> None:
    doc = extract(_seed("001"), filename="001.txt")
    assert doc.format == "text"
    assert doc.meta["encoding"] == "utf-8"
    assert [(len(t.rows), len(t.rows[0])) for t in doc.tables] == [(18, 4), (26, 10), (4, 15)]
    active = doc.tables[0].rows
    assert active[0] == ["第二十条第（一）项", "", "", ""]
    # "\t本年新\n公开数量": the continuation line joins its cell, without a space
    assert active[1] == ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"]
    assert active[2] == ["规章", "1", "0", "0"]
    assert active[3] == ["规范性文件", "11", "4", "194"]
    requests = doc.tables[1].rows
    assert requests[1][:4] == ["", "自然人", "法人或其他组织", "总计"]  # the empty "\t" cell is kept
    assert requests[5][:3] == ["三、本年度办理结果", "（一）予以公开", "0"]
    assert doc.tables[2].rows[3] == ["0"] * 15


@needs_seeds
def test_seed_003_tab_separated_rows_padded_to_rectangles() -> None:
    doc = extract(_seed("003"), filename="003.txt")
    shapes = [(len(t.rows), len(t.rows[0])) for t in doc.tables]
    assert shapes == [(18, 4), (26, 11), (4, 15)]
    requests = doc.tables[1].rows
    assert requests[0][2] == "申请人情况" and requests[0][8] == "总计"
    assert requests[3] == ["一、本年新收政府信息公开申请数量", "", "0", "0", "0", "0", "0", "0", "0", "", ""]
    assert requests[7][:4] == ["", "(三) 不予公开", "1.属于国家秘密", ""]
    # a blank line inside the table (before "行政事业性收费") does not split it
    assert ["行政事业性收费", "0", "0", ""] in doc.tables[0].rows
    assert "三、收到和处理政府信息公开申请情况" in doc.paragraphs


@needs_seeds
def test_seed_004_row_whose_first_cell_lost_its_tab_stays_in_the_table() -> None:
    doc = extract(_seed("004"), filename="004.txt")
    assert [(len(t.rows), len(t.rows[0])) for t in doc.tables] == [(18, 4), (27, 10), (4, 15)]
    rows = doc.tables[1].rows
    assert ["（四）无法提供", "1.本机关不掌握相关政府信息", "0", "0", "0", "0", "0", "0", "0", ""] in rows
    assert "（四）无法提供" not in doc.paragraphs


@needs_seeds
@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_seed_reads_with_title_and_sections_in_order(prefix: str) -> None:
    doc = extract(_seed(prefix), filename=f"{prefix}.txt")
    paragraphs = doc.paragraphs
    assert any("报告" in p for p in paragraphs[:2])
    assert all(p == p.strip() and p for p in paragraphs)
    for table in doc.tables:
        assert len({len(r) for r in table.rows}) == 1  # rectangular


@needs_seeds
def test_seed_002_has_no_tables_only_paragraphs() -> None:
    doc = extract(_seed("002"))
    assert doc.tables == []
    assert len(doc.paragraphs) == 24


def test_gb18030_text_and_utf8_bom_decode() -> None:
    body = "一、总体情况\n本年度收到申请3件。\n"
    gbk = extract(body.encode("gb18030"), filename="r.txt")
    assert gbk.meta["encoding"] == "gb18030"
    assert gbk.paragraphs == ["一、总体情况", "本年度收到申请3件。"]
    bom = extract(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert bom.paragraphs == ["一、总体情况", "本年度收到申请3件。"]


def test_cell_per_line_table_ends_at_a_paragraph() -> None:
    text = "二、主动公开政府信息情况\n\t信息内容\n\t本年新\n制作数量\n\n\t规章\n\t3\n\n三、收到和处理政府信息公开申请情况\n"
    doc = extract(text.encode(), filename="r.txt")
    assert doc.blocks == [
        Paragraph("二、主动公开政府信息情况"),
        Table(rows=[["信息内容", "本年新制作数量"], ["规章", "3"]], origin="text:table[1]"),
        Paragraph("三、收到和处理政府信息公开申请情况"),
    ]


def test_tab_rows_pad_short_rows_and_drop_trailing_empty_columns() -> None:
    text = "表\n信息内容\t本年制发件数\t现行有效件数\t\t\n规章\t1\t\t\t\n规范性文件\t2\t3\t\t\n结束\n"
    doc = extract(text.encode())
    assert doc.blocks[1] == Table(
        rows=[["信息内容", "本年制发件数", "现行有效件数"], ["规章", "1", ""], ["规范性文件", "2", "3"]],
        origin="text:table[1]",
    )
    assert doc.paragraphs == ["表", "结束"]


def test_text_is_sniffed_without_a_name() -> None:
    assert sniff_format("报告\n一、总体情况".encode("gb18030")) == "text"
    assert sniff_format(b"plain ascii text\n") == "text"


def test_tab_indented_paragraphs_are_not_a_table() -> None:
    text = "\t一、总体情况\n\n\t本年度我镇主动公开信息120条。\n\n\t二、主动公开政府信息情况\n"
    doc = extract(text.encode())
    assert doc.tables == []
    assert doc.paragraphs == ["一、总体情况", "本年度我镇主动公开信息120条。", "二、主动公开政府信息情况"]


def test_utf8_with_a_stray_bad_byte_is_still_utf8_not_gb18030_garbage() -> None:
    data = "一、总体情况\n本年度收到申请3件。\n".encode() * 20 + b"\xff" + "结束\n".encode()
    doc = extract(data, filename="r.txt")
    assert doc.meta["encoding"] == "utf-8"
    assert doc.paragraphs[:2] == ["一、总体情况", "本年度收到申请3件。"]
    assert doc.paragraphs[-1] == "\ufffd结束"
