"""Report bytes for the simulator: a bridge to the report generator, a byte-bounded cache.

The report generator (`crawler.sim.reportgen`) is written in parallel; until it lands (or if it
fails on a spec) a small stand-in body is used so the simulator still serves every page.
"""

from __future__ import annotations

import hashlib
import html
import logging
import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

# Attachment formats: pdf, docx and doc as the report generator renders them; wps is a WPS Writer
# file (the legacy binary format, served as a download of unknown type, as portals do); scan is a
# scanned report: a PDF of page images without a text layer.
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "wps": "application/octet-stream",
    "scan": "application/pdf",
}
ATTACHMENT_LABELS = {"pdf": "【下载PDF】", "docx": "【下载Word】", "doc": "【下载Word】", "wps": "【下载WPS】",
                     "scan": "【下载PDF】"}
EXTENSIONS = {"scan": "pdf"}  # the file name extension of a format, where it is not its name


def extension(fmt: str) -> str:
    return EXTENSIONS.get(fmt, fmt)
# pooled reports are rendered for these names (one per reportgen entity kind), then renamed
PLACEHOLDERS = {
    "township": "甲乙镇人民政府",
    "street": "甲乙街道办事处",
    "department": "甲乙县丙丁局",
    "county_gov": "甲乙县人民政府办公室",
}


def stable_rng(*parts: object) -> random.Random:
    """A `random.Random` seeded from `parts` the same way in every process (no `hash()`)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def stable_int(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big")


def _reportgen() -> Any | None:
    try:
        from crawler.sim import reportgen  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - absent or broken: fall back, say so once
        return None
    return reportgen


def make_spec(seed: int, *, entity: str, year: int, entity_kind: str, variants: Iterable[str]) -> Any | None:
    gen = _reportgen()
    if gen is None:
        return None
    try:
        return gen.make_spec(seed, entity=entity, year=year, entity_kind=entity_kind, variants=tuple(variants))
    except Exception:  # noqa: BLE001
        log.exception("reportgen.make_spec failed", extra={"entity": entity, "year": year})
        return None


def editor_inner(page: str) -> str:
    """The inside of the first `<div class="TRS_Editor">` of a rendered page (nested divs counted)."""
    start = page.find('class="TRS_Editor"')
    if start < 0:
        body_at = page.find("<body")
        if body_at < 0:
            return page
        inner = page[page.find(">", body_at) + 1 :]
        end = inner.rfind("</body>")
        return inner[:end] if end >= 0 else inner
    pos = page.find(">", start) + 1
    begin, depth = pos, 1
    lower = page.lower()
    while depth and pos < len(page):
        nxt_open = lower.find("<div", pos)
        nxt_close = lower.find("</div", pos)
        if nxt_close < 0:
            return page[begin:]
        if 0 <= nxt_open < nxt_close:
            depth += 1
            pos = nxt_open + 4
        else:
            depth -= 1
            pos = nxt_close + 5
            if depth == 0:
                return page[begin:nxt_close]
    return page[begin:]


def fallback_body(entity: str, year: int, seed: int) -> str:
    rng = random.Random(seed)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{rng.randint(0, 300)}</td></tr>"
        for label in ("制定件数", "废止件数", "现行有效件数", "处理决定数量")
    )
    return (
        f'<p class="MsoNormal" align="center"><b>{html.escape(entity)}{year}年政府信息公开工作年度报告</b></p>'
        '<p class="MsoNormal">本报告根据《中华人民共和国政府信息公开条例》编制。</p>'
        '<p class="MsoNormal">一、总体情况</p>'
        f'<table border="1" cellspacing="0">{rows}</table>'
        '<p class="MsoNormal">二、存在的主要问题及改进情况</p>'
    )


def report_body_html(spec: Any | None, *, entity: str, year: int, seed: int) -> str:
    """The report as an HTML fragment (what a portal puts inside its article body)."""
    gen = _reportgen()
    if spec is not None and gen is not None:
        try:
            page = gen.render(spec, "html").decode("utf-8")
            return editor_inner(page)
        except Exception:  # noqa: BLE001
            log.exception("reportgen.render html failed", extra={"entity": entity, "year": year})
    return fallback_body(entity, year, seed)


def report_file(spec: Any | None, fmt: str, *, entity: str, year: int, seed: int) -> bytes:
    """The report as an attachment file (one of ATTACHMENT_TYPES)."""
    if fmt == "scan":
        return scanned_pdf(seed)
    gen = _reportgen()
    if spec is not None and gen is not None:
        try:
            return gen.render(spec, "doc" if fmt == "wps" else fmt)
        except Exception:  # noqa: BLE001
            log.exception("reportgen.render failed", extra={"entity": entity, "year": year, "fmt": fmt})
    text = f"{entity}{year}年政府信息公开工作年度报告 (stand-in {fmt}, seed {seed})\n"
    if fmt == "pdf":
        return b"%PDF-1.4\n% stand-in\n" + text.encode("utf-8") + b"%%EOF\n"
    return text.encode("utf-8")


def scanned_pdf(seed: int, pages: int = 3) -> bytes:
    """A scanned report: A4 pages that are each one grey image, no text layer at all."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from crawler.sim.pages import tiny_png

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    width, height = A4
    image = ImageReader(io.BytesIO(tiny_png(60 + seed % 7, 85)))
    for _ in range(pages):
        pdf.drawImage(image, 20, 20, width - 40, height - 40)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def short_of(entity: str) -> str:
    gen = _reportgen()
    if gen is not None:
        try:
            from crawler.sim.reportgen.spec import short_name

            return short_name(entity)
        except Exception:  # noqa: BLE001
            pass
    for suffix in ("人民政府", "办事处"):
        if entity.endswith(suffix) and len(entity) > len(suffix):
            return entity[: -len(suffix)]
    return entity


