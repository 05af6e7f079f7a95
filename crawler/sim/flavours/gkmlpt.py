"""广东 gkmlpt: /gkmlpt/index is a script page; items from /gkmlpt/api/all/<catId>?page=N&sid=<sid> (JSON).

Per-body columns are per-body gkmlpt sites under /<site>/gkmlpt/… with their own sid, as on real
portals where each department has its own directory.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.sim import content
from crawler.sim.flavours.base import FILE_EXT, Site, match
from crawler.sim.pages import Page, SimRequest, esc

if TYPE_CHECKING:
    from crawler.sim.world import Column, SimReport


class GkmlptSite(Site):
    flavour = "gkmlpt"

    def prefix(self, col: Column) -> str:
        return "" if col.body is None else f"/{col.slug}"

    def column_root(self, col: Column) -> str:
        return f"{self.prefix(col)}/gkmlpt/api/all/{col.id}"

    def portals(self) -> list[tuple[str | None, list[str], dict[str, Any]]]:
        return [
            (col.body, [f"{self.prefix(col)}/gkmlpt/index"], {"sid": col.sid, "cat_id": col.id, "prefix": self.prefix(col)})
            for col in self.county.columns
        ]

    def detail_path(self, e: SimReport) -> str:
        return f"{self.prefix(e.column)}/gkmlpt/content/{e.id // 1_000_000}/{e.id // 1000}/post_{e.id}.html"

    def attachment_path(self, e: SimReport) -> str | None:
        if e.fmt == "html":
            return None
        return f"{self.prefix(e.column)}/attachment/0/{e.id // 1000}/{e.id}/{e.token}.{content.extension(e.fmt)}"

    def route(self, req: SimRequest, now: datetime) -> Page | None:
        for col in self.county.columns:
            pre = self.prefix(col)
            if not req.path.startswith(pre + "/"):
                continue
            rest = req.path[len(pre) :]
            if rest in ("/gkmlpt/index", "/gkmlpt/index.html", "/gkmlpt/"):
                return self.index(col, now)
            m = match(r"/gkmlpt/api/all/(\d+)", rest)
            if m:
                return self.api(col, int(m.group(1)), req, now) if int(m.group(1)) == col.id else None
            m = match(r"/gkmlpt/content/\d+/\d+/post_(\d+)\.html", rest)
            if m:
                e = self.find_entry(int(m.group(1)), req.path, now)
                return self.detail(e, now) if e is not None else None
            m = match(r"/attachment/0/\d+/\d+/(\d{12})\." + FILE_EXT, rest)
            if m:
                return self.attachment_at(m.group(1), req.path, now)
        return None

    def index(self, col: Column, now: datetime) -> Page:
        name = f"{col.body}政府信息公开年报" if col.body else "政府信息公开年报"
        config = {
            "SID": str(col.sid), "SITE_NAME": col.body or self.webname, "API": f"{self.prefix(col)}/gkmlpt/api/all/",
            "CLASSIFY": [{"id": col.id, "name": name}, {"id": col.id + 1, "name": "通知公告"}],
        }
        text = (
            self.head(f"政府信息公开_{esc(col.body or self.webname)}")
            + '<body><div id="app"></div><noscript>请开启浏览器的JavaScript功能</noscript>'
            f"<script>window._CONFIG = {json.dumps(config, ensure_ascii=False)};</script>"
            '<script src="/gkmlpt/static/js/app.7c3b1f.js"></script></body></html>'
        )
        return self.html(text, kind="list", last_modified=self.county.list_modified(col, now))

    def article(self, e: SimReport, host: str) -> dict[str, Any]:
        stamp = int(e.published_at.timestamp())
        att = self.attachment_path(e)
        item: dict[str, Any] = {
            "id": e.id, "title": e.title, "url": f"http://{host}{self.detail_path(e)}", "date": stamp,
            "first_publish_time": stamp, "publisher": self.publisher(e), "identifier": self.index_number(e),
            "document_number": "", "attachment": [],
        }
        if att:
            item["attachment"] = [{"name": self.attachment_name(e), "url": f"http://{host}{att}", "ext": content.extension(e.fmt)}]
        if self.county.layout:  # a new front end: other keys, the old ones gone
            item = {"docId": e.id, "name": e.title, "link": item["url"], "pubTime": e.published_at.strftime("%Y-%m-%d")}
        return item

    def api(self, col: Column, cat: int, req: SimRequest, now: datetime) -> Page:
        page = req.query.get("page", "1")
        n = int(page) if page.isdigit() and int(page) > 0 else 1
        items, _count = self.visible_page(col, now, n - 1)
        total = len(self.county.visible(col, now))
        if req.query.get("sid", str(col.sid)) != str(col.sid):
            items, total = [], 0
        arts = [self.article(e, req.host) for e in items]
        data: dict[str, Any] = {"articles": arts, "total": total, "classify": {"id": cat}}
        if self.county.layout:
            data = {"data": arts, "count": total}
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return Page(200, body, "application/json;charset=UTF-8", kind="api", last_modified=self.county.list_modified(col, now))

    def detail(self, e: SimReport, now: datetime) -> Page:
        def render() -> str:
            stamp = e.published_at.strftime("%Y-%m-%d %H:%M:%S")
            table = (
                '<div class="introduce"><table><tr>'
                f'<td class="first">索引号：</td><td>{esc(self.index_number(e))}</td><td class="first">分类：</td><td>政府信息公开年报</td></tr>'
                f'<tr><td class="first">发布机构：</td><td>{esc(self.publisher(e))}</td><td class="first">成文日期：</td><td>{e.published_at:%Y-%m-%d}</td></tr>'
                f'<tr><td class="first">名称：</td><td colspan="3">{esc(e.title)}</td></tr>'
                f'<tr><td class="first">发布日期：</td><td colspan="3">{stamp}</td></tr></table></div>'
            )
            return (
                self.head(e.title)
                + f'<body><div class="content">{table}<div class="article"><h1 class="title">{esc(e.title)}</h1>'
                f'<div class="date-row">发布日期：{stamp}</div>'
                f'<div class="article-content">{self.article_fragment(e, now, self.attachment_path(e))}</div></div></div></body></html>'
            )

        return self.detail_page(e, now, render)
