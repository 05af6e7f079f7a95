"""The report engine stands alone: importing it (and the `nianbao check` command) loads neither
SQLAlchemy nor the storage models, while every rule of the catalogue is still registered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("module", ["monitor.engine", "monitor.commands.check"])
def test_engine_imports_no_sql(module: str) -> None:
    code = (f"import sys, json, {module}\n"
            "from monitor.rules import registry\n"
            "print(json.dumps({'sql': sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'storage', 'alembic', 'psycopg')), 'rules': sorted(registry())}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    got = json.loads(out.stdout)
    assert got["sql"] == []
    assert {"TIME-003", "TIME-004", "TIME-005", "CRAWL-001", "CRAWL-002", "CRAWL-003", "YOY-001",
            "TEXT-003"} <= set(got["rules"])
