"""Bounds that make every crawl end: list pages and depth per portal, pagination cycles, time per
portal, time per run.

A hostile or broken portal can page forever (`?p=N` links to `?p=N+1`), link two list pages to
each other, or answer at one byte a second. Each bound below ends that part of the crawl, and one
that was hit is named in the run's stats (`nianbao/limits`, a list of "<limit>: <value> (<portal>)")
so the run is `partial` with the cap named (`crawler.runner.run_status`). A pagination cycle is
not a cap: the page already read is simply not asked again (`nianbao/limits/cycle`).

    list_pages   NIANBAO_MAX_LIST_PAGES     list pages (and list API answers) asked per portal
    depth        NIANBAO_MAX_DEPTH          next-page hops from a configured list URL
    portal_time  NIANBAO_PORTAL_TIME_LIMIT  seconds from a portal's first request; a download
                                            never runs past it (its timeout is cut to what is left)
    run_time     CLOSESPIDER_TIMEOUT        seconds per crawler (set from the run's time limit)

The first three can be set per portal in the county profile (`max_list_pages`, `max_depth`,
`time_limit`); crawler/settings.py holds the defaults.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

log = logging.getLogger(__name__)

LIMITS_KEY = "nianbao/limits"
# profile key → (setting with the default, name in the stats)
PORTAL_LIMITS = {"max_list_pages": ("NIANBAO_MAX_LIST_PAGES", "list_pages"),
                 "max_depth": ("NIANBAO_MAX_DEPTH", "depth"),
                 "time_limit": ("NIANBAO_PORTAL_TIME_LIMIT", "portal_time")}


class LimitReached(IgnoreRequest):
    """A request dropped because its portal reached one of its bounds."""


def portal_key(portal: dict[str, Any] | None) -> str:
    """A portal's name in the stats: its first configured list URL."""
    urls = (portal or {}).get("start_urls") or [""]
    return str(urls[0])


def portal_limit(portal: dict[str, Any] | None, key: str, settings: Any) -> float:
    """The portal's own bound (profile) or the crawl default (settings); 0 or less: no bound."""
    value = (portal or {}).get(key)
    if value is None:
        return settings.getfloat(PORTAL_LIMITS[key][0])
    return float(value)


def record_limit(stats: Any, what: str, value: float | str, where: str) -> None:
    """Name a bound that was hit once per portal in the run's stats (a sorted list)."""
    value = int(value) if isinstance(value, float) and value.is_integer() else value
    entry = f"{what}: {value} ({where})" if where else f"{what}: {value}"
    have = stats.get_value(LIMITS_KEY) or []
    if entry not in have:
        stats.set_value(LIMITS_KEY, sorted({*have, entry}))
        stats.inc_value(f"{LIMITS_KEY}/{what}")
        log.warning("crawl limit reached", extra={"limit": what, "value": value, "portal": where})


class ListLimitsMiddleware(BaseSpiderMiddleware):
    """Spider middleware: list requests the spider yields past their portal's page count or depth,
    or asking again for a list page already asked in this crawl, are dropped. Only what spiders
    yield passes here; retries and re-requests made by downloader middlewares do not."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stats = crawler.stats
        self.settings = crawler.settings
        self.asked: set[tuple[str, str, bytes]] = set()
        self.pages: dict[str, int] = {}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if request.meta.get("nianbao_kind") != "list":
            return request
        key = (request.method, request.url, request.body)
        if key in self.asked:
            self.stats.inc_value(f"{LIMITS_KEY}/cycle")
            log.info("list page asked before: pagination cycle", extra={"url": request.url})
            return None
        portal = request.meta.get("portal")
        where = portal_key(portal)
        depth = (response.meta.get("nianbao_depth", 0) + 1) if response is not None else 0
        max_depth = portal_limit(portal, "max_depth", self.settings)
        if 0 < max_depth < depth:
            record_limit(self.stats, "depth", max_depth, where)
            return None
        max_pages = portal_limit(portal, "max_list_pages", self.settings)
        if 0 < max_pages <= self.pages.get(where, 0):
            record_limit(self.stats, "list_pages", max_pages, where)
            return None
        self.pages[where] = self.pages.get(where, 0) + 1
        self.asked.add(key)
        request.meta["nianbao_depth"] = depth
        return request

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason == "closespider_timeout":
            record_limit(self.stats, "run_time", self.settings.getfloat("CLOSESPIDER_TIMEOUT"), "")


class PortalTimeMiddleware:
    """Downloader middleware: every portal has `time_limit` seconds from its first request. A
    download's timeout is cut to the time left, and a request after that is dropped."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.settings = crawler.settings
        self.deadlines: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PortalTimeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        portal = request.meta.get("portal")
        if portal is None:  # robots.txt and other requests of no portal
            return
        limit = portal_limit(portal, "time_limit", self.settings)
        if limit <= 0:
            return
        where = portal_key(portal)
        now = time.monotonic()
        deadline = self.deadlines.setdefault(where, now + limit)
        left = deadline - now
        if left <= 0:
            record_limit(self.stats, "portal_time", limit, where)
            raise LimitReached(f"portal time limit ({limit:g} s) reached: {request.url}")
        timeout = request.meta.get("download_timeout") or self.settings.getfloat("DOWNLOAD_TIMEOUT")
        request.meta["download_timeout"] = min(timeout, max(left, 0.1))

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        """A download cut short by the portal's deadline names the limit (nothing may follow it)."""
        portal = request.meta.get("portal")
        deadline = self.deadlines.get(portal_key(portal)) if portal is not None else None
        if deadline is not None and time.monotonic() >= deadline - 0.5:
            record_limit(self.stats, "portal_time", portal_limit(portal, "time_limit", self.settings),
                         portal_key(portal))


__all__ = ["ListLimitsMiddleware", "PortalTimeMiddleware", "LimitReached", "LIMITS_KEY", "PORTAL_LIMITS",
           "portal_limit", "record_limit"]
