"""What the crawler remembers between runs about list pages (documents live in storage).

Per configured list (a start URL): the validators of each list page (for conditional requests on
lists) and the report links it showed; per report page: the attachments it linked. When a list
answers 304, or the crawl stops paging at already-known items, the links remembered for the pages
not fetched are marked seen, so an unchanged report is never taken for a vanished one (YOY-005).

One JSON file per county under `<data dir>/crawl_state/`, replaced atomically at the end of a run.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class CrawlState:
    path: Path | None = None
    # list page URL → {"etag", "last_modified", "links": [detail URLs], "root": start URL}
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    # report page URL → attachment URLs
    attachments: dict[str, list[str]] = field(default_factory=dict)
    # page URL → listing title, for links whose own page said they are no report (a title cut
    # with … that was something else): not fetched again while the listing says the same
    not_reports: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: str | Path | None, county_code: str) -> CrawlState:
        if data_dir is None:
            return cls()
        path = Path(data_dir) / "crawl_state" / f"{county_code}.json"
        try:
            raw = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError):
            log.warning("crawl state unreadable, starting afresh", extra={"path": str(path)})
            return cls(path)
        return cls(path, dict(raw.get("lists", {})), dict(raw.get("attachments", {})),
                   dict(raw.get("not_reports", {})))

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

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"lists": self.lists, "attachments": self.attachments, "not_reports": self.not_reports},
                      f, ensure_ascii=False)
        os.replace(tmp, self.path)


__all__ = ["CrawlState"]
