"""The rule catalogue and the code say the same thing: every ID of domain/rules.md is declared
once, with the catalogue's severity and scope, and has an explanation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.rules import registry

RULES_MD = Path(__file__).resolve().parents[2] / "shared" / "domain" / "rules.md"
ROW = re.compile(r"^\|\s*([A-Z]+-\d{3})\s*\|\s*(error|warning|info)\s*\|\s*(doc|hist|sched)\s*\|", re.M)


def catalogue() -> dict[str, tuple[str, str]]:
    return {m[1]: (m[2], m[3]) for m in ROW.finditer(RULES_MD.read_text(encoding="utf-8"))}


@pytest.mark.skipif(not RULES_MD.exists(), reason="the team's rule catalogue is not beside the project")
def test_every_catalogue_rule_is_declared_with_its_severity_and_scope() -> None:
    declared = {rid: (cls.severity, cls.scope) for rid, cls in registry().items()}
    assert declared == catalogue()


def test_every_rule_explains_itself_in_chinese() -> None:
    for rid, cls in registry().items():
        text = cls.explanation()
        assert len(text) >= 10 and re.search(r"[\u4e00-\u9fa5]", text), rid
