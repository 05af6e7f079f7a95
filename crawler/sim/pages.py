"""What the simulated sites answer: a request in, a `Page` out, plus the HTML helpers they share."""

from __future__ import annotations

import gzip
import hashlib
import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal

PageKind = Literal["list", "detail", "attachment", "api", "robots", "other", "error", "fault"]


@dataclass(slots=True)
class SimRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    host: str  # "127.0.0.1:PORT", as the client sent it
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Page:
    """An answer. Big cached pages are `compact()`ed: kept gzipped only, inflated for clients that
    do not ask for gzip (crawlers do), so a cache holds every page of a 100-county nation."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    kind: PageKind = "other"
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    _etag: str | None = None
    _gz: bytes | None = None
    _compact: bool = False
    _size: int = -1

    @property
    def etag(self) -> str:
        if self._etag is None:
            self._etag = '"' + hashlib.sha1(self.raw()).hexdigest()[:20] + '"'
        return self._etag

    @property
    def http_last_modified(self) -> str | None:
        if self.last_modified is None:
            return None
        return format_datetime(self.last_modified.astimezone(UTC), usegmt=True)

    def raw(self) -> bytes:
        """The body as served without Content-Encoding."""
        if self._compact:
            assert self._gz is not None
            return gzip.decompress(self._gz)
        return self.body

    def gzipped(self) -> bytes:
        if self._gz is None:
            self._gz = gzip.compress(self.body, compresslevel=1, mtime=0)
        return self._gz

    def compact(self) -> Page:
        """Keep only the gzipped body (validators computed first)."""
        if not self._compact:
            _ = self.etag
            self._size = len(self.body)
            self.gzipped()
            self.body = b""
            self._compact = True
        return self

    @property
    def is_compact(self) -> bool:
        return self._compact

    @property
    def size(self) -> int:
        """Bytes this page holds in memory."""
        return len(self._gz or b"") if self._compact else len(self.body) + len(self._gz or b"")

    @property
    def conditional(self) -> bool:
        """Whether this answer carries validators (and so may answer 304)."""
        return self.status == 200 and self.kind in ("list", "detail", "attachment", "api")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def encode_html(text: str, encoding: str) -> bytes:
    if encoding == "utf-8":
        return text.encode("utf-8")
    return text.encode("gbk", errors="xmlcharrefreplace")


def html_content_type(encoding: str) -> str:
    # GBK portals usually send a bare text/html and rely on the <meta> charset.
    return "text/html; charset=utf-8" if encoding == "utf-8" else "text/html"


def meta_charset(encoding: str) -> str:
    return "utf-8" if encoding == "utf-8" else "gb2312"


def redirect(location: str, status: int = 301) -> Page:
    body = f'<html><head><title>{status} Moved Permanently</title></head><body><a href="{esc(location)}">moved</a></body></html>'
    return Page(status, body.encode(), kind="other", headers={"Location": location})


def not_found(encoding: str = "utf-8") -> Page:
    body = (
        f'<!DOCTYPE html><html><head><meta charset="{meta_charset(encoding)}"><title>404 页面不存在</title>'
        "</head><body><h1>404</h1><p>对不起，您访问的页面不存在或已被删除。</p></body></html>"
    )
    return Page(404, encode_html(body, encoding), html_content_type(encoding), kind="error")


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A valid grey PNG (stands in for the scanned-table images Word exports link)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xc0" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
