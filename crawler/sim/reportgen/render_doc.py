"""Legacy Word (.doc, OLE2) by converting the DOCX with LibreOffice headless.

Each call gets its own LibreOffice profile (-env:UserInstallation) so parallel runs do not fight
over one; `render_doc_many` converts a whole batch in a single soffice run (benchmarks).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
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


def render_doc_many(specs: list[ReportSpec]) -> list[bytes]:
    exe = _soffice()
    with tempfile.TemporaryDirectory(prefix="reportgen-doc-") as tmp:
        root = Path(tmp)
        src = root / "in"
        out = root / "out"
        src.mkdir()
        out.mkdir()
        names = []
        for i, spec in enumerate(specs):
            path = src / f"r{i:05d}.docx"
            path.write_bytes(render_docx(spec))
            names.append(path)
        cmd = [exe, f"-env:UserInstallation={(root / 'profile').as_uri()}", "--headless", "--norestore",
               "--convert-to", "doc", "--outdir", str(out), *map(str, names)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_BASE + TIMEOUT_PER_FILE * len(specs),
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"soffice did not finish converting {len(specs)} file(s) in {exc.timeout}s") from exc
        results = []
        for path in names:
            doc = out / (path.stem + ".doc")
            if not doc.exists():
                raise RuntimeError(f"soffice did not convert {path.name} (exit {proc.returncode}): "
                                   f"{proc.stderr.decode(errors='replace')[-500:]}")
            results.append(doc.read_bytes())
        return results


def render_doc(spec: ReportSpec) -> bytes:
    return render_doc_many([spec])[0]
