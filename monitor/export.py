"""Serialising lists of rows to CSV, JSON and XLSX: one implementation for `nianbao export` and
the web pages' export links, so a file downloaded from the page is the file the CLI writes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "json": "application/json"}
XLSX_SHEET_NAME_MAX = 31  # Excel's limit
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def flat_details(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with a `details` dict (findings) turned into JSON text, for CSV and XLSX cells."""
    return [{**r, "details": json.dumps(r["details"], ensure_ascii=False)} if isinstance(r.get("details"), dict | list)
            else r for r in rows]


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """A header from the first row's keys, then the rows (empty text for no rows)."""
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()


def json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)


def _cell(v: Any) -> Any:
    return v if isinstance(v, int | float | str) or v is None else str(v)


def xlsx_bytes(sheets: Mapping[str, Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]]]) -> bytes:
    """A workbook with one sheet per entry. A sheet is a list of dicts (a header row from the first
    one's keys) or a list of lists (rows as given, the first one being the header)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, rows in sheets.items():
        title = (name.translate(_SHEET_FORBIDDEN) or "Sheet")[:XLSX_SHEET_NAME_MAX]
        base, i = title, 2
        while title in used:
            title = f"{base[:XLSX_SHEET_NAME_MAX - 3]}_{i}"
            i += 1
        used.add(title)
        ws = wb.create_sheet(title)
        if rows and isinstance(rows[0], Mapping):
            ws.append(list(rows[0]))
            for r in rows:
                ws.append([_cell(v) for v in r.values()])  # type: ignore[union-attr]
        else:
            for r in rows:
                ws.append([_cell(v) for v in r])  # type: ignore[union-attr]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["FORMATS", "MEDIA_TYPES", "flat_details", "csv_text", "json_text", "xlsx_bytes"]
