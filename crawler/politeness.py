"""Politeness for a whole cluster: per portal host, a request rate (token bucket), a cap on
concurrent requests and a back-off after a block, kept in Redis so that every worker's crawl
obeys the same limits (Scrapy's own DOWNLOAD_DELAY and CONCURRENT_REQUESTS_PER_DOMAIN hold per
process only).

    NIANBAO_POLITENESS_REDIS = "redis://127.0.0.1:6379/0"   # empty: off (NotConfigured)
    NIANBAO_POLITENESS_RATE = 1.0          # requests per second per host, the whole cluster
    NIANBAO_POLITENESS_BURST = 2           # the bucket's size
    NIANBAO_POLITENESS_CONCURRENCY = 2     # requests in flight per host, the whole cluster
    NIANBAO_POLITENESS_LEASE = 120         # s: a slot of a crashed crawl is free again after this
    NIANBAO_POLITENESS_BLOCK_BACKOFF = 600 # s: after a block answer, nobody asks that host
    NIANBAO_POLITENESS_PREFIX = "nianbao:polite:"  # Redis key prefix (clusters sharing a Redis)

One Lua script decides atomically (on the Redis server's clock, so worker clocks may differ):
blocked → wait until the back-off ends; cap reached → wait a moment; no token → wait until the
next one; else take a token and a slot (a sorted-set member that expires after the lease). The
downloader middleware waits (asyncio) before the request and gives the slot back when its answer
or error comes. The host is the URL's host name without the port: the port is the same machine.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.middlewares import classify_block

log = logging.getLogger(__name__)

PREFIX = "nianbao:polite:"
MAX_WAIT = 5.0  # s: one wait is at most this long, then the script is asked again

# KEYS: bucket (hash), in-flight (zset), blocked-until (string, ms)
# ARGV: rate (/s), burst, cap, lease (ms), member
# returns: 0 = go (token and slot taken), else milliseconds to wait before asking again
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, cap, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return blocked - now end
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= cap then return 25 end
end
local tokens, ts = burst, now
if rate > 0 then
  local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
  if b[1] then
    tokens = math.min(burst, tonumber(b[1]) + (now - tonumber(b[2])) * rate / 1000)
  end
  if tokens < 1 then
    redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
    redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
    return math.max(1, math.ceil((1 - tokens) * 1000 / rate))
  end
  redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'ts', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
end
if cap > 0 then
  redis.call('ZADD', KEYS[2], now + lease, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], lease + 1000)
end
return 0
"""

