"""Hostile files (issue: hostile portals and files): `nianbao check` answers each with one clear
line naming the limit and exit 2, under an address-space limit and a time limit — never a
traceback, an out-of-memory death or minutes of work. The files are made at test time
(tests/hostile.py); unbounded, each costs from seconds to hours and up to gigabytes."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import hostile

NIANBAO = [sys.executable, "-c", "from monitor.cli import main; main()"]
ADDRESS_SPACE = 1536 * 1024 * 1024  # Python, lxml and PDFium loaded use ~0.5 GB of it


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NIANBAO, "check", *map(str, args)], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "COLUMNS": "300"}, preexec_fn=_limit_memory)


@pytest.mark.parametrize(("name", "build", "limit"), [
    ("altchunk.docx", hostile.docx_altchunk_bomb, "compression ratio of part word/chunk.html"),
    ("parts.docx", hostile.docx_many_parts, "uncompressed size of the DOCX parts"),
    ("tiny.docx", hostile.docx_tiny_paragraphs, "number of XML elements"),
    ("spans.html", hostile.html_span_bomb, "number of cells of one table"),
    ("elements.html", hostile.html_many_elements, "number of HTML elements"),
    ("pages.pdf", hostile.pdf_many_pages, "number of PDF pages"),
    ("chars.pdf", lambda p: hostile.pdf_many_chars(p, pages=12, chars_per_page=90_000),
     "number of characters in the PDF text layer"),
    ("page.pdf", lambda p: hostile.pdf_many_chars(p, pages=1, chars_per_page=200_000),
     "number of characters on one PDF page"),
])
def test_hostile_file_is_refused_naming_the_limit(tmp_path: Path, name: str, build: Callable[[Path], Path],
                                                  limit: str) -> None:
    path = build(tmp_path / name)
    r = check("--json", path)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    out = json.loads(r.stdout)
    assert out["file"] == str(path)
    assert limit in out["error"] and "超过上限" in out["error"], out["error"]


def test_huge_html_page_is_refused_by_size_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_text("<html><body><p>年度报告</p>" + "<p>" + "公开" * 3_000_000 + "</p></body></html>", "utf-8")
    r = check("--json", path)
    assert r.returncode == 2 and "HTML page size" in json.loads(r.stdout)["error"], r.stderr[-2000:]


def test_a_table_within_the_bounds_still_expands_its_spans(tmp_path: Path) -> None:
    from monitor.extract import extract

    html = ('<table><tr><td rowspan="2">项目</td><td colspan="2">数量</td></tr>'
            "<tr><td>新</td><td>旧</td></tr><tr><td>合计</td><td>1</td><td>2</td></tr></table>")
    doc = extract(html.encode(), filename="t.html")
    assert doc.blocks[-1].rows == [["项目", "数量", "数量"], ["项目", "新", "旧"], ["合计", "1", "2"]]


def test_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    r = check("/dev/zero")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "/dev/zero" in r.stdout and "不是普通文件" in r.stdout


def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "report.pdf"
    os.mkfifo(fifo)
    r = check(fifo)
    assert r.returncode == 2 and "不是普通文件" in r.stdout, r.stdout + r.stderr


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = tmp_path / "r.txt"
    path.write_text("x")
    path.chmod(0)
    r = check(path)
    assert r.returncode == 2 and "没有读取权限" in r.stdout


def test_newline_in_a_file_name_stays_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "a\n错误 STRUCT-001 伪造.txt"
    path.write_text("")
    r = check(path)
    assert r.returncode == 2
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and "a\\n错误" in lines[0], r.stdout
