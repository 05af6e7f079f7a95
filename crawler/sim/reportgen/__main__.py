"""Write a corpus of generated reports with their ground truth, for looking at or benchmarking.

    python -m crawler.sim.reportgen OUT_DIR [-n 10] [--year 2021] [--kind township]
        [--formats txt-cells,html,docx,pdf] [--variant blank_cells --variant early_date]

Each report gives OUT_DIR/<name>.<ext> per format and OUT_DIR/<name>.expected.json (expected()
plus the expected findings). Render times per format are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from . import EXTENSIONS, FORMATS, expected, make_spec, render_many

ENTITIES = {"township": "刘楼镇人民政府", "street": "城关街道办事处", "department": "汶上县财政局",
            "county_gov": "汶上县人民政府"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m crawler.sim.reportgen", description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--kind", default="township", choices=sorted(ENTITIES))
    ap.add_argument("--entity")
    ap.add_argument("--formats", default=",".join(f for f in FORMATS if f != "doc"))
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    entity = args.entity or ENTITIES[args.kind]
    specs = [make_spec(args.seed + i, entity=entity, year=args.year, entity_kind=args.kind,
                       variants=args.variant) for i in range(args.n)]
    for i, spec in enumerate(specs):
        truth = expected(spec) | {"expected_findings": sorted(spec.meta["expected_findings"])}
        (args.out / f"r{i:04d}.expected.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    for fmt in args.formats.split(","):
        t0 = time.perf_counter()
        blobs = render_many(specs, fmt)
        dt = time.perf_counter() - t0
        for i, data in enumerate(blobs):
            (args.out / f"r{i:04d}.{fmt}.{EXTENSIONS[fmt]}").write_bytes(data)
        print(f"{fmt:10s} {len(specs)} reports  {1000 * dt / len(specs):8.1f} ms/report")  # CLI output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
