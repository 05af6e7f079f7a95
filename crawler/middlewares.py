"""Downloader middlewares: stay on the portal, ask conditionally, retry with backoff, detect blocks.

As in Scrapy's own `retry.py`, the logic lives in public keyword-only functions (`on_portal`,
`conditional_headers`, `backoff_delay`, `classify_block`, `jsl_clearance_cookie`) and the classes
only wrap them. Stats keys are literal paths read by the crawl-health rules:

    nianbao/blocked/<kind>   412 | 521 | waf | captcha | maintenance | 403   (CRAWL-001; the
                             kinds and the page markers behind them: crawler/blocks.py)
    nianbao/offsite          requests (or redirects) off the portal's own hosts, dropped
    nianbao/not_modified     304 answers to our conditional requests
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest, NotConfigured
from scrapy.http import Response
from twisted.internet.error import TimeoutError as TxTimeoutError

from crawler.blocks import BLOCK_KINDS, classify_block

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

log = logging.getLogger(__name__)



class BlockedError(IgnoreRequest):
    """The portal answered with a challenge or block page instead of content."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        super().__init__(f"blocked ({kind}): {url}")


class MovedOffPortal(IgnoreRequest):
    """The portal redirected a request to a host that is not one of its own (a site merger,
    集约化, or a column moved to the city's platform): the profile needs the new address."""

    def __init__(self, origin: str, target: str) -> None:
        self.origin = origin
        self.target = target
        super().__init__(f"moved off the portal: {origin} → {target}")


# --- staying on the portal --------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}


def netloc(url: str) -> str:
    """`host:port` in lower case, the scheme's default port dropped (`example.gov.cn`)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme):
        return host
    return f"{host}:{port}"


WEB_SCHEMES = frozenset(("http", "https"))


def is_web_url(url: str) -> bool:
    """Only http and https: a portal's page may link file:///etc/passwd, ftp://… or data:."""
    return urlsplit(url).scheme.lower() in WEB_SCHEMES


def on_portal(url: str, *, hosts: Collection[str]) -> bool:
    """Whether `url` is an http(s) URL on one of the portal's hosts (`host` or `host:port`, as
    `netloc()` gives).

    Unlike Scrapy's OffsiteMiddleware the port counts: 127.0.0.1:8001 and 127.0.0.1:8002 are two
    portals. A bare host also allows its subdomains (`www.x.gov.cn` under `x.gov.cn`), not ports.
    """
    if not is_web_url(url):  # file://HOST:PORT/etc/passwd names the portal's host:port too
        return False
    if not hosts:
        return True
    loc = netloc(url)
    if loc in hosts:
        return True
    if ":" in loc:
        return False
    return any(":" not in h and loc.endswith("." + h) for h in hosts)


class PortalMiddleware:
    """Drops requests off the spider's `allowed_hosts`; keys download slots by host:port so the
    per-site concurrency limit holds per portal even when portals share an address."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PortalMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider) -> None:
        hosts: Collection[str] = getattr(spider, "allowed_hosts", ())
        if not (request.meta.get("allow_offsite") or on_portal(request.url, hosts=hosts)):
            self.stats.inc_value("nianbao/offsite")
            redirected_from = request.meta.get("redirect_urls") or []
            if redirected_from:
                log.warning("redirected off the portal", extra={"url": redirected_from[0], "target": request.url})
                raise MovedOffPortal(redirected_from[0], request.url)
            log.info("off-portal request dropped", extra={"url": request.url})
            raise IgnoreRequest(f"off the portal's hosts: {request.url}")
        request.meta.setdefault("download_slot", netloc(request.url))


# --- conditional requests ---------------------------------------------------------------------

def conditional_headers(*, etag: str | None, last_modified: str | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from what we stored for this URL."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


class ConditionalRequestMiddleware:
    """Adds validators from `request.meta["nianbao_validators"] = (etag, last_modified)` and lets
    the 304 answer through to the spider (our own conditional requests, not HttpCacheMiddleware:
    the validators live in the database with the documents, not in a disk cache)."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider) -> None:
        validators = request.meta.get("nianbao_validators")
        if not validators or request.meta.get("nianbao_conditional_done"):
            return None
        etag, last_modified = validators
        for name, value in conditional_headers(etag=etag, last_modified=last_modified).items():
            request.headers.setdefault(name, value)
        request.meta["nianbao_conditional_done"] = True
        allowed = list(request.meta.get("handle_httpstatus_list", ()))
        if 304 not in allowed:
            request.meta["handle_httpstatus_list"] = [*allowed, 304]
        return None

    def process_response(self, request: Request, response: Response, spider: Spider) -> Response:
        if response.status == 304:
            self.stats.inc_value("nianbao/not_modified")
        return response


# --- retries with backoff ---------------------------------------------------------------------

