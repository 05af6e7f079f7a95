"""Text decoding for plain text and HTML: declared charset, BOM, then detection.

Chinese portals label pages gb2312 or gbk while using characters only GB18030 has, so every
member of the GB family is decoded as gb18030 (a strict superset).
"""

from __future__ import annotations

import codecs
import logging
import re

logger = logging.getLogger(__name__)

_GB_FAMILY = {"gb2312", "gbk", "gb_2312-80", "gb_2312", "x-gbk", "cp936", "ms936", "euc-cn", "gb18030", "hz-gb-2312"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)


def normalise_charset(name: str | None) -> str | None:
    """Return a Python codec name for a declared charset, or None when it is unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in _GB_FAMILY or name.startswith("gb"):
        return "gb18030"
    if name in {"utf8", "utf-8", "unicode-1-1-utf-8"}:
        return "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CHARSET_PARAM.search(content_type)
    return normalise_charset(m.group(1)) if m else None


def bom_encoding(data: bytes) -> str | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def strip_bom(data: bytes) -> bytes:
    for bom, _ in _BOMS:
        if data.startswith(bom):
            return data[len(bom):]
    return data


def decode_strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def mostly_decodes(data: bytes, encoding: str) -> bool:
    """True when at most a few bytes are invalid in `encoding` (a stray byte, a cut at the end)."""
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        return False
    return text.count("\ufffd") <= max(2, len(text) // 2000)


def detect(data: bytes) -> str:
    """Best guess when nothing is declared: UTF-8 (allowing a stray bad byte: GB18030 would
    "decode" any UTF-8 into garbage), then GB18030, then charset-normalizer."""
    if decode_strict(data, "utf-8") is not None or mostly_decodes(data, "utf-8"):
        return "utf-8"
    if decode_strict(data, "gb18030") is not None or mostly_decodes(data, "gb18030"):
        return "gb18030"
    from charset_normalizer import from_bytes  # imported lazily: only needed for odd pages

    best = from_bytes(data[:200_000]).best()
    guess = normalise_charset(best.encoding) if best is not None else None
    logger.debug("charset-normalizer guessed %s", guess)
    return guess or "gb18030"


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a plain-text file: BOM, else UTF-8, else GB18030 (never fails: bad bytes replaced)."""
    enc = bom_encoding(data)
    if enc:
        return strip_bom(data).decode(enc, errors="replace"), enc
    enc = detect(data)
    return data.decode(enc, errors="replace"), enc
