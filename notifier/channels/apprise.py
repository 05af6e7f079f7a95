"""Every other service through apprise URLs: e-mail (`mailto://`), 企业微信 group robots
(`wecombot://KEY`), 钉钉 (`dingtalk://TOKEN`), 飞书 (`feishu://TOKEN`), Slack, JSON webhooks
(`json://host/path`). One-way: commands stay in Telegram and the CLI.

Long messages are split by apprise at each service's own limit (its `body_maxlen`, overflow mode
`split`). apprise reports only success or failure, so a failure is retried later (`RetryLater`); an
address apprise cannot parse is `Rejected`.
"""

from __future__ import annotations

import asyncio
import logging

import apprise as _apprise
from apprise.common import NotifyFormat, OverflowMode

from notifier.channels import Channel, Rejected, RetryLater, register

log = logging.getLogger(__name__)


@register
class AppriseChannel(Channel):
    """apprise：邮件（mailto://）、企业微信群机器人（wecombot://）、钉钉（dingtalk://）、飞书（feishu://）、
    Slack、JSON webhook（json://）等，地址为 apprise URL；只发送提醒，不接收命令。"""

    kind = "apprise"
    fmt = "text"
    limit = 1_000_000  # apprise splits at each service's own limit

    def __init__(self) -> None:
        self._plugins: dict[str, object] = {}

    def plugin(self, url: str) -> object:
        p = self._plugins.get(url)
        if p is None:
            p = _apprise.Apprise.instantiate(url)
            if p is None:
                raise Rejected(f"不是有效的 apprise 地址：{_scheme(url)}://…")
            if "overflow=" not in url:
                p.overflow_mode = OverflowMode.SPLIT
            self._plugins[url] = p
        return p

    async def send(self, address: str, text: str) -> None:
        plugin = self.plugin(address)
        title, _, body = text.partition("\n")
        ok = await asyncio.to_thread(plugin.notify, body=body.strip("\n") or title, title=title,
                                     body_format=NotifyFormat.TEXT)
        if not ok:
            raise RetryLater(f"{_scheme(address)} 发送失败")


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "?"
