"""What every portal spider shares: lists → report pages → attachments, incrementally.

A flavour spider only turns its list pages into `ListPage(items, next_urls)` (and, where its pages
differ, says where a report page keeps its title and attachments). This base class decides which
items are reports (by title, `crawler.titles`), which need fetching (unknown URLs, or a listing
whose title/date changed since the stored document; `full=True` asks for every known page again
with its validators), when to stop paging (a page whose report items are all known and unchanged),
and turns answers into `FetchedDocument` / `SeenLinks` items.

Stats written here (besides the middlewares' `nianbao/blocked/<kind>`):

    nianbao/list_pages                  list pages (and list API answers) read, 304 included
    nianbao/report_links                report links met on lists
    nianbao/documents/fetched           report pages and attachments downloaded (200)
    nianbao/documents/not_modified      …answered 304
    nianbao/documents/skipped_known     known links not fetched again (listing unchanged)
    nianbao/failed_requests, nianbao/failed/<reason>   (reason: http_<status>, too_large, an exception name)
    nianbao/too_large                   URLs above the download size limit (DOWNLOAD_MAXSIZE)
    nianbao/not_reports                 pages of links kept only for their page's title to decide (no
                                        year in the link, or a title cut with …) that were no report
    nianbao/empty_lists                 configured list URLs that gave no report link (CRAWL-003)
    nianbao/lists_gone                  …of them, those answered 404/410 (counted as list pages read)

    nianbao/moved                       "old → new" for list URLs redirected off the portal's hosts
                                        (a site merger): neither empty nor failed, the portal moved
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import SplitResult, parse_qsl, urljoin, urlsplit

import scrapy
from lxml import etree
from parsel import Selector
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.dates import html_to_text, parse_date, parse_datetime, publication_date
from crawler.items import FetchedDocument, SeenLinks
from crawler.middlewares import BlockedError, MovedOffPortal, is_web_url, netloc
from crawler.state import CrawlState
from crawler.titles import TitleInfo, classify_title, match_body, normalize, title_body

log = logging.getLogger(__name__)

# (etag, last_modified, sha256, listing_title, listing_date), as storage.repo.known_documents gives.
KnownDocument = tuple[str | None, str | None, str | None, str | None, date | None]


@dataclass(slots=True)
class ListItem:
    url: str
    title: str
    date: date | None = None
    published: datetime | None = None  # a listing/API datetime, when it has one
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (url, label) from an API


@dataclass(slots=True)
class ListPage:
    items: list[ListItem]
    next_urls: list[str | Request] = field(default_factory=list)


@dataclass(slots=True)
class PageFacts:
    title: str | None
    publisher: str | None
    attachments: list[tuple[str, str]]
    head_text: str | None = None  # the page's first 30,000 characters as text (dates, publisher)


# --- helpers shared by the flavour spiders -----------------------------------------------------

_ATT_EXT = re.compile(r"\.(docx?|wps|pdf|et|xlsx?)(?=$|[?#&])", re.I)
_ATT_TEXT = re.compile(r"下载(?:Word|WORD|word|PDF|pdf|WPS|wps|附件)|附件")
_SKIP_HREF = ("javascript:", "#", "mailto:", "tel:")
# A loose test of a raw href or label that every attachment link passes (a file extension anywhere,
# or a percent-encoded dot for a viewer's `?file=`): a page's hundreds of menu links are dropped
# before the costly part (resolving, splitting and viewer-unwrapping each URL).
_MAY_NAME_FILE = re.compile(r"\.(?:docx?|wps|pdf|et|xlsx?)|%2e", re.I)
_WS = re.compile(r"\s+")


def clean(text: str | None) -> str:
    return _WS.sub(" ", (text or "").replace("\u00a0", " ").replace("\u3000", " ")).strip()


_DATE_SIBLINGS = frozenset(("span", "em", "i", "font", "td", "div"))
_DATE_ANCESTORS = ("li", "tr", "dd", "dl")


def _text(el: Any) -> str:
    """The text of `el` and its descendants (comments excluded), pieces joined by spaces — as
    " ".join(el.xpath(".//text()")), without an XPath evaluation per element."""
    return " ".join(el.itertext(etree.Element))


def links_with_dates(sel: Selector, base_url: str) -> list[ListItem]:
    """Every `<a href>` with its title (the `title` attribute, else its text) and the date written
    next to it (the first following span/em/i/font/td/div sibling, else its li/tr/dd/dl).

    Walks the lxml tree directly: three XPath evaluations per link cost more than the rest of a
    list page's handling."""
    items: list[ListItem] = []
    root = sel.root
    if not hasattr(root, "iter"):
        return items
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(_SKIP_HREF):
            continue
        text = clean(_text(a))
        title = clean(a.get("title")) or text
        if not title:
            continue
        when = None
        sib = next((e for e in a.itersiblings() if isinstance(e.tag, str) and e.tag in _DATE_SIBLINGS), None)
        anc = next(a.iterancestors(*_DATE_ANCESTORS), None)
        for el in (sib, anc):
            if el is None:
                continue
            around = clean(_text(el)).replace(text, " ")
            when = parse_datetime(around) if around else None
            if when is not None:
                break
        url = urljoin(base_url, href)
        if is_web_url(url):
            items.append(ListItem(url, title, when.date() if when else None, when))
    return items


