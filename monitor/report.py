"""The structured report (what `parse` produces) and the findings rules produce.

`ParsedReport.to_dict()` is the shape stored in `ReportVersion.parsed` and printed by
`nianbao check --json` (DESIGN.md "Contracts"); `tables` uses the keys of domain/templates.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(slots=True)
class Section:
    key: str  # overview | active | requests | review_litigation | problems | other
    number: str  # the numbering as written: "五、", "5、", "（五）"…
    title: str  # the heading as written
    position: int  # index of the heading among the document's blocks
    text: str = ""  # the section's prose (paragraphs up to the next section)


@dataclass(slots=True)
class ParsedReport:
    title: str | None = None
    entity: str | None = None
    year: int | None = None
    template: str | None = None  # "2008" | "2019" | "2021" | None (no usable text)
    published_at: str | None = None  # ISO date written under the signature
    period: list[str | None] | None = None  # [start, end] ISO dates of 统计期限
    sections: list[Section] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    narrative: dict[str, Any] = field(default_factory=dict)
    # All prose in reading order (paragraphs only, no table cells) — for the text and history rules.
    prose: list[str] = field(default_factory=list)
    # Parser observations that rules read: label variants met, blank cells, units, template signals…
    notes: dict[str, Any] = field(default_factory=dict)
    format: str | None = None

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "entity": self.entity,
            "year": self.year,
            "template": self.template,
            "published_at": self.published_at,
            "period": self.period,
            "sections": [
                {"key": s.key, "number": s.number, "title": s.title} for s in self.sections
            ],
            "tables": self.tables,
            "narrative": self.narrative,
            "prose": self.prose,
            "notes": self.notes,
            "format": self.format,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParsedReport:
        return cls(
            title=d.get("title"),
            entity=d.get("entity"),
            year=d.get("year"),
            template=d.get("template"),
            published_at=d.get("published_at"),
            period=d.get("period"),
            sections=[Section(key=s["key"], number=s["number"], title=s["title"], position=i)
                      for i, s in enumerate(d.get("sections", []))],
            tables=d.get("tables", {}),
            narrative=d.get("narrative", {}),
            prose=d.get("prose", []),
            notes=d.get("notes", {}),
            format=d.get("format"),
        )


@dataclass(slots=True)
class Finding:
    rule: str
    severity: str
    message: str  # Chinese, for a county official
    details: dict[str, Any] = field(default_factory=dict)
    # What the finding is about, independent of wording: cells, quoted text, the other body…
    # Part of the fingerprint, so a review survives re-parsing but not changed numbers.
    subject: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message,
                "details": self.details}

    def fingerprint(self, entity: str | int | None, year: int | None) -> str:
        raw = json.dumps([self.rule, str(entity), year, self.subject], ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def finding_sort_key(f: Finding) -> tuple[int, str]:
    return (-SEVERITY_RANK[f.severity], f.rule)


__all__ = ["Section", "ParsedReport", "Finding", "SEVERITIES", "SEVERITY_RANK", "finding_sort_key",
           "asdict"]