# KEYS: blocked-until; ARGV: back-off (ms). The later end wins.
BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > old then redis.call('SET', KEYS[1], until_, 'PX', tonumber(ARGV[1]) + 1000) end
return until_
"""


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def keys(host: str, prefix: str = PREFIX) -> list[str]:
    return [f"{prefix}{host}:bucket", f"{prefix}{host}:inflight", f"{prefix}{host}:blocked"]


class HostLimiter:
    """The Redis side, usable with a sync (`redis.Redis`) or async (`redis.asyncio.Redis`) client."""

    def __init__(self, client: Any, *, rate: float = 1.0, burst: int = 2, concurrency: int = 2,
                 lease: float = 120.0, block_backoff: float = 600.0, prefix: str = PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self.rate, self.burst, self.concurrency = float(rate), max(1, int(burst)), max(0, int(concurrency))
        self.lease_ms, self.block_ms = int(lease * 1000), int(block_backoff * 1000)
        self._acquire = client.register_script(ACQUIRE)
        self._block = client.register_script(BLOCK)

    def acquire_args(self, host: str, member: str) -> tuple[list[str], list[Any]]:
        return keys(host, self.prefix), [self.rate, self.burst, self.concurrency, self.lease_ms, member]

    def try_acquire(self, host: str, member: str) -> Any:
        """0 when taken, else ms to wait (a coroutine with an async client)."""
        k, a = self.acquire_args(host, member)
        return self._acquire(keys=k, args=a)

    def release(self, host: str, member: str) -> Any:
        return self.client.zrem(keys(host, self.prefix)[1], member)

    def block(self, host: str) -> Any:
        return self._block(keys=[keys(host, self.prefix)[2]], args=[self.block_ms])


class ClusterPolitenessMiddleware:
    """Downloader middleware: waits for the host's token and slot in Redis before each request."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        url = s.get("NIANBAO_POLITENESS_REDIS") or ""
        if not url:
            raise NotConfigured("cluster politeness off (no NIANBAO_POLITENESS_REDIS)")
        import redis.asyncio as aredis

        self.client = aredis.Redis.from_url(url)
        self.limiter = HostLimiter(self.client, rate=s.getfloat("NIANBAO_POLITENESS_RATE", 1.0),
                                   burst=s.getint("NIANBAO_POLITENESS_BURST", 2),
                                   concurrency=s.getint("NIANBAO_POLITENESS_CONCURRENCY", 2),
                                   lease=s.getfloat("NIANBAO_POLITENESS_LEASE", 120.0),
                                   block_backoff=s.getfloat("NIANBAO_POLITENESS_BLOCK_BACKOFF", 600.0),
                                   prefix=s.get("NIANBAO_POLITENESS_PREFIX") or PREFIX)
        self.stats = crawler.stats
        self.max_page = s.getint("NIANBAO_BLOCK_MAX_PAGE", 64 * 1024)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterPolitenessMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = host_of(request.url)
        if not host:
            return None
        member = f"{uuid.uuid4().hex}"
        waited = 0.0
        while True:
            wait_ms = int(await self.limiter.try_acquire(host, member))
            if wait_ms <= 0:
                break
            delay = min(MAX_WAIT, wait_ms / 1000)
            waited += delay
            await asyncio.sleep(delay)
        request.meta["nianbao_polite_slot"] = (host, member)
        if waited and self.stats is not None:
            self.stats.inc_value("nianbao/politeness/wait_ms", int(waited * 1000))
        return None

    async def _release(self, request: Request) -> None:
        slot = request.meta.pop("nianbao_polite_slot", None)
        if slot is not None:
            await self.limiter.release(*slot)

    async def process_response(self, request: Request, response: Response,
                               spider: Spider | None = None) -> Response:
        await self._release(request)
        kind = classify_block(status=response.status, body=response.body,
                              content_type=response.headers.get(b"Content-Type", b"").decode("latin-1"),
                              max_page=self.max_page)
        if kind is not None or response.status == 429:
            host = host_of(request.url)
            await self.limiter.block(host)
            log.warning("host blocked us: every worker backs off", extra={"host": host, "kind": kind or "429"})
            if self.stats is not None:
                self.stats.inc_value("nianbao/politeness/backoff")
        return response

    async def process_exception(self, request: Request, exception: Exception,
                                spider: Spider | None = None) -> None:
        await self._release(request)
        return None


def scrapy_settings(politeness: Any) -> dict[str, Any]:
    """The Scrapy settings of a `PolitenessSettings` section ({} when off)."""
    if not politeness.redis_url:
        return {}
    return {"NIANBAO_POLITENESS_REDIS": politeness.redis_url, "NIANBAO_POLITENESS_RATE": politeness.rate,
            "NIANBAO_POLITENESS_BURST": politeness.burst, "NIANBAO_POLITENESS_CONCURRENCY": politeness.concurrency,
            "NIANBAO_POLITENESS_LEASE": politeness.lease_seconds,
            "NIANBAO_POLITENESS_BLOCK_BACKOFF": politeness.block_backoff_seconds,
            "NIANBAO_POLITENESS_PREFIX": politeness.prefix}


__all__ = ["ClusterPolitenessMiddleware", "HostLimiter", "host_of", "scrapy_settings", "ACQUIRE"]
