"""大汉 Hanweb jcms: jpage column lists (XML from dataproxy.jsp) and the 信息公开年报 module.

- `HanwebSpider` ("hanweb"): `/col/col<id>/index.html` carries the first records inline in a
  `<script type="text/xml"><datastore>…` block and a jpage call with `totalRecord` and `ajaxParam`;
  further records come from POSTing those parameters to `/module/web/jpage/dataproxy.jsp
  ?startrecord=46&endrecord=90&perpage=15` (XML: `<record><![CDATA[<li><a …>…</a><span>date</span>
  </li>]]></record>`, `<totalrecord>`). Options (all optional; read from the page when missing):
  col, appid, webid, path, columnid, sourceContentType, unitid, webname, permissiontype, perpage,
  proxy, group (pages of records per proxy call, 3).
- `HanwebAnnualSpider` ("hanweb_annual"): `/module/xxgk/xxgkAnnualReport.jsp?area=<org code>
  &fbtime=<year>`, one URL per body and year, which is the report itself ("发布时间：…" in the page).
  Options: `areas` = {org code: body name} (or [[code, name], …]), `years` = [2023, 2024, …].
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from parsel import Selector
from scrapy.http import FormRequest, Request, Response, TextResponse

from crawler.dates import SHANGHAI
from crawler.items import SeenLinks
from crawler.spiders.base import ListItem, ListPage, PortalSpider, links_with_dates
from crawler.titles import TitleInfo, classify_title

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_INLINE = re.compile(r"<script[^>]*type=[\"']text/xml[\"'][^>]*>(.*?)</script>", re.S | re.I)
_AJAX = re.compile(r"ajaxParam\s*:\s*\{(.*?)\}", re.S)
_PAIR = re.compile(r"(\w+)\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|([\w.\-]+))")
_PERPAGE = re.compile(r"perPage\s*:\s*(\d+)")
_GROUP = re.compile(r"groupSize\s*:\s*(\d+)")
_PROXY = re.compile(r"proxyUrl\s*:\s*['\"]([^'\"]+)['\"]")
_TOTAL_JS = re.compile(r"totalRecord\s*:\s*(\d+)")
AJAX_KEYS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
             "permissiontype")
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"


def records(xml: str, base_url: str) -> list[ListItem]:
    """The list items of a jpage datastore (inline or from dataproxy.jsp)."""
    items: list[ListItem] = []
    for fragment in _RECORD.findall(xml):
        items.extend(links_with_dates(Selector(text=f"<ul>{fragment}</ul>"), base_url))
    return items


class HanwebSpider(PortalSpider):
    name = "hanweb"
    flavour = "hanweb"

    def read_list(self, response: Response) -> ListPage:
        assert isinstance(response, TextResponse)
        text = response.text
        if response.meta.get("hanweb_proxy"):
            xml = text
        else:
            inline = _INLINE.search(text)
            xml = inline.group(1) if inline else ""
        items = records(xml, response.url)
        jp = response.meta.get("hanweb") or self.jpage_params(response)
        total = _TOTAL.search(xml)
        total_n = int(total.group(1)) if total else jp.get("total", 0)
        end = response.meta.get("hanweb_end", len(items))
        nxt: list[str | Request] = []
        if total_n > end and items:
            nxt.append(self.proxy_request(response, jp, start=end + 1))
        return ListPage(items, nxt)

    def jpage_params(self, response: TextResponse) -> dict[str, Any]:
        """The jpage call of a column page, overlaid with the profile's options."""
        text = response.text
        opts = self.options(response.meta["portal"])
        form: dict[str, str] = {}
        m = _AJAX.search(text)
        if m:
            for key, a, b, c in _PAIR.findall(m.group(1)):
                form[key] = a or b or c
        for key in AJAX_KEYS:
            if key in opts:
                form[key] = str(opts[key])
        per = int(opts.get("perpage") or _first_int(_PERPAGE, text, 15))
        group = int(opts.get("group") or _first_int(_GROUP, text, 3))
        proxy = str(opts.get("proxy") or (_PROXY.search(text).group(1) if _PROXY.search(text) else DEFAULT_PROXY))
        return {"form": form, "per": per, "group": group, "proxy": proxy,
                "total": _first_int(_TOTAL_JS, text, 0)}

    def proxy_request(self, response: Response, jp: dict[str, Any], *, start: int) -> Request:
        per, group = jp["per"], jp["group"]
        end = start + per * group - 1
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": per})
        url = urljoin(response.url, f"{jp['proxy']}?{query}")
        return self.list_request(url, portal=response.meta["portal"], root=response.meta["root"],
                                 callback=self.parse_list, request_cls=FormRequest, formdata=jp["form"],
                                 meta={"hanweb_proxy": True, "hanweb": jp, "hanweb_end": end})


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _first_int(rx: re.Pattern[str], text: str, default: int) -> int:
    m = rx.search(text)
    return int(m.group(1)) if m else default


