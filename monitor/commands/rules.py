"""`nianbao rules [ID…]`: the rule catalogue — each rule's ID, severity, scope, what it checks and an
example of what it says, as the registry declares them (monitor.rules.base.registry())."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from monitor.errors import NianbaoError
from monitor.rules.base import Rule, registry
from monitor.rules.examples import example

SEVERITY_WORDS = {"error": ("错误", "bold red"), "warning": ("警告", "yellow"), "info": ("提示", "cyan")}
SCOPE_WORDS = {"doc": "单份报告", "hist": "对照历史", "sched": "期限与抓取"}
# the order of domain/rules.md
FAMILIES = ("STRUCT", "ARITH", "PLAUS", "TIME", "YOY", "TEXT", "CRAWL")


def _order(rule_id: str) -> tuple[int, str]:
    family = rule_id.split("-")[0]
    return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), rule_id)


def catalogue(ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Every registered rule (or those named), in catalogue order, with its example message."""
    rules = registry()
    wanted = [i.upper() for i in ids or []]
    unknown = [i for i in wanted if i not in rules]
    if unknown:
        raise NianbaoError(f"没有规则 {'、'.join(unknown)}；可用 nianbao rules 查看全部规则")
    out = []
    for rule_id in sorted(wanted or rules, key=_order):
        cls: type[Rule] = rules[rule_id]
        found = example(rule_id)
        out.append({"id": rule_id, "severity": cls.severity, "scope": cls.scope,
                    "templates": sorted(cls.templates), "explanation": cls.explanation(),
                    "example": found.message if found is not None else None})
    return out


def register(app: typer.Typer) -> None:
    @app.command()
    def rules(
        ids: Annotated[list[str] | None, typer.Argument(help="只列出这些规则（如 ARITH-002 TIME-004）")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 数组")] = False,
    ) -> None:
        """列出规则目录：每条规则的编号、级别、检查什么，以及一条示例提示。"""
        entries = catalogue(ids)
        if as_json:
            sys.stdout.write(json.dumps(entries, ensure_ascii=False, indent=2) + "\n")
            return
        console = Console(highlight=False, soft_wrap=True)
        for e in entries:
            word, style = SEVERITY_WORDS[e["severity"]]
            console.print(f"[bold]{e['id']}[/]  [{style}]{word}[/]  {SCOPE_WORDS.get(e['scope'], e['scope'])}")
            console.print(f"  检查：{e['explanation']}")
            if e["example"]:
                console.print(f"  示例：{e['example']}")
            console.print()
