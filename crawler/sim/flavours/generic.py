"""A portal on no known CMS: a plain list of links with dates in the county's own style, 下一页 paging."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.sim import content
from crawler.sim.flavours.base import DATE_STYLES, FILE_EXT, Site, match
from crawler.sim.pages import Page, SimRequest, esc

if TYPE_CHECKING:
    from crawler.sim.world import Column, SimReport


class GenericSite(Site):
    flavour = "generic"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.date_style = self.rng.choice(sorted(DATE_STYLES))
        self.paging = self.rng.choice(("query", "index"))  # ?page=2 or index_2.html
        self.page_date = self.rng.choice(("PubDate", "firstpublishedtime", "body"))
        self.markup = self.rng.choice(("ul", "table"))

    def column_root(self, col: Column) -> str:
        gen = len(col.ids) - 1
        base = "/zwgk/" if col.body is None else f"/zwgk/{col.slug}/"
        return base + ("ndbg/" if gen == 0 else f"zfxxgknb{gen}/")

    def portals(self) -> list[tuple[str | None, list[str], dict[str, Any]]]:
        return [(col.body, [self.column_root(col) + "index.html"], {}) for col in self.county.columns]

    def detail_path(self, e: SimReport) -> str:
        return self.column_root(e.column) + f"content_{e.id}.html"

    def attachment_path(self, e: SimReport) -> str | None:
        if e.fmt == "html":
            return None
        return f"/uploadfiles/{e.published_at:%Y%m}/{e.token}.{content.extension(e.fmt)}"

    def page_url(self, col: Column, page: int) -> str:
        """1-based page number → path (+query)."""
        root = self.column_root(col)
        if page <= 1:
            return root + "index.html"
        return root + (f"index.html?page={page}" if self.paging == "query" else f"index_{page}.html")

    def route(self, req: SimRequest, now: datetime) -> Page | None:
        m = match(r"/uploadfiles/\d{6}/(\d{12})\." + FILE_EXT, req.path)
        if m:
            return self.attachment_at(m.group(1), req.path, now)
        for col in self.county.columns:
            root = self.column_root(col)
            if not req.path.startswith(root):
                continue
            rest = req.path[len(root) :]
            m = match(r"(?:index(?:_(\d+))?\.html)?", rest)
            if m:
                if self.paging == "query":
                    if m.group(1):
                        return None
                    page = req.query.get("page", "1")
                else:
                    page = m.group(1) or "1"
                return self.column_page(col, int(page) if page.isdigit() else 1, now)
            m = match(r"content_(\d+)\.html", rest)
            if m:
                e = self.find_entry(int(m.group(1)), req.path, now)
                return self.detail(e, now) if e is not None else None
        return None

    def column_page(self, col: Column, page: int, now: datetime) -> Page | None:
        items, count = self.visible_page(col, now, page - 1)
        if page < 1 or page > count:
            return None
        fmt = DATE_STYLES[self.date_style]
        rows = []
        for e in items:
            date = fmt(e.published_at) if e.list_date else ""
            href = f"content_{e.id}.html"
            if self.markup == "table" and not self.county.layout:
                rows.append(f'<tr><td class="title"><a href="{href}">{esc(e.title)}</a></td><td class="date">{date}</td></tr>')
            else:
                rows.append(self.list_item(href, e.title, date, date_class="date"))
        listing = "".join(rows)
        listing = f"<ul class=\"news_list\">{listing}</ul>" if self.markup == "ul" else f"<table class=\"news_list\">{listing}</table>"
        nav = [f'<span>共{len(self.county.visible(col, now))}条 第{page}/{count}页</span>']
        if page > 1:
            nav.append(f'<a href="{self.page_url(col, 1)}">首页</a> <a href="{self.page_url(col, page - 1)}">上一页</a>')
        if page < count:
            nav.append(f'<a href="{self.page_url(col, page + 1)}">下一页</a> <a href="{self.page_url(col, count)}">尾页</a>')
        name = f"{col.body}年度报告" if col.body else "政府信息公开年度报告"
        text = (
            self.head(f"{name}-{self.webname}")
            + f'<body><div class="header"><a href="/">{esc(self.webname)}</a></div>{self.column_nav(col, self.page_url(col, 1))}'
            f'<div class="content"><h2>{esc(name)}</h2>'
            f'{listing}<div class="pages">{" ".join(nav)}</div></div>'
            '<div class="footer">主办单位：县人民政府办公室 <a href="/">首页</a></div></body></html>'
        )
        return self.list_page(col, now, text)

    def detail(self, e: SimReport, now: datetime) -> Page:
        def render() -> str:
            stamp = e.published_at.strftime("%Y-%m-%d %H:%M:%S")
            meta = ""
            info = f"来源：{esc(self.publisher(e))}"
            if self.page_date == "PubDate":
                meta = f'<meta name="PubDate" content="{stamp[:16]}">'
            elif self.page_date == "firstpublishedtime":
                meta = f'<meta name="firstpublishedtime" content="{stamp}">'
            else:
                info = f"发布时间：{stamp} " + info
            return (
                self.head(e.title, meta)
                + f'<body><div class="detail"><h1>{esc(e.title)}</h1><div class="info">{info}</div>'
                f'<div class="content">{self.article_fragment(e, now, self.attachment_path(e))}</div></div></body></html>'
            )

        return self.detail_page(e, now, render)
