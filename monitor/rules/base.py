"""Rules as small declared objects.

A rule is a class with `id`, `severity`, `scope`, `templates` and a docstring (its explanation,
shown in alerts), decorated with `@register`. The registry is built from the declarations; a test
checks that it matches the catalogue in domain/rules.md.

Scopes:
- doc   `check(report) -> Iterable[Finding]` — one report alone (monitor/rules/*.py)
- hist  `check(report, history) -> Iterable[Finding]` — needs stored history (monitor/history.py)
- sched evaluated by monitor/deadlines.py and the crawl-health code; the class declares the rule
        and builds its findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from monitor.report import Finding, ParsedReport

_WRAP = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")
ALL_TEMPLATES = frozenset({"2008", "2019", "2021"})
MODERN = frozenset({"2019", "2021"})

_REGISTRY: dict[str, type[Rule]] = {}


class Rule:
    id: ClassVar[str]
    severity: ClassVar[str]
    scope: ClassVar[str]
    templates: ClassVar[frozenset[str]] = ALL_TEMPLATES

    @classmethod
    def explanation(cls) -> str:
        """The docstring on one line; a line break between two Chinese characters joins them."""
        return _WRAP.sub("", " ".join((cls.__doc__ or "").split()))

    def finding(self, message: str, *, subject: str = "", **details: Any) -> Finding:
        return Finding(rule=self.id, severity=self.severity, message=message, details=details,
                       subject=subject)

    def applies_to(self, report: ParsedReport) -> bool:
        return report.template in self.templates


class DocRule(Rule):
    scope = "doc"

    def check(self, report: ParsedReport) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


def register(cls: type[Rule]) -> type[Rule]:
    if cls.id in _REGISTRY:
        raise ValueError(f"rule {cls.id} declared twice")
    _REGISTRY[cls.id] = cls
    return cls


def registry() -> dict[str, type[Rule]]:
    """Every declared rule, by ID (imports the rule modules on first use)."""
    import monitor.rules  # noqa: F401  (imports every rule module)

    return dict(_REGISTRY)