class HanwebAnnualSpider(PortalSpider):
    name = "hanweb_annual"
    flavour = "hanweb_annual"
    MODULE = "/module/xxgk/xxgkAnnualReport.jsp"

    def portal_requests(self, portal: dict[str, Any]) -> Iterable[Request]:
        """Start URLs that already name a body and a year are fetched as they are (the years
        asked for only); otherwise one URL per area (org code) and year."""
        opts = self.options(portal)
        starts = list(portal.get("start_urls", []))
        if not starts:
            return
        root = starts[0]
        self.roots.setdefault(root, "empty")
        areas = opts.get("areas") or ({opts["area"]: portal.get("body")} if opts.get("area") else {})
        pairs = list(areas.items()) if isinstance(areas, dict) else [tuple(a) for a in areas]
        years = sorted(self.years or set(opts.get("years") or self.default_years()))
        targets: dict[str, tuple[str | None, int]] = {}
        for start in starts:
            q = parse_qs(urlsplit(start).query)
            if "fbtime" in q and "area" in q and not self.years:
                year = int(q["fbtime"][0]) if q["fbtime"][0].isdigit() else 0
                targets[start] = (dict(pairs).get(q["area"][0], portal.get("body")), year)
        if not targets:
            parts = urlsplit(root)
            module = str(opts.get("module") or (parts.path if parts.path.endswith(".jsp") else self.MODULE))
            for code, body in pairs:
                for year in years:
                    url = f"{parts.scheme}://{parts.netloc}{module}?{urlencode({'area': code, 'fbtime': year})}"
                    targets[url] = (body, year)
        for url, (body, year) in targets.items():
            known = self.known.get(url)
            item = ListItem(url, f"{body or ''}{year}年政府信息公开工作年度报告")
            validators = (known[0], known[1]) if known is not None else self.state.validators(url)
            p = {**portal, "body": body} if body else portal
            yield self.detail_request(item, TitleInfo(True, year, body), portal=p, root=root,
                                      validators=validators)

    def default_years(self) -> list[int]:
        this_year = datetime.now(SHANGHAI).year
        return list(range(this_year - 3, this_year))

    def parse_detail(self, response: Response) -> Iterator[Any]:
        stats = self.crawler.stats
        root = response.meta["root"]
        stats.inc_value("nianbao/list_pages")
        if response.status == 304:
            if response.url not in self.known:  # a 暂无 page, unchanged
                self.roots[root] = "links" if self.roots.get(root) == "links" else "answered"
                yield SeenLinks([response.url], reason="not_modified")
                return
            self.roots[root] = "links"
            stats.inc_value("nianbao/report_links")
            yield from super().parse_detail(response)
            return
        if not isinstance(response, TextResponse):
            yield from super().parse_detail(response)
            return
        facts = self.read_page(response)
        info = classify_title(facts.title or "")
        no_data = _NO_DATA.search(response.text) is not None
        if no_data or not info.is_report or info.year is None:
            # the module answers for every (body, year): no report there (yet) is an answer,
            # not a broken list, and not a document
            if no_data and self.roots.get(root) == "empty":
                self.roots[root] = "answered"
            self.state.remember_list(response.url, root=root, etag=_header(response, b"ETag"),
                                     last_modified=_header(response, b"Last-Modified"), links=[])
            yield SeenLinks([response.url], reason="list")
            return
        stats.inc_value("nianbao/report_links")
        self.roots[root] = "links"
        asked: TitleInfo = response.meta["info"]
        response.meta["item"] = ListItem(response.meta["item"].url, facts.title or "")
        response.meta["info"] = TitleInfo(True, info.year, asked.body or info.body)
        response.meta["nianbao_facts"] = facts  # read once: PortalSpider.parse_detail takes it
        yield from super().parse_detail(response)


_NO_DATA = re.compile(r"暂无(?:信息|数据|记录|内容)|class=[\"']nodata")