def swap_names(text: str, old: str, new: str) -> str:
    """Rename a placeholder body (full and short names) in rendered text."""
    text = text.replace(old, new)
    old_short, new_short = short_of(old), short_of(new)
    if old_short != old:
        text = text.replace(old_short, new_short)
    return text


def swap_names_bytes(data: bytes, old: str, new: str, encoding: str) -> bytes:
    """`swap_names` on encoded HTML (the placeholder's characters are all multi-byte, so matches align)."""
    from crawler.sim.pages import encode_html

    data = data.replace(encode_html(old, encoding), encode_html(new, encoding))
    old_short, new_short = short_of(old), short_of(new)
    if old_short != old:
        data = data.replace(encode_html(old_short, encoding), encode_html(new_short, encoding))
    return data


def swap_docx(data: bytes, old: str, new: str) -> bytes:
    """The DOCX with the placeholder body renamed in its XML parts (runs holding the whole name)."""
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info)
            if info.filename.endswith(".xml"):
                part = swap_names(part.decode("utf-8"), old, new).encode("utf-8")
            dst.writestr(info, part)
    return out.getvalue()


def respec(spec: Any, entity: str) -> Any:
    """A copy of a pooled spec naming `entity` instead of its placeholder."""
    import copy

    new = copy.copy(spec)
    old = spec.entity
    new.entity = entity
    new.entity_short = short_of(entity)
    new.title = swap_names(spec.title, old, entity)
    return new


_local = threading.local()


def defer_renders(on: bool) -> None:
    """In this thread, a cache miss raises `NeedsRender` instead of rendering (the server's loop
    thread: renders take 10 ms–seconds and would stall every county)."""
    _local.defer = on


class NeedsRender(Exception):  # noqa: N818 - a signal, not an error
    """A cache miss in a thread that must not render; `run()` renders and stores (any thread)."""

    def __init__(self, cache: ByteLRU, key: object, make: Callable[[], Any], size: Callable[[Any], int]) -> None:
        super().__init__(key)
        self.cache, self.key, self.make, self.size = cache, key, make, size

    def run(self) -> None:
        defer_renders(False)
        self.cache.get_or_make(self.key, self.make, self.size)


class ByteLRU:
    """A thread-safe LRU cache bounded by the total size of its byte values."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[object, tuple[int, Any]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get_or_make(self, key: object, make: Callable[[], Any], size: Callable[[Any], int]) -> Any:
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
                return hit[1]
        if getattr(_local, "defer", False):
            raise NeedsRender(self, key, make, size)
        value = make()
        n = size(value)
        with self._lock:
            if key not in self._data:
                self._data[key] = (n, value)
                self._size += n
            while self._size > self.max_bytes and len(self._data) > 1:
                _, (m, _) = self._data.popitem(last=False)
                self._size -= m
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._data)
