"""The report engine's front door: bytes → Document → ParsedReport → doc-rule findings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from monitor.document import Document
from monitor.errors import ExtractError
from monitor.extract import extract
from monitor.parse import parse_document
from monitor.report import Finding, ParsedReport
from monitor.rules import run_doc_rules

log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    report: ParsedReport | None
    findings: list[Finding] = field(default_factory=list)
    document: Document | None = None
    error: str | None = None


def check_document(doc: Document, *, title_hint: str | None = None, year_hint: int | None = None,
                   entity_hint: str | None = None) -> CheckResult:
    report = parse_document(doc, title_hint=title_hint, year_hint=year_hint, entity_hint=entity_hint)
    return CheckResult(report=report, findings=run_doc_rules(report), document=doc)


def check_bytes(data: bytes, *, filename: str | None = None, content_type: str | None = None,
                title_hint: str | None = None, year_hint: int | None = None,
                entity_hint: str | None = None, max_bytes: int | None = None) -> CheckResult:
    """Never raises for bad content: `error` is set when the bytes cannot be read at all."""
    try:
        doc = extract(data, filename=filename, content_type=content_type, max_bytes=max_bytes)
    except ExtractError as exc:
        log.info("extract failed", extra={"file": filename, "error": str(exc)})
        return CheckResult(report=None, error=str(exc))
    return check_document(doc, title_hint=title_hint, year_hint=year_hint, entity_hint=entity_hint)
