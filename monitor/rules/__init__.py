"""The rule catalogue (domain/rules.md). Importing this package registers every rule: the doc
rules, the hist rules (monitor.history, pure functions over parsed reports) and the sched rules
(monitor.rules.sched; evaluated with the database by monitor.deadlines and monitor.crawlhealth,
which this package never imports: the engine stays free of SQLAlchemy)."""

from __future__ import annotations

from monitor import history  # noqa: F401  (registers the hist rules)
from monitor.report import Finding, ParsedReport, finding_sort_key
from monitor.rules import arithmetic, plausibility, sched, structure, text, time  # noqa: F401
from monitor.rules.base import DocRule, Rule, register, registry  # noqa: F401


def doc_rules() -> list[DocRule]:
    return [cls() for cls in registry().values() if issubclass(cls, DocRule)]


def run_doc_rules(report: ParsedReport) -> list[Finding]:
    """Every doc-scope rule that applies to the report's template. A report without usable text
    gets STRUCT-006 alone."""
    out: list[Finding] = []
    for rule in doc_rules():
        if report.template is None and rule.id != "STRUCT-006":
            continue
        if not rule.applies_to(report):
            continue
        out.extend(rule.check(report))
    if any(f.rule == "STRUCT-006" for f in out):
        out = [f for f in out if f.rule == "STRUCT-006"]
    return sorted(out, key=finding_sort_key)
