"""The Telegram bot: one `Application`, every handler registered in `build_application`.

Commands (Chinese help, `setMyCommands` at start): /start /help /subscribe /unsubscribe /list /status
/findings /report /recrawl /confirm /dismiss /digest /mute. Handlers only parse arguments and format answers; the work
is done by the service functions the CLI calls too (notifier.service, monitor.status). Unknown
commands and bad arguments get a helpful answer, never silence.

`/recrawl <county>` is for the chat ids configured as admins (`telegram.admin_chat_ids`, or
`telegram.county_admins` for one county). It queues a `CrawlRun`, then a watcher tells the requester
when the run starts and when it finishes, with its summary. `/confirm ID` and `/dismiss ID 原因`
(monitor.review) are for the same admins of the finding's county, answered with the finding's
summary and evidence; the review is recorded with the chat as its author.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from monitor.clock import Clock, SystemClock
from monitor.errors import NianbaoError
from notifier import service
from notifier.channels.telegram import rate_limiter
from notifier.messages import TELEGRAM_LIMIT, split
from notifier.secrets import install_log_redaction, redact

log = logging.getLogger(__name__)

COMMANDS: list[tuple[str, str, str]] = [
    # command, arguments, what it does
    ("start", "", "开始使用，显示帮助"),
    ("help", "", "显示帮助"),
    ("subscribe", "<县代码或名称> [单位] [--health]", "订阅一个县（或县里的一个单位）的年报问题提醒；--health 另收门户抓取问题"),
    ("unsubscribe", "[县代码或名称]", "取消订阅一个县；不带参数则全部取消"),
    ("list", "", "查看我的订阅"),
    ("status", "<县> [年度]", "查看一个县各单位的年报公开情况"),
    ("findings", "<县> [error|warning|info]", "查看一个县未解决的问题"),
    ("report", "<单位> <年度>", "查看一个单位某年度的年报"),
    ("recrawl", "<县>", "重新抓取一个县的门户网站（仅限该县管理员）"),
    ("confirm", "<问题编号>", "确认问题属实（仅限该县管理员）"),
    ("dismiss", "<问题编号> <原因>", "排除问题并说明原因，以后不再提醒（仅限该县管理员）"),
    ("digest", "on|all|off", "每日摘要：on 汇总发送（错误立即发送），all 全部汇总，off 立即发送"),
    ("mute", "<小时>", "静音若干小时（0 取消静音）"),
]
MAX_ARGS_LEN = 200
MAX_LIST = 20
SEV_LABEL = {"error": "错误", "warning": "警告", "info": "提示"}


def help_text() -> str:
    lines = ["年报监测机器人：监测各县政府信息公开工作年度报告的公开和质量问题。", "", "命令："]
    lines += [f"/{c} {a}".rstrip() + f" — {d}" for c, a, d in COMMANDS]
    lines += ["", "例如：/subscribe 金乡县　/status 370828 2024　/findings 金乡县 error"]
    return "\n".join(lines)


@dataclass
class BotContext:
    """What every handler needs, kept in `application.bot_data["ctx"]` (no global state)."""

    session_factory: sessionmaker[Session]
    clock: Clock
    settings: Any
    watch_interval: float = 10.0
    watch_timeout: float = 6 * 3600.0
    token: str = field(default="", repr=False)

    def admins_of(self, county_code: str) -> tuple[int, ...]:
        tg = getattr(self.settings, "telegram", None)
        if tg is not None and hasattr(tg, "admins_of"):
            return tg.admins_of(county_code)
        return tuple(getattr(self.settings, "admin_chat_ids", ()) or ())

    @property
    def policy(self) -> Any:
        from monitor.config import DEFAULT_POLICY

        return getattr(self.settings, "policy", DEFAULT_POLICY)


class BadArgs(NianbaoError):
    """The command's arguments are wrong; the message says how to write them."""


def _ctx(context: ContextTypes.DEFAULT_TYPE) -> BotContext:
    return context.application.bot_data["ctx"]


def _usage(cmd: str) -> str:
    for c, a, d in COMMANDS:
        if c == cmd:
            return f"用法：/{c} {a}".rstrip() + f"\n{d}"
    return help_text()


