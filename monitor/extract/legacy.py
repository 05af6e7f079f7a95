"""DOC / WPS / RTF: converted to DOCX by LibreOffice headless, then read by the DOCX reader.

Each call runs its own ``soffice`` with a private profile directory (``-env:UserInstallation``)
inside a temporary directory, so conversions can run in parallel and never share state with a
desktop LibreOffice. Without LibreOffice the Document comes back empty with ``meta["unusable"]``.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from monitor.document import Document
from monitor.errors import ExtractError

from .docx import read_docx

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 120
UNUSABLE_NO_SOFFICE = "DOC/WPS 格式需要 LibreOffice 转换，本机未安装：需要安装 LibreOffice（apt-get install libreoffice-writer-nogui）"
_SUFFIX = {"doc": ".doc", "wps": ".wps", "rtf": ".rtf"}


def find_soffice() -> str | None:
    """Path of the LibreOffice binary, or None."""
    return os.environ.get("NIANBAO_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")


def read_legacy(data: bytes, *, source: str | None = None, fmt: str = "doc",
                timeout: float = TIMEOUT_SECONDS) -> Document:
    doc_format = "wps" if fmt == "wps" else "doc"
    soffice = find_soffice()
    if soffice is None:
        logger.warning("LibreOffice not installed; cannot read %s", source)
        # our installation's lack, not the document's fault: STRUCT-006 with cause "extractor"
        return Document(blocks=[], format=doc_format, meta={"unusable": UNUSABLE_NO_SOFFICE,
                                                            "unusable_cause": "extractor"})
    docx = convert_to_docx(data, soffice=soffice, suffix=_SUFFIX.get(fmt, ".doc"), source=source, timeout=timeout)
    doc = read_docx(docx, source=source, fmt=doc_format)
    doc.meta["converted_by"] = "libreoffice"
    return doc


def convert_to_docx(data: bytes, *, soffice: str, suffix: str = ".doc", source: str | None = None,
                    timeout: float = TIMEOUT_SECONDS) -> bytes:
    with tempfile.TemporaryDirectory(prefix="nianbao-soffice-") as tmp:
        work = Path(tmp)
        src = work / f"input{suffix}"
        src.write_bytes(data)
        out = work / "out"
        cmd = [
            soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--norestore",
            "--nolockcheck", "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out), str(src),
        ]
        returncode, stderr = _run(cmd, timeout=timeout, env={**os.environ, "HOME": tmp}, source=source)
        result = out / "input.docx"
        if returncode != 0 or not result.exists():
            logger.info("soffice failed for %s: rc=%s %s", source, returncode, stderr[-500:])
            raise ExtractError(
                "DOC/WPS 文件无法转换（文件可能已损坏或加密），无法读取；请用 Word/WPS 打开后另存为 DOCX 或 PDF。"
                " / LibreOffice could not convert the DOC/WPS file (corrupt or encrypted?); re-save it as DOCX or PDF.",
                source=source,
            )
        return result.read_bytes()


def _run(cmd: list[str], *, timeout: float, env: dict[str, str], source: str | None) -> tuple[int, bytes]:
    """Run soffice in its own process group; on timeout the whole group is killed (soffice is a
    launcher: killing only it would leave soffice.bin running)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        raise ExtractError(
            f"LibreOffice 转换超时（{timeout:.0f} 秒），无法读取该 DOC/WPS 文件；请用 Word/WPS 另存为 DOCX 或 PDF 后重试。"
            f" / LibreOffice conversion timed out after {timeout:.0f}s; re-save the file as DOCX or PDF.",
            source=source,
        ) from exc
    return proc.returncode, stderr


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()
