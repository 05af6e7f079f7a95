"""`nianbao check FILE…`: read report files and print what the rules find."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from monitor.commands.files import read_report, shown
from monitor.engine import CheckResult, check_bytes
from monitor.errors import ExtractError
from monitor.extract import DEFAULT_MAX_BYTES
from monitor.extract.sniff import SUFFIXES
from monitor.report import SEVERITY_RANK


class Severity(StrEnum):
    """The severities of domain/rules.md, as the choices of --min-severity / --severity."""

    info = "info"
    warning = "warning"
    error = "error"


SEVERITY_STYLE = {"error": ("错误", "bold red"), "warning": ("警告", "yellow"), "info": ("提示", "cyan")}


def result_json(path: str, result: CheckResult) -> dict[str, Any]:
    """The contract of DESIGN.md: one object per file."""
    r = result.report
    if r is None:
        return {"file": path, "error": result.error}
    return {
        "file": path, "entity": r.entity, "year": r.year, "template": r.template,
        "published_at": r.published_at, "period": r.period,
        "sections": [s.key for s in r.sections], "tables": r.tables,
        "narrative": {k: v for k, v in r.narrative.items() if not k.startswith("_")},
        "findings": [f.to_dict() for f in result.findings],
    }


def _print_human(console: Console, path: str, result: CheckResult) -> None:
    r = result.report
    if r is None:
        console.print(f"[bold]{escape(path)}[/]  [red]无法读取：{escape(shown(result.error or ''))}[/]",
                      soft_wrap=True)
        return
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in SEVERITY_STYLE}
    head = "  ".join(f"[{SEVERITY_STYLE[s][1]}]{SEVERITY_STYLE[s][0]} {n}[/]" for s, n in counts.items())
    console.print(f"[bold]{escape(path)}[/]")
    console.print(f"  单位：{r.entity or '未识别'}  年度：{r.year or '未识别'}  模板：{r.template or '—'}"
                  f"  落款：{r.published_at or '—'}   {head}", soft_wrap=True)
    for f in result.findings:
        label, style = SEVERITY_STYLE[f.severity]
        console.print(f"  [{style}]{label} {f.rule}[/] {f.message}", highlight=False, soft_wrap=True)
    console.print()


# what a folder's files may be: the formats `extract` reads, and downloads saved without a suffix
_REPORT_SUFFIXES = SUFFIXES | {""}


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for the report files below it (by suffix; sorted, hidden
    ones left out)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file()
                              and p.suffix.lower() in _REPORT_SUFFIXES
                              and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            out.append(path)
    return out


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        files: Annotated[list[Path], typer.Argument(help="报告文件（HTML、DOCX、DOC、WPS、PDF、TXT），或包含它们的文件夹（按扩展名选取）")],
        as_json: Annotated[bool, typer.Option("--json", help="每个文件输出一行 JSON")] = False,
        min_severity: Annotated[Severity, typer.Option("--min-severity", help="只显示不低于此级别的问题",
                                                       case_sensitive=False)] = Severity.info,
        max_bytes: Annotated[int, typer.Option(help="单个文件大小上限（字节）")] = DEFAULT_MAX_BYTES,
    ) -> None:
        """检查年度报告文件：识别模板、解析表格、运行规则。能读取时退出码为0，无法读取时为2。"""
        console = Console(highlight=False)
        unreadable = 0
        floor = SEVERITY_RANK[min_severity.value]
        for path in _expand(files):
            name = shown(path)
            try:
                data = read_report(path, max_bytes)
            except ExtractError as exc:
                result = CheckResult(report=None, error=str(exc))
            else:
                result = check_bytes(data, filename=path.name, max_bytes=max_bytes)
            result.findings = [f for f in result.findings if SEVERITY_RANK[f.severity] >= floor]
            if result.report is None:
                unreadable += 1
            if as_json:
                sys.stdout.write(json.dumps(result_json(name, result), ensure_ascii=False) + "\n")
            else:
                _print_human(console, name, result)
        if unreadable:
            raise typer.Exit(2)
