"""Items into storage, within the crawl run; progress lines for the parent process.

`StoragePipeline` writes `FetchedDocument` through `storage.repo.record_documents` (record_document
for a whole batch, set-based) and `SeenLinks` through `storage.repo.mark_seen`, in batches of
NIANBAO_STORE_BATCH items per transaction (one `BEGIN IMMEDIATE` per batch rather than per item) on
a worker thread, and counts what storage says:

    nianbao/documents/new | changed | unchanged   (record_document's verdict)
    nianbao/reports/new | changed | unchanged     (the same, for report pages and the files they link)

`ProgressExtension` prints one JSON line per half second on stdout (the runner's child writes
nothing else there) so `nianbao crawl` can draw its progress bar.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.items import FetchedDocument, SeenLinks
from crawler.stats import blocked, pages, stat

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

# Engines shared by every crawler of one crawl child (crawler.runner turns sharing on): a child
# starts a crawler per county and portal flavour, and each making its own engine, pool and first
# connection (SQLite's pragmas) is wasted work. None: each pipeline makes and disposes its own.
_shared_engines: dict[str, Any] | None = None


def share_engines() -> None:
    global _shared_engines
    if _shared_engines is None:
        _shared_engines = {}


def shared_engine(url: str) -> Any:
    """The child's engine for `url` (made on first use); sharing must be on."""
    from storage.db import make_engine

    assert _shared_engines is not None, "share_engines() first"
    engine = _shared_engines.get(url)
    if engine is None:
        engine = _shared_engines[url] = make_engine(url)
    return engine


def dispose_shared_engines() -> None:
    global _shared_engines
    for engine in (_shared_engines or {}).values():
        engine.dispose()
    _shared_engines = None


class StoragePipeline:
    """Batches go to one worker thread (blob writes fsync, SQLite takes a write lock): the reactor
    keeps downloading meanwhile. Batches are written in order, one at a time; the spider closes
    only when every batch is written. Counts reach the stats from the reactor thread."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.db_url = settings.get("NIANBAO_DB_URL")
        self.run_id = settings.getint("NIANBAO_RUN_ID", 0) or None
        if not self.db_url or self.run_id is None:
            raise NotConfigured("NIANBAO_DB_URL and NIANBAO_RUN_ID are needed to store documents")
        self.data_dir = settings.get("NIANBAO_BLOB_DIR")
        self.batch_size = max(1, settings.getint("NIANBAO_STORE_BATCH", 25))
        self.stats = crawler.stats
        self.buffer: list[FetchedDocument | SeenLinks] = []
        self.pending: set[asyncio.Future[dict[str, int]]] = set()
        self.executor: ThreadPoolExecutor | None = None
        self.session_factory: Any = None
        self.blobs: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        from storage.blobs import BlobStore
        from storage.db import make_engine, session_factory

        self.owns_engine = _shared_engines is None
        self.engine = make_engine(self.db_url) if self.owns_engine else shared_engine(self.db_url)
        self.session_factory = session_factory(self.engine)
        self.blobs = BlobStore(self.data_dir)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nianbao-store")

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, FetchedDocument | SeenLinks):
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                self.submit()
        return item

    def submit(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        assert self.executor is not None
        future = asyncio.get_event_loop().run_in_executor(self.executor, self.write, batch)
        self.pending.add(future)
        future.add_done_callback(self.written)

    def written(self, future: asyncio.Future[dict[str, int]]) -> None:
        self.pending.discard(future)
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            self.stats.inc_value("nianbao/store_errors")
            log.error("storing a batch failed", exc_info=exc, extra={"run_id": self.run_id})
            return
        for key, n in future.result().items():
            self.stats.inc_value(key, n)

    async def close_spider(self, spider: Spider | None = None) -> None:
        self.submit()
        while self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.owns_engine:
            self.engine.dispose()

    def write(self, batch: list[FetchedDocument | SeenLinks]) -> dict[str, int]:
        """One transaction for the batch (worker thread). Returns the counts for the stats.
        `record_documents` is `record_document` for the whole batch at once (same rows, same
        verdicts), then `mark_seen` for the URLs met without fetching."""
        from storage.repo import mark_seen, record_documents

        counts: dict[str, int] = {}
        seen: list[str] = []
        docs: list[FetchedDocument] = []
        for item in batch:
            if isinstance(item, SeenLinks):
                seen.extend(item.urls)
            else:
                docs.append(item)
        with self.session_factory() as session, session.begin():
            statuses = record_documents(session, self.blobs, self.run_id, [
                {"url": d.url, "final_url": d.final_url, "content_type": d.content_type, "body": d.body,
                 "listing_title": d.listing_title, "listing_date": d.listing_date,
                 "page_published_at": d.page_published_at, "published_source": d.published_source,
                 "etag": d.etag, "last_modified": d.last_modified, "body_name": d.body_name}
                for d in docs])
            if seen:
                mark_seen(session, self.run_id, seen)
        for item, status in zip(docs, statuses, strict=True):
            for key in (f"nianbao/documents/{status}",
                        *((f"nianbao/reports/{status}",) if item.kind == "page" or item.parent_url is None
                          else ())):
                counts[key] = counts.get(key, 0) + 1
        log.debug("stored batch", extra={"run_id": self.run_id, "items": len(batch)})
        return counts


class ProgressExtension:
    """JSON progress lines on stdout: {"event": "progress", "run_id", "pages", "documents", …}."""

    INTERVAL = 0.5

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NIANBAO_PROGRESS", False):
            raise NotConfigured
        self.crawler = crawler
        self.run_id = crawler.settings.getint("NIANBAO_RUN_ID", 0)
        self.last = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.tick, signal=signals.response_received)
        crawler.signals.connect(ext.final, signal=signals.spider_closed)
        return ext

    def tick(self, *args: Any, **kwargs: Any) -> None:
        now = time.monotonic()
        if now - self.last >= self.INTERVAL:
            self.last = now
            self.emit()

    def final(self, *args: Any, **kwargs: Any) -> None:
        self.emit()

    def emit(self) -> None:
        emit_progress(self.run_id, self.crawler.stats.get_stats())


def emit_progress(run_id: int, stats: dict[str, Any]) -> None:
    line = {"event": "progress", "run_id": run_id, **progress_counts(stats)}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def progress_counts(stats: dict[str, Any]) -> dict[str, int]:
    return {
        "requests": stat(stats, "downloader/request_count"),
        "pages": pages(stats),
        "list_pages": stat(stats, "nianbao/list_pages"),
        "report_links": stat(stats, "nianbao/report_links"),
        "documents": stat(stats, "nianbao/documents/fetched"),
        "blocked": sum(blocked(stats).values()),
        "failed": stat(stats, "nianbao/failed_requests"),
    }


__all__ = ["StoragePipeline", "ProgressExtension", "progress_counts", "emit_progress"]