def _args(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    args = list(context.args or [])
    if sum(len(a) for a in args) > MAX_ARGS_LEN:
        raise BadArgs("参数过长")
    return args


def _year(text: str, cmd: str) -> int:
    m = re.fullmatch(r"(\d{4})(年度?)?", text)
    if not m or not 2000 <= int(m.group(1)) <= 2100:
        raise BadArgs(f"“{text}”不是年度（例如 2024）。\n" + _usage(cmd))
    return int(m.group(1))


async def _reply(update: Update, text: str, *, html_mode: bool = False) -> None:
    msg = update.effective_message
    if msg is None:
        return
    for part in split(text, TELEGRAM_LIMIT, "html" if html_mode else "text"):
        await msg.reply_text(part, parse_mode=ParseMode.HTML if html_mode else None)


def _who(update: Update) -> str:
    chat = update.effective_chat
    return str(chat.id) if chat is not None else ""


# ---- handlers ------------------------------------------------------------------------------------

async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply(update, "您好！" + help_text())


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply(update, help_text())


async def cmd_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = _args(context)
    health = "--health" in args  # also hear of the county's portal trouble (blocked, failing)
    args = [a for a in args if a != "--health"]
    if not args:
        raise BadArgs(_usage("subscribe"))
    c = _ctx(context)
    with c.session_factory() as s, s.begin():
        _sub, summary = service.subscribe(s, "telegram", _who(update), county=args[0],
                                          body=" ".join(args[1:]) or None, health=True if health else None)
    await _reply(update, "订阅成功。\n" + summary)


async def cmd_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = _args(context)
    c = _ctx(context)
    with c.session_factory() as s, s.begin():
        text = service.unsubscribe(s, "telegram", _who(update), " ".join(args) or None)
    await _reply(update, text)


async def cmd_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    c = _ctx(context)
    with c.session_factory() as s:
        sub = service.get_subscriber(s, "telegram", _who(update))
        text = service.describe(s, sub) if sub is not None and sub.active else \
            "您还没有订阅。用 /subscribe <县代码或名称> 订阅，例如 /subscribe 金乡县"
    await _reply(update, text)


def _county(s: Session, text: str) -> service.CountyRef:
    return service.find_county(s, text)


PORTAL_LABELS = {"CRAWL-001": "门户被拦截", "CRAWL-002": "门户抓取失败", "CRAWL-003": "列表页没有报告链接"}


def portal_problems(s: Session, code: str) -> list[tuple[str, datetime]]:
    """The county's open crawl-health findings: (rule, since), one per rule."""
    from sqlalchemy import func, select

    from storage.models import Finding

    return [(r, since) for r, since in s.execute(
        select(Finding.rule_id, func.min(Finding.first_seen_at))
        .where(Finding.county_code == code, Finding.rule_id.in_(tuple(PORTAL_LABELS)), Finding.resolved_at.is_(None))
        .group_by(Finding.rule_id).order_by(Finding.rule_id))]


def portal_lines(problems: list[tuple[str, datetime]]) -> list[str]:
    """"门户被拦截（自 2027-01-03 02:10）" for /status (times in Asia/Shanghai)."""
    from monitor.clock import SHANGHAI

    return [f"{PORTAL_LABELS[rule]}（自 {since.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）" for rule, since in problems]


async def cmd_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from monitor.deadlines import season_year
    from monitor.status import county_status

    args = _args(context)
    if not args or len(args) > 2:
        raise BadArgs(_usage("status"))
    c = _ctx(context)
    with c.session_factory() as s:
        ref = _county(s, args[0])
        year = _year(args[1], "status") if len(args) > 1 else season_year(c.clock)
        st = county_status(s, ref.code, c.clock, [year], policy=c.policy)
        portal = portal_problems(s, ref.code)
    counts = st.counts(year)
    from monitor.status import STATE_LABELS

    head = f"{st.name}（{st.code}）{year}年度：" + ("，".join(f"{STATE_LABELS[k]} {v}" for k, v in
                                                          sorted(counts.items(), key=lambda kv: -kv[1])) or "无应公开单位")
    lines = [head, *portal_lines(portal)]
    if st.crawl.last_status:
        lines.append(f"最近一次抓取：{st.crawl.last_status}"
                     + (f"（{st.crawl.last_finished:%Y-%m-%d %H:%M} UTC）" if st.crawl.last_finished else ""))
    for b in st.bodies:
        cell = b.cells.get(year)
        if cell is None or cell.state == "not_expected":
            continue
        extra = ""
        if cell.published:
            extra = f" {cell.published.isoformat()}"
        elif cell.due and cell.state in ("missing", "not_due", "reminder", "unknown"):
            extra = f" 截止 {cell.due.isoformat()}"
        if cell.errors or cell.warnings:
            extra += f"（错误{cell.errors}，警告{cell.warnings}）"
        lines.append(f"• {b.name}：{cell.label}{extra}")
    for f in st.crawl_findings:
        lines.append(f"⚠ {f['rule']} {f['message']}")
    await _reply(update, "\n".join(lines))


async def cmd_findings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from monitor.review import states_of
    from monitor.status import list_findings

    args = _args(context)
    if not args or len(args) > 2:
        raise BadArgs(_usage("findings"))
    severity = args[1].lower() if len(args) > 1 else None
    if severity is not None and severity not in service.SEVERITIES:
        raise BadArgs(f"级别应为 error、warning 或 info，而不是“{args[1]}”。\n" + _usage("findings"))
    c = _ctx(context)
    with c.session_factory() as s:
        ref = _county(s, args[0])
        rows = list_findings(s, county=ref.code, severity=severity, open_only=True)
        reviews = states_of(s, [(r["fingerprint"], False) for r in rows])
    if not rows:
        await _reply(update, f"{ref.name}（{ref.code}）没有未解决的问题" + (f"（{severity} 及以上）" if severity else "") + "。")
        return
    lines = [f"{ref.name}（{ref.code}）未解决的问题：{len(rows)} 个" + (f"，显示前 {MAX_LIST} 个" if len(rows) > MAX_LIST else "")]
    for r in rows[:MAX_LIST]:
        where = " ".join(x for x in (r["entity"], f"{r['year']}年度" if r["year"] else None) if x)
        mark = {"confirmed": "（已确认）", "dismissed": "（已排除）"}.get(reviews[r["fingerprint"]], "")
        lines.append(f"• #{r['id']} [{SEV_LABEL.get(r['severity'], r['severity'])}]{mark} {r['rule']} {where}："
                     f"{r['message']}")
    await _reply(update, "\n".join(lines))


async def cmd_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = _args(context)
    if len(args) < 2:
        raise BadArgs(_usage("report"))
    year = _year(args[-1], "report")
    c = _ctx(context)
    with c.session_factory() as s:
        d = service.report_detail(s, " ".join(args[:-1]), year)
    lines = [f"{d['entity']}（{d['county_name']}）{year}年度报告"]
    if d["report_id"] is None:
        lines.append("尚未发现该年度报告。")
    else:
        lines.append(f"公开日期：{d['published_at'] or '未知'}" + (f"（依据：{d['published_source']}）" if d["published_source"] else ""))
        if d["template"]:
            lines.append(f"模板：{d['template']}版")
        if d["link"]:
            lines.append(f"链接：{d['link']}")
    if d["findings"]:
        lines.append(f"未解决的问题：{len(d['findings'])} 个")
        for f in d["findings"][:MAX_LIST]:
            lines.append(f"• [{SEV_LABEL.get(f['severity'], f['severity'])}] {f['rule']}：{f['message']}")
    else:
        lines.append("没有未解决的问题。")
    await _reply(update, "\n".join(lines))


async def cmd_recrawl(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from monitor.status import request_recrawl

    args = _args(context)
    if len(args) != 1:
        raise BadArgs(_usage("recrawl"))
    c = _ctx(context)
    chat = update.effective_chat.id if update.effective_chat else 0
    user = update.effective_user.id if update.effective_user else 0
    with c.session_factory() as s, s.begin():
        ref = _county(s, args[0])
        admins = c.admins_of(ref.code)
        if chat not in admins and user not in admins:
            log.info("recrawl refused", extra={"county": ref.code, "chat": chat})
            await _reply(update, f"只有{ref.name}的管理员可以重新抓取。如需抓取，请联系运维人员。")
            return
        run, created = request_recrawl(s, ref.code, f"telegram:{chat}")
        run_id = run.id
    state = "已加入抓取队列" if created else "该县已有一个排队中的抓取请求"
    await _reply(update, f"{state}（编号 {run_id}）：{ref.name}（{ref.code}）。\n"
                         "目前没有检测到运行中的守护进程：守护进程运行时（nianbao daemon）会执行，"
                         "也可在服务器上运行 nianbao recrawl 执行。开始和完成时会通知您。")
    context.application.create_task(_watch_run(context.application, chat, run_id, ref.name),
                                    name=f"watch-run-{run_id}")


def _finding_id(text: str, cmd: str) -> int:
    m = re.fullmatch(r"#?(\d{1,12})", text)
    if not m:
        raise BadArgs(f"“{text}”不是问题编号（提醒消息中“问题编号”后的数字）。\n" + _usage(cmd))
    return int(m.group(1))


async def _review(update: Update, context: ContextTypes.DEFAULT_TYPE, cmd: str, state: str) -> None:
    from monitor import review

    args = _args(context)
    if not args or (state == "dismissed" and len(args) < 2):
        raise BadArgs(("排除问题时须说明原因。\n" if args else "") + _usage(cmd))
    finding_id = _finding_id(args[0], cmd)
    reason = " ".join(args[1:]) or None
    c = _ctx(context)
    chat = update.effective_chat.id if update.effective_chat else 0
    user = update.effective_user.id if update.effective_user else 0
    with c.session_factory() as s, s.begin():
        found = review.finding_summary(s, finding_id)
        admins = c.admins_of(found["county"] or "")
        if chat not in admins and user not in admins:
            log.info("review refused", extra={"county": found["county"], "chat": chat})
            await _reply(update, f"只有{found['county_name'] or '该县'}的管理员可以审核问题 {finding_id}。")
            return
        r = review.set_state(s, finding_id, state, by=f"telegram:{user or chat}", now=c.clock.now(),
                             reason=reason)
    where = " ".join(str(x) for x in (r["county_name"], r["entity"], f"{r['year']}年度" if r["year"] else None) if x)
    lines = [f"问题 {finding_id} 已标记为“{r['state_label']}”" + (f"，原因：{r['reason']}" if r["reason"] else "")
             + ("。以后不再提醒，除非相关数字改变。" if state == "dismissed" else "。"),
             f"[{SEV_LABEL.get(r['severity'], r['severity'])}] {r['rule']} {where}：{r['message']}"]
    lines += r["evidence"]
    await _reply(update, "\n".join(lines))


async def cmd_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _review(update, context, "confirm", "confirmed")


async def cmd_dismiss(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _review(update, context, "dismiss", "dismissed")


async def _watch_run(app: Application, chat: int, run_id: int, county_name: str) -> None:
    """Tell the requester when the queued run starts and when it finishes."""
    from storage.models import CrawlRun

    c: BotContext = app.bot_data["ctx"]
    told_start = False
    waited = 0.0
    while waited < c.watch_timeout:
        await asyncio.sleep(c.watch_interval)
        waited += c.watch_interval
        with c.session_factory() as s:
            run = s.get(CrawlRun, run_id)
            if run is None:
                return
            status, started, finished, stats, error = (run.status, run.started_at, run.finished_at,
                                                       dict(run.stats or {}), run.error)
        if started and not told_start:
            told_start = True
            await app.bot.send_message(chat, f"开始抓取{county_name}（编号 {run_id}）。")
        if finished:
            summary = _run_summary(status, stats, error)
            await app.bot.send_message(chat, f"{county_name}抓取完成（编号 {run_id}）：{summary}")
            return


RUN_LABELS = {"ok": "成功", "partial": "部分成功", "blocked": "被拦截", "failed": "失败"}


def _run_summary(status: str, stats: dict[str, Any], error: str | None) -> str:
    parts = [RUN_LABELS.get(status, status)]
    for key, label in (("documents", "文档"), ("new", "新文档"), ("changed", "有变化"), ("findings_new", "新问题"),
                       ("findings_resolved", "已解决")):
        if isinstance(stats.get(key), int):
            parts.append(f"{label} {stats[key]}")
    if error:
        parts.append(f"错误：{error[:200]}")
    return "，".join(parts)


async def cmd_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = _args(context)
    modes = {"on": "daily+errors", "all": "daily", "off": "off"}
    if len(args) != 1 or args[0].lower() not in modes:
        raise BadArgs(_usage("digest"))
    c = _ctx(context)
    with c.session_factory() as s, s.begin():
        text = service.set_digest(s, "telegram", _who(update), modes[args[0].lower()])
    await _reply(update, text)


async def cmd_mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = _args(context)
    try:
        hours = float(args[0].removesuffix("h").removesuffix("小时")) if len(args) == 1 else None
    except ValueError:
        hours = None
    if hours is None or hours != hours:
        raise BadArgs(_usage("mute"))
    c = _ctx(context)
    with c.session_factory() as s, s.begin():
        text = service.mute(s, "telegram", _who(update), hours, c.clock.now())
    await _reply(update, text)


async def cmd_unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    word = (msg.text or "").split()[0] if msg and msg.text else ""
    await _reply(update, f"未知命令 {word}。\n\n" + help_text())


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        await _reply(update, "请使用命令，例如 /status 金乡县。发送 /help 查看全部命令。")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    err = context.error
    if isinstance(update, Update) and isinstance(err, NianbaoError):
        await _reply(update, str(err))
        return
    c = context.application.bot_data.get("ctx")
    log.error("bot handler failed: %s", redact(repr(err), c.token if c else None))
    if isinstance(update, Update):
        try:
            await _reply(update, "出错了，请稍后再试。")
        except Exception:  # noqa: BLE001 - the chat may be unreachable; already logged
            pass


HANDLERS = {"start": cmd_start, "help": cmd_help, "subscribe": cmd_subscribe, "unsubscribe": cmd_unsubscribe,
            "list": cmd_list, "status": cmd_status, "findings": cmd_findings, "report": cmd_report,
            "recrawl": cmd_recrawl, "confirm": cmd_confirm, "dismiss": cmd_dismiss, "digest": cmd_digest,
            "mute": cmd_mute}


async def _post_init(app: Application) -> None:
    await app.bot.set_my_commands([BotCommand(c, d[:256]) for c, _a, d in COMMANDS])


def bot_token(settings: Any) -> str:
    tg = getattr(settings, "telegram", None)
    tok = getattr(tg, "token", None) if tg is not None else getattr(settings, "bot_token", None)
    if tok is not None and hasattr(tok, "get_secret_value"):
        tok = tok.get_secret_value()
    if not tok:
        raise NianbaoError("没有配置机器人令牌：请设置环境变量 NIANBAO_BOT_TOKEN 或 NIANBAO_BOT_TOKEN_FILE")
    return tok


def build_application(settings: Any, session_factory: sessionmaker[Session], *, clock: Clock | None = None,
                      base_url: str | None = None, watch_interval: float = 10.0) -> Application:
    """The bot: every handler registered here, the service context in bot_data."""
    token = bot_token(settings)
    install_log_redaction(token)
    base_url = base_url or getattr(getattr(settings, "telegram", None), "api_url", None)
    builder = (Application.builder().token(token).rate_limiter(rate_limiter())
               .post_init(_post_init).concurrent_updates(False))
    if base_url:
        builder = builder.base_url(base_url)
    app = builder.build()
    app.bot_data["ctx"] = BotContext(session_factory=session_factory, clock=clock or SystemClock(),
                                     settings=settings, watch_interval=watch_interval, token=token)
    for name, fn in HANDLERS.items():
        app.add_handler(CommandHandler(name, fn))
    app.add_handler(MessageHandler(filters.COMMAND, cmd_unknown))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_error_handler(on_error)
    return app


__all__ = ["build_application", "COMMANDS", "HANDLERS", "help_text", "BotContext", "bot_token"]
