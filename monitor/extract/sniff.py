"""Which reader a payload needs: magic numbers first, then the file name and content type."""

from __future__ import annotations

import io
import re
import zipfile

from .encoding import bom_encoding, mostly_decodes, strip_bom

PDF, DOCX, DOC, WPS, RTF, HTML, TEXT, MHT = "pdf", "docx", "doc", "wps", "rtf", "html", "text", "mht"
OFD = "ofd"  # recognised so the error can say so; not read

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_MARKERS = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|div|table|p|span|br|style|script|!--)[\s>/]", re.I
)
_MIME_VERSION = re.compile(rb"^MIME-Version:", re.I | re.M)
_MULTIPART_RELATED = re.compile(rb"^Content-Type:\s*multipart/related", re.I | re.M)
_EXTENSIONS = {
    ".pdf": PDF, ".docx": DOCX, ".doc": DOC, ".wps": WPS, ".rtf": RTF,
    ".mht": MHT, ".mhtml": MHT, ".html": HTML, ".htm": HTML, ".shtml": HTML, ".xhtml": HTML, ".jsp": HTML, ".txt": TEXT,
}
SUFFIXES = frozenset(_EXTENSIONS)  # file name suffixes of the formats read
_CONTENT_TYPES = {
    "application/pdf": PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
    "application/msword": DOC,
    "application/vnd.ms-works": WPS,
    "application/kswps": WPS,
    "application/rtf": RTF,
    "text/rtf": RTF,
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "text/plain": TEXT,
}


def sniff(data: bytes, filename: str | None = None, content_type: str | None = None) -> str | None:
    """Return one of the format names above, or None when the bytes are not a known format."""
    head = data[:2048]
    if b"%PDF-" in data[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return DOCX if _is_docx(data) else (OFD if b"OFD.xml" in data[:65536] else None)
    if head.startswith(_OLE2):
        return WPS if _hint(filename, content_type) == WPS else DOC
    if head.startswith(b"{\\rtf"):
        return RTF
    if _MIME_VERSION.search(head) and _MULTIPART_RELATED.search(head):
        return MHT
    hint = _hint(filename, content_type)
    if _looks_like_html(head):
        return HTML
    if hint in (PDF, DOCX, DOC, WPS, RTF):
        return None  # the name promises a binary format the bytes are not
    if not _looks_like_text(data):
        return None
    return HTML if hint == HTML else TEXT


def _hint(filename: str | None, content_type: str | None) -> str | None:
    if filename:
        name = filename.lower().split("?", 1)[0]
        for ext, fmt in _EXTENSIONS.items():
            if name.endswith(ext):
                return fmt
    if content_type:
        return _CONTENT_TYPES.get(content_type.split(";", 1)[0].strip().lower())
    return None


def _is_docx(data: bytes) -> bool:
    """A zip holding word/document.xml; a damaged zip whose directory is unreadable counts too
    (the DOCX reader then raises a precise error)."""
    # the zip's central directory (at its end) names every part: no need to parse it to know
    if b"word/document.xml" in data[-65536:]:
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return b"word/" in data[:65536]


def _looks_like_html(head: bytes) -> bool:
    enc = bom_encoding(head)
    if enc and enc.startswith("utf-16"):
        head = strip_bom(head).decode(enc, errors="ignore").encode("utf-8")
    return _HTML_MARKERS.search(head) is not None


def _looks_like_text(data: bytes) -> bool:
    """Decodes (BOM, else UTF-8 or GB18030 save a stray byte) and holds almost no control characters."""
    sample = data[:65536]
    enc = bom_encoding(sample)
    if enc:
        text = strip_bom(sample).decode(enc, errors="replace")
    else:
        candidate = next((c for c in ("utf-8", "gb18030") if mostly_decodes(sample, c)), None)
        if candidate is None:
            return False
        text = sample.decode(candidate, errors="replace")
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f\v")
    return controls <= max(2, len(text) // 200)
