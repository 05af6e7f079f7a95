"""A plain blocking HTTP client for simulator tests and checks (urllib, no redirects followed, 127.0.0.1 only)."""

from __future__ import annotations

import gzip
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Resp:
    status: int
    headers: dict[str, str]
    body: bytes

    def text(self, encoding: str = "utf-8") -> str:
        return self.body.decode(encoding)


def fetch(url: str, *, headers: dict[str, str] | None = None, form: dict[str, object] | None = None) -> Resp:
    assert urlsplit(url).hostname == "127.0.0.1", url
    data = urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _opener.open(req, timeout=10) as r:
            status, hdrs, body = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, body = e.code, dict(e.headers), e.read()
    if hdrs.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return Resp(status, hdrs, body)


def links(html: str, base: str) -> list[tuple[str, str]]:
    """(absolute href, text) of every <a href> in `html`."""
    return [(urljoin(base, h), re.sub(r"<[^>]+>", "", t)) for h, t in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', html)]
