"""开普云 Kaipu: /<site>/<column>/index.shtml, index_1.shtml… with 下一页 links; articles
/<site>/<column>/YYYYMM/<32 hex>.shtml with <meta name="PubDate"> (the page's *generation* time:
after `SimWorld.regenerate` every page's stamp and list date move to that time), the visible
发布日期 and 来源, and the publisher in <meta name="ContentSource">. List links show the title cut
to 18 characters with "…" and no title attribute: the article's own title is the full one."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.sim import content
from crawler.sim.flavours.base import FILE_EXT, Site, match, pubdate
from crawler.sim.pages import Page, SimRequest, esc

if TYPE_CHECKING:
    from crawler.sim.world import Column, SimReport

SITE = "wzxxgk"
CUT = 18


class KaipuSite(Site):
    flavour = "kaipu"

    def column_root(self, col: Column) -> str:
        gen = len(col.ids) - 1
        name = "gknb" if col.body is None else f"{col.slug}/ndbg"
        return f"/{SITE}/{name}/" if gen == 0 else f"/{SITE}/{name}{gen}/"

    def portals(self) -> list[tuple[str | None, list[str], dict[str, Any]]]:
        return [(col.body, [self.column_root(col) + "index.shtml"], {}) for col in self.county.columns]

    def article_id(self, e: SimReport) -> str:
        return hashlib.md5(f"{self.county.code}-{e.id}".encode()).hexdigest()

    def detail_rel(self, e: SimReport) -> str:
        return f"{e.published_at:%Y%m}/{self.article_id(e)}.shtml"

    def detail_path(self, e: SimReport) -> str:
        return self.column_root(e.column) + self.detail_rel(e)

    def attachment_path(self, e: SimReport) -> str | None:
        if e.fmt == "html":
            return None
        return f"/{SITE}/uploadfiles/{e.published_at:%Y%m}/{e.token}.{content.extension(e.fmt)}"

    def stamp(self, e: SimReport) -> datetime:
        """What the CMS writes as PubDate: the generation time after a migration."""
        return max(self.county.regenerated_at, e.published_at) if self.county.regenerated_at else e.published_at

    def route(self, req: SimRequest, now: datetime) -> Page | None:
        m = match(rf"/{SITE}/uploadfiles/\d{{6}}/(\d{{12}})\." + FILE_EXT, req.path)
        if m:
            return self.attachment_at(m.group(1), req.path, now)
        for col in self.county.columns:
            root = self.column_root(col)
            if not req.path.startswith(root):
                continue
            rest = req.path[len(root):]
            m = match(r"(?:index(?:_(\d+))?\.shtml)?", rest)
            if m:
                return self.column_page(col, int(m.group(1) or 0), now)
            m = match(r"\d{6}/([0-9a-f]{32})\.shtml", rest)
            if m:
                for e in self.county.visible(col, now):
                    if self.article_id(e) == m.group(1) and self.detail_path(e) == req.path:
                        return self.detail(e, now)
                return None
        return None

    def column_page(self, col: Column, page: int, now: datetime) -> Page | None:
        items, count = self.visible_page(col, now, page)
        if page >= count:
            return None
        # the title cut to CUT characters, no title attribute; the list date is the PubDate stamp
        rows = [self.list_item("./" + self.detail_rel(e), e.title if len(e.title) <= CUT else e.title[:CUT] + "…",
                               f"{self.stamp(e):%Y-%m-%d}", date_class="date") for e in items]
        pager = [f'<a href="index{"" if k == 0 else f"_{k}"}.shtml">{k + 1}</a>' for k in range(count)]
        if page + 1 < count:
            pager.append(f'<a href="index_{page + 1}.shtml">下一页</a>')
        name = f"{col.body}政府信息公开年报" if col.body else "政府信息公开年报"
        text = (
            self.head(f"{name}-{self.webname}", '<meta name="ColumnName" content="信息公开年报">')
            + f'<body>{self.column_nav(col, "index.shtml")}<div class="list-box"><h3>{esc(name)}</h3>'
            f'<ul class="list">{"".join(rows)}</ul><div class="pagination">{" ".join(pager)}</div></div>'
            "</body></html>"
        )
        return self.list_page(col, now, text)

    def detail(self, e: SimReport, now: datetime) -> Page:
        def render() -> str:
            meta = (f'<meta name="ArticleTitle" content="{esc(e.title)}">'
                    f'<meta name="PubDate" content="{pubdate(self.stamp(e))}">'
                    f'<meta name="ContentSource" content="{esc(self.publisher(e))}">'
                    '<meta name="ColumnName" content="信息公开年报">')
            return (
                self.head(f"{e.title}-{self.webname}", meta)
                + f'<body><div class="article"><h1 class="title">{esc(e.title)}</h1><div class="info">'
                f'<span>发布日期：{e.published_at:%Y-%m-%d}</span> <span>来源：{esc(self.publisher(e))}</span>'
                f' <span>浏览次数：<script>document.write(hits)</script></span></div>'
                f'<div class="content" id="zoom">{self.article_fragment(e, now, self.attachment_path(e))}</div>'
                "</div></body></html>"
            )

        return self.detail_page(e, now, render)
