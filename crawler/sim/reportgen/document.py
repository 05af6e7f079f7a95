"""A spec laid out as a sequence of blocks — the one document every format renders.

Blocks: `Block("title", text)`, `("heading", text)` (a section heading with its number),
`("sub", text)` (a sub-heading such as （一）主动公开), `("para", text)`, `("table", grid=…)`,
`("image", text=alt)` (a table published as a picture), `("sign", text)` (signature lines, right
aligned). Cell texts are final here: number formats and variants are applied once, in `cell_format`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .layout import Fmt, Grid, build_active, build_requests, build_review
from .spec import ReportSpec, variant_args

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True, slots=True)
class Block:
    kind: str
    text: str = ""
    grid: Grid | None = None


def plain_number(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"
    return str(value)


def cell_format(spec: ReportSpec) -> Fmt:
    """The function that writes a table value for `spec`, variants included."""
    overrides: dict[str, str] = spec.meta.get("cell_text", {})
    thousands = bool(variant_args(spec.variants, "thousands"))
    fullwidth = bool(variant_args(spec.variants, "fullwidth_digits"))
    units = bool(variant_args(spec.variants, "unit_suffix"))

    def fmt(path: str, value: object) -> str:
        if path in overrides:
            text = overrides[path]
        else:
            if thousands and isinstance(value, int) and abs(value) >= 1000:
                text = f"{value:,}"
            else:
                text = plain_number(value)
            if units and path.startswith("active.") and text:
                text += "万元" if path.endswith(".amount") else "件"
        return text.translate(FULLWIDTH) if fullwidth else text

    return fmt


def tables_for(spec: ReportSpec) -> dict[str, list[Grid]]:
    fmt = cell_format(spec)
    t = spec.tables
    out: dict[str, list[Grid]] = {}
    if "active" in t:
        out["active"] = build_active(spec.template, t["active"], fmt)
    if "requests" in t:
        out["requests"] = [build_requests(
            spec.template, t["requests"], fmt,
            subtotal_column=t.get("requests_org_subtotal"),
            subtotal_rows=t.get("requests_subtotals"),
            labels=spec.meta.get("labels"), other_unsplit=spec.meta.get("other_unsplit", False))]
    if "review_litigation" in t:
        out["review_litigation"] = [build_review(t["review_litigation"], fmt)]
    return out


def blocks(spec: ReportSpec) -> list[Block]:
    """The report from title to signature, in reading order."""
    grids = tables_for(spec)
    headings: dict[str, str] = spec.meta["headings"]
    numbers: dict[str, str] = spec.meta["numbers"]
    out = [Block("title", spec.title)]
    out += [Block("para", p) for p in spec.meta["preamble"]]
    order = list(numbers)
    for key in order:
        if key in headings:
            out.append(Block("heading", numbers[key] + headings[key]))
        for p in spec.sections.get(key, []):
            out.append(Block("sub" if _is_sub(p) else "para", p))
        for grid in grids.get(key, []):
            out.append(Block("table", grid=grid))
        if spec.meta.get("table_image") == key:
            out.append(Block("image", "表三 收到和处理政府信息公开申请情况"))
    out.append(Block("sign", spec.entity))
    out.append(Block("sign", spec.meta["signature_date"]))
    return out


def _is_sub(text: str) -> bool:
    return text.startswith("（") and len(text) <= 16 and not text.endswith("。")


def render_rng(spec: ReportSpec, fmt: str) -> random.Random:
    """Layout choices of one format (spacing, fonts): deterministic per spec."""
    return random.Random(f"render:{spec.seed}:{spec.entity}:{spec.year}:{spec.template}:{fmt}")


def all_text(spec: ReportSpec) -> list[str]:
    """Every paragraph of prose (for tests and the text formats)."""
    return [b.text for b in blocks(spec) if b.kind != "table"]


__all__ = ["Block", "blocks", "tables_for", "cell_format", "plain_number", "render_rng", "all_text"]
