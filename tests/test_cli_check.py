"""`nianbao check` through its real entry point: the JSON contract, exit statuses and one clear
line for every kind of bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crawler.sim.reportgen import make_spec, render

NIANBAO = [sys.executable, "-c", "from monitor.cli import main; main()"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NIANBAO, "check", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture
def report_docx(tmp_path: Path) -> Path:
    p = tmp_path / "青石镇.docx"
    p.write_bytes(render(make_spec(5, entity="青石镇人民政府", year=2022, variants=["broken_arith:ARITH-002"]), "docx"))
    return p


def test_json_contract(report_docx: Path) -> None:
    out = run("--json", report_docx)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout.strip())
    assert set(obj) >= {"file", "entity", "year", "template", "published_at", "period", "sections", "tables",
                        "findings"}
    assert (obj["entity"], obj["year"], obj["template"]) == ("青石镇", 2022, "2021")
    assert obj["sections"] == ["overview", "active", "requests", "review_litigation", "problems", "other"]
    assert len(obj["tables"]["requests"]["new"]) == 7
    arith = [f for f in obj["findings"] if f["rule"] == "ARITH-002"]
    assert arith and arith[0]["severity"] == "error" and {"expected", "actual", "row"} <= set(arith[0]["details"])


def test_human_summary_names_body_year_template_and_findings(report_docx: Path) -> None:
    out = run(report_docx)
    assert out.returncode == 0
    assert "青石镇" in out.stdout and "2022" in out.stdout and "2021" in out.stdout
    assert "ARITH-002" in out.stdout and "Traceback" not in out.stdout + out.stderr


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    files = {}
    (p := tmp_path / "empty.pdf").write_bytes(b"")
    files["empty"] = p
    (p := tmp_path / "noise.bin").write_bytes(bytes(range(256)) * 40)
    files["random"] = p
    docx = render(make_spec(1, entity="青石镇人民政府", year=2022), "docx")
    (p := tmp_path / "cut.docx").write_bytes(docx[: len(docx) // 2])
    files["truncated_docx"] = p
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a word document")
    (p := tmp_path / "other.docx").write_bytes(buf.getvalue())
    files["zip_not_docx"] = p
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    pdf = io.BytesIO()
    c = canvas.Canvas(pdf, encrypt=StandardEncryption("user-secret", canPrint=0))
    c.drawString(72, 720, "annual report")
    c.save()
    (p := tmp_path / "locked.pdf").write_bytes(pdf.getvalue())
    files["encrypted_pdf"] = p
    p = tmp_path / "huge.html"
    with p.open("wb") as f:  # sparse: 100 MB on paper, nothing on disk
        f.truncate(100 * 1024 * 1024)
    files["huge"] = p
    return files


@pytest.mark.parametrize("kind, words", [
    ("empty", "空"), ("random", "无法识别"), ("truncated_docx", "DOCX"), ("zip_not_docx", "无法识别"),
    ("encrypted_pdf", "加密"), ("huge", "上限"),
])
def test_unreadable_file_is_one_clear_line_and_exit_2(tmp_path: Path, kind: str, words: str) -> None:
    path = _bad_inputs(tmp_path)[kind]
    out = run(path)
    assert out.returncode == 2
    assert "Traceback" not in out.stdout + out.stderr
    line = next(ln for ln in out.stdout.splitlines() if path.name in ln)
    assert words in line, line


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path, report_docx: Path) -> None:
    bad = _bad_inputs(tmp_path)["random"]
    out = run("--json", bad, report_docx)
    assert out.returncode == 2
    objs = [json.loads(ln) for ln in out.stdout.splitlines()]
    assert "error" in objs[0] and objs[1]["entity"] == "青石镇"


def test_html_without_a_report_is_struct_006(tmp_path: Path) -> None:
    p = tmp_path / "news.html"
    p.write_text("<html><head><meta charset='utf-8'><title>县城新闻</title></head><body><div class='content'>"
                 "<p>本周我县举办了农民丰收节活动，群众踊跃参加。</p><p>活动现场展示了特色农产品。</p>"
                 "</div></body></html>", encoding="utf-8")
    out = run("--json", p)
    assert out.returncode == 0
    assert [f["rule"] for f in json.loads(out.stdout)["findings"]] == ["STRUCT-006"]


def test_image_only_pdf_is_struct_006(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    pdf = io.BytesIO()
    c = canvas.Canvas(pdf)
    c.rect(100, 100, 300, 300, fill=1)  # a page with drawing and no text layer, like a scan
    c.showPage()
    c.save()
    p = tmp_path / "scan.pdf"
    p.write_bytes(pdf.getvalue())
    out = run("--json", p)
    assert out.returncode == 0
    findings = json.loads(out.stdout)["findings"]
    assert [f["rule"] for f in findings] == ["STRUCT-006"]


def test_tables_without_headings(tmp_path: Path) -> None:
    spec = make_spec(9, entity="青石镇人民政府", year=2022, variants=["no_headings"])
    p = tmp_path / "r.html"
    p.write_bytes(render(spec, "html"))
    out = run("--json", p)
    obj = json.loads(out.stdout)
    assert out.returncode == 0
    assert obj["tables"]["requests"] == spec.tables["requests"]
    missing = next(f for f in obj["findings"] if f["rule"] == "STRUCT-001")
    assert len(missing["details"]["missing"]) == 6


def test_a_folder_is_every_report_file_below_it(tmp_path: Path) -> None:
    folder = tmp_path / "下载"
    (folder / "2023").mkdir(parents=True)
    (folder / ".cache").mkdir()
    (folder / "2023" / "a.html").write_bytes(render(make_spec(1, entity="青石镇人民政府", year=2023), "html"))
    (folder / "b.docx").write_bytes(render(make_spec(2, entity="白沙乡人民政府", year=2022), "docx"))
    (folder / ".cache" / "x.html").write_bytes(b"<html></html>")
    (folder / "990101.toml").write_text("[county]\ncode = '990101'\n", "utf-8")
    out = run("--json", folder)
    assert out.returncode == 0, out.stderr
    objs = [json.loads(ln) for ln in out.stdout.splitlines()]
    assert [Path(o["file"]).name for o in objs] == ["a.html", "b.docx"]
    assert [o["entity"] for o in objs] == ["青石镇", "白沙乡"]
