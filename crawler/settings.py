"""Every crawl default in one place (Scrapy reads this module with `Settings.setmodule`).

Polite by default: at most 2 concurrent requests per portal, a delay with jitter, AutoThrottle,
robots.txt obeyed, retries with exponential backoff, a size limit per download. `crawl_settings()`
adds what depends on the run (user agent, robots, politeness off for benchmarks).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

BOT_NAME = "nianbao"
SPIDER_MODULES: list[str] = []  # spiders are picked by flavour (crawler.spiders.SPIDERS), not loaded by name

# Overridden by crawl_settings() with the contact URL from the configuration.
USER_AGENT = "nianbao (+https://github.com/nianbao)"

# Politeness. County portals are small government servers: 2 requests at a time per portal
# (download slots are keyed by host:port, see PortalMiddleware), a delay, AutoThrottle on top.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
# A report page or attachment is rarely above a few MB; a scanned PDF can reach tens.
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024

# Only http and https leave the crawler: a portal's link to file:///etc/passwd, ftp://… or data:
# must not read the machine's files or hang on a silent socket (PortalMiddleware drops other
# schemes too; without a handler a request cannot be downloaded at all).
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}

# Every crawl ends (crawler/limits.py): list pages and depth per portal, time per portal; a county
# profile's portal may set its own (max_list_pages, max_depth, time_limit). The run's time limit
# (CLOSESPIDER_TIMEOUT) comes from `nianbao crawl --time-limit` (crawler.runner.RUN_TIME_LIMIT).
NIANBAO_MAX_LIST_PAGES = 300
NIANBAO_MAX_DEPTH = 100
NIANBAO_PORTAL_TIME_LIMIT = 1800

# Retries: 5xx, timeouts and connection errors, with exponential backoff (BackoffRetryMiddleware):
# the n-th retry waits RETRY_BACKOFF_BASE * 2**(n-1) seconds, at most RETRY_BACKOFF_MAX.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0
# A timeout costs DOWNLOAD_TIMEOUT each time: a portal gets one timeout retry per crawl, after
# that its timeouts are failures (BackoffRetryMiddleware).
NIANBAO_TIMEOUT_RETRIES = 1

# Block answers (412/521 challenges, WAF pages, captcha, maintenance) reach nobody but the stats.
NIANBAO_BLOCK_DETECTION = True
# Text markers are looked for only in pages up to this size: a WAF or captcha page is small,
# and a long report page that mentions 验证码 in a comment form is not a captcha page.
NIANBAO_BLOCK_MAX_PAGE = 64 * 1024

# Our own middlewares around Scrapy's. Scrapy's OffsiteMiddleware compares host names only, but
# a portal is host *and* port (and the simulator serves every county on 127.0.0.1), so
# PortalMiddleware replaces it.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.PortalMiddleware": 50,
    "crawler.limits.PortalTimeMiddleware": 60,
    "crawler.middlewares.ConditionalRequestMiddleware": 420,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.BlockDetectionMiddleware": 560,
    "crawler.middlewares.CompressedAsBinaryMiddleware": 595,
    # per host, for the whole cluster (Redis); off unless NIANBAO_POLITENESS_REDIS is set
    "crawler.politeness.ClusterPolitenessMiddleware": 950,
}
# Scrapy's DepthMiddleware counts every link; the depth that matters is that of list pages, which
# ListLimitsMiddleware counts and bounds (with list pages per portal and pagination cycles).
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "crawler.limits.ListLimitsMiddleware": 900,
}
ITEM_PIPELINES = {
    "crawler.pipelines.StoragePipeline": 300,
}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "crawler.pipelines.ProgressExtension": 500,
}

COOKIES_ENABLED = True
HTTPCACHE_ENABLED = False  # conditional requests come from the database, not a disk cache
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# A callback yields a handful of requests and items: Scrapy's default (100) starts 100 asyncio
# workers for every callback's output, which costs more than the crawl itself on small pages. The
# item pipeline only appends to a batch (the batch is written on a worker thread), so one worker
# per callback loses nothing.
CONCURRENT_ITEMS = 1
# Scrapy's check for `return value` in generator callbacks reads and parses each callback's source
# (cached per bound method, so again for every spider instance): a lint for spider authors, not
# part of crawling; ruff and the tests cover our callbacks.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Items are written in batches of this many (or when the spider closes).
NIANBAO_STORE_BATCH = 25

# Politeness off (benchmarks against the simulator only): see crawl_settings(polite=False).
IMPOLITE = {
    "ROBOTSTXT_OBEY": False,
    "DOWNLOAD_DELAY": 0,
    "RANDOMIZE_DOWNLOAD_DELAY": False,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 64,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "RETRY_BACKOFF_BASE": 0.05,
    "RETRY_BACKOFF_MAX": 0.2,
}


def version() -> str:
    try:
        return metadata.version("nianbao")
    except metadata.PackageNotFoundError:
        return "0"


def user_agent(contact_url: str | None) -> str:
    """`nianbao/<version> (+<contact url>)`: operators of a portal can find who crawls them."""
    return f"nianbao/{version()} (+{contact_url or 'https://github.com/nianbao'})"


def crawl_settings(*, contact_url: str | None = None, obey_robots: bool = True, polite: bool = True,
                   overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings one crawl adds to this module's defaults."""
    s: dict[str, Any] = {"USER_AGENT": user_agent(contact_url), "ROBOTSTXT_OBEY": obey_robots}
    if not polite:
        s.update(IMPOLITE)
    s.update(overrides or {})
    return s
