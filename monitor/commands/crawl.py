"""`nianbao crawl COUNTY [--year Y] [--profile-dir counties]`: crawl one county, then check what
was fetched.

The crawl runs in a child process (Scrapy's reactor starts once per process, see crawler.runner);
this process draws the progress bar from the child's progress lines. The work is
`monitor.jobs.crawl_county` (crawl, then ingest → rules → deadlines → crawl health), the same
service the daemon and the bot call; this module only shows it.

Exit status: 0 when the portal was read (run ok or partial), 1 when it was blocked or failed
(the summary says why; a blocked portal is CRAWL-001, never "no report").

    nianbao crawl 370830 --year 2025
"""

from __future__ import annotations

import getpass
import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from crawler.runner import RUN_TIME_LIMIT

log = logging.getLogger(__name__)

STATUS_LABEL = {"ok": ("完成", "green"), "partial": ("部分完成", "yellow"), "blocked": ("被拦截", "bold red"),
                "failed": ("失败", "bold red")}


def run_crawl(profile: Any, *, settings: Any, years: list[int] | None, full: bool,
              console: Console | None, crawl_settings: dict[str, Any] | None = None,
              time_limit: float | None = None) -> dict[str, Any]:
    """Crawl and process through `monitor.jobs.crawl_county`, and return the summary (what the
    command prints)."""
    from monitor import jobs
    from notifier import outbox

    with _progress(console, profile.name) as on_progress:
        outcome = jobs.crawl_county(profile.code, settings, trigger="cli", requested_by=_user(), profile=profile,
                                    years=years, full=full, crawl_overrides=crawl_settings,
                                    on_progress=on_progress, on_events=outbox.hook(), time_limit=time_limit)
    return summarize(outcome, settings, profile)


def summarize(outcome: Any, settings: Any, profile: Any) -> dict[str, Any]:
    result, run = outcome.crawl, outcome.run
    engine = settings.engine()
    try:
        from storage.db import session_factory

        open_findings = _open_findings(session_factory(engine), profile.code)
    finally:
        engine.dispose()
    st = result.stats
    stored = [o for o in run.outcomes if o.status == "stored"]
    return {
        "county": profile.code, "name": profile.name, "run_id": result.run_id, "status": result.status,
        "error": result.error, "pages": st.get("pages", 0), "list_pages": st.get("list_pages", 0),
        "requests": st.get("requests", 0),
        "documents": {k: st.get(k, 0) for k in ("new", "changed", "unchanged", "not_modified", "skipped_known")},
        "reports": {"new": sum(1 for o in stored if o.new_version and o.version_id and not _changed(o)),
                    "changed": sum(1 for o in stored if _changed(o)),
                    "unchanged": sum(1 for o in run.outcomes if o.status == "unchanged")},
        "ingest": {"documents": len(run.outcomes), "failed": run.failed,
                   "unreadable": sum(1 for o in run.outcomes if o.status == "unreadable"),
                   "unattributed": sum(1 for o in run.outcomes if o.status == "unattributed")},
        "findings": {"from_reports": sum(len(o.findings) for o in run.outcomes), "open": open_findings},
        "blocked": st.get("blocked", 0), "blocked_kinds": st.get("blocked_kinds", {}),
        "failed": st.get("failed", 0), "failed_reasons": st.get("failed_reasons", {}),
        "retries": st.get("retries", 0), "empty_lists": st.get("empty_lists", []),
        "moved": st.get("moved", []), "too_large": st.get("too_large", []),
        "limits": st.get("limits", []),
        "store_errors": st.get("store_errors", 0),
    }


def _changed(o: Any) -> bool:
    return bool(o.new_version and any(f.rule == "YOY-004" for f in o.findings))


