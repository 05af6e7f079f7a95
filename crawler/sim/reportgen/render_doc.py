"""Legacy Word (.doc, OLE2) by converting the DOCX with LibreOffice headless.

Each call gets its own LibreOffice profile (-env:UserInstallation) so parallel runs do not fight
over one; `render_doc_many` converts a whole batch in a single soffice run (benchmarks).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .render_docx import render_docx
from .spec import ReportSpec

TIMEOUT_BASE = 120  # seconds for starting soffice
TIMEOUT_PER_FILE = 5


class ConverterMissing(RuntimeError):
    """LibreOffice is not installed: the "doc" format cannot be produced."""


def _soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise ConverterMissing("the \"doc\" format needs LibreOffice: install it "
                               "(Debian: apt-get install libreoffice-writer-nogui) so that `soffice` is on PATH")
    return exe


def _convert(exe: str, root: Path, docs: list[Path]) -> None:
    """One soffice run over `docs` with its own profile; the .doc files land next to them."""
    cmd = [exe, f"-env:UserInstallation={(root / 'profile').as_uri()}", "--headless", "--norestore",
           "--convert-to", "doc", "--outdir", str(root), *map(str, docs)]
    timeout = TIMEOUT_BASE + TIMEOUT_PER_FILE * len(docs)
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"soffice did not finish converting {len(docs)} file(s) in {timeout}s") from exc
    for path in docs:
        if not path.with_suffix(".doc").exists():
            raise RuntimeError(f"soffice did not convert {path.name} (exit {proc.returncode}): "
                               f"{proc.stderr.decode(errors='replace')[-500:]}")


def render_doc_many(specs: list[ReportSpec], *, workers: int | None = None) -> list[bytes]:
    """Convert a batch: the DOCX files are split over `workers` soffice runs (default 1: on the
    2-CPU test machine two parallel runs were slower than one), each with its own profile."""
    exe = _soffice()
    if not specs:
        return []
    workers = max(1, min(workers or 1, len(specs)))
    with tempfile.TemporaryDirectory(prefix="reportgen-doc-") as tmp:
        chunks: list[tuple[Path, list[Path]]] = []
        paths = []
        for w in range(workers):
            root = Path(tmp) / f"w{w}"
            root.mkdir()
            chunks.append((root, []))
        for i, spec in enumerate(specs):
            root, docs = chunks[i % workers]
            path = root / f"r{i:05d}.docx"
            path.write_bytes(render_docx(spec))
            docs.append(path)
            paths.append(path)
        with ThreadPoolExecutor(workers) as pool:
            for f in [pool.submit(_convert, exe, root, docs) for root, docs in chunks]:
                f.result()
        return [p.with_suffix(".doc").read_bytes() for p in paths]


def render_doc(spec: ReportSpec) -> bytes:
    return render_doc_many([spec])[0]
