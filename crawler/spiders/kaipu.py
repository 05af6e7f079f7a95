"""开普云 Kaipu: column lists `/<site>/<column>/index.shtml`, then `index_1.shtml`… reached by the
下一页 link (or, without one, the page numbers); articles `/<site>/<column>/202305/<32 hex>.shtml`.

The article's `<meta name="PubDate">` is often the page's *generation* time (it moves forward when
the site is migrated or republished): the visible 发布日期 and the URL's month folder keep the real
date, and `crawler.dates` keeps every source and uses the earliest credible one. The publisher is
`<meta name="ContentSource">` (else the visible 来源). List links often cut the title with "…" and
carry no title attribute: the article's own title (ArticleTitle, h1) is the one used then.
"""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urljoin

from parsel import Selector
from scrapy.http import Response, TextResponse

from crawler.dates import html_to_text
from crawler.spiders.base import (
    ListPage,
    PageFacts,
    PortalSpider,
    attachment_links,
    clean,
    links_with_dates,
    page_publisher,
    page_title,
)
from crawler.spiders.generic import next_links

_CONTENT_SOURCE = re.compile(r"""<meta\b[^>]*\bname\s*=\s*["']?ContentSource["']?[^>]*>""", re.I)
_CONTENT = re.compile(r"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_INDEX = re.compile(r"index(?:_(\d+))?\.shtml$")


def content_source(html: str) -> str | None:
    """The publisher Kaipu writes in `<meta name="ContentSource" content="…">`."""
    m = _CONTENT_SOURCE.search(html[:50_000])
    if not m:
        return None
    c = _CONTENT.search(m.group(0))
    value = clean(html_lib.unescape(next((g for g in c.groups() if g is not None), ""))) if c else ""
    return value or None


def numbered_next(sel: Selector, url: str) -> list[str]:
    """The next page from the page-number links (index.shtml, index_1.shtml…) when there is no 下一页."""
    m = _INDEX.search(url)
    current = int(m.group(1) or 0) if m else 0
    want = f"index_{current + 1}.shtml"
    for href in sel.xpath("//a/@href").getall():
        if href.strip().endswith(want):
            return [urljoin(url, href.strip())]
    return []


class KaipuSpider(PortalSpider):
    name = "kaipu"
    flavour = "kaipu"

    def read_list(self, response: Response) -> ListPage:
        assert isinstance(response, TextResponse)
        sel = response.selector
        return ListPage(links_with_dates(sel, response.url),
                        next_links(sel, response.url) or numbered_next(sel, response.url))

    def read_page(self, response: TextResponse) -> PageFacts:
        html = response.text
        head = html_to_text(html[:30_000])
        publisher = content_source(html) or page_publisher(head)
        return PageFacts(page_title(html), publisher, attachment_links(html, response.url), head)
