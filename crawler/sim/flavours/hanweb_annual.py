"""Hanweb 信息公开年报 module: /module/xxgk/xxgkAnnualReport.jsp?area=<org code>&fbtime=<year>.

One URL per (body, year), no list: the page is the report (or 暂无 when there is none).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.sim.flavours.base import Site
from crawler.sim.flavours.hanweb import DOWNLOAD, download, download_path
from crawler.sim.pages import Page, SimRequest, esc

if TYPE_CHECKING:
    from crawler.sim.world import Column, SimReport


class HanwebAnnualSite(Site):
    flavour = "hanweb_annual"

    def column_root(self, col: Column) -> str:
        gen = len(col.ids) - 1
        return "/module/xxgk/xxgkAnnualReport.jsp" if gen == 0 else f"/module/xxgk{gen}/xxgkAnnualReport.jsp"

    @property
    def module(self) -> str:
        return self.column_root(self.county.columns[0])

    def annual_url(self, body: str, year: int) -> str:
        return f"{self.module}?area={self.county.org_codes[body]}&fbtime={year}"

    def portals(self) -> list[tuple[str | None, list[str], dict[str, Any]]]:
        out: list[tuple[str | None, list[str], dict[str, Any]]] = []
        for body, _kind in self.county.bodies:
            opts = {"area": self.county.org_codes[body], "years": list(self.county.years), "module": self.module}
            out.append((body, [self.annual_url(body, y) for y in self.county.years], opts))
        return out

    def detail_path(self, e: SimReport) -> str:
        return self.annual_url(e.body or "", e.year)

    def attachment_path(self, e: SimReport) -> str | None:
        return download_path(self, e)

    def route(self, req: SimRequest, now: datetime) -> Page | None:
        if req.path == DOWNLOAD:
            return download(self, req, now)
        if req.path != self.module:
            return None
        area, fbtime = req.query.get("area", ""), req.query.get("fbtime", "")
        body = next((b for b, code in self.county.org_codes.items() if code == area), None)
        year = int(fbtime) if fbtime.isdigit() else None
        e = self.county.report(body, year) if body is not None and year is not None else None
        if self.county.layout:
            return self.scripted(body, fbtime, now)
        if e is not None and e.visible(now):
            return self.detail(e, now)
        return self.empty(body, fbtime, now)

    def scripted(self, body: str | None, fbtime: str, now: datetime) -> Page:
        """After `change_layout`: the module page is a shell that fetches the report by script."""
        text = (
            self.head(f"{body or ''}政府信息公开年度报告")
            + f'<body><div class="xxgk_nb">{self.year_select(fbtime)}<div id="nbContent"></div></div>'
            '<script src="/module/xxgk/js/annualReport.js"></script>'
            f"<script>loadAnnualReport('{esc(fbtime)}','#nbContent');</script></body></html>"
        )
        return self.html(text, kind="list", last_modified=datetime(2020, 1, 1, tzinfo=now.tzinfo))

    def year_select(self, current: str) -> str:
        years = range(2019, self.world.now().year + 1)
        opts = "".join(f'<option value="{y}"{" selected" if str(y) == current else ""}>{y}</option>' for y in years)
        return f'<div class="nbxz">年度：<select id="fbtime" onchange="changeYear(this.value)">{opts}</select></div>'

    def empty(self, body: str | None, fbtime: str, now: datetime) -> Page:
        title = f"{body or ''}政府信息公开年度报告"
        text = (
            self.head(title)
            + f'<body><div class="xxgk_nb"><h2>{esc(title)}</h2>{self.year_select(fbtime)}'
            '<div class="nb_content"><p class="nodata">暂无信息</p></div></div></body></html>'
        )
        return self.html(text, kind="list", last_modified=datetime(2020, 1, 1, tzinfo=now.tzinfo))

    def detail(self, e: SimReport, now: datetime) -> Page:
        def render() -> str:
            stamp = e.published_at.strftime("%Y-%m-%d %H:%M:%S")
            return (
                self.head(f"{e.title}")
                + f'<body><div class="xxgk_nb"><h2>{esc(self.publisher(e))}政府信息公开年度报告</h2>'
                f'{self.year_select(str(e.year))}<div class="nb_title"><h1>{esc(e.title)}</h1></div>'
                f'<div class="nb_info">发布时间：{stamp}&nbsp;&nbsp;发布机构：{esc(self.publisher(e))}</div>'
                f'<div class="nb_content">{self.article_fragment(e, now, self.attachment_path(e))}</div></div></body></html>'
            )

        return self.detail_page(e, now, render)

