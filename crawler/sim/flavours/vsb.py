"""博达 VSB: /xxgk/gknb.htm, then /xxgk/gknb/<N>.htm numbered downwards; details /info/<col>/<id>.htm."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.sim.flavours.base import Site, match
from crawler.sim.pages import Page, SimRequest, esc

if TYPE_CHECKING:
    from crawler.sim.world import Column, SimReport

DOWNLOAD = "/system/_content/download.jsp"


class VsbSite(Site):
    flavour = "vsb"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.cn_dates = self.rng.random() < 0.5
        self.owner = self.rng.randint(1_000_000_000, 1_999_999_999)

    def column_root(self, col: Column) -> str:
        gen = len(col.ids) - 1
        base = "/xxgk/" if col.body is None else f"/xxgk/{col.slug}/"
        return base + ("gknb" if gen == 0 else f"zfxxgknb{gen}")

    def portals(self) -> list[tuple[str | None, list[str], dict[str, Any]]]:
        return [(col.body, [self.column_root(col) + ".htm"], {}) for col in self.county.columns]

    def detail_path(self, e: SimReport) -> str:
        return f"/info/{e.column.ids[0]}/{e.id}.htm"

    def attachment_path(self, e: SimReport) -> str | None:
        if e.fmt == "html":
            return None
        return f"{DOWNLOAD}?urltype=news.DownloadAttachUrl&owner={self.owner}&wbfileid={e.token}"

    def route(self, req: SimRequest, now: datetime) -> Page | None:
        if req.path == DOWNLOAD:
            e = self.county.by_token.get(req.query.get("wbfileid", ""))
            if e is None or not e.visible(now) or e.fmt == "html":
                return None
            return self.attachment_response(e, now)
        m = match(r"/info/\d+/(\d+)\.htm", req.path)
        if m:
            e = self.find_entry(int(m.group(1)), req.path, now)
            return self.detail(e, now) if e is not None else None
        for col in self.county.columns:
            root = self.column_root(col)
            if req.path == root + ".htm":
                return self.column_page(col, None, now)
            m = match(re.escape(root) + r"/(\d+)\.htm", req.path)
            if m:
                return self.column_page(col, int(m.group(1)), now)
        return None

    def column_page(self, col: Column, number: int | None, now: datetime) -> Page | None:
        total_items = self.county.visible(col, now)
        _, count = self.visible_page(col, now, 0)
        # the first page is <root>.htm; the next is <root>/<count-1>.htm … the last <root>/1.htm
        index = 0 if number is None else count - number
        if number is not None and not 1 <= number < count:
            return None
        items, _ = self.visible_page(col, now, index)
        name = self.column_root(col).rsplit("/", 1)[1]

        # links are relative: from <dir>/gknb.htm, "gknb/11.htm"; from <dir>/gknb/11.htm, "10.htm"
        def page_href(k: int | None) -> str:
            if number is None:
                return f"{name}.htm" if k is None else f"{name}/{k}.htm"
            return f"../{name}.htm" if k is None else f"{k}.htm"

        up = "../" * (self.column_root(col).count("/") - (1 if number is None else 0))
        date = "%Y年%m月%d日" if self.cn_dates else "%Y-%m-%d"
        rows = [self.list_item(up + self.detail_path(e).lstrip("/"), e.title, e.published_at.strftime(date),
                               title=e.title) for e in items]
        nav = [f"共{len(total_items)}条&nbsp;&nbsp;{index + 1}/{count}&nbsp;"]
        if index > 0:
            nav.append(f'<a href="{page_href(None)}" class="Next">首页</a>')
            prev = None if index == 1 else count - index + 1
            nav.append(f'<a href="{page_href(prev)}" class="Next">上页</a>')
        if index < count - 1:
            nav.append(f'<a href="{page_href(count - index - 1)}" class="Next">下页</a>')
            nav.append(f'<a href="{page_href(1)}" class="Next">尾页</a>')
        title = f"{col.body}政府信息公开年报" if col.body else "政府信息公开年报"
        text = (
            self.head(f"{title}-{self.webname}")
            + f'<body>{self.column_nav(col, page_href(None))}<div class="list"><h2>{esc(title)}</h2><ul>{"".join(rows)}</ul>'
            f'<div class="pb_sys_common pb_sys_normal pb_sys_style1"><span class="p_pages">{"&nbsp;".join(nav)}</span></div>'
            "</div></body></html>"
        )
        return self.list_page(col, now, text)

    def detail(self, e: SimReport, now: datetime) -> Page:
        def render() -> str:
            info = (
                f"发布机构：{esc(self.publisher(e))}&nbsp;&nbsp;索引号：{esc(self.vsb_index(e))}&nbsp;&nbsp;"
                f"时间：{e.published_at:%Y-%m-%d}"
            )
            att = self.attachment_path(e)
            attach = ""
            if att:
                attach = (
                    f'<ul style="list-style-type:none;"><li>附件【<a href="{esc(att)}" target="_blank">{esc(self.attachment_name(e))}</a>】'
                    f'已下载<span id="nattach{e.token[-8:]}">0</span>次</li></ul>'
                )
            return (
                self.head(e.title, f'<meta name="description" content="{esc(e.title)}">')
                + f'<body><form name="_newscontent_fromname"><div class="detail"><h1>{esc(e.title)}</h1>'
                f'<div class="info">{info}</div><div id="vsb_content"><div class="v_news_content">'
                f"{self.article_fragment(e, now, att)}</div></div>{attach}</div></form></body></html>"
            )

        return self.detail_page(e, now, render)

    def vsb_index(self, e: SimReport) -> str:
        initials = "".join(chr(ord("a") + (ord(c) % 26)) for c in (e.body or self.county.name)[:3])
        return f"{initials}/{e.published_at.year}-{e.id % 100000:05d}"
