"""博达 VSB: `/xxgk/gknb.htm`, then `/xxgk/gknb/12.htm`, `11.htm`… numbered downwards, reached by the
下页 link; report pages `/info/14423/1395492.htm` say "发布机构：兴国镇 索引号：… 时间：2026-01-20"."""

from __future__ import annotations

from scrapy.http import Response, TextResponse

from crawler.spiders.base import ListPage, PortalSpider, links_with_dates
from crawler.spiders.generic import next_links


class VsbSpider(PortalSpider):
    name = "vsb"
    flavour = "vsb"

    def read_list(self, response: Response) -> ListPage:
        assert isinstance(response, TextResponse)
        return ListPage(links_with_dates(response.selector, response.url),
                        next_links(response.selector, response.url))
