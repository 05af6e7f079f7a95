"""Bytes -> `monitor.document.Document`, whatever the format a portal published.

    extract(data, filename=..., content_type=..., max_bytes=...) -> Document

The format is sniffed from the bytes (``%PDF``, a zip holding ``word/document.xml``, an OLE2
compound file, HTML markers), then from the file name and content type. One module per format:
`text`, `html`, `docx`, `legacy` (DOC/WPS/RTF through LibreOffice), `pdf`.

Errors: `TooLargeError` before anything is read when the payload is over the limit;
`ExtractError` when the bytes cannot be read at all (empty, unknown format, corrupt, encrypted).
An image-only PDF, or a DOC without LibreOffice, is not an error: the Document has no blocks and
``meta["unusable"]`` says why in Chinese.
"""

from __future__ import annotations

import logging

from monitor.document import Document
from monitor.errors import ExtractError, TooLargeError

from . import sniff as _sniff

__all__ = ["DEFAULT_MAX_BYTES", "extract", "sniff_format"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def sniff_format(data: bytes, *, filename: str | None = None, content_type: str | None = None) -> str | None:
    """The format name the bytes will be read as ("pdf", "docx", "doc", "wps", "rtf", "html",
    "mht", "text"; "ofd" is recognised only to be refused), or None when the bytes are not a
    format we know."""
    return _sniff.sniff(data, filename, content_type)


def extract(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    max_bytes: int | None = None,
) -> Document:
    """Read a report's bytes into paragraphs and tables in reading order."""
    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    if len(data) > limit:
        raise TooLargeError(
            f"文件过大（{_mb(len(data))}），超过上限 {_mb(limit)}，未读取；如确为年度报告，请调高大小上限后重试。"
            f" / file is {len(data)} bytes, over the {limit}-byte limit; not read — raise max_bytes to read it.",
            source=filename,
        )
    if not data or data.isspace():
        raise ExtractError(
            "文件为空，无法读取；请检查下载是否完整。 / the file is empty; check that the download completed.",
            source=filename,
        )
    fmt = _sniff.sniff(data, filename, content_type)
    if fmt is None:
        raise ExtractError(
            "无法识别的文件格式（不是 PDF、DOCX、DOC/WPS、HTML 或文本），无法读取；请确认链接指向年度报告本身。"
            " / unknown or unreadable format (not PDF, DOCX, DOC/WPS, HTML or text); check the link points"
            " to the report itself.",
            source=filename,
        )
    if fmt == _sniff.OFD:
        raise ExtractError(
            "OFD 版式文件暂不支持读取；请向发布单位索取 PDF 或 Word 版本。"
            " / OFD documents are not supported; ask the publisher for a PDF or Word version.",
            source=filename,
        )
    logger.debug("extracting %s as %s (%d bytes)", filename, fmt, len(data))
    return _read(fmt, data, source=filename, content_type=content_type)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _read(fmt: str, data: bytes, *, source: str | None, content_type: str | None) -> Document:
    # readers are imported on first use: a text-only caller never loads pdfium or lxml
    if fmt == _sniff.PDF:
        from .pdf import read_pdf

        return read_pdf(data, source=source)
    if fmt == _sniff.DOCX:
        from .docx import read_docx

        return read_docx(data, source=source)
    if fmt in (_sniff.DOC, _sniff.WPS, _sniff.RTF):
        from .legacy import read_legacy

        return read_legacy(data, source=source, fmt=fmt)
    if fmt in (_sniff.HTML, _sniff.MHT):
        from .html import mht_html, read_html

        if fmt == _sniff.MHT:
            return read_html(mht_html(data), source=source)
        return read_html(data, source=source, content_type=content_type)
    from .text import read_text

    return read_text(data, source=source)
