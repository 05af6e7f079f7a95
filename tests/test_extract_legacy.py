"""DOC/WPS through LibreOffice: a real conversion, the missing-LibreOffice fallback, timeouts."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import docx
import pytest

from monitor.document import Table
from monitor.errors import ExtractError
from monitor.extract import extract, legacy

HAVE_SOFFICE = shutil.which("soffice") is not None
libreoffice = pytest.mark.libreoffice


def _require_soffice() -> None:
    if not HAVE_SOFFICE:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is required when CI=true")
        pytest.skip("LibreOffice (soffice) is not installed")


def _doc_bytes(tmp_path: Path) -> bytes:
    d = docx.Document()
    d.add_paragraph("某街道2023年政府信息公开工作年度报告")
    t = d.add_table(rows=3, cols=3)
    t.style = "Table Grid"
    for i, row in enumerate([["信息内容", "本年制发件数", "现行有效件数"], ["规章", "0", "0"], ["规范性文件", "4", "12"]]):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    t.cell(0, 1).merge(t.cell(0, 2)).text = "数量"
    d.add_paragraph("以上")  # Word always ends with a paragraph; LibreOffice's DOC export drops a last table
    src = tmp_path / "r.docx"
    d.save(src)
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "doc", "--outdir", str(tmp_path), str(src)],
        check=True, capture_output=True, timeout=120,
    )
    return (tmp_path / "r.doc").read_bytes()


@libreoffice
def test_doc_is_converted_and_read_like_docx(tmp_path: Path) -> None:
    _require_soffice()
    data = _doc_bytes(tmp_path)
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    doc = extract(data, filename="r.doc")
    assert doc.format == "doc"
    assert doc.paragraphs == ["某街道2023年政府信息公开工作年度报告", "以上"]
    assert doc.tables == [
        Table(rows=[["信息内容", "数量", "数量"], ["规章", "0", "0"], ["规范性文件", "4", "12"]], origin="docx:table[1]")
    ]
    wps = extract(data, filename="r.wps")
    assert wps.format == "wps" and wps.tables == doc.tables


@libreoffice
def test_garbage_ole2_file_is_an_extract_error() -> None:
    _require_soffice()
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096
    with pytest.raises(ExtractError, match="DOC/WPS 文件无法转换"):
        extract(data, filename="bad.doc")


def test_without_libreoffice_doc_is_unusable_with_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(legacy, "find_soffice", lambda: None)
    doc = extract(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, filename="r.doc")
    assert doc.blocks == []
    assert doc.format == "doc"
    assert doc.meta["unusable"] == legacy.UNUSABLE_NO_SOFFICE
    assert "apt-get install libreoffice-writer-nogui" in doc.meta["unusable"]


def test_conversion_timeout_is_an_extract_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = tmp_path / "soffice"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("NIANBAO_SOFFICE", str(slow))
    with pytest.raises(ExtractError, match="转换超时"):
        legacy.read_legacy(b"\xd0\xcf\x11\xe0", source="slow.doc", timeout=0.5)


FAKE_SOFFICE = """#!{python}
import shutil, sys
from pathlib import Path
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(args[0] + "\\n")
out = Path(args[args.index("--outdir") + 1])
out.mkdir(parents=True, exist_ok=True)
shutil.copy({docx!r}, out / (Path(args[-1]).stem + ".docx"))
"""


def test_each_conversion_uses_its_own_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    template = tmp_path / "converted.docx"
    d = docx.Document()
    d.add_paragraph("转换结果")
    d.save(template)
    log = tmp_path / "calls.log"
    fake = tmp_path / "soffice"
    fake.write_text(FAKE_SOFFICE.format(python=sys.executable, log=str(log), docx=str(template)))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("NIANBAO_SOFFICE", str(fake))
    docs = [extract(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), filename=f"{i}.doc") for i in range(2)]
    assert [d.paragraphs for d in docs] == [["转换结果"], ["转换结果"]]
    assert docs[0].meta["converted_by"] == "libreoffice"
    profiles = log.read_text().split()
    assert len(profiles) == 2 and len(set(profiles)) == 2
    assert all(p.startswith("-env:UserInstallation=file://") for p in profiles)
