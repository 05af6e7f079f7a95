"""广东 gkmlpt: `/gkmlpt/index` is a script page; the data come from
`/gkmlpt/api/all/<cat_id>?page=1&sid=<sid>` (JSON: `articles` with id, title, url, date /
first_publish_time as epoch seconds, attachment; `total`), `page=` until `articles` is empty.
Options: `sid`, `cat_id` (or `api`: the full API path with {page} in it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from scrapy.http import Request, Response

from crawler.dates import parse_datetime
from crawler.spiders.base import ListItem, ListPage, PortalSpider

log = logging.getLogger(__name__)


def api_items(data: dict[str, Any], base_url: str) -> list[ListItem]:
    items: list[ListItem] = []
    for art in data.get("articles") or []:
        url = art.get("url") or art.get("link")
        title = art.get("title") or ""
        if not url or not title:
            continue
        when = None
        for key in ("first_publish_time", "date", "publish_time", "display_publish_time"):
            if art.get(key) not in (None, "", 0):
                when = parse_datetime(art[key])
                if when is not None:
                    break
        atts: list[tuple[str, str]] = []
        raw = art.get("attachment") or art.get("attachments") or []
        if isinstance(raw, dict):
            raw = list(raw.values())
        for a in raw if isinstance(raw, list) else []:
            if isinstance(a, dict) and (a.get("url") or a.get("link")):
                atts.append((urljoin(base_url, a.get("url") or a.get("link")), str(a.get("name") or "")))
            elif isinstance(a, str):
                atts.append((urljoin(base_url, a), ""))
        items.append(ListItem(urljoin(base_url, url), title.strip(), when.date() if when else None, when, atts))
    return items


class GkmlptSpider(PortalSpider):
    name = "gkmlpt"
    flavour = "gkmlpt"

    def portal_requests(self, portal: dict[str, Any]) -> Iterable[Request]:
        for start in portal.get("start_urls", []):
            yield self.list_request(self.api_url(portal, start, 1), portal=portal, root=start,
                                    meta={"gk_page": 1, "gk_start": start})

    def api_url(self, portal: dict[str, Any], start: str, page: int) -> str:
        opts = self.options(portal)
        parts = urlsplit(start)
        if "/api/" in parts.path:
            base = f"{parts.scheme}://{parts.netloc}{parts.path}"
            q = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
            q["page"] = str(page)
            return f"{base}?{urlencode(q)}"
        if opts.get("api"):
            return urljoin(start, str(opts["api"]).format(page=page))
        prefix = parts.path.split("/gkmlpt/")[0]
        cat = opts.get("cat_id", opts.get("catId", ""))
        query = {"page": page}
        if opts.get("sid") is not None:
            query["sid"] = opts["sid"]
        return f"{parts.scheme}://{parts.netloc}{prefix}/gkmlpt/api/all/{cat}?{urlencode(query)}"

    def read_list(self, response: Response) -> ListPage:
        try:
            data = json.loads(response.body.decode(response.meta.get("encoding", "utf-8"), "replace"))
        except ValueError:
            log.warning("gkmlpt API answered no JSON", extra={"url": response.url})
            return ListPage([])
        items = api_items(data if isinstance(data, dict) else {}, response.url)
        if not items:
            return ListPage([])
        page = response.meta.get("gk_page", 1)
        total = data.get("total") or 0
        per = len(data.get("articles") or [])
        if total and per and page * per >= int(total):
            return ListPage(items)
        start = response.meta.get("gk_start", response.meta["root"])
        nxt = self.list_request(self.api_url(response.meta["portal"], start, page + 1),
                                portal=response.meta["portal"], root=response.meta["root"],
                                meta={"gk_page": page + 1, "gk_start": start})
        return ListPage(items, [nxt])
