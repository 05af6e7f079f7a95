"""TRS WCM: `/xxgk/gknb/index.shtml`, then `index_1.shtml`, `index_2.shtml`… as the column's
`createPageHTML(countPage, currentPage, "index", "shtml")` call says; report pages
`./202601/t20260115_763295.html` with `<meta name="PubDate">` and a `TRS_Editor` body linking
`./P020260115….pdf` attachments."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from scrapy.http import Response, TextResponse

from crawler.spiders.base import ListPage, PortalSpider, links_with_dates
from crawler.spiders.generic import next_links

_COUNT_PAGE = re.compile(r"\bvar\s+countPage\s*=\s*(\d+)")
_CURRENT_PAGE = re.compile(r"\bvar\s+currentPage\s*=\s*(\d+)")
_OWN_NAME = re.compile(r"/([A-Za-z]+)(?:_\d+)?\.([A-Za-z]+)$")
_CREATE_PAGE = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]+)['\"]")


def next_page(html: str, url: str) -> str | None:
    """The next page of a TRS column, from its createPageHTML(count, current, name, ext) call, or
    from the `var countPage = N; var currentPage = K;` an older template writes inline (the page
    name and extension then are the list page's own: index.shtml → index_1.shtml)."""
    m = _CREATE_PAGE.search(html)
    if m:
        count, current, name, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    else:
        c, k = _COUNT_PAGE.search(html), _CURRENT_PAGE.search(html)
        if not c:
            return None
        count, current = int(c.group(1)), int(k.group(1)) if k else 0
        own = _OWN_NAME.search(urlsplit(url).path)
        name, ext = (own.group(1), own.group(2)) if own else ("index", "html")
    if current + 1 >= count:
        return None
    return urljoin(url, f"{name}_{current + 1}.{ext}")


class TrsSpider(PortalSpider):
    name = "trs"
    flavour = "trs"

    def read_list(self, response: Response) -> ListPage:
        assert isinstance(response, TextResponse)
        nxt = next_page(response.text, response.url)
        # neither pager form: a 下一页 link, before concluding the column has one page
        nexts = [nxt] if nxt else next_links(response.selector, response.url)
        return ListPage(links_with_dates(response.selector, response.url), nexts)
