"""Content-addressed blob store: raw document bytes under their sha256.

Layout: `<root>/ab/cdef…` (first two hex digits as a directory). Writes go to a temporary file in
the same directory, are fsynced and then renamed with `os.replace`, so a blob either exists whole
or not at all; writing the same bytes twice is a no-op.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from monitor.errors import NianbaoError


class BlobWriteError(NianbaoError):
    """A blob could not be written (disk full, no permission): nothing was stored."""


class BlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @staticmethod
    def sha256(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def path(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha[2:]

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes) -> str:
        sha = self.sha256(data)
        dest = self.path(sha)
        if dest.is_file():
            return sha
        tmp: str | None = None
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):  # disk full, file size limit, read-only or unwritable store
                raise BlobWriteError(
                    f"文件存储写入失败，未保存（{exc.strerror or exc}；磁盘已满或没有写权限？）"
                    f" / cannot write the blob: {exc.strerror or exc}", source=str(self.root)) from None
            raise
        return sha

    def get(self, sha: str) -> bytes:
        try:
            return self.path(sha).read_bytes()
        except FileNotFoundError:
            raise KeyError(f"blob {sha} is missing from {self.root}") from None
