"""Bare extraction speed (bytes -> Document) per format, on generated reports.

    .venv/bin/python bench/extract_formats.py [--n 200] [--doc-n 10] [--formats txt-cells,html,docx,pdf,doc]

Reports come from the report generator (crawler.sim.reportgen), rendered in memory before the
clock starts. Each format runs in its own child process so the peak RSS is its own. Printed per
format: documents, mean size, documents/second (wall clock, one core; and per CPU second of
this process — steadier on a shared machine, but for DOC the work is in LibreOffice's child
process, so only the wall figure counts), milliseconds per document, peak Python heap of one
extraction (tracemalloc; PDFium's and libxml2's C allocations are not seen by it) and the
child's peak RSS (which includes the renderer's own memory).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FORMATS = ("txt-cells", "txt-tabs", "html", "html-gbk", "docx", "pdf", "doc")
FILENAMES = {"txt-cells": "r.txt", "txt-tabs": "r.txt", "html": "r.html", "html-gbk": "r.html",
             "docx": "r.docx", "pdf": "r.pdf", "doc": "r.doc"}
BODIES = [("青石镇人民政府", "township"), ("东关街道办事处", "street"), ("云溪县教育局", "department"),
          ("云溪县人民政府", "county_gov")]
TRACE_DOCS = 20


def corpus(fmt: str, n: int) -> list[bytes]:
    from crawler.sim.reportgen import make_spec, render_many

    specs = [
        make_spec(seed, entity=BODIES[seed % len(BODIES)][0], entity_kind=BODIES[seed % len(BODIES)][1],
                  year=2019 + seed % 6)
        for seed in range(n)
    ]
    return render_many(specs, fmt)


def measure(fmt: str, n: int) -> dict[str, object]:
    from monitor.extract import extract

    docs = corpus(fmt, n)
    name = FILENAMES[fmt]
    extract(docs[0], filename=name)  # warm imports (lxml, pdfium) outside the clock
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    blocks = 0
    for data in docs:
        blocks += len(extract(data, filename=name).blocks)
    elapsed = time.perf_counter() - start
    # LibreOffice runs in a child process: its CPU time is in RUSAGE_CHILDREN
    cpu = time.process_time() - cpu_start
    peak = 0
    for data in docs[:TRACE_DOCS]:
        tracemalloc.start()
        extract(data, filename=name)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return {
        "format": fmt,
        "docs": len(docs),
        "mean_kb": sum(map(len, docs)) / len(docs) / 1024,
        "docs_per_s": len(docs) / elapsed,
        "cpu_docs_per_s": len(docs) / cpu if cpu > 0 else float("inf"),
        "ms_per_doc": elapsed / len(docs) * 1000,
        "blocks_per_doc": blocks / len(docs),
        "heap_peak_mb": peak / 1024 / 1024,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="documents per format (default 200)")
    ap.add_argument("--doc-n", type=int, default=10, help="documents for DOC, each a LibreOffice run (default 10)")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.n)))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'format':<10} {'docs':>5} {'KB/doc':>7} {'docs/s':>8} {'cpu/s':>8} {'ms/doc':>8} {'blocks':>7} "
          f"{'heap MB':>8} {'RSS MB':>7}")
    for fmt in args.formats.split(","):
        n = args.doc_n if fmt == "doc" else args.n
        proc = subprocess.run([sys.executable, __file__, "--child", fmt, "--n", str(n)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{fmt:<10} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{r['format']:<10} {r['docs']:>5} {r['mean_kb']:>7.1f} {r['docs_per_s']:>8.1f} "
              f"{r['cpu_docs_per_s']:>8.1f} {r['ms_per_doc']:>8.2f} "
              f"{r['blocks_per_doc']:>7.1f} {r['heap_peak_mb']:>8.2f} {r['max_rss_mb']:>7.1f}")


if __name__ == "__main__":
    main()
