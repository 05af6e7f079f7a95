"""TRS WCM: `/xxgk/gknb/index.shtml`, then `index_1.shtml`, `index_2.shtml`… as the column's
`createPageHTML(countPage, currentPage, "index", "shtml")` call says; report pages
`./202601/t20260115_763295.html` with `<meta name="PubDate">` and a `TRS_Editor` body linking
`./P020260115….pdf` attachments."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from scrapy.http import Response, TextResponse

from crawler.spiders.base import ListPage, PortalSpider, links_with_dates

_CREATE_PAGE = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]+)['\"]")


def next_page(html: str, url: str) -> str | None:
    """The next page of a TRS column, from its createPageHTML(count, current, name, ext) call."""
    m = _CREATE_PAGE.search(html)
    if not m:
        return None
    count, current, name, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    if current + 1 >= count:
        return None
    return urljoin(url, f"{name}_{current + 1}.{ext}")


class TrsSpider(PortalSpider):
    name = "trs"
    flavour = "trs"

    def read_list(self, response: Response) -> ListPage:
        assert isinstance(response, TextResponse)
        nxt = next_page(response.text, response.url)
        return ListPage(links_with_dates(response.selector, response.url), [nxt] if nxt else [])
