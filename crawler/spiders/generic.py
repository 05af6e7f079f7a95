"""A portal on no known CMS: any list of links with dates; paging by 下一页/下页 links."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from parsel import Selector
from scrapy.http import Response, TextResponse

from crawler.spiders.base import ListPage, PortalSpider, clean, links_with_dates

_NEXT_TEXT = re.compile(r"^(?:下一页|下页|后页|下一頁|next|>|›|»)$", re.I)


def next_links(sel: Selector, url: str) -> list[str]:
    """Links whose text says "next page" (not 尾页: pages are read in order, so paging can stop)."""
    out: list[str] = []
    for a in sel.xpath("//a[@href]"):
        text = clean(" ".join(a.xpath(".//text()").getall())) or clean(a.attrib.get("title"))
        href = (a.attrib.get("href") or "").strip()
        if _NEXT_TEXT.match(text) and href and not href.startswith(("javascript:", "#")):
            target = urljoin(url, href)
            if target != url and target not in out:
                out.append(target)
    return out[:1]


class GenericSpider(PortalSpider):
    name = "generic"
    flavour = "generic"

    def read_list(self, response: Response) -> ListPage:
        assert isinstance(response, TextResponse)
        return ListPage(links_with_dates(response.selector, response.url),
                        next_links(response.selector, response.url))
