"""The console channel."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from notifier.channels import Channel, register


@register
class ConsoleChannel(Channel):
    """控制台：把提醒打印到标准输出（没有配置 Telegram 令牌时的默认通道，`nianbao demo` 使用）。
    地址随意（如 "-"）。"""

    kind = "console"
    fmt = "text"
    limit = 1_000_000

    def __init__(self, out: TextIO | Any | None = None) -> None:
        self.out = out

    async def send(self, address: str, text: str) -> None:
        out = self.out if self.out is not None else sys.stdout
        if hasattr(out, "print"):  # a rich Console
            out.print(text + "\n", soft_wrap=True, highlight=False, markup=False)
        else:
            out.write(text + "\n\n")
            out.flush()
