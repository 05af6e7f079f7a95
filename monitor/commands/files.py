"""Reading report files named on the command line, within bounds, and naming them on one line.

`read_report(path, max_bytes)` refuses what is not a regular file before reading a byte (a FIFO
would block `open`, `/dev/zero` has size 0 and never ends) and never reads more than `max_bytes`
+ 1 bytes, whatever `stat` said. `shown(path)` is the path for one output line: control
characters (a newline in a file name) are escaped.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from monitor.errors import ExtractError, TooLargeError

__all__ = ["read_report", "shown"]

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def shown(path: Path | str) -> str:
    """The path with control characters escaped, so a name cannot split or forge an output line."""
    return str(path).translate(_CONTROL)


def read_report(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; `ExtractError` (one line, naming the file) when it cannot or must not be read."""
    name = shown(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading would wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ExtractError(f"无法读取：{_reason(exc)}", source=name) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "目录" if stat.S_ISDIR(st.st_mode) else "设备、管道或套接字"
            raise ExtractError(f"不是普通文件（{kind}），未读取 / not a regular file", source=name)
        if st.st_size > max_bytes:
            raise _too_large(name, st.st_size, max_bytes)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)  # the size may have changed since stat
    except OSError as exc:
        raise ExtractError(f"无法读取：{_reason(exc)}", source=name) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise _too_large(name, len(data), max_bytes)
    return data


def _too_large(name: str, size: int, limit: int) -> TooLargeError:
    return TooLargeError(f"文件大小 {size}{'+' if size == limit + 1 else ''} 字节超过上限 {limit} 字节"
                         "（可用 --max-bytes 调整）", source=name)


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "没有读取权限 / permission denied"
    if exc.errno == errno.ENOENT:
        return "文件不存在 / no such file"
    return exc.strerror or str(exc)