def _open_findings(sf: Any, code: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.models import Finding

    with sf() as s:
        rows = s.execute(select(Finding.rule_id, func.count()).where(
            Finding.county_code == code, Finding.resolved_at.is_(None)).group_by(Finding.rule_id))
        return {rule: n for rule, n in rows}


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return None


class _progress:
    """A rich progress bar fed by the crawl child's progress lines (or nothing without a console)."""

    def __init__(self, console: Console | None, name: str) -> None:
        self.console = console
        self.name = name
        self.bar: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if self.console is None:
            return None
        self.bar = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                            TextColumn("{task.fields[pages]}"), TextColumn("{task.fields[extra]}"),
                            TimeElapsedColumn(), console=self.console, transient=False)
        self.bar.__enter__()
        self.task = self.bar.add_task(f"抓取 {self.name}", total=None, extra="", pages="")
        return self.update

    def update(self, event: dict[str, Any]) -> None:
        if self.bar is None or event.get("event") != "progress":
            return
        pages = int(event.get("pages", 0))
        total = max(pages, int(event.get("list_pages", 0)) + int(event.get("report_links", 0)))
        extra = f"文件 {event.get('documents', 0)}  拦截 {event.get('blocked', 0)}  失败 {event.get('failed', 0)}"
        self.bar.update(self.task, completed=pages, total=total or None, extra=extra, pages=pages_label(event))

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def pages_label(event: dict[str, Any]) -> str:
    """The progress bar's page count: "12/40 页"; "被拦截" or "访问失败" while nothing was read
    because every answer was a block page or an error (never "0/None 页")."""
    pages = int(event.get("pages", 0))
    total = max(pages, int(event.get("list_pages", 0)) + int(event.get("report_links", 0)))
    if pages == 0 and int(event.get("blocked", 0)):
        return "被拦截"
    if pages == 0 and int(event.get("failed", 0)):
        return "访问失败"
    return f"{pages}/{total} 页" if total else f"{pages} 页"


def print_summary(console: Console, s: dict[str, Any]) -> None:
    label, style = STATUS_LABEL.get(s["status"], (s["status"], "bold"))
    console.print(f"[bold]{s['name']}（{s['county']}）[/] 抓取 #{s['run_id']}：[{style}]{label}[/]"
                  + (f"  {s['error']}" if s.get("error") else ""), highlight=False, soft_wrap=True)
    d, r = s["documents"], s["reports"]
    console.print(f"  页面 {s['pages']}（栏目页 {s['list_pages']}，请求 {s['requests']}）  "
                  f"文件：新 {d['new']} 变更 {d['changed']} 未变 {d['unchanged'] + d['not_modified'] + d['skipped_known']}",
                  highlight=False)
    console.print(f"  年报：新 {r['new']} 更新 {r['changed']} 未变 {r['unchanged']}  "
                  f"发现问题 {s['findings']['from_reports']}  "
                  + ("未解决：" + "、".join(f"{k}×{v}" for k, v in sorted(s['findings']['open'].items()))
                     if s["findings"]["open"] else "无未解决问题"), highlight=False, soft_wrap=True)
    if s["blocked"] or s["failed"]:
        kinds = "、".join(f"{k}×{v}" for k, v in sorted(s["blocked_kinds"].items())) or "—"
        reasons = "、".join(f"{k}×{v}" for k, v in sorted(s["failed_reasons"].items())) or "—"
        console.print(f"  [red]被拦截 {s['blocked']}（{kinds}）  失败 {s['failed']}（{reasons}），重试 {s['retries']}[/]",
                      highlight=False)
    for url in s["empty_lists"]:
        console.print(f"  [yellow]栏目页没有年报链接（可能已改版）：{url}[/]", highlight=False, soft_wrap=True)
    for url in s.get("too_large", []):
        console.print(f"  [yellow]文件超过下载大小上限，未下载：{url}[/]", highlight=False, soft_wrap=True)
    for limit in s.get("limits", []):
        console.print(f"  [yellow]达到抓取上限，其余未抓取：{limit}[/]", highlight=False, soft_wrap=True)
    for pair in s.get("moved", []):
        console.print(f"  [yellow]网站已迁移（跳转到配置之外的地址，请更新县配置）：{pair}[/]", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command("crawl")
    def crawl(
        county: Annotated[str, typer.Argument(help="县的6位行政区划代码、名称，或县配置文件路径")],
        year: Annotated[int | None, typer.Option("--year", help="只抓取这一年度的年报")] = None,
        profile_dir: Annotated[Path | None, typer.Option("--profile-dir", help="县配置目录（默认取配置的 counties_dir）")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="nianbao.toml")] = None,
        full: Annotated[bool, typer.Option("--full", help="重新核对所有已知年报（带条件请求）")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 摘要")] = False,
        time_limit: Annotated[int, typer.Option("--time-limit", min=1,
                                                help="本次抓取的时间上限（秒），到时结束，结果为部分完成")] = RUN_TIME_LIMIT,
    ) -> None:
        """抓取一个县的政府信息公开年报栏目，然后检查抓到的年报。"""
        from monitor.config import load_config
        from monitor.jobs import find_profile

        settings = load_config(config)
        profile = find_profile(county, profile_dir or settings.counties_dir)
        console = None if as_json else Console()
        summary = run_crawl(profile, settings=settings, years=[year] if year else None, full=full,
                            console=console, time_limit=time_limit)
        if as_json:
            typer.echo(json.dumps(summary, ensure_ascii=False))
        else:
            assert console is not None
            print_summary(console, summary)
        if summary["status"] in ("blocked", "failed"):
            raise typer.Exit(1)
