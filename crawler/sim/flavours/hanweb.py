"""大汉 Hanweb jcms: /col/col<id>/index.html with a jpage script, records from dataproxy.jsp (XML)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from crawler.sim import content
from crawler.sim.flavours.base import Site, match, pubdate
from crawler.sim.pages import Page, SimRequest, esc

if TYPE_CHECKING:
    from crawler.sim.world import Column, SimReport

PROXY = "/module/web/jpage/dataproxy.jsp"
DOWNLOAD = "/module/download/downfile.jsp"
GROUP = 3  # jpage loads groupSize pages of records per proxy call


def download_path(site: Site, e: SimReport) -> str | None:
    """Hanweb's download URL of a report's file (both Hanweb flavours serve files this way)."""
    if e.fmt == "html":
        return None
    return (f"{DOWNLOAD}?classid=0&filename={e.token}.{content.extension(e.fmt)}"
            f"&showname={quote(site.attachment_name(e))}")


def download(site: Site, req: SimRequest, now: datetime) -> Page | None:
    """The file a `download_path` URL names, if its report is visible."""
    name = req.query.get("filename", "")
    e = site.county.by_token.get(name.rsplit(".", 1)[0])
    if e is None or not e.visible(now) or download_path(site, e) is None \
            or not name.endswith("." + content.extension(e.fmt)):
        return None
    return site.attachment_response(e, now)


class HanwebSite(Site):
    flavour = "hanweb"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.webid = self.rng.randint(1, 80)
        self.unitid = self.rng.randint(10000, 99999)

    def column_root(self, col: Column) -> str:
        return f"/col/col{col.id}/"

    def ajax_params(self, col: Column) -> dict[str, Any]:
        return {
            "col": 1, "appid": 1, "webid": self.webid, "path": "/", "columnid": col.id, "sourceContentType": 1,
            "unitid": self.unitid, "webname": self.webname, "permissiontype": 0,
        }

    def portals(self) -> list[tuple[str | None, list[str], dict[str, Any]]]:
        out: list[tuple[str | None, list[str], dict[str, Any]]] = []
        for col in self.county.columns:
            opts = self.ajax_params(col) | {"perpage": self.county.page_size, "proxy": PROXY}
            out.append((col.body, [self.column_root(col) + "index.html"], opts))
        return out

    def detail_path(self, e: SimReport) -> str:
        d = e.published_at
        return f"/art/{d.year}/{d.month}/{d.day}/art_{e.column.ids[0]}_{e.id}.html"

    def attachment_path(self, e: SimReport) -> str | None:
        return download_path(self, e)

    # ------------------------------------------------------------ routing
    def route(self, req: SimRequest, now: datetime) -> Page | None:
        path = req.path
        if path == PROXY:
            return self.proxy(req, now)
        if path == DOWNLOAD:
            return download(self, req, now)
        m = match(r"/col/col(\d+)/(?:index\.html)?", path)
        if m:
            col = self.county.column_by_any_id(int(m.group(1)))
            return self.column_page(col, now) if col is not None and col.id == int(m.group(1)) else None
        m = match(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_(\d+)\.html", path)
        if m:
            e = self.find_entry(int(m.group(1)), path, now)
            return self.detail(e, now) if e is not None else None
        return None

    def record(self, e: SimReport) -> str:
        date = e.published_at.strftime("%Y-%m-%d")
        if self.county.layout:
            inner = self.onclick_item(self.detail_path(e), e.title, date)
        else:
            inner = (
                f'<li><a href="{self.detail_path(e)}" title="{esc(e.title)}" target="_blank">{esc(e.title)}</a>'
                f"<span>{date}</span></li>"
            )
        return f"<record><![CDATA[{inner}]]></record>"

    def datastore(self, col: Column, items: list[SimReport], total: int, start: int) -> str:
        records = "".join(self.record(e) for e in items)
        params = "&".join(f"{k}={v}" for k, v in self.ajax_params(col).items())
        return (
            f'<datastore><nextgroup><![CDATA[<a href="{PROXY}?page={start // (self.county.page_size * GROUP) + 2}&{params}"></a>]]>'
            f"</nextgroup><recordset>{records}</recordset><totalrecord>{total}</totalrecord></datastore>"
        )

    def column_page(self, col: Column, now: datetime) -> Page:
        items = self.county.visible(col, now)
        per = self.county.page_size
        first = items[: per * GROUP]
        params = ",".join(f"{k}:{v!r}" if isinstance(v, str) else f"{k}:{v}" for k, v in self.ajax_params(col).items())
        name = f"{col.body}政府信息公开年报" if col.body else "政府信息公开年报"
        text = (
            self.head(f"{name}_{self.webname}", f'<meta name="ColumnName" content="{esc(name)}">')
            + f'<body><div class="main"><div class="bt">{esc(name)}</div><div id="{col.id}">'
            f'<script type="text/xml">{self.datastore(col, first, len(items), 0)}</script></div>'
            '<script language="javascript" src="/module/jslib/jquery/jpage/jquery.page.min.js"></script>'
            "<script>$(document).ready(function(){$('#" + str(col.id) + "').jpage({"
            f"dataStore:[],dataBefore:'<ul class=\"list\">',dataAfter:'</ul>',perPage:{per},groupSize:{GROUP},"
            f"totalRecord:{len(items)},proxyUrl:'{PROXY}',ajaxParam:{{{params}}},"
            "barPosition:'bottom',showMode:'full',allowActiveSaveCache:true});});</script>"
            "</div></body></html>"
        )
        return self.html(text, kind="list", last_modified=self.county.list_modified(col, now))

    def proxy(self, req: SimRequest, now: datetime) -> Page:
        args = req.query | req.form
        try:
            col_id = int(args.get("columnid", "0"))
            start = max(1, int(args.get("startrecord", "1")))
            per = int(args.get("perpage", str(self.county.page_size)))
            end = int(args.get("endrecord", str(start + per * GROUP - 1)))
        except ValueError:
            return Page(200, b"<datastore><totalrecord>0</totalrecord></datastore>", "text/xml; charset=utf-8", kind="api")
        col = self.county.column_by_any_id(col_id)
        if col is None:
            body = "<datastore><totalrecord>0</totalrecord><recordset></recordset></datastore>"
            return self.xml(body, None)
        items = self.county.visible(col, now)
        return self.xml(self.datastore(col, items[start - 1 : end], len(items), start - 1), self.county.list_modified(col, now))

    def xml(self, body: str, last_modified: datetime | None) -> Page:
        enc = "UTF-8" if self.enc == "utf-8" else "GBK"
        text = f'<?xml version="1.0" encoding="{enc}"?>{body}'
        page = self.html(text, kind="api", last_modified=last_modified)
        page.content_type = f"text/xml; charset={enc}"
        return page

    def detail(self, e: SimReport, now: datetime) -> Page:
        def render() -> str:
            d = e.published_at
            att = self.attachment_path(e)
            meta = (
                f'<meta name="SiteName" content="{esc(self.webname)}"><meta name="ColumnName" content="政府信息公开年报">'
                f'<meta name="ArticleTitle" content="{esc(e.title)}"><meta name="PubDate" content="{pubdate(d)}">'
                f'<meta name="ContentSource" content="{esc(self.publisher(e))}">'
            )
            table = (
                '<table class="xxgk_table"><tbody>'
                f"<tr><td>索引号：</td><td>{esc(self.index_number(e))}</td><td>发布机构：</td><td>{esc(self.publisher(e))}</td></tr>"
                f"<tr><td>公开日期：</td><td>{d:%Y-%m-%d}</td><td>公开方式：</td><td>主动公开</td></tr>"
                f'<tr><td>名称：</td><td colspan="3">{esc(e.title)}</td></tr></tbody></table>'
            )
            return (
                self.head(f"{e.title}_{self.webname}", meta)
                + f'<body><div class="main">{table}<div class="article"><h1 class="title">{esc(e.title)}</h1>'
                f'<div class="info">发布日期：{d:%Y-%m-%d} 来源：{esc(self.publisher(e))}</div>'
                f'<div id="zoom">{self.article_fragment(e, now, att)}</div></div></div></body></html>'
            )

        return self.detail_page(e, now, render)
