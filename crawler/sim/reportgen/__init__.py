"""Generated 政府信息公开工作年度报告 with their ground truth.

    spec = make_spec(7, entity="刘楼镇人民政府", year=2019, variants=["blank_cells"])
    data = render(spec, "docx")          # bytes of a report file
    truth = expected(spec)               # what `nianbao check --json` must read from it
    spec.meta["expected_findings"]       # the doc-rule IDs it must raise

Used by the report-engine tests, the benchmarks, the portal simulator and `nianbao demo`.
Modules: `spec` (content and ground truth, variants), `numbers` (figures, 勾稽关系 checker),
`layout` (official table layouts as data), `prose` (Chinese text), `document` (the block
sequence every format renders), `render_*` (one module per format family).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .render_text import render_cells, render_tabs
from .spec import (
    PARAM_VARIANTS,
    VARIANT_DOCS,
    VARIANTS,
    ReportSpec,
    concrete_variants,
    default_template,
    expected,
    make_spec,
)

FORMATS = ("txt-cells", "txt-tabs", "html", "html-gbk", "docx", "pdf", "doc")
EXTENSIONS = {"txt-cells": "txt", "txt-tabs": "txt", "html": "html", "html-gbk": "html",
              "docx": "docx", "pdf": "pdf", "doc": "doc"}
CONTENT_TYPES = {
    "txt-cells": "text/plain; charset=utf-8", "txt-tabs": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8", "html-gbk": "text/html; charset=gbk",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf", "doc": "application/msword",
}


def _renderer(fmt: str) -> Callable[[ReportSpec], bytes]:
    if fmt == "txt-cells":
        return render_cells
    if fmt == "txt-tabs":
        return render_tabs
    if fmt in ("html", "html-gbk"):
        from .render_html import render_html
        return lambda spec: render_html(spec, gbk=fmt == "html-gbk")
    if fmt == "docx":
        from .render_docx import render_docx
        return render_docx
    if fmt == "pdf":
        from .render_pdf import render_pdf
        return render_pdf
    if fmt == "doc":
        from .render_doc import render_doc
        return render_doc
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def render(spec: ReportSpec, fmt: str) -> bytes:
    """The report as the bytes of a file in `fmt` (one of FORMATS)."""
    return _renderer(fmt)(spec)


def render_many(specs: Iterable[ReportSpec], fmt: str) -> list[bytes]:
    """Render a batch; for "doc" all conversions share one LibreOffice run."""
    specs = list(specs)
    if fmt == "doc":
        from .render_doc import render_doc_many
        return render_doc_many(specs)
    r = _renderer(fmt)
    return [r(s) for s in specs]


__all__ = ["FORMATS", "EXTENSIONS", "CONTENT_TYPES", "VARIANTS", "VARIANT_DOCS", "ReportSpec", "make_spec",
           "render", "render_many", "expected", "default_template", "PARAM_VARIANTS", "concrete_variants"]
