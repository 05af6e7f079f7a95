"""What the spiders yield (docs/CONTRACTS.md: crawler → storage → monitor).

`FetchedDocument` is one fetched report page or attachment, stored by `crawler.pipelines` through
`storage.repo.record_document`. `SeenLinks` says which URLs the run met without fetching them again
(list pages, unchanged known documents, 304 answers), stored through `storage.repo.mark_seen`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class FetchedDocument:
    url: str
    final_url: str
    listing_title: str | None
    listing_date: date | None
    # The most trusted publication date found and where it came from (crawler.dates.SOURCES).
    page_published_at: datetime | date | None
    published_source: str
    content_type: str | None
    body: bytes = field(repr=False)
    etag: str | None = None
    last_modified: str | None = None
    # The portal body (township, department…) the report belongs to, from the profile or title.
    body_name: str | None = None
    # "page" (the HTML detail page) or "attachment" (DOC/DOCX/PDF/WPS linked from it).
    kind: str = "page"
    # For an attachment, the report page that links it.
    parent_url: str | None = None
    year: int | None = None


@dataclass(slots=True)
class SeenLinks:
    urls: list[str]
    # "list" (list pages), "known" (listing unchanged, not fetched), "not_modified" (304).
    reason: str = "known"


__all__ = ["FetchedDocument", "SeenLinks"]
