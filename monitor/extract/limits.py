"""Bounds on what a hostile or broken file may cost the readers, in one place.

Every size or count a file declares is untrusted: a zip part can claim any uncompressed size, a
table cell any rowspan, a PDF's page tree any number of pages. Each bound below ends in a
`LimitError` (an `ExtractError`: `nianbao check` exits 2, a crawled document is *unreadable*)
whose message names the limit and the value met, never in minutes of CPU or gigabytes of memory.

An annual report is tens of pages: a DOCX of ~0.2–2 MB of XML and 10⁴–10⁵ XML elements, tables of
a few hundred cells, a PDF of fewer than 100 pages and ~10⁵ characters. The bounds leave one to
two orders of magnitude above that. Change them here (`LIMITS`); the size of a whole file is the
readers' `max_bytes` (`nianbao check --max-bytes`, `DOWNLOAD_MAXSIZE` for the crawler).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.errors import ExtractError

__all__ = ["LIMITS", "Limits", "LimitError"]


@dataclass(frozen=True, slots=True)
class Limits:
    docx_uncompressed: int = 64 * 1024 * 1024  # sum of the DOCX parts read (XML and altChunk), bytes
    docx_ratio: int = 100  # uncompressed / compressed size of one part (Apache POI's zip-bomb bound)
    docx_ratio_from: int = 1024 * 1024  # …checked for parts larger than this (tiny parts compress well)
    xml_elements: int = 1_000_000  # XML elements of all DOCX parts together
    html_bytes: int = 16 * 1024 * 1024  # decoded HTML text (a report page is ~0.1–1 MB)
    html_elements: int = 500_000  # HTML elements of one page
    table_span: int = 100  # rowspan and colspan of one cell
    table_cells: int = 50_000  # cells of one table after spans are expanded
    pdf_pages: int = 500
    pdf_chars: int = 1_000_000  # characters read from a PDF's text layer (a report: ~10⁵)
    pdf_page_chars: int = 100_000  # …from one page (a dense page: ~3,000)


LIMITS = Limits()


class LimitError(ExtractError):
    """A file went past one of `LIMITS`; the message names the limit and the value met."""


def refuse(what: str, value: int, limit: int, *, source: str | None, en: str, unit: str = "",
           unit_en: str = "") -> LimitError:
    """The error for one limit: `what` in Chinese, `en` its English name; `unit` after both numbers."""
    return LimitError(
        f"{what}（{value}{unit}）超过上限 {limit}{unit}，可能是恶意构造或已损坏的文件，未读取。"
        f" / {en} {value}{unit_en} is over the limit of {limit}{unit_en}; not read.",
        source=source,
    )
