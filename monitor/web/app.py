"""The status web pages: Starlette + Jinja2, rendered on the server, no JavaScript.

`create_app(settings, clock)` builds the ASGI app (`nianbao serve` runs it; the daemon can mount
it beside /healthz). Every page reads through monitor.status — the functions the CLI and the bot
use — and every list has CSV / XLSX / JSON exports (`?format=`) written by monitor.export, the
CLI's `export` code.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor import status as svc
from monitor.clock import SHANGHAI, Clock
from monitor.config import Policy
from monitor.errors import NianbaoError
from monitor.export import MEDIA_TYPES, csv_text, flat_details, json_text, xlsx_bytes
from monitor.web import views
from monitor.web.access import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    Access,
    csrf_ok,
    is_loopback,
    new_csrf,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100
FORM_MAX_BYTES = 8192  # the forms hold a token and a CSRF value; a bigger body is refused unread
EXPORT_MAX = 200_000  # rows of one export from a list page; more: narrow the filters
STATE_ORDER = ("on_time", "published", "late", "errors", "missing", "blocked", "reminder", "not_due", "unknown")
RUN_STATUS_LABELS = {"queued": "排队中", "running": "运行中", "ok": "成功", "partial": "部分成功",
                     "blocked": "被拦截", "failed": "失败"}
TRIGGER_LABELS = {"schedule": "定时", "cli": "命令行", "chat": "聊天机器人", "web": "网页"}
# No script anywhere: the pages work without JavaScript, and the browser is told to run none.
SECURITY_HEADERS = {"content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                    "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}
KIND_LABELS = {"county_gov": "县政府", "department": "部门", "township": "乡镇", "street": "街道", "other": "其他"}


class PageError(NianbaoError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _dt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v)
        except ValueError:
            return v
    if isinstance(v, datetime):
        return v.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _env() -> Environment:
    env = Environment(loader=PackageLoader("monitor.web", "templates"), autoescape=select_autoescape(
        ["html", "svg"]), auto_reload=False, trim_blocks=True, lstrip_blocks=True)
    env.filters["dt"] = _dt
    env.filters["d"] = views.fmt_date
    env.globals.update(STATE_LABELS=svc.STATE_LABELS, SEVERITY_LABELS=views.SEVERITY_LABELS,
                       RUN_STATUS_LABELS=RUN_STATUS_LABELS, TRIGGER_LABELS=TRIGGER_LABELS,
                       KIND_LABELS=KIND_LABELS, REVIEW_FILTERS=svc.REVIEW_FILTERS,
                       source_label=views.source_label, details_list=views.details_list)
    return env


def _int(value: str | None, name: str, *, low: int = 0, high: int = 10**9) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(value)  # type: ignore[arg-type]
    except ValueError:
        raise PageError(400, f"参数 {name} 应为整数") from None
    if not low <= n <= high:
        raise PageError(400, f"参数 {name} 超出范围（{low}–{high}）")
    return n


def _with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for k, v in changes.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = str(v)
    return request.url.path + ("?" + urlencode(params) if params else "")


class _Guard(BaseHTTPMiddleware):
    """Access (see monitor.web.access) and the CSRF cookie, for every request."""

    def __init__(self, app: Any, access: Access) -> None:
        super().__init__(app)
        self.access = access

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        client = request.client.host if request.client else None
        role = self.access.role_of_cookie(request.cookies.get(SESSION_COOKIE))
        auth = request.headers.get("authorization", "")
        if role is None and auth[:7].lower() == "bearer ":
            role = self.access.role_of_token(auth[7:].strip())
        local = is_loopback(client)
        request.state.role = role or ("read" if local else None)
        request.state.local = local
        csrf = request.cookies.get(CSRF_COOKIE)
        request.state.csrf = csrf or new_csrf()
        path = request.url.path
        if request.state.role is None and not (path in ("/login", "/logout") or path.startswith("/static/")):
            if not self.access.remote_allowed:
                return HTMLResponse("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>拒绝访问</title>"
                                    "<p>本服务只对本机（127.0.0.1）开放。远程访问需要配置访问令牌"
                                    "（NIANBAO_WEB_TOKEN）。</p></html>", status_code=403)
            if request.method == "GET":
                return RedirectResponse("/login?" + urlencode({"next": path}), status_code=303)
            return HTMLResponse("需要登录", status_code=401)
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            if not length.isdigit() or int(length) > FORM_MAX_BYTES:
                return HTMLResponse("表单过大或缺少长度，已拒绝。", status_code=413)
            origin = request.headers.get("origin")
            if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
                return HTMLResponse("请求来源与本站不符，已拒绝。", status_code=403)
        started = time.perf_counter()
        response = await call_next(request)
        # Server-Timing: the time the page took in the app (what bench/serve.py reads)
        response.headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        response.headers.update(SECURITY_HEADERS)
        if csrf is None:
            response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
        return response


def create_app(settings: Any, clock: Clock, *, session_factory: Any = None) -> Starlette:
    """The web UI. `settings` gives the database (`engine()`), `reminder_days` (or `policy`) and
    the access tokens (`web.token`, `web.admin_token`; see monitor.web.access)."""
    if session_factory is None:
        from storage.db import session_factory as make_sf

        session_factory = make_sf(settings.engine())
    access = Access.from_settings(settings)
    policy = getattr(settings, "policy", None) or Policy(reminder_days=int(getattr(settings, "reminder_days", 14)))
    env = _env()
    sf = session_factory

    def page(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        html = env.get_template(name).render(request=request, role=request.state.role,
                                             csrf=request.state.csrf, csrf_field=CSRF_FIELD,
                                             admin_enabled=access.admin_enabled, with_=lambda **c: _with(request, **c),
                                             **ctx)
        return HTMLResponse(html, status_code=status_code)

    def export(request: Request, stem: str, sheets: dict[str, list[Any]], data: Any = None) -> Response | None:
        fmt = request.query_params.get("format")
        if fmt is None:
            return None
        if fmt not in MEDIA_TYPES:
            raise PageError(400, f"不支持的导出格式 {fmt}（可选 csv、xlsx、json）")
        if fmt == "json":
            body: bytes = json_text(data if data is not None else sheets).encode()
        elif fmt == "csv":
            first = next(iter(sheets.values()))
            body = ("\ufeff" + csv_text(flat_details(first))).encode()
        else:
            body = xlsx_bytes({k: flat_details(v) if v and isinstance(v[0], dict) else v
                               for k, v in sheets.items()})
        return Response(body, media_type=MEDIA_TYPES[fmt],
                        headers={"content-disposition": f'attachment; filename="{stem}.{fmt}"'})

    def counties(request: Request) -> Response:
        q = (request.query_params.get("q") or "").strip()[:50]
        with sf() as s:
            rows = svc.list_counties(s, q or None)
        return export(request, "counties", {"县": rows}) or page(request, "counties.html", rows=rows, q=q)

    def county(request: Request) -> Response:
        code = request.path_params["code"]
        with sf() as s:
            try:
                st = svc.county_status(s, code, clock, policy=policy)
            except svc.UnknownCounty:
                raise PageError(404, f"没有代码为 {code} 的县") from None
            if request.query_params.get("format"):
                rows = svc.report_rows(s, clock, county=code)
                return export(request, f"status-{code}", {"报告": rows})  # type: ignore[return-value]
            per_rule = svc.findings_per_rule_year(s, county=code, open_only=True)
            runs, _ = svc.list_crawl_runs(s, county=code, limit=5)
        counts = {y: st.counts(y) for y in st.years}
        return page(request, "county.html", st=st, counts=counts, states=STATE_ORDER,
                    strip=views.strip_chart(st), rules_chart=views.rule_year_chart(
                        [c for c in per_rule if c["year"] in st.years], st.years),
                    runs=runs, message=request.query_params.get("msg"))

    def report(request: Request) -> Response:
        rid = _int(request.path_params["rid"], "rid", low=1)
        with sf() as s:
            r = svc.report_detail(s, rid)  # type: ignore[arg-type]
        if r is None:
            raise PageError(404, f"没有编号为 {rid} 的报告")
        cur = r["current"] or {"parsed": {}, "template": None}
        tables = views.table_views(cur["parsed"], cur["template"])
        findings = views.attach_findings(tables, r["findings"])
        if request.query_params.get("format"):
            sheets: dict[str, list[Any]] = {t.title.split()[0]: t.sheet() for t in tables}
            sheets["问题"] = r["findings"] or []
            if request.query_params["format"] == "csv":
                sheets = {"单元格": [cell for t in tables for cell in t.cells()]}
            data = {k: v for k, v in r.items() if k != "current"}
            return export(request, f"report-{rid}", sheets, data)  # type: ignore[return-value]
        original = None
        if r["current"]:
            doc = r["current"]["document"]
            url = doc["final_url"] or doc["url"]
            original = url if url.startswith(("http://", "https://")) else None
        return page(request, "report.html", r=r, tables=tables, findings=findings, original=original)

    def findings(request: Request) -> Response:
        qp = request.query_params
        filters: dict[str, Any] = {
            "county": (qp.get("county") or "").strip()[:6] or None,
            "entity": _int(qp.get("entity"), "entity", low=1),
            "rule": (qp.get("rule") or "").strip()[:20] or None,
            "severity": qp.get("severity") or None,
            "review": qp.get("review") or None,
            "year": _int(qp.get("year"), "year", low=1990, high=2200),
            "open_only": qp.get("open") == "1",
        }
        pg = _int(qp.get("page"), "page", low=1, high=100_000) or 1
        with sf() as s:
            try:
                if qp.get("format"):
                    rows, total = svc.search_findings(s, **filters, limit=None)
                    if total > EXPORT_MAX:
                        raise PageError(413, f"匹配 {total} 条，超过一次导出的上限 {EXPORT_MAX}，请缩小筛选范围")
                    return export(request, "findings", {"问题": rows})  # type: ignore[return-value]
                rows, total = svc.search_findings(s, **filters, limit=PAGE_SIZE, offset=(pg - 1) * PAGE_SIZE)
            except PageError:
                raise
            except NianbaoError as exc:
                raise PageError(400, f"筛选条件有误：{exc}") from None
            rules = sorted({*svc.finding_rules(s, filters["county"]), *([filters["rule"]] if filters["rule"] else [])})
            show_review = svc.reviews_exist(s) or filters["review"] is not None
            chart = views.rule_year_chart(svc.findings_per_rule_year(s, county=filters["county"],
                                                                     open_only=filters["open_only"]))
        return page(request, "findings.html", rows=rows, total=total, page=pg, pages=max(1, -(-total // PAGE_SIZE)),
                    f=filters, rules=rules, show_review=show_review, chart=chart)

    def runs(request: Request) -> Response:
        qp = request.query_params
        code = (qp.get("county") or "").strip()[:6] or None
        status_ = qp.get("status") or None
        pg = _int(qp.get("page"), "page", low=1, high=100_000) or 1
        with sf() as s:
            if qp.get("format"):
                rows, total = svc.list_crawl_runs(s, county=code, status=status_, limit=None)
                if total > EXPORT_MAX:
                    raise PageError(413, f"匹配 {total} 次抓取，超过一次导出的上限 {EXPORT_MAX}，请缩小筛选范围")
                return export(request, "crawl-runs", {"抓取记录": rows})  # type: ignore[return-value]
            rows, total = svc.list_crawl_runs(s, county=code, status=status_, limit=PAGE_SIZE,
                                              offset=(pg - 1) * PAGE_SIZE)
        return page(request, "runs.html", rows=rows, total=total, page=pg, pages=max(1, -(-total // PAGE_SIZE)),
                    county=code, status=status_)

    async def recrawl(request: Request) -> Response:
        code = request.path_params["code"]
        form = await request.form(max_files=0, max_fields=10)
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            raise PageError(403, "表单已失效（CSRF 校验失败），请刷新页面后重试")
        if request.state.role != "admin":
            raise PageError(403, "只有管理员可以请求重新抓取，请以管理员令牌登录")
        from starlette.concurrency import run_in_threadpool

        def queue() -> tuple[Any, bool]:
            with sf() as s, s.begin():
                run, created = svc.request_recrawl(s, code, "web:admin", trigger="web")
                return run.id, created
        try:
            run_id, created = await run_in_threadpool(queue)
        except svc.UnknownCounty:
            raise PageError(404, f"没有代码为 {code} 的县") from None
        log.info("recrawl requested over the web", extra={"county": code, "run_id": run_id, "created": created})
        msg = f"已排队重新抓取（第 {run_id} 次）" if created else f"已有排队中的抓取请求（第 {run_id} 次）"
        return RedirectResponse(f"/county/{code}?" + urlencode({"msg": msg}), status_code=303)

    async def login(request: Request) -> Response:
        nxt = request.query_params.get("next") or "/"
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        if request.method == "GET":
            return page(request, "login.html", next=nxt, error=None)
        form = await request.form(max_files=0, max_fields=10)
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            return page(request, "login.html", 403, next=nxt, error="表单已失效，请刷新页面后重试")
        token = form.get("token")
        role = access.role_of_token(token if isinstance(token, str) else None)
        if role is None:
            log.warning("web login refused", extra={"client": request.client.host if request.client else None})
            return page(request, "login.html", 403, next=nxt, error="令牌不正确")
        response = RedirectResponse(nxt, status_code=303)
        response.set_cookie(SESSION_COOKIE, access.session_cookie(role), httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def logout(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            raise PageError(403, "表单已失效，请刷新页面后重试")
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        if not hasattr(request.state, "role"):
            return HTMLResponse(str(exc), status_code=exc.status)
        return page(request, "error.html", exc.status, message=str(exc))

    async def not_found(request: Request, exc: Exception) -> Response:
        if not hasattr(request.state, "role"):
            return HTMLResponse("页面不存在", status_code=404)
        return page(request, "error.html", 404, message="页面不存在")

    routes = [
        Route("/", counties, name="counties"),
        Route("/county/{code:str}", county, name="county"),
        Route("/county/{code:str}/recrawl", recrawl, methods=["POST"], name="recrawl"),
        Route("/report/{rid:str}", report, name="report"),
        Route("/findings", findings, name="findings"),
        Route("/runs", runs, name="runs"),
        Route("/login", login, methods=["GET", "POST"], name="login"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(_Guard, access=access)],
                     exception_handlers={PageError: page_error, 404: not_found})


__all__ = ["create_app", "PageError"]
