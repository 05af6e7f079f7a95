"""Hostile files for the hardening tests, made at test time (nothing large is committed).

Each builder writes one file that costs little to make and to store but would cost minutes of CPU
or gigabytes of memory to a reader without bounds: zip bombs in a DOCX (an altChunk part, many
moderately compressed parts, a main part of tiny paragraphs), HTML tables whose spans multiply,
and a PDF whose page tree lists a million pages.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="html" '
    'ContentType="text/html"/><Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_MB = 1024 * 1024


def _docx(path: Path, body: str, chunks: dict[str, object] | None = None) -> Path:
    """A DOCX whose body is `body`; `chunks` maps part names under word/ to bytes, or to a
    callable writing them to an open zip entry (so a large part is streamed, never held)."""
    chunks = chunks or {}
    doc = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}" xmlns:r="{_R}">'
           f"<w:body>{body}</w:body></w:document>")
    rels = "".join(f'<Relationship Id="rId{i}" Type="{_R}/aFChunk" Target="{name}"/>'
                   for i, name in enumerate(chunks, 1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("word/document.xml", doc)
        zf.writestr("word/_rels/document.xml.rels",
                    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                    f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>')
        for name, content in chunks.items():
            if callable(content):
                with zf.open(f"word/{name}", "w", force_zip64=True) as out:
                    content(out)
            else:
                zf.writestr(f"word/{name}", content)  # type: ignore[arg-type]
    return path


def _alt_chunks(n: int) -> str:
    return "".join(f'<w:altChunk r:id="rId{i}"/>' for i in range(1, n + 1))


def docx_altchunk_bomb(path: Path, *, megabytes: int = 400) -> Path:
    """One altChunk HTML part of `megabytes` MB of one repeated line (~1000× compression)."""
    line = b"<p>" + "政府信息公开".encode() * 40 + b"</p>\n"
    block = line * (_MB // len(line))

    def write(out: object) -> None:
        out.write(b"<html><body>")  # type: ignore[attr-defined]
        for _ in range(megabytes):
            out.write(block)  # type: ignore[attr-defined]
        out.write(b"</body></html>")  # type: ignore[attr-defined]

    return _docx(path, "<w:p><w:r><w:t>年度报告</w:t></w:r></w:p>" + _alt_chunks(1), {"chunk.html": write})


def docx_many_parts(path: Path, *, parts: int = 4, megabytes: int = 20) -> Path:
    """`parts` altChunk parts of `megabytes` MB each, every one compressed only ~30× (under the
    ratio bound): only their sum is too much."""
    rnd = random.Random(1)

    def write(out: object) -> None:
        written = 0
        while written < megabytes * _MB:
            piece = bytearray()
            for _ in range(4096):
                piece += b" " * rnd.randrange(40, 160) + bytes([rnd.randrange(97, 123)])
            out.write(piece)  # type: ignore[attr-defined]
            written += len(piece)

    names = {f"chunk{i}.html": write for i in range(1, parts + 1)}
    return _docx(path, _alt_chunks(parts), names)


def docx_tiny_paragraphs(path: Path, *, paragraphs: int = 600_000) -> Path:
    """A main part of `paragraphs` one-number paragraphs (3 elements each), ~10× compression."""
    rnd = random.Random(2)
    body = "".join(f"<w:p><w:r><w:t>{rnd.randrange(10**6)}</w:t></w:r></w:p>" for _ in range(paragraphs))
    return _docx(path, body)


def html_span_bomb(path: Path, *, rows: int = 300, cells: int = 5) -> Path:
    """~50 KB of cells claiming colspan and rowspan of 100,000 each: unbounded, the grid grows with
    rows² × cells × colspan."""
    row = "<tr>" + '<td colspan="100000" rowspan="100000">1</td>' * cells + "</tr>"
    path.write_text(f"<html><body><h1>2023年政府信息公开工作年度报告</h1><table>{row * rows}</table>"
                    "</body></html>", "utf-8")
    return path


def html_many_elements(path: Path, *, elements: int = 800_000) -> Path:
    """A page of `elements` empty inline elements (~8 bytes each)."""
    path.write_text("<html><body><p>年度报告</p>" + "<b>1</b>" * elements + "</body></html>", "utf-8")
    return path


def _write_pdf(path: Path, objects: list[bytes]) -> Path:
    """Objects numbered from 1 in order, the catalog first."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pdf_many_pages(path: Path, *, pages: int = 1_000_000) -> Path:
    """A PDF whose page tree lists the same page `pages` times (~6 MB)."""
    return _write_pdf(path, [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b"5 0 R " * pages + b"] /Count " + str(pages).encode() + b" >>",
        _FONT,
        b"<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (Annual report) Tj ET\nendstream",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 3 0 R >> >> >>",
    ])


def pdf_many_chars(path: Path, *, pages: int = 5, chars_per_page: int = 500_000) -> Path:
    """A PDF of `pages` pages, each `chars_per_page` digits in lines of 100 in a 1-point font."""
    line = b"(" + b"0123456789" * 10 + b") Tj 0 -1 Td\n"
    stream = b"BT /F1 1 Tf 10 780 Td\n" + line * (chars_per_page // 100) + b"ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", _FONT]
    kids = []
    for _ in range(pages):
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objects)} 0 R"
                       " /Resources << /Font << /F1 3 0 R >> >> >>".encode())
        kids.append(len(objects))
    objects[1] = (b"<< /Type /Pages /Kids [" + b" ".join(f"{k} 0 R".encode() for k in kids)
                  + b"] /Count " + str(pages).encode() + b" >>")
    return _write_pdf(path, objects)
