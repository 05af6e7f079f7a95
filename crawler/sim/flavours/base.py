"""What every simulated site shares: robots.txt, 301s after a move, list caching, article bodies."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from crawler.sim import content
from crawler.sim.content import stable_rng
from crawler.sim.pages import (
    Page,
    SimRequest,
    encode_html,
    esc,
    html_content_type,
    meta_charset,
    not_found,
    redirect,
    tiny_png,
)

if TYPE_CHECKING:
    from crawler.sim.world import Column, SimCounty, SimReport, SimWorld

CACHED_KINDS = ("list", "api", "robots")
REPORT_MARK = "<!--nianbao-sim-report-body-->"
COMPACT_OVER = 16 * 1024  # detail pages bigger than this are cached gzipped only
HOME_PATHS = ("/", "/index.html", "/index.htm", "/index.shtml")
IMAGE_RE = re.compile(r"/picture/0/[0-9a-f]{16}\.png")  # images of tables in reportgen's Word exports
DATE_STYLES: dict[str, Callable[[datetime], str]] = {
    "iso": lambda d: d.strftime("%Y-%m-%d"),
    "bracket": lambda d: d.strftime("[%Y-%m-%d]"),
    "slash": lambda d: d.strftime("%Y/%m/%d"),
    "dot": lambda d: d.strftime("%Y.%m.%d"),
    "cn": lambda d: d.strftime("%Y年%m月%d日"),
    "seconds": lambda d: d.strftime("%Y-%m-%d %H:%M:%S"),
}


class Site:
    """One county's portal in one CMS flavour. Subclasses declare URLs and markup."""

    flavour: ClassVar[str] = ""

    def __init__(self, world: SimWorld, county: SimCounty) -> None:
        self.world = world
        self.county = county
        self.rng = stable_rng(world.seed, county.code, "site", self.flavour)
        self.webname = f"{county.name}人民政府"

    # ------------------------------------------------------------ what subclasses define
    def column_root(self, col: Column) -> str:
        """The path prefix everything of the column lives under (moves answer 301 from the old one)."""
        raise NotImplementedError

    def portals(self) -> list[tuple[str | None, list[str], dict[str, Any]]]:
        """(body or None, start paths, options) for each portal of the county profile."""
        raise NotImplementedError

    def detail_path(self, e: SimReport) -> str:
        raise NotImplementedError

    def attachment_path(self, e: SimReport) -> str | None:
        return None

    def route(self, req: SimRequest, now: datetime) -> Page | None:
        raise NotImplementedError

    # ------------------------------------------------------------ shared request handling
    def handle(self, req: SimRequest, now: datetime) -> Page:
        if req.path == "/robots.txt":
            return self.robots()
        for old, new in self.county.redirects:
            if _under(req.path, old):
                qs = "&".join(f"{k}={quote(v)}" for k, v in req.query.items())
                return redirect(f"http://{req.host}{new}{req.path[len(old):]}" + (f"?{qs}" if qs else ""))
        stamp = (now, self.county.rev)
        if self.county.cache_stamp != stamp:
            self.county.page_cache.clear()
            self.county.cache_stamp = stamp
        key = (req.host, req.path, tuple(sorted(req.query.items())), tuple(sorted(req.form.items())))
        page = self.county.page_cache.get(key)
        if page is None:
            page = self.route(req, now)
            if page is None and IMAGE_RE.fullmatch(req.path):
                page = Page(200, tiny_png(), "image/png", kind="attachment", last_modified=datetime(2020, 1, 1, tzinfo=now.tzinfo))
            if page is None and req.path in HOME_PATHS:
                page = self.home(now)
            if page is None:
                page = not_found(self.county.encoding)
            if page.kind in CACHED_KINDS:
                self.county.page_cache[key] = page
        return page

    def home(self, now: datetime) -> Page:
        """A portal front page: the 政府信息公开 links (start URLs of every column) and some noise."""
        links = []
        for body, paths, _opts in self.portals():
            label = f"{body}政府信息公开年报" if body else "政府信息公开年报"
            links += [f'<li><a href="{esc(p)}">{esc(label)}</a></li>' for p in paths[:1]]
        noise = "".join(f'<li><a href="/{p}/">{t}</a></li>' for p, t in (("zwdt", "政务动态"), ("tzgg", "通知公告"), ("hdjl", "互动交流")))
        text = (
            self.head(self.webname)
            + f'<body><div class="header"><h1>{esc(self.webname)}</h1></div><div class="nav"><ul>{noise}</ul></div>'
            f'<div class="xxgk"><h2>政府信息公开</h2><ul>{"".join(links)}</ul></div></body></html>'
        )
        modified = max(self.county.list_modified(col, now) for col in self.county.columns)
        return self.html(text, kind="list", last_modified=modified)

    def robots(self) -> Page:
        mode = self.county.robots
        if mode == "none":
            return not_found()
        text = "User-agent: *\nDisallow: /\n" if mode == "disallow" else "User-agent: *\nDisallow: /admin/\n"
        return Page(200, text.encode(), "text/plain", kind="robots")

    # ------------------------------------------------------------ shared page building
    def column_nav(self, col: Column, list_href: str) -> str:
        """The menu, breadcrumb and tabs every real list page carries: links whose text is the
        column's own name (信息公开年报, 政府信息公开工作年度报告, 年度报告) pointing at the list itself,
        its folder (`./`) or the parent folder (`../`) — navigation, never reports."""
        name = f"{col.body}政府信息公开工作年度报告" if col.body else "政府信息公开工作年度报告"
        return (
            '<div class="menu"><ul><li><a href="../">政府信息公开</a></li>'
            '<li class="on"><a href="./">信息公开年报</a></li><li><a href="../zcwj/">政策文件</a></li></ul></div>'
            f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="../">政府信息公开</a> &gt; '
            f'<a href="{esc(list_href)}">{esc(name)}</a></div>'
            f'<div class="tabs"><a href="{esc(list_href)}" class="cur">年度报告</a>'
            f'<a href="./" title="政府信息公开年报">政府信息公开年报</a></div>'
        )

    @property
    def enc(self) -> str:
        return self.county.encoding

    def html(self, text: str, *, kind: str, last_modified: datetime | None = None, status: int = 200) -> Page:
        return Page(status, encode_html(text, self.enc), html_content_type(self.enc), kind=kind,  # type: ignore[arg-type]
                    last_modified=last_modified)

    def head(self, title: str, extra: str = "") -> str:
        return (
            "<!DOCTYPE html><html><head>"
            f'<meta http-equiv="Content-Type" content="text/html; charset={meta_charset(self.enc)}">'
            f"<title>{esc(title)}</title>{extra}</head>"
        )

    def visible_page(self, col: Column, now: datetime, page: int) -> tuple[list[SimReport], int]:
        items = self.county.visible(col, now)
        size = self.county.page_size
        count = max(1, math.ceil(len(items) / size))
        return items[page * size : (page + 1) * size], count

    def find_entry(self, entry_id: int, path: str, now: datetime) -> SimReport | None:
        e = self.county.by_id.get(entry_id)
        if e is None or not e.visible(now) or self.detail_path(e) != path:
            return None
        return e

    def publisher(self, e: SimReport) -> str:
        return e.body or f"{self.county.name}人民政府办公室"

    def index_number(self, e: SimReport) -> str:
        org = self.county.org_codes.get(e.body or "", "11" + self.county.code + "000000000X")
        return f"{org}/{e.published_at.year}-{e.id % 100000:05d}"

    def attachment_name(self, e: SimReport) -> str:
        return f"{e.title}.{content.extension(e.fmt)}"

    def article_fragment(self, e: SimReport, now: datetime, attachment_href: str | None) -> str:
        """The article body: the report, a short note linking the file, or a distractor's text."""
        if e.kind != "report":
            rng = stable_rng(self.world.seed, e.county, "noise", e.id)
            paras = [
                f"各乡镇人民政府、街道办事处，县政府各部门：根据工作安排，现就{e.year}年度有关工作通知如下。",
                f"一、高度重视。各单位要于{e.year + 1}年1月31日前完成相关工作，确保按时保质完成。",
                f"二、严格把关。联系电话：0{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}。",
            ]
            return "".join(f'<p class="MsoNormal">{esc(p)}</p>' for p in paras)
        if e.fmt == "html":
            return REPORT_MARK  # spliced in as bytes by detail_page (cheap for big reports)
        label = content.ATTACHMENT_LABELS[e.fmt]
        updated = ""
        if e.version(now):  # the file was replaced: portals say so under the note
            updated = f'<p class="MsoNormal">（{e.modified_at(now):%Y年%m月%d日}更新附件）</p>'
        if self.county.pdf_viewer and e.fmt in ("pdf", "scan"):
            # the file shown in an embedded pdf.js viewer, as many portals do, and no download link
            viewer = f"/static/pdfjs/web/viewer.html?file={quote(self.attachment_path(e) or '', safe='')}"
            return (f'<p class="MsoNormal">{esc(e.title)}</p>{updated}'
                    f'<iframe src="{esc(viewer)}" width="100%" height="900" frameborder="0"></iframe>')
        # the note real pages carry above the file: the statistical period's end is no signature date
        period = f"本报告所列数据的统计期限自{e.year}年1月1日起至{e.year}年12月31日止。"
        return (
            f'<p class="MsoNormal">{esc(e.title)}详见附件。{period}</p>{updated}'
            f'<p><a href="{esc(attachment_href or "")}">{label}</a></p>'
            f'<p>附件：<a href="{esc(attachment_href or "")}">{esc(self.attachment_name(e))}</a></p>'
        )

    def detail_page(self, e: SimReport, now: datetime, render: Callable[[], str]) -> Page:
        key = ("page", self.county.code, e.id, e.version(now), self.county.layout, self.county.regenerated_at)
        def make() -> Page:
            page = self.html(render(), kind="detail", last_modified=e.modified_at(now))
            mark = REPORT_MARK.encode("ascii")
            if mark in page.body:
                head, _, tail = page.body.partition(mark)
                page.body = head + self.world.report_html_bytes(e, now, self.enc) + tail
            return page.compact() if len(page.body) > COMPACT_OVER else page

        page: Page = self.world.cache.get_or_make(key, make, lambda p: p.size)
        return page

    def attachment_at(self, token: str, path: str, now: datetime) -> Page | None:
        """The attachment whose token is in the URL, if it is visible and served at exactly `path`."""
        e = self.county.by_token.get(token)
        if e is None or not e.visible(now) or self.attachment_path(e) != path:
            return None
        return self.attachment_response(e, now)

    def attachment_response(self, e: SimReport, now: datetime) -> Page:
        data = self.world.report_file(e, now)
        name = quote(self.attachment_name(e))
        return Page(
            200, data, content.ATTACHMENT_TYPES[e.fmt], kind="attachment", last_modified=e.modified_at(now),
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )

    def list_item(self, href: str, text: str, date: str, *, title: str | None = None,
                  date_class: str | None = None) -> str:
        """One entry of a column list, the way the list flavours (generic, TRS, VSB, Kaipu) write it:
        `<li><a href target="_blank" [title]>text</a><span [class]>date</span></li>` (no span
        without a date), or the onclick item once the county's layout changed (`change_layout`)."""
        if self.county.layout:
            return self.onclick_item(href, text, date)
        attr = f' title="{esc(title)}"' if title is not None else ""
        span = ""
        if date:
            span = (f'<span class="{date_class}">' if date_class else "<span>") + f"{date}</span>"
        return f'<li><a href="{href}" target="_blank"{attr}>{esc(text)}</a>{span}</li>'

    def list_page(self, col: Column, now: datetime, text: str) -> Page:
        """A column's list page, dated by its newest entry's change."""
        return self.html(text, kind="list", last_modified=self.county.list_modified(col, now))

    def onclick_item(self, href: str, title: str, date: str) -> str:
        """The list item after `change_layout`: no <a href>, navigation in a script handler."""
        return (
            f"<div class=\"news-item\" onclick=\"window.open('{esc(href)}')\">"
            f'<span class="news-tit">{esc(title)}</span><em>{esc(date)}</em></div>'
        )


def pubdate(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M")


# the file extensions attachments are served with, for route patterns: r"…\." + FILE_EXT
FILE_EXT = "(?:" + "|".join(sorted({content.extension(f) for f in content.ATTACHMENT_TYPES})) + ")"


def match(pattern: str, path: str) -> re.Match[str] | None:
    return re.fullmatch(pattern, path)


def _under(path: str, root: str) -> bool:
    """`path` is `root` or below it (a root without a trailing slash ends at "/" or ".")."""
    if not path.startswith(root):
        return False
    return root.endswith("/") or len(path) == len(root) or path[len(root)] in "/."
