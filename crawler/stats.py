"""Reading the crawl's stats (Scrapy's and our `nianbao/*` keys): one definition of each count
that both the progress lines and the run's summary show."""

from __future__ import annotations

from typing import Any


def stat(stats: dict[str, Any], key: str) -> int:
    """An integer stat (0 when absent or not a number)."""
    v = stats.get(key, 0)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0


def pages(stats: dict[str, Any]) -> int:
    """Pages read: list pages, documents fetched, and documents answered 304 (not modified)."""
    return (stat(stats, "nianbao/list_pages") + stat(stats, "nianbao/documents/fetched")
            + stat(stats, "nianbao/documents/not_modified"))


def blocked(stats: dict[str, Any]) -> dict[str, int]:
    """Blocked answers by kind (412, 521, waf, captcha…)."""
    return {k.rsplit("/", 1)[1]: stat(stats, k) for k in stats
            if k.startswith("nianbao/blocked/") and stat(stats, k)}


__all__ = ["stat", "pages", "blocked"]
