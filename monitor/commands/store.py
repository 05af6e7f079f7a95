"""`nianbao` commands: init, ingest, status, findings, revalidate, export.

Configuration comes from `nianbao.toml` / `NIANBAO_*` (monitor.config); the bodies of these
commands are thin: the work is in monitor.pipeline, monitor.deadlines and monitor.status.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from monitor.commands.check import Severity
from monitor.commands.files import read_report, shown
from monitor.errors import ConfigError, ExtractError, NianbaoError
from monitor.export import FORMATS
from monitor.extract import DEFAULT_MAX_BYTES

log = logging.getLogger(__name__)

STATE_STYLES = {"on_time": "green", "published": "green", "late": "yellow", "errors": "red", "missing": "bold red",
                "blocked": "magenta", "not_due": "dim", "reminder": "cyan", "unknown": "dim",
                "not_expected": "dim"}


def _settings() -> Any:
    from monitor.config import load_config

    return load_config()


def _open(settings: Any, *, must_exist: bool = True) -> Any:
    """The session factory for the configured database, checking it was initialised."""
    from storage.db import current_revision, session_factory

    engine = settings.engine()
    if must_exist:
        try:
            rev = current_revision(engine)
        except Exception as exc:  # the driver's own error says why (no server, bad URL…)
            raise ConfigError(f"cannot open the database: {exc}".splitlines()[0],
                              source=settings.database_url.split("@")[-1]) from None
        if rev is None:
            raise ConfigError("the database is not initialised: run `nianbao init`",
                              source=settings.database_url.split("@")[-1])
    return session_factory(engine)


# 政府信息公开条例 (2008) is the first report year; years after 2100 are typos.
FIRST_YEAR, LAST_YEAR = 2008, 2100


def _check_year(year: int | None) -> None:
    if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
        raise NianbaoError(f"--year must be a report year between {FIRST_YEAR} and {LAST_YEAR}, got {year}")


def _clock() -> Any:
    """The system clock, or the one `NIANBAO_CLOCK` names (the daemon's demo)."""
    from monitor.clock import clock_from_env

    return clock_from_env()


def init(counties: Annotated[Path | None, typer.Option(help="county profiles directory")] = None) -> None:
    """Create or upgrade the database (Alembic, to head) and load the county profiles."""
    from monitor.profiles import load_profiles, sync_profiles
    from storage.db import session_factory, upgrade

    settings = _settings()
    engine = settings.engine()
    try:
        upgrade(engine)
    except Exception as exc:
        if isinstance(exc, NianbaoError):
            raise
        raise ConfigError(f"cannot migrate the database: {exc}".splitlines()[0],
                          source=settings.database_url.split("@")[-1]) from None
    settings.blobs_dir.mkdir(parents=True, exist_ok=True)
    directory = counties or settings.counties_dir
    profiles = load_profiles(directory) if directory.is_dir() else []
    sf = session_factory(engine)
    with sf() as s, s.begin():
        sync_profiles(s, profiles)
    bodies = sum(len(p.bodies) for p in profiles)
    typer.echo(f"数据库已就绪（{engine.url.render_as_string(hide_password=True)}）；"
               f"载入 {len(profiles)} 个县、{bodies} 个主体（{directory}）。")


def ingest(files: Annotated[list[Path], typer.Argument(help="report files (txt, html, docx, pdf…)")],
           county: Annotated[str, typer.Option("--county", "-c", help="6-digit county code")],
           entity: Annotated[str | None, typer.Option(help="the body that published it")] = None,
           year: Annotated[int | None, typer.Option(help="report year")] = None,
           published_at: Annotated[str | None, typer.Option(
               "--published-at", help="publication date YYYY-MM-DD")] = None,
           max_bytes: Annotated[int, typer.Option(help="size limit of one file (bytes)")] = DEFAULT_MAX_BYTES,
           ) -> None:
    """Store and check reports received by mail or downloaded by hand (exit 2 when a file was not
    stored: unreadable, too large, or without a body or year)."""
    from monitor.jobs import ingest_file
    from notifier import outbox

    if published_at is not None:
        try:
            date.fromisoformat(published_at)
        except ValueError:
            raise NianbaoError(f"--published-at must be YYYY-MM-DD, got {published_at!r}") from None
    _check_year(year)
    settings = _settings()
    _open(settings)
    refused = 0
    for path in files:
        try:
            data = read_report(path, max_bytes)
        except ExtractError as exc:  # too large, not a regular file, no permission: nothing stored
            typer.secho(f"错误: {shown(str(exc))}", fg="red", err=True)
            refused += 1
            continue
        out = ingest_file(data, settings, county_code=county, filename=path.name, entity=entity,
                          year=year, published_at=published_at, on_events=outbox.hook())
        if out.status in ("unreadable", "unattributed"):
            typer.secho(f"错误: {shown(path)}: 未入库（{shown(out.error or out.status)}）", fg="red", err=True)
            refused += 1
            continue
        what = "新版本" if out.new_version else "内容未变"
        found = "、".join(sorted({f.rule for f in out.findings})) or "无问题"
        typer.echo(f"{shown(path)}: {out.entity}{'（新发现主体）' if out.discovered else ''} {out.year}年度 "
                   f"{what}；{found}")
    if refused:
        raise typer.Exit(2)


def status(county: Annotated[str | None, typer.Argument(help="6-digit county code")] = None,
           year: Annotated[int | None, typer.Option(help="report year")] = None) -> None:
    """Bodies × years: 按时 / 逾期 / 缺失 / 有错误 / 被拦截 / 未到期 (all counties: one line each)."""
    _check_year(year)
    from monitor.status import STATE_LABELS, county_status, overview

    settings = _settings()
    sf = _open(settings)
    console = Console()
    clock = _clock()
    with sf() as s:
        if county is None:
            rows = overview(s, clock, year, policy=settings.policy)
            t = Table(title=f"{rows[0]['year'] if rows else year or ''}年度 各县年报公开情况")
            t.add_column("县")
            states = ["on_time", "published", "late", "errors", "missing", "blocked", "not_due", "reminder", "unknown"]
            for st in states:
                t.add_column(STATE_LABELS[st] + ("(临近)" if st == "reminder" else ""), justify="right")
            for r in rows:
                t.add_row(f"{r['code']} {r['name']}", *[str(r.get(st, 0)) for st in states])
            console.print(t)
            return
        st = county_status(s, county, clock, [year] if year else None,
                           policy=settings.policy)
    t = Table(title=f"{st.code} {st.name} 年报公开情况")
    t.add_column("主体")
    for y in st.years:
        t.add_column(str(y), justify="center")
    for b in st.bodies:
        cells = []
        for y in st.years:
            c = b.cells[y]
            extra = f" {c.errors}错" if c.errors and c.state == "errors" else ""
            cells.append(f"[{STATE_STYLES[c.state]}]{c.label}{extra}[/]")
        t.add_row(b.name + ("*" if b.discovered else ""), *cells)
    console.print(t)
    for f in st.crawl_findings:
        console.print(f"[magenta]{f['rule']}[/] {f['message']}")
    if any(b.discovered for b in st.bodies):
        console.print("* 档案中未列出、从门户新发现的主体")


def findings(county: Annotated[str | None, typer.Option(help="6-digit county code")] = None,
             severity: Annotated[Severity | None, typer.Option(help="minimum", case_sensitive=False)] = None,
             open_: Annotated[bool, typer.Option("--open", help="only open findings")] = False,
             year: Annotated[int | None, typer.Option(help="report year")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False) -> None:
    """List findings, most severe first."""
    _check_year(year)
    from monitor.status import list_findings

    settings = _settings()
    sf = _open(settings)
    with sf() as s:
        rows = list_findings(s, county=county, severity=severity.value if severity else None, open_only=open_,
                             year=year)
    if as_json:
        for r in rows:
            typer.echo(json.dumps(r, ensure_ascii=False))
        return
    t = Table(title=f"问题清单（{len(rows)}）")
    for col in ("规则", "级别", "县", "主体", "年度", "说明", "状态"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["rule"], r["severity"], r["county"] or "", r["entity"] or "", str(r["year"] or ""),
                  r["message"], "已解决" if r["resolved_at"] else "未解决")
    Console().print(t)


def revalidate(county: Annotated[str | None, typer.Option(help="6-digit county code")] = None) -> None:
    """Re-run every rule on the stored documents (after a rule changed), without crawling."""
    from monitor.jobs import revalidate as run
    from notifier import outbox

    settings = _settings()
    _open(settings)
    n = run(settings, county_code=county, on_events=outbox.hook())
    typer.echo(f"已重新检查 {n} 份报告。")


EXPORT_FORMATS = FORMATS


def export(fmt: Annotated[str, typer.Option("--format", "-f", help="csv | xlsx | json")] = "csv",
           out: Annotated[Path | None, typer.Option("--out", "-o", help="output file (csv/json: default stdout)")] = None,
           what: Annotated[str, typer.Option(help="reports | findings (csv only; json and xlsx hold both)")] = "reports",
           county: Annotated[str | None, typer.Option(help="6-digit county code")] = None,
           year: Annotated[int | None, typer.Option(help="report year")] = None) -> None:
    """Export the status of every body × year and the findings."""
    _check_year(year)
    from monitor.evidence import evidence_text
    from monitor.export import csv_text, flat_details, json_text, xlsx_bytes
    from monitor.review import states_of
    from monitor.status import list_findings, report_rows

    if fmt not in EXPORT_FORMATS:
        raise NianbaoError(f"unknown format {fmt!r}; one of {', '.join(EXPORT_FORMATS)}")
    if what not in ("reports", "findings"):
        raise NianbaoError(f"--what must be reports or findings, got {what!r}")
    if fmt == "xlsx" and out is None:
        raise NianbaoError("xlsx needs --out FILE")
    settings = _settings()
    sf = _open(settings)
    with sf() as s:
        reports = report_rows(s, _clock(), county=county, years=[year] if year else None,
                              policy=settings.policy)
        found = list_findings(s, county=county, year=year)
        reviews = states_of(s, [(f["fingerprint"], f["resolved_at"] is not None) for f in found])
    for f in found:
        # the same evidence as `nianbao review` and the bot; the review state (monitor.review)
        f["review"] = reviews[f["fingerprint"]]
        f["evidence"] = evidence_text(f["rule"], f["details"], f["message"])
    if fmt == "json":
        _write_text(json_text({"reports": reports, "findings": found}), out)
    elif fmt == "csv":
        _write_text(csv_text(reports if what == "reports" else flat_details(found)), out, bom=out is not None)
    else:
        _write_bytes(xlsx_bytes({"报告": reports, "问题": flat_details(found)}), out)  # type: ignore[arg-type]
    if out is not None:
        typer.echo(f"已导出 {len(reports)} 行报告、{len(found)} 条问题到 {out}")


def _write_text(text: str, out: Path | None, *, bom: bool = False) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        out.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    except OSError as exc:
        raise NianbaoError(f"cannot write: {exc.strerror}", source=str(out)) from None


def _write_bytes(data: bytes, out: Path) -> None:
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise NianbaoError(f"cannot write: {exc.strerror}", source=str(out)) from None


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(ingest)
    app.command()(status)
    app.command()(findings)
    app.command()(revalidate)
    app.command()(export)