def backoff_delay(*, retry_times: int, base: float, cap: float) -> float:
    """Seconds to wait before the `retry_times`-th retry: base, 2·base, 4·base… at most `cap`."""
    if retry_times <= 0 or base <= 0:
        return 0.0
    return min(cap, base * 2 ** (retry_times - 1))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (5xx, timeouts, connection errors), waiting before each retry.

    The wait happens after the download slot is released, so other portals go on meanwhile."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        # timeout retries left per portal (download slot) in this crawl: a slow portal costs
        # DOWNLOAD_TIMEOUT per try, so its timeouts are retried once, not RETRY_TIMES each
        self.timeout_retries = settings.getint("NIANBAO_TIMEOUT_RETRIES", 1)
        self.timeouts: dict[str, int] = {}

    async def _wait(self, result: Any) -> Any:
        if isinstance(result, Request):
            delay = backoff_delay(retry_times=result.meta.get("retry_times", 0), base=self.base,
                                  cap=self.cap)
            if delay:
                await asyncio.sleep(delay)
        return result

    async def process_response(self, request: Request, response: Response,  # type: ignore[override]
                               spider: Spider | None = None) -> Request | Response:
        return await self._wait(super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception,  # type: ignore[override]
                                spider: Spider | None = None) -> Request | Response | None:
        if isinstance(exception, _TIMEOUTS):
            slot = request.meta.get("download_slot") or netloc(request.url)
            used = self.timeouts.get(slot, 0)
            if used >= self.timeout_retries:
                log.info("timeout not retried", extra={"url": request.url, "portal": slot})
                return None
            self.timeouts[slot] = used + 1
        return await self._wait(super().process_exception(request, exception))


_TIMEOUTS = (DownloadTimeoutError, TimeoutError, TxTimeoutError)


# --- compressed answers ----------------------------------------------------------------------

class CompressedAsBinaryMiddleware:
    """Hands HttpCompressionMiddleware a plain `Response` for a compressed answer.

    Scrapy builds a TextResponse for a gzipped text/html answer before decompressing it; replacing
    it then reads its `encoding`, and without a charset in Content-Type that runs charset detection
    (charset_normalizer) over the *compressed* bytes — tens of milliseconds per page, for nothing.
    As a plain Response it has no encoding to guess; HttpCompressionMiddleware picks the right class
    for the decompressed body. Runs just before it on the response path (priority 595 > 590).
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CompressedAsBinaryMiddleware:
        return cls()

    def process_response(self, request: Request, response: Response, spider: Spider) -> Response:
        if type(response) is Response or not response.headers.get(b"Content-Encoding"):
            return response
        return Response(url=response.url, status=response.status, headers=response.headers,
                        body=response.body, flags=response.flags, request=response.request,
                        certificate=response.certificate, ip_address=response.ip_address,
                        protocol=response.protocol)


# --- block detection --------------------------------------------------------------------------

_JSL = re.compile(r"""document\.cookie\s*=\s*(['"])(__jsl_clearance(?:_s)?)=([^;'"]+)[^'"]*\1""")


def jsl_clearance_cookie(body: bytes) -> tuple[str, str] | None:
    """The cookie of the simple one-step 加速乐 page (`document.cookie='__jsl_clearance=…'`),
    when it is a plain literal; computed cookies (the multi-step form) give None."""
    m = _JSL.search(body[:20_000].decode("utf-8", "replace"))
    return (m.group(2), m.group(3)) if m else None


class BlockDetectionMiddleware:
    """Counts challenge/WAF/captcha/maintenance answers (`crawler.blocks.classify_block`: by content,
    at any status) as `nianbao/blocked/<kind>` and keeps them
    from the spider (they raise BlockedError, so the request's errback sees them as blocked, never
    as an empty list). A spider with `allow_cookie_challenge = True` may pass the simple 521 form
    once per request by setting the literal cookie and asking again."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NIANBAO_BLOCK_DETECTION", True):
            raise NotConfigured
        self.stats = crawler.stats
        self.max_page = crawler.settings.getint("NIANBAO_BLOCK_MAX_PAGE", 64 * 1024)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockDetectionMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Spider) -> Request | Response:
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        kind = classify_block(status=response.status, body=response.body, content_type=ctype,
                              max_page=self.max_page)
        if kind is None:
            return response
        if kind == "521" and getattr(spider, "allow_cookie_challenge", False) \
                and not request.meta.get("nianbao_jsl_tried"):
            cookie = jsl_clearance_cookie(response.body)
            if cookie is not None:
                self.stats.inc_value("nianbao/challenge/passed_521")
                retry = request.replace(cookies={**_cookies(request), cookie[0]: cookie[1]},
                                        dont_filter=True)
                retry.meta["nianbao_jsl_tried"] = True
                return retry
        self.stats.inc_value(f"nianbao/blocked/{kind}")
        log.warning("blocked", extra={"kind": kind, "url": request.url, "status": response.status})
        raise BlockedError(kind, request.url)


def _cookies(request: Request) -> dict[str, str]:
    c = request.cookies
    if isinstance(c, dict):
        return {str(k): str(v) for k, v in c.items()}
    return {}


__all__ = ["BLOCK_KINDS", "BlockedError", "MovedOffPortal", "netloc", "on_portal", "conditional_headers",
           "backoff_delay", "classify_block", "jsl_clearance_cookie", "PortalMiddleware",
           "ConditionalRequestMiddleware", "BackoffRetryMiddleware", "BlockDetectionMiddleware",
           "CompressedAsBinaryMiddleware"]