_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.S | re.I)
_ATTR = {name: re.compile(r"(?<![\w-])" + name + r"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
         for name in ("href", "title", "src", "data")}
# case by character classes, not re.I: a pattern under re.I loses the fast scan for its leading
# "<", and this one runs over every report page whole
_EMBED = re.compile(r"<(?:[iI][fF][rR][aA][mM][eE]|[eE][mM][bB][eE][dD]|[oO][bB][jJ][eE][cC][tT])\b([^>]*)>")
_VIEWER_PARAMS = ("file", "url", "src", "path", "pdf")
_TAG = re.compile(r"<[^>]+>")
_META_TITLE = re.compile(r"""<meta\b[^>]*name\s*=\s*["']?ArticleTitle["']?[^>]*>""", re.I)
_CONTENT_ATTR = re.compile(r"""content\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1\s*>", re.S | re.I)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.S | re.I)


def _attr(attrs: str, name: str) -> str | None:
    m = _ATTR[name].search(attrs)
    if not m:
        return None
    return html_lib.unescape(next(g for g in m.groups() if g is not None))


def _strip(fragment: str) -> str:
    return clean(html_lib.unescape(_TAG.sub(" ", fragment)))


def anchors(html: str) -> Iterator[tuple[str, str, str]]:
    """(href, text, the tag's attributes) of every `<a href>` — by regular expression: report
    pages are large Word exports, and building a DOM for each costs more than all the rest. The
    attributes are raw (`_attr(attrs, "title")` reads one): most links never need them."""
    for m in _ANCHOR.finditer(html):
        href = _attr(m.group(1), "href")
        if href is not None:
            yield href.strip(), _strip(m.group(2)), m.group(1)


def viewer_target(url: str) -> str | None:
    """The document an online viewer page shows — pdf.js `viewer.html?file=/upload/x.pdf` and its
    kin (`?url=`, `?src=`…) — or None when `url` is not such a page."""
    parts = urlsplit(url)
    if not parts.query:
        return None
    for key, value in parse_qsl(parts.query):
        if key.lower() in _VIEWER_PARAMS and _names_file(urlsplit(value)):
            return urljoin(url, value)
    return None


def _names_file(parts: SplitResult) -> bool:
    """A document file's extension in the URL's path or query (`downfile.jsp?filename=x.docx`)."""
    return _ATT_EXT.search(parts.path + "?" + parts.query) is not None


def attachment_links(html: str, base_url: str) -> list[tuple[str, str]]:
    """DOC/DOCX/WPS/PDF links of a report page: by file extension in the path, the query
    (`downfile.jsp?filename=…docx`) or the link text (VSB's `download.jsp?wbfileid=…` shows the file
    name), or by their text (【下载Word】, 附件：…) when the target is not another HTML page; and
    files the page embeds (`<iframe>`, `<embed>`, `<object>`), directly or through a pdf.js viewer."""
    seen: dict[str, str] = {}
    for m in _EMBED.finditer(html):
        src = _attr(m.group(1), "src") or _attr(m.group(1), "data")
        if not src or src.startswith(_SKIP_HREF):
            continue
        url = urljoin(base_url, src.strip())
        url = viewer_target(url) or url
        if is_web_url(url) and _names_file(urlsplit(url)) and url not in seen:
            seen[url] = ""
    base_names_file = _MAY_NAME_FILE.search(base_url) is not None
    for href, text, attrs in anchors(html):
        if not href or href.startswith(_SKIP_HREF):
            continue
        label = text or clean(_attr(attrs, "title"))
        if not (base_names_file or _MAY_NAME_FILE.search(href) or _MAY_NAME_FILE.search(label)
                or _ATT_TEXT.search(label)):
            continue
        url = urljoin(base_url, href)
        url = viewer_target(url) or url
        if not is_web_url(url):
            continue
        parts = urlsplit(url)
        by_ext = _names_file(parts) or bool(_ATT_EXT.search(label))
        by_text = bool(_ATT_TEXT.search(label)) and not re.search(r"\.s?html?$", parts.path)
        if (by_ext or by_text) and url not in seen:
            seen[url] = label
    return list(seen.items())


def page_title(html: str) -> str | None:
    m = _META_TITLE.search(html[:50_000])
    if m:
        content = _CONTENT_ATTR.search(m.group(0))
        if content and clean(content.group(1) or content.group(2)):
            return clean(html_lib.unescape(content.group(1) or content.group(2)))
    m = _H1.search(html)
    if m and _strip(m.group(1)):
        return _strip(m.group(1))
    m = _TITLE.search(html[:50_000])
    if m and _strip(m.group(1)):
        return re.split(r"[_|｜]", _strip(m.group(1)))[0].strip()
    return None


_INDEX_PAGE = re.compile(r"/(?:index|default)(?:_\d+)?\.(?:s?html?|jsp|php|aspx?)$", re.I)


def _page_key(url: str) -> str:
    """A list page's address without fragment and without a trailing index file name."""
    parts = urlsplit(url)
    path = _INDEX_PAGE.sub("/", parts.path) or "/"
    return f"{parts.netloc.lower()}{path}?{parts.query}"


def is_navigation(url: str, here: set[str], *, dated: bool) -> bool:
    """A menu, breadcrumb or tab link rather than an item: it points at the list page itself (or
    its root), or — for a title without a year — at a folder (`./`, `../`, a URL ending in `/`) or
    a column's index page."""
    if _page_key(url) in here:
        return True
    if dated:
        return False
    parts = urlsplit(url)
    return (parts.path.endswith("/") and not parts.query) or bool(_INDEX_PAGE.search(parts.path))


_ELLIPSIS = re.compile(r"(?:…|\.{3}|。。。)$")
_SUBJECT_HINT = re.compile(r"信息公|政务公|政府信|年度报|年报|工作报|工作年")


def truncated_candidate(title: str) -> bool:
    """A listing title cut short with `…` that may be a report: what is left names the subject and
    nothing that makes it a notice or a filing (its own page's title then decides)."""
    t = clean(title)
    m = _ELLIPSIS.search(t)
    if not m:
        return False
    stem = t[: m.start()]
    return bool(_SUBJECT_HINT.search(stem)) and classify_title(stem + "政府信息公开工作年度报告").is_report


def page_publisher(text: str) -> str | None:
    m = re.search(r"(?:发布机构|发文机关|来源|信息来源)\s*[:：]\s*([\u4e00-\u9fff（）()]{2,40})", text)
    return m.group(1) if m else None


def resolve_body(name: str | None, bodies: list[dict[str, Any]], county_name: str | None) -> str | None:
    """The profile's body a title or publisher names (crawler.titles.match_body: name or alias,
    short form, the county government by the county's name); else `name` itself."""
    if not name:
        return None
    found = match_body([name], [(str(b["name"]), str(b["name"]), b.get("aliases") or [], b.get("kind", ""))
                                for b in bodies], county_name=county_name)
    return found or name


# --- the spider --------------------------------------------------------------------------------

class PortalSpider(scrapy.Spider):
    """One county's portals of one flavour. Arguments come from the county profile (plain dicts,
    the docs/CONTRACTS.md TOML shape) and from storage (`known`), given by `crawler.runner`."""

    name = "portal"
    flavour: ClassVar[str] = ""

    def __init__(self, *, county: dict[str, Any], portals: list[dict[str, Any]],
                 bodies: list[dict[str, Any]] | None = None,
                 known: dict[str, KnownDocument] | None = None, state: CrawlState | None = None,
                 years: Iterable[int] | None = None, full: bool = False, **kwargs: Any) -> None:
        super().__init__(name=f"{self.flavour or 'portal'}-{county.get('code', '')}", **kwargs)
        self.county = county
        self.county_code = str(county.get("code", ""))
        self.portals = portals
        self.bodies = list(bodies or [])
        self.known = known or {}
        self.state = state or CrawlState()
        self.years = set(years) if years else None
        self.full = full
        hosts: set[str] = set()
        for p in portals:
            hosts.update(netloc(u) for u in p.get("start_urls", []))
            hosts.update(str(h).lower() for h in p.get("allowed_hosts") or [])
        self.allowed_hosts = hosts
        self.allow_cookie_challenge = any((p.get("options") or {}).get("allow_cookie_challenge")
                                          for p in portals)
        # configured list URL → "links" | "empty" | "blocked" | "failed" | "not_modified"
        self.roots: dict[str, str] = {}
        self.root_links: dict[str, int] = {}

    # ------------------------------------------------------------------ starting
    async def start(self) -> AsyncIterator[Any]:
        for portal in self.portals:
            for request in self.portal_requests(portal):
                yield request

    def portal_requests(self, portal: dict[str, Any]) -> Iterable[Request]:
        """The first requests of one portal: by default its start URLs as list pages."""
        for url in portal.get("start_urls", []):
            yield self.list_request(url, portal=portal, root=url)

    def options(self, portal: dict[str, Any]) -> dict[str, Any]:
        return dict(portal.get("options") or {})

    # ------------------------------------------------------------------ requests
    def list_request(self, url: str, *, portal: dict[str, Any], root: str, callback: Any = None,
                     conditional: bool = True, **kwargs: Any) -> Request:
        self.roots.setdefault(root, "empty")
        meta = {"portal": portal, "root": root, "nianbao_kind": "list", **kwargs.pop("meta", {})}
        validators = self.state.validators(url) if conditional and not self.full else None
        if validators:
            meta["nianbao_validators"] = validators
        cls = kwargs.pop("request_cls", Request)
        return cls(url, callback=callback or self.parse_list, errback=self.on_error, meta=meta,
                   dont_filter=True, **kwargs)

    def detail_request(self, item: ListItem, info: TitleInfo, *, portal: dict[str, Any], root: str,
                       validators: tuple[str | None, str | None] | None) -> Request:
        meta: dict[str, Any] = {"portal": portal, "root": root, "item": item, "info": info,
                                "nianbao_kind": "detail"}
        if validators and any(validators):
            meta["nianbao_validators"] = validators
        return Request(item.url, callback=self.parse_detail, errback=self.on_error, meta=meta)

    # ------------------------------------------------------------------ lists
    def parse_list(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            yield from self.list_not_modified(response)
            return
        yield from self.handle_list(response, self.read_list(response))

    def read_list(self, response: Response) -> ListPage:
        """Flavour spiders override this: the items and next pages of a list page."""
        raise NotImplementedError

    def list_not_modified(self, response: Response) -> Iterator[Any]:
        """A list page unchanged since the last run: nothing new below it either."""
        root = response.meta["root"]
        self.crawler.stats.inc_value("nianbao/list_pages")
        self.crawler.stats.inc_value("nianbao/list_not_modified")
        self.roots[root] = "not_modified" if self.roots.get(root) != "links" else "links"
        yield SeenLinks([response.url, *self.state.links_under(root)], reason="not_modified")

    def handle_list(self, response: Response, page: ListPage) -> Iterator[Any]:
        stats = self.crawler.stats
        portal, root = response.meta["portal"], response.meta["root"]
        stats.inc_value("nianbao/list_pages")
        report_links: list[str] = []
        fetch: list[Request] = []
        seen: list[str] = [response.url]
        all_known, considered = True, 0
        older_only = self.years is not None
        here = {_page_key(response.url), _page_key(root)}
        for item in page.items:
            info = self.classify(item, portal)
            if is_navigation(item.url, here, dated=info.year is not None):
                continue
            confirm = None
            if not info.is_report:
                if not truncated_candidate(item.title):
                    continue
                confirm = "truncated"  # the page's own title decides, and wins over the link text
                info = TitleInfo(True, info.year, info.body)
            elif info.year is None:
                confirm = "no_year"  # a report needs a year: from its title, else from its page's
            if confirm and self.state.not_reports.get(item.url) == item.title:
                continue  # its page said so last time, and the listing has not changed
            report_links.append(item.url)
            if self.years is not None and info.year is not None:
                if info.year in self.years or info.year > max(self.years):
                    older_only = False
                if info.year not in self.years:
                    continue
            else:
                older_only = False
            considered += 1
            known = self.known.get(item.url)
            if known is not None and not self.full and self.listing_unchanged(item, known):
                stats.inc_value("nianbao/documents/skipped_known")
                seen.append(item.url)
                seen.extend(self.state.attachments.get(item.url, []))
                continue
            all_known = False
            validators = (known[0], known[1]) if known is not None else None
            request = self.detail_request(item, info, portal=portal, root=root, validators=validators)
            if confirm:
                request.meta["nianbao_confirm"] = confirm
            fetch.append(request)
        stats.inc_value("nianbao/report_links", len(report_links))
        if report_links:
            self.roots[root] = "links"
        self.root_links[root] = self.root_links.get(root, 0) + len(report_links)
        self.state.remember_list(response.url, root=root, etag=_header(response, b"ETag"),
                                 last_modified=_header(response, b"Last-Modified"), links=report_links)
        yield from fetch
        # Lists are newest first: a page whose reports are all known and unchanged (or, with a
        # year filter, all older than the years asked) ends the paging.
        stop = not self.full and bool(report_links) and ((considered and all_known) or older_only)
        if stop and page.next_urls:
            stats.inc_value("nianbao/pagination_stopped")
            seen.extend(self.state.links_under(root))
        else:
            for nxt in page.next_urls:
                if isinstance(nxt, Request):
                    yield nxt
                else:
                    yield self.list_request(nxt, portal=portal, root=root, callback=response.request.callback
                                            if response.request else None)
        yield SeenLinks(seen, reason="list")

    def classify(self, item: ListItem, portal: dict[str, Any]) -> TitleInfo:
        return classify_title(item.title)

    @staticmethod
    def listing_unchanged(item: ListItem, known: KnownDocument) -> bool:
        _etag, _lm, _sha, k_title, k_date = known
        if k_title is not None and normalize(k_title) != normalize(item.title):
            # a list that cuts titles with … stored the page's own title: the cut one is its prefix
            cut = _ELLIPSIS.search(clean(item.title))
            if not cut or not normalize(k_title).startswith(normalize(clean(item.title)[: cut.start()])):
                return False
        if item.date is not None and k_date is not None and _as_date(k_date) != item.date:
            return False
        return True

    # ------------------------------------------------------------------ report pages
    def parse_detail(self, response: Response) -> Iterator[Any]:
        stats = self.crawler.stats
        if response.status == 304:
            stats.inc_value("nianbao/documents/not_modified")
            yield SeenLinks([response.url, *self.state.attachments.get(response.url, [])],
                            reason="not_modified")
            return
        item: ListItem = response.meta["item"]
        info: TitleInfo = response.meta["info"]
        portal = response.meta["portal"]
        stats.inc_value("nianbao/documents/fetched")
        if not _is_html(response):
            # The list linked the file itself (generic portals do).
            yield self.document(response, item, info, portal, kind="attachment", html=None)
            return
        assert isinstance(response, TextResponse)
        facts = response.meta.pop("nianbao_facts", None) or self.read_page(response)
        confirm = response.meta.get("nianbao_confirm")
        if confirm:
            own = classify_title(facts.title or "")
            if not own.is_report or own.year is None:
                # a link named like the column (navigation) or a cut title that is something else
                stats.inc_value("nianbao/not_reports")
                self.state.not_reports[item.url] = item.title
                return
            info = TitleInfo(True, own.year, info.body or own.body)
            if confirm == "truncated" and facts.title:
                item = replace(item, title=facts.title)
        yield self.document(response, item, info, portal, kind="page", html=response.text, facts=facts)
        atts = facts.attachments or item.attachments
        self.state.attachments[response.url] = [u for u, _ in atts]
        for url, label in atts:
            known = self.known.get(url)
            meta = {"portal": portal, "root": response.meta["root"], "item": item, "info": info,
                    "parent": response.url, "label": label, "nianbao_kind": "attachment"}
            if known is not None and (known[0] or known[1]):
                meta["nianbao_validators"] = (known[0], known[1])
            yield Request(url, callback=self.parse_attachment, errback=self.on_error, meta=meta)

    def read_page(self, response: TextResponse) -> PageFacts:
        html = response.text
        head = html_to_text(html[:30_000])  # 发布机构/来源 and 发布日期 sit above the report text
        return PageFacts(page_title(html), page_publisher(head), attachment_links(html, response.url), head)

    def parse_attachment(self, response: Response) -> Iterator[Any]:
        stats = self.crawler.stats
        if response.status == 304:
            stats.inc_value("nianbao/documents/not_modified")
            yield SeenLinks([response.url], reason="not_modified")
            return
        stats.inc_value("nianbao/documents/fetched")
        yield self.document(response, response.meta["item"], response.meta["info"], response.meta["portal"],
                            kind="attachment", html=None, parent=response.meta.get("parent"))

    def document(self, response: Response, item: ListItem, info: TitleInfo, portal: dict[str, Any], *,
                 kind: str, html: str | None, facts: PageFacts | None = None,
                 parent: str | None = None) -> FetchedDocument:
        listing = item.published or item.date
        when, source = publication_date(listing=listing, html=html, url=response.url,
                                        head_text=facts.head_text if facts else None)
        return FetchedDocument(
            url=(response.meta.get("redirect_urls") or [response.url])[0],
            final_url=response.url,
            listing_title=item.title,
            listing_date=item.date,
            page_published_at=when,
            published_source=source,
            content_type=_header(response, b"Content-Type"),
            body=response.body,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            body_name=self.body_name(portal, info, facts),
            kind=kind,
            parent_url=parent,
            year=info.year,
        )

    def body_name(self, portal: dict[str, Any], info: TitleInfo, facts: PageFacts | None) -> str | None:
        if portal.get("body"):
            return str(portal["body"])
        county_name = self.county.get("name")
        for candidate in (info.body, facts.publisher if facts else None):
            if candidate:
                return resolve_body(candidate, self.bodies, county_name)
        if facts and facts.title:
            return resolve_body(title_body(facts.title), self.bodies, county_name)
        return None

    # ------------------------------------------------------------------ failures
    def on_error(self, failure: Failure) -> None:
        stats = self.crawler.stats
        request: Request = failure.request  # type: ignore[attr-defined]
        kind = request.meta.get("nianbao_kind", "other")
        root = request.meta.get("root")
        if failure.check(MovedOffPortal):
            # a list that moved off the portal's hosts is neither empty nor failed: say where it went
            if kind == "list":
                moved = failure.value
                _add_to_list(stats, "nianbao/moved", [f"{moved.origin} → {moved.target}"])
                if root and self.roots.get(root) != "links":
                    self.roots[root] = "moved"
            return
        if failure.check(BlockedError):
            if kind == "list" and root and self.roots.get(root) != "links":
                self.roots[root] = "blocked"
            return
        if failure.check(HttpError):
            status = failure.value.response.status
            if status in (404, 410) and kind == "list" and root and request.url == root:
                # the portal answered: the configured column is not there any more (CRAWL-003), which
                # is neither a failing portal nor an empty year
                stats.inc_value("nianbao/list_pages")
                stats.inc_value("nianbao/lists_gone")
                if self.roots.get(root) != "links":
                    self.roots[root] = "empty"
                log.warning("configured list page gone", extra={"url": request.url, "status": status})
                return
            reason = f"http_{status}"
        elif failure.check(IgnoreRequest):
            if "robots.txt" in str(failure.value):
                stats.inc_value("nianbao/blocked/robots")
                if kind == "list" and root and self.roots.get(root) != "links":
                    self.roots[root] = "blocked"
                return
            stats.inc_value("nianbao/ignored")
            return
        elif failure.check(DownloadCancelledError) and "max size" in str(failure.value):
            reason = "too_large"  # DOWNLOAD_MAXSIZE: Content-Length above it, or a body that grew past it
            _add_to_list(stats, "nianbao/too_large", [request.url])
        else:
            reason = type(failure.value).__name__
        stats.inc_value("nianbao/failed_requests")
        stats.inc_value(f"nianbao/failed/{reason}")
        log.warning("request failed", extra={"url": request.url, "reason": reason, "kind": kind})
        if kind == "list" and root and self.roots.get(root) != "links" and request.url == root:
            self.roots[root] = "failed"

    def closed(self, reason: str) -> None:
        empty = [root for root, status in self.roots.items() if status in ("empty", "failed")]
        _add_to_list(self.crawler.stats, "nianbao/empty_lists", empty)


def _add_to_list(stats: Any, key: str, values: Iterable[str]) -> None:
    """A stats value that is a sorted list without repeats (runs merge them as sets)."""
    stats.set_value(key, sorted({*(stats.get_value(key) or []), *values}))


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _is_html(response: Response) -> bool:
    ctype = (_header(response, b"Content-Type") or "").lower()
    if ctype:
        return "html" in ctype
    return isinstance(response, TextResponse)


def _as_date(value: date | datetime | str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(value)


__all__ = ["PortalSpider", "ListItem", "ListPage", "PageFacts", "links_with_dates", "attachment_links",
           "page_title", "resolve_body", "clean"]
