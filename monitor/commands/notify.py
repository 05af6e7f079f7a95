"""`nianbao notify` (drain the outbox once), `nianbao bot` (the Telegram bot alone, long polling),
`nianbao subscribe add|list|remove`, `nianbao channels`. The same service functions as the bot
(`nianbao recrawl`, which runs the bot's queued /recrawl requests without a daemon, is in
monitor/commands/daemon.py)."""

from __future__ import annotations

import json
import random
from typing import Annotated, Any

import typer

from monitor.commands.store import _clock, _open, _settings

subscribe_app = typer.Typer(help="订阅者：添加、列出、停用", no_args_is_help=True)


def retry_policy(settings: Any) -> Any:
    from notifier.outbox import RetryPolicy

    n = getattr(settings, "notify", None)
    if n is None:
        return RetryPolicy()
    return RetryPolicy(max_attempts=n.max_attempts, base_delay=n.backoff_seconds, max_delay=n.max_backoff_seconds)


def notify(digest: Annotated[bool, typer.Option(help="send the digests (one message per digest subscriber)")] = False,
           retry_failed: Annotated[bool, typer.Option("--retry-failed",
                                                      help="put failed alerts back in the queue first")] = False,
           ) -> None:
    """发送待发的提醒（处理一次发件箱）：Telegram、apprise（邮件、企业微信、钉钉、飞书…）、控制台。"""
    from notifier import outbox
    from notifier.channels import build_channels
    from notifier.secrets import install_log_redaction

    settings = _settings()
    token = settings.telegram.token.get_secret_value() if settings.telegram.token else None
    install_log_redaction(token)
    sf = _open(settings)
    if retry_failed:
        with sf() as s, s.begin():
            n = outbox.retry_failed(s)
        typer.echo(f"{n} 条失败的提醒重新排队。")
    from notifier.health import HealthPolicy, escalate_once

    escalate_once(sf, _clock(), HealthPolicy.from_settings(settings))  # crawl-health alerts now due
    stats = outbox.drain(sf, build_channels(settings), _clock(), policy=retry_policy(settings),
                         rng=random.Random(), digest=digest)
    with sf() as s:
        counts = outbox.counts(s)
    typer.echo(f"已发送 {stats.messages} 条消息（{stats.alerts_sent} 条提醒）；稍后重试 {stats.retried}，"
               f"限流 {stats.rate_limited}，失败 {stats.failed}，停用订阅者 {stats.deactivated}"
               + (f"，{stats.no_channel} 条提醒的通道未配置" if stats.no_channel else "")
               + f"。发件箱：待发 {counts['pending']}，失败 {counts['failed']}。")
    for err in sorted(set(stats.errors))[:5]:
        typer.secho(f"  {err}", fg="yellow", err=True)


def bot() -> None:
    """单独运行 Telegram 机器人（长轮询）。令牌只来自 NIANBAO_BOT_TOKEN 或 NIANBAO_BOT_TOKEN_FILE。"""
    from notifier.bot import bot_token, build_application

    settings = _settings()
    bot_token(settings)  # a clear error before opening anything
    app = build_application(settings, _open(settings), clock=_clock())
    app.run_polling(close_loop=False)


@subscribe_app.command("add")
def subscribe_add(
    address: Annotated[str, typer.Argument(help="chat id (telegram), apprise URL, or - (console)")],
    channel: Annotated[str, typer.Option(help="telegram | apprise | console")] = "telegram",
    county: Annotated[str | None, typer.Option(help="county code or name")] = None,
    body: Annotated[str | None, typer.Option(help="one body of that county")] = None,
    role: Annotated[str | None, typer.Option(help="subscriber | operator (every county, crawl health)")] = None,
    min_severity: Annotated[str | None, typer.Option(help="info | warning | error")] = None,
    health: Annotated[bool | None, typer.Option(help="also crawl-health alerts of its counties")] = None,
    digest: Annotated[str | None, typer.Option(help="daily | daily+errors | off")] = None,
) -> None:
    """添加订阅者，或为已有订阅者增加县/单位。"""
    from notifier import service

    settings = _settings()
    sf = _open(settings)
    with sf() as s, s.begin():
        sub, summary = service.subscribe(s, channel, address, county=county, body=body, role=role,
                                         min_severity=min_severity, health=health, digest=digest)
        sid = sub.id
    typer.echo(f"订阅者 {sid}（{channel} {_shown(channel, address)}）\n{summary}")


@subscribe_app.command("list")
def subscribe_list(as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
                   ) -> None:
    """列出订阅者。"""
    from notifier import service

    settings = _settings()
    sf = _open(settings)
    with sf() as s:
        rows = service.list_subscribers(s)
    for r in rows:
        if as_json:
            typer.echo(json.dumps({**r, "address": _shown(r["channel"], r["address"])}, ensure_ascii=False))
        else:
            typer.echo(f"[{r['id']}] {r['channel']} {_shown(r['channel'], r['address'])}"
                       + ("" if r["active"] else "（已停用）"))
            typer.echo("    " + r["summary"].replace("\n", "\n    "))
    if not rows and not as_json:
        typer.echo("还没有订阅者。用 nianbao subscribe add 添加。")


@subscribe_app.command("remove")
def subscribe_remove(subscriber_id: Annotated[int, typer.Argument(help="the id shown by `subscribe list`")],
                     county: Annotated[str | None, typer.Option(help="remove only this county")] = None) -> None:
    """停用订阅者（或只取消其一个县）。"""
    from notifier import service
    from storage.models import Subscriber

    settings = _settings()
    sf = _open(settings)
    with sf() as s, s.begin():
        if county is None:
            service.remove_subscriber(s, subscriber_id)
            text = f"订阅者 {subscriber_id} 已停用。"
        else:
            sub = s.get(Subscriber, subscriber_id)
            if sub is None:
                raise service.SubscriptionError(f"没有编号为 {subscriber_id} 的订阅者")
            text = service.unsubscribe(s, sub.channel, sub.address, county)
    typer.echo(text)


def channels() -> None:
    """列出可用的提醒通道。"""
    from notifier.channels import describe

    for kind, doc in describe():
        typer.echo(f"{kind:10} {doc}")


def _shown(channel: str, address: str) -> str:
    """An apprise URL may carry a password or a robot key: show its scheme and host only."""
    if channel == "apprise" and "://" in address:
        scheme, rest = address.split("://", 1)
        host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
        return f"{scheme}://{host[:4]}…" if scheme in ("wecombot", "dingtalk", "feishu") else f"{scheme}://{host}/…"
    return address


def register(app: typer.Typer) -> None:
    app.command()(notify)
    app.command()(bot)
    app.command()(channels)
    app.add_typer(subscribe_app, name="subscribe")
