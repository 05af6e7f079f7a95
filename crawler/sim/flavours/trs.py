"""TRS WCM: /xxgk/gknb/index.shtml, index_1.shtml… paged by createPageHTML; ./YYYYMM/tYYYYMMDD_<id>.html."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.sim import content
from crawler.sim.flavours.base import FILE_EXT, Site, match, pubdate
from crawler.sim.pages import Page, SimRequest, esc

if TYPE_CHECKING:
    from crawler.sim.world import Column, SimReport

# the script real TRS column templates include (shortened, same call signature)
CREATE_PAGE_HTML = """<script>
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
  if(_nPageCount == null || _nPageCount<=1){ return; }
  var nCurrIndex = _nCurrIndex || 0;
  if(nCurrIndex == 0) document.write("首页 上一页 ");
  else { document.write("<a href=\\""+_sPageName+"."+_sPageExt+"\\">首页</a> ");
    if(nCurrIndex == 1) document.write("<a href=\\""+_sPageName+"."+_sPageExt+"\\">上一页</a> ");
    else document.write("<a href=\\""+_sPageName+"_" + (nCurrIndex-1) + "."+_sPageExt+"\\">上一页</a> "); }
  if(nCurrIndex == (_nPageCount-1)) document.write("下一页 尾页");
  else { document.write("<a href=\\""+_sPageName+"_" + (nCurrIndex+1) + "."+_sPageExt+"\\">下一页</a> ");
    document.write("<a href=\\""+_sPageName+"_" + (_nPageCount-1) + "."+_sPageExt+"\\">尾页</a>"); }
}
</script>"""


class TrsSite(Site):
    flavour = "trs"

    def column_root(self, col: Column) -> str:
        gen = len(col.ids) - 1
        if col.body is None:
            return "/xxgk/gknb/" if gen == 0 else f"/zfxxgk/ndbg{gen}/"
        return f"/xxgk/xzzf6/{col.slug}/ndbg/" if gen == 0 else f"/xxgk/xzzf6/{col.slug}/ndbg{gen}/"

    def portals(self) -> list[tuple[str | None, list[str], dict[str, Any]]]:
        return [(col.body, [self.column_root(col) + "index.shtml"], {}) for col in self.county.columns]

    def detail_rel(self, e: SimReport) -> str:
        d = e.published_at
        return f"{d:%Y%m}/t{d:%Y%m%d}_{e.id}.html"

    def detail_path(self, e: SimReport) -> str:
        return self.column_root(e.column) + self.detail_rel(e)

    def attachment_file(self, e: SimReport) -> str:
        return f"P0{e.published_at:%Y%m%d}{e.token}.{content.extension(e.fmt)}"

    def attachment_path(self, e: SimReport) -> str | None:
        if e.fmt == "html":
            return None
        return self.column_root(e.column) + f"{e.published_at:%Y%m}/" + self.attachment_file(e)

    def route(self, req: SimRequest, now: datetime) -> Page | None:
        for col in self.county.columns:
            root = self.column_root(col)
            if not req.path.startswith(root):
                continue
            rest = req.path[len(root) :]
            m = match(r"(?:index(?:_(\d+))?\.shtml)?", rest)
            if m:
                return self.column_page(col, int(m.group(1) or 0), now)
            m = match(r"\d{6}/t\d{8}_(\d+)\.html", rest)
            if m:
                e = self.find_entry(int(m.group(1)), req.path, now)
                return self.detail(e, now) if e is not None else None
            m = match(r"\d{6}/P0\d{8}(\d{12})\." + FILE_EXT, rest)
            if m:
                return self.attachment_at(m.group(1), req.path, now)
        return None

    def column_page(self, col: Column, page: int, now: datetime) -> Page | None:
        items, count = self.visible_page(col, now, page)
        if page >= count:
            return None
        lis = [self.list_item("./" + self.detail_rel(e), e.title, f"{e.published_at:%Y-%m-%d}", title=e.title)
               for e in items]
        name = f"{col.body}年度报告" if col.body else "政府信息公开年报"
        script = CREATE_PAGE_HTML if self.county.pager != "inline" else ""
        text = (
            self.head(f"{name}_{self.webname}", f'<meta name="ColumnName" content="{esc(name)}">' + script)
            + f'<body>{self.column_nav(col, "index.shtml")}<div class="con-right"><div class="position">当前位置：<a href="/">首页</a> &gt; 政府信息公开 &gt; {esc(name)}</div>'
            f'<ul class="list">{"".join(lis)}</ul><div class="page">{self.pager(count, page)}</div></div></body></html>'
        )
        return self.list_page(col, now, text)

    def stamp(self, d: datetime) -> datetime:
        """PubDate as the CMS writes it: the regeneration time after a migration."""
        return max(self.county.regenerated_at, d) if self.county.regenerated_at else d

    def pager(self, count: int, page: int) -> str:
        if self.county.pager == "inline":
            # older TRS templates: the count and the page written inline, the links by document.write
            return (
                f'<script type="text/javascript">var countPage = {count}//共多少页\nvar currentPage = {page};//当前页\n'
                'var prePage = currentPage - 1; var nextPage = currentPage + 1;\n'
                'if (countPage > 1) { if (currentPage > 0) document.write("<a href=\\"index" + (prePage > 0 ? "_" + prePage : "")'
                ' + ".shtml\\">上一页</a>");\n'
                'if (nextPage < countPage) document.write("<a href=\\"index_" + nextPage + ".shtml\\">下一页</a>"); }</script>'
            )
        return (f'<script type="text/javascript">var countPage = {count};var currentPage = {page};'
                f'createPageHTML({count}, {page}, "index", "shtml");</script>')

    def detail(self, e: SimReport, now: datetime) -> Page:
        def render() -> str:
            d = e.published_at
            att = ("./" + self.attachment_file(e)) if e.fmt != "html" else None
            meta = (
                f'<meta name="ArticleTitle" content="{esc(e.title)}"><meta name="PubDate" content="{pubdate(self.stamp(d))}">'
                f'<meta name="ContentSource" content="{esc(self.publisher(e))}"><meta name="ColumnName" content="政府信息公开年报">'
            )
            return (
                self.head(e.title, meta)
                + f'<body><div class="article"><table class="xxgk"><tr><th>索引号：</th><td>{esc(self.index_number(e))}</td>'
                f"<th>发布机构：</th><td>{esc(self.publisher(e))}</td></tr><tr><th>发文日期：</th><td>{d:%Y-%m-%d}</td>"
                f'<th>主题分类：</th><td>政府信息公开年报</td></tr></table><h1>{esc(e.title)}</h1>'
                f'<div class="TRS_Editor">{self.article_fragment(e, now, att)}</div></div></body></html>'
            )

        return self.detail_page(e, now, render)
