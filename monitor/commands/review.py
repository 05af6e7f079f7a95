"""`nianbao review list|show|confirm|dismiss|reopen|audit|summary`: people review findings (the same
service functions as the bot's /confirm and /dismiss, monitor.review)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.commands.store import _clock, _open, _settings

review_app = typer.Typer(help="审核问题：确认、排除（须说明原因），查看审核记录和汇总表", no_args_is_help=True)

CountyOpt = Annotated[str | None, typer.Option("--county", help="6位县代码")]


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a container
        return "cli"


def _print_finding(r: dict[str, Any], *, evidence: bool = True) -> None:
    where = " ".join(str(x) for x in (r["county_name"], r["entity"], f"{r['year']}年度" if r["year"] else None) if x)
    typer.echo(f"#{r['id']} [{r['state_label']}] {r['rule']} {r['severity']} {where}")
    typer.echo(f"  {r['message']}")
    if r["reason"] or r["by"]:
        typer.echo(f"  审核：{r['by'] or ''} {r['reviewed_at'] or ''} {r['reason'] or ''}".rstrip())
    if evidence:
        for line in r["evidence"]:
            typer.echo(f"  {line}")


@review_app.command("list")
def list_(county: CountyOpt = None,
          state: Annotated[str | None, typer.Option(help="open | confirmed | dismissed | fixed")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
          evidence: Annotated[bool, typer.Option(help="show the evidence under each finding")] = True) -> None:
    """列出问题及其审核状态（待审核、已确认、已排除、已更正）和依据。"""
    from monitor.review import list_reviewed

    sf = _open(_settings())
    with sf() as s:
        rows = list_reviewed(s, county=county, state=state)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        typer.echo("没有符合条件的问题。")
    for r in rows:
        _print_finding(r, evidence=evidence)


@review_app.command()
def show(finding_id: Annotated[int, typer.Argument(help="问题编号")]) -> None:
    """显示一个问题的依据和审核记录。"""
    from monitor.review import audit, finding_summary

    sf = _open(_settings())
    with sf() as s:
        r = finding_summary(s, finding_id)
        trail = audit(s, finding_id=finding_id)
    _print_finding(r)
    for a in trail:
        typer.echo(f"  {a['at']} {a['by']}：{a['from'] or 'open'} → {a['to']} {a['reason'] or ''}".rstrip())


def _set(finding_id: int, state: str, reason: str | None, by: str | None) -> None:
    from monitor.review import set_state

    sf = _open(_settings())
    with sf() as s, s.begin():
        r = set_state(s, finding_id, state, by=_who(by), now=_clock().now(), reason=reason)
    typer.echo(f"问题 {finding_id} 已标记为“{r['state_label']}”。")
    _print_finding(r)


@review_app.command()
def confirm(finding_id: Annotated[int, typer.Argument(help="问题编号")],
            reason: Annotated[str | None, typer.Option("--reason", help="说明（可选）")] = None,
            by: Annotated[str | None, typer.Option("--by", help="审核人（默认：当前系统用户）")] = None) -> None:
    """确认问题属实（每日摘要中标记“已确认”）。"""
    _set(finding_id, "confirmed", reason, by)


@review_app.command()
def dismiss(finding_id: Annotated[int, typer.Argument(help="问题编号")],
            reason: Annotated[str, typer.Option("--reason", help="排除的原因（必填）")],
            by: Annotated[str | None, typer.Option("--by", help="审核人（默认：当前系统用户）")] = None) -> None:
    """排除问题（不是问题）：以后不再提醒，直到相关数字改变。"""
    _set(finding_id, "dismissed", reason, by)


@review_app.command()
def reopen(finding_id: Annotated[int, typer.Argument(help="问题编号")],
           reason: Annotated[str | None, typer.Option("--reason", help="说明（可选）")] = None,
           by: Annotated[str | None, typer.Option("--by", help="审核人（默认：当前系统用户）")] = None) -> None:
    """撤销审核，问题回到“待审核”。"""
    _set(finding_id, "open", reason, by)


@review_app.command("audit")
def audit_(county: CountyOpt = None,
           finding_id: Annotated[int | None, typer.Option("--id", help="只看一个问题")] = None) -> None:
    """审核记录（只追加、从不改写）：谁、何时、为什么、从什么状态改为什么状态。"""
    from monitor.review import audit

    sf = _open(_settings())
    with sf() as s:
        rows = audit(s, finding_id=finding_id, county=county)
    if not rows:
        typer.echo("没有审核记录。")
    for a in rows:
        typer.echo(f"{a['at']} #{a['finding_id']} {a['rule'] or ''} {a['county'] or ''} {a['by']}："
                   f"{a['from'] or 'open'} → {a['to']} {a['reason'] or ''}".rstrip())


@review_app.command()
def summary(year: Annotated[int, typer.Option("--year", help="报告年度")],
            county: CountyOpt = None,
            fmt: Annotated[str, typer.Option("--format", "-f", help="csv | xlsx")] = "csv",
            out: Annotated[Path | None, typer.Option("--out", "-o", help="输出文件（csv 默认输出到屏幕）")] = None,
            ) -> None:
    """各县汇总表：未公开、逾期公开的单位，待审核、已确认的问题（CSV 或 XLSX）。"""
    from monitor.review import county_summary, write_summary

    settings = _settings()
    sf = _open(settings)
    with sf() as s:
        rows = county_summary(s, _clock(), year, county=county, policy=settings.policy)
    text = write_summary(rows, out, fmt)
    if text is not None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"已导出 {len(rows)} 个县的汇总到 {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
