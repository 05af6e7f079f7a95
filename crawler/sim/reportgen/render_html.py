"""A portal detail page holding the report as a Word export (TRS-style `TRS_Editor` body).

Page chrome (header, nav, breadcrumb 首页>信息公开>政府信息公开年报, sidebar, footer with 网站标识码
and ICP), `<meta name="PubDate">`, a 发布时间 line; the body is `<p class="MsoNormal">` paragraphs
with `<span>`, `<o:p></o:p>` and `&nbsp;` padding, and tables with the official rowspan/colspan
headers and `<br>` inside some labels. `gbk=True` encodes the page in GBK and declares it.
"""

from __future__ import annotations

import hashlib
from html import escape

from .document import Block, blocks, render_rng
from .layout import Cell, Grid
from .spec import ReportSpec

FONT_BODY = "font-size:16.0pt;font-family:仿宋_GB2312"
FONT_HEAD = "font-size:16.0pt;font-family:黑体"
FONT_CELL = "font-size:10.5pt;font-family:宋体"
TD_STYLE = ("border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt")


def _t(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def _para(text: str, *, indent: bool, nbsp: bool) -> str:
    pad = "&nbsp;" * 4 if nbsp else ""
    style = "text-indent:32.0pt;line-height:28.0pt" if indent else "line-height:28.0pt"
    return (f'<p class="MsoNormal" style="{style}"><span style="{FONT_BODY}">{pad}{_t(text)}</span>'
            f'<span lang="EN-US" style="{FONT_BODY}"><o:p></o:p></span></p>')


def _cell(c: Cell) -> str:
    attrs = ""
    if c.rowspan > 1:
        attrs += f' rowspan="{c.rowspan}"'
    if c.colspan > 1:
        attrs += f' colspan="{c.colspan}"'
    align = ' align="center" style="text-align:center"' if c.kind != "label" or c.col > 0 else ""
    inner = _t(c.text) if c.text else "&nbsp;"
    return (f'<td{attrs} valign="center" style="{TD_STYLE}"><p class="MsoNormal"{align}>'
            f'<span style="{FONT_CELL}">{inner}</span><span lang="EN-US"><o:p></o:p></span></p></td>')


def _table(grid: Grid, border: bool) -> str:
    head = ('<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0" '
            'style="border-collapse:collapse;border:none">' if border else
            '<table class="MsoNormalTable" cellspacing="0" cellpadding="0" style="border-collapse:collapse">')
    rows = ["<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in grid.html_rows()]
    return head + "<tbody>" + "\n".join(rows) + "</tbody></table>"


def _body(spec: ReportSpec, doc: list[Block], rng) -> str:
    nbsp = rng.random() < 0.5
    border = rng.random() < 0.85
    parts: list[str] = []
    for b in doc[1:]:
        if b.kind == "heading":
            parts.append(f'<p class="MsoNormal" style="text-indent:32.0pt;line-height:28.0pt"><b>'
                         f'<span style="{FONT_HEAD}">{_t(b.text)}</span></b><span lang="EN-US">'
                         f'<o:p></o:p></span></p>')
        elif b.kind == "sub":
            parts.append(f'<p class="MsoNormal" style="text-indent:32.0pt"><b><span style="{FONT_BODY}">'
                         f'{_t(b.text)}</span></b></p>')
        elif b.kind == "para":
            parts.append(_para(b.text, indent=True, nbsp=nbsp))
        elif b.kind == "table":
            assert b.grid is not None
            parts.append(_table(b.grid, border))
            parts.append('<p class="MsoNormal"><span lang="EN-US">&nbsp;<o:p></o:p></span></p>')
        elif b.kind == "image":
            name = hashlib.sha1(f"{spec.seed}:{spec.entity}:{spec.year}".encode()).hexdigest()[:16]
            parts.append(f'<p class="MsoNormal" align="center" style="text-align:center"><img width="640" '
                         f'height="900" src="/picture/0/{name}.png" alt="{escape(b.text)}"></p>')
        elif b.kind == "sign":
            parts.append(f'<p class="MsoNormal" align="right" style="text-align:right">'
                         f'<span style="{FONT_BODY}">{_t(b.text)}</span></p>')
    return "\n".join(parts)


PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<meta http-equiv="X-UA-Compatible" content="IE=edge" />
<title>{title}_{site}</title>
<meta name="SiteName" content="{site}" />
<meta name="SiteDomain" content="{domain}" />
<meta name="SiteIDCode" content="{site_code}" />
<meta name="ColumnName" content="政府信息公开年报" />
<meta name="ColumnType" content="政府信息公开年报" />
<meta name="ArticleTitle" content="{title}" />
<meta name="PubDate" content="{pubdate}" />
<meta name="ContentSource" content="{source}" />
<link rel="stylesheet" type="text/css" href="/images/common.css" />
<script type="text/javascript" src="/images/jquery.min.js"></script>
</head>
<body>
<div class="top"><div class="w1200"><span class="date" id="today"></span>
<a href="/">无障碍浏览</a> | <a href="/">长者模式</a> | <a href="/">English</a></div></div>
<div class="header"><div class="w1200"><a href="/" class="logo"><img src="/images/logo.png" alt="{site}" /></a>
<form action="/search" class="search"><input type="text" name="q" placeholder="请输入关键字" />
<button type="submit">搜索</button></form></div></div>
<div class="nav"><ul class="w1200">
<li><a href="/">首页</a></li><li><a href="/zwdt/">政务动态</a></li><li class="on"><a href="/xxgk/">信息公开</a></li>
<li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li><li><a href="/zjxq/">走进{short}</a></li>
</ul></div>
<div class="main w1200">
<div class="crumb">当前位置：<a href="/">首页</a>&gt;<a href="/xxgk/">信息公开</a>&gt;<a href="/xxgk/gknb/">政府信息公开年报</a></div>
<div class="sidebar"><h3>信息公开</h3><ul>
<li><a href="/xxgk/zn/">政府信息公开指南</a></li><li><a href="/xxgk/zd/">政府信息公开制度</a></li>
<li><a href="/xxgk/fdzdgk/">法定主动公开内容</a></li><li class="on"><a href="/xxgk/gknb/">政府信息公开年报</a></li>
<li><a href="/xxgk/ysq/">依申请公开</a></li></ul></div>
<div class="article">
<h1 class="article-title">{title}</h1>
<div class="article-info"><span>发布时间：{pubdate}</span><span>来源：{source}</span><span>浏览次数：<em id="hits">{hits}</em></span>
<span>【字体：<a href="javascript:;">大</a> <a href="javascript:;">中</a> <a href="javascript:;">小</a>】</span></div>
<div class="article-content"><div class="TRS_Editor">
{body}
</div></div>
<div class="article-tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div>
</div>
<div class="footer"><div class="w1200">
<p>主办单位：{site_owner}　承办单位：{source}</p>
<p>网站标识码：{site_code}　<a href="https://beian.miit.gov.cn/" target="_blank">{icp}</a>　{police}</p>
<p>建议使用1366×768分辨率及以上浏览器浏览本网站</p>
</div></div>
</body>
</html>
"""


def render_html(spec: ReportSpec, *, gbk: bool = False) -> bytes:
    rng = render_rng(spec, "html")
    doc = blocks(spec)
    num = rng.randint(1000000000, 3799999999)
    site = f"{spec.entity_short}人民政府" if spec.entity_kind in ("township", "county_gov") else spec.entity
    page = PAGE.format(
        charset="gbk" if gbk else "utf-8",
        title=escape(spec.title),
        site=escape(site),
        site_owner=escape(site),
        short=escape(spec.entity_short),
        domain=f"www.gov{num % 100000}.gov.cn",
        site_code=str(num),
        pubdate=spec.meta["page_published_at"],
        source=escape(spec.entity),
        hits=rng.randint(12, 3000),
        icp=f"鲁ICP备{rng.randint(10000000, 19999999)}号-{rng.randint(1, 3)}",
        police=f"鲁公网安备 {rng.randint(37000000000000, 37999999999999)}号",
        body=_body(spec, doc, rng),
    )
    if gbk:
        return page.encode("gbk", errors="xmlcharrefreplace")
    return page.encode("utf-8")
