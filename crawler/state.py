"""What the crawler remembers between runs about list pages (documents live in storage).

Per configured list (a start URL): the validators of each list page (for conditional requests on
lists) and the report links it showed; per report page: the attachments it linked. When a list
answers 304, or the crawl stops paging at already-known items, the links remembered for the pages
not fetched are marked seen, so an unchanged report is never taken for a vanished one (YOY-005).

Kept in the database with the documents (`storage.models.CrawlPage`, one row per list page and
per report page with attachments), loaded when the county's first crawler starts and written in
the transaction that finishes the run. Only one crawl of a county runs at a time (the crawl_runs
partial unique index), so the run that finishes writes the whole memory. (Before migration 0003
it was a JSON file per county under `<data dir>/crawl_state/`; such files are no longer read: the
first crawl after the upgrade fetches every list page in full.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass
class CrawlState:
    # list page URL → {"etag", "last_modified", "links": [detail URLs], "root": start URL}
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    # report page URL → attachment URLs
    attachments: dict[str, list[str]] = field(default_factory=dict)
    # page URL → listing title, for links whose own page said they are no report (a title cut
    # with … that was something else): not fetched again while the listing says the same
    not_reports: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, county_code: str) -> CrawlState:
        from storage.models import CrawlPage

        state = cls()
        for row in session.scalars(select(CrawlPage).where(CrawlPage.county_code == county_code)):
            if row.kind == "list":
                state.lists[row.url] = {"root": row.root, "etag": row.etag, "last_modified": row.last_modified,
                                        "links": list(row.links or [])}
            elif row.kind == "not_report":
                state.not_reports[row.url] = str((row.links or [""])[0])
            else:
                state.attachments[row.url] = list(row.links or [])
        return state

    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        entry = self.lists.get(url)
        if not entry or not (entry.get("etag") or entry.get("last_modified")):
            return None
        return entry.get("etag"), entry.get("last_modified")

    def remember_list(self, url: str, *, root: str, etag: str | None, last_modified: str | None,
                      links: list[str]) -> None:
        self.lists[url] = {"root": root, "etag": etag, "last_modified": last_modified, "links": links}

    def links_under(self, root: str) -> list[str]:
        """Every report link remembered for the list pages of `root`, with their attachments."""
        out: list[str] = []
        for entry in self.lists.values():
            if entry.get("root") == root:
                for link in entry.get("links", []):
                    out.append(link)
                    out.extend(self.attachments.get(link, []))
        return out

    def links_of(self, url: str) -> list[str]:
        entry = self.lists.get(url) or {}
        out: list[str] = []
        for link in entry.get("links", []):
            out.append(link)
            out.extend(self.attachments.get(link, []))
        return out

    def save(self, session: Session, county_code: str, now: datetime) -> None:
        """Replace the county's memory with this one (inside the caller's transaction)."""
        from storage.models import CrawlPage

        session.execute(delete(CrawlPage).where(CrawlPage.county_code == county_code))
        rows = [{"county_code": county_code, "kind": "list", "url": url, "root": e.get("root"),
                 "etag": e.get("etag"), "last_modified": e.get("last_modified"), "links": list(e.get("links", [])),
                 "updated_at": now} for url, e in self.lists.items()]
        rows += [{"county_code": county_code, "kind": "page", "url": url, "root": None, "etag": None,
                  "last_modified": None, "links": list(links), "updated_at": now}
                 for url, links in self.attachments.items()]
        rows += [{"county_code": county_code, "kind": "not_report", "url": url, "root": None, "etag": None,
                  "last_modified": None, "links": [title], "updated_at": now}
                 for url, title in self.not_reports.items()]
        if rows:
            session.execute(insert(CrawlPage), rows)


__all__ = ["CrawlState"]
