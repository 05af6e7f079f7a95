"""What extract refuses, and how: size limit before reading, empty, unknown bytes; sniffing."""

from __future__ import annotations

import os

import pytest

from monitor.errors import ExtractError, TooLargeError
from monitor.extract import DEFAULT_MAX_BYTES, extract, sniff_format


def test_default_limit_is_50_mb() -> None:
    assert DEFAULT_MAX_BYTES == 50 * 1024 * 1024


def test_payload_over_100_mb_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.extract import sniff

    def boom(*args: object) -> None:
        raise AssertionError("sniffed a payload that is over the limit")

    monkeypatch.setattr(sniff, "sniff", boom)
    data = b"%PDF-1.7\n" + bytes(100 * 1024 * 1024 + 1)
    with pytest.raises(TooLargeError) as err:
        extract(data, filename="huge.pdf")
    message = str(err.value)
    assert message.startswith("huge.pdf: 文件过大（100.0 MB），超过上限 50.0 MB")
    assert "104857610 bytes, over the 52428800-byte limit" in message
    assert isinstance(err.value, ExtractError)


def test_custom_limit() -> None:
    with pytest.raises(TooLargeError, match="超过上限"):
        extract(b"x" * 11, max_bytes=10)
    assert extract(b"abc", max_bytes=10).paragraphs == ["abc"]


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_empty_file_is_an_extract_error(data: bytes) -> None:
    with pytest.raises(ExtractError, match="文件为空") as err:
        extract(data, filename="empty.txt")
    assert err.value.source == "empty.txt"


def test_random_bytes_are_an_unknown_format() -> None:
    data = os.urandom(64 * 1024)
    with pytest.raises(ExtractError, match="无法识别的文件格式") as err:
        extract(data, filename="blob.bin")
    assert "unknown or unreadable format" in str(err.value)


def test_name_promising_pdf_does_not_make_text_a_pdf() -> None:
    with pytest.raises(ExtractError, match="无法识别"):
        extract(os.urandom(1000), filename="r.pdf", content_type="application/pdf")


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "fmt"),
    [
        (b"%PDF-1.4 ...", None, None, "pdf"),
        (b"\r\n  %PDF-1.4 junk before the header", None, None, "pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", None, None, "doc"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "a.WPS", None, "wps"),
        (b"{\\rtf1\\ansi hello}", None, None, "rtf"),
        (b"<!DOCTYPE html><html><body>x</body></html>", None, None, "html"),
        ("\ufeff<html><body>报告</body></html>".encode("utf-16"), None, None, "html"),
        ("<p>年度报告</p>".encode("gb18030"), None, None, "html"),
        ("年度报告，无标记的正文".encode("gb18030"), "r.html", None, "html"),
        ("年度报告，无标记的正文".encode(), None, "text/html; charset=utf-8", "html"),
        ("年度报告\n正文".encode(), "r.txt", None, "text"),
    ],
)
def test_sniffing(data: bytes, filename: str | None, content_type: str | None, fmt: str) -> None:
    assert sniff_format(data, filename=filename, content_type=content_type) == fmt


def _samples() -> dict[str, bytes]:
    import io

    import docx

    d = docx.Document()
    d.add_paragraph("某镇2023年政府信息公开工作年度报告")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(1, 1).text = "规章", "3"
    buf = io.BytesIO()
    d.save(buf)
    from reportlab.pdfgen import canvas

    pdf = io.BytesIO()
    c = canvas.Canvas(pdf)
    c.drawString(72, 700, "Report 2023 table 1 2 3")
    c.save()
    html = "<html><head><meta charset=gbk></head><body><div id=zoom><table><tr><td rowspan=2>甲</td></tr></table></div></body></html>"
    return {"r.docx": buf.getvalue(), "r.pdf": pdf.getvalue(), "r.html": html.encode("gbk"),
            "r.txt": "一、总体情况\n\t信息内容\n\t本年新\n制作数量\n".encode("gb18030")}


@pytest.mark.parametrize("name", ["r.docx", "r.pdf", "r.html", "r.txt"])
def test_damaged_files_give_a_document_or_an_extract_error(name: str) -> None:
    import random

    from monitor.document import Document

    rng = random.Random(name)
    data = _samples()[name]
    for k in range(40):
        damaged = bytearray(data)
        if k % 2:
            damaged = damaged[: rng.randrange(1, len(damaged))]
        else:
            for _ in range(rng.randrange(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            assert isinstance(extract(bytes(damaged), filename=name), Document)
        except ExtractError:
            pass


def test_ofd_is_recognised_and_refused_with_advice() -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
    with pytest.raises(ExtractError, match="OFD 版式文件暂不支持") as err:
        extract(buf.getvalue(), filename="报告.ofd")
    assert err.value.source == "报告.ofd"
