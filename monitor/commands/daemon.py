"""`nianbao daemon` (run the service) and `nianbao recrawl COUNTY` (ask for a crawl now).

    nianbao daemon --config nianbao.toml --log-format json
    nianbao recrawl 370830            # queued for the running daemon; without one, crawled here
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def make_clock(clock_start: str | None, clock_rate: float | None) -> Any:
    from monitor.clock import AcceleratedClock, clock_from_env

    if clock_start or clock_rate:
        start = datetime.fromisoformat(clock_start) if clock_start else datetime.now().astimezone()
        return AcceleratedClock(start, clock_rate or 1.0)
    return clock_from_env()


def register(app: typer.Typer) -> None:
    @app.command("daemon")
    def daemon(
        config: Annotated[Path | None, typer.Option("--config", help="nianbao.toml")] = None,
        log_format: Annotated[str, typer.Option("--log-format", help="text | json")] = "text",
        http: Annotated[str | None, typer.Option("--http", help="/healthz 与 /metrics 的地址，如 127.0.0.1:8787；空字符串关闭")] = None,
        clock_start: Annotated[str | None, typer.Option("--clock-start", hidden=True)] = None,
        clock_rate: Annotated[float | None, typer.Option("--clock-rate", hidden=True)] = None,
        executor: Annotated[str | None, typer.Option("--executor", help="local（本机子进程，默认）| celery（交给 nianbao worker）")] = None,
    ) -> None:
        """守护进程：按计划抓取、每日截止检查、发送提醒、运行机器人；SIGTERM 停止，SIGHUP 重新加载配置。"""
        from monitor.config import load_config
        from monitor.daemon import Daemon, setup_logging

        if log_format not in ("text", "json"):
            raise typer.BadParameter("text or json", param_hint="--log-format")
        if executor is not None:
            if executor not in ("local", "celery"):
                raise typer.BadParameter("local or celery", param_hint="--executor")
            os.environ["NIANBAO_DAEMON__EXECUTOR"] = executor  # read again on SIGHUP
        setup_logging(log_format)
        settings = load_config(config)
        clock = make_clock(clock_start, clock_rate)
        d = Daemon(settings, clock=clock, config_path=config or settings.source, http=http,
                   load_settings=lambda: load_config(config), **plugins())
        loop = asyncio.new_event_loop()  # not asyncio.run: its clean-up would wait on any stuck task
        code = loop.run_until_complete(d.run())
        # every resource is released by now (lock, database, children); a library thread left
        # waiting must not keep a stopped daemon alive
        logging.shutdown()
        os._exit(code)

    @app.command("worker")
    def worker(
        config: Annotated[Path | None, typer.Option("--config", help="nianbao.toml")] = None,
        concurrency: Annotated[int | None, typer.Option("--concurrency", "-c", min=1, max=64, help="同时运行的抓取数（默认 celery.concurrency）")] = None,
        name: Annotated[str | None, typer.Option("--name", "-n", help="Celery 节点名，如 w1@%h")] = None,
        loglevel: Annotated[str, typer.Option("--loglevel", help="DEBUG | INFO | WARNING")] = "INFO",
    ) -> None:
        """抓取工作进程（Celery）：从队列领取县的抓取任务，在子进程中抓取并处理，写入数据库；SIGTERM 温和停止。"""
        from monitor.cluster import worker_main
        from monitor.config import load_config
        from monitor.daemon import setup_logging

        setup_logging("text")
        settings = load_config(config)
        worker_main(settings, concurrency=concurrency, hostname=name, loglevel=loglevel.upper())

    @app.command("recrawl")
    def recrawl(
        county: Annotated[str | None, typer.Argument(help="县的代码或名称（不给则只运行已排队的请求）")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="nianbao.toml")] = None,
        wait: Annotated[bool, typer.Option("--wait", help="守护进程运行时，等待抓取结束并输出摘要")] = False,
    ) -> None:
        """立即重新抓取一个县：交给运行中的守护进程；没有守护进程时在本进程中运行排队的抓取请求。"""
        from monitor.clock import clock_from_env
        from monitor.config import load_config
        from monitor.crawljob import run_queued
        from monitor.daemonlock import daemon_running
        from monitor.status import request_recrawl
        from notifier import service
        from storage.db import session_factory, upgrade
        from storage.repo import queued_runs

        settings = load_config(config)
        engine = settings.engine()
        try:
            upgrade(engine)
            sf = session_factory(engine)
            run_id = None
            if county is not None:
                with sf() as s, s.begin():
                    ref = service.find_county(s, county)
                    run, created = request_recrawl(s, ref.code, _user(), trigger="cli")
                    run_id = run.id
                typer.echo(f"{ref.name}（{ref.code}）{'已加入' if created else '已在'}抓取队列（编号 {run_id}）。")
            if daemon_running(settings.database_url):
                typer.echo("守护进程正在运行，将在几秒内开始抓取。")
                if wait and run_id is not None:
                    print_run(_wait_for(settings, run_id))
                return
            with sf() as s:
                ids = [r.id for r in queued_runs(s)]
        finally:
            engine.dispose()
        typer.echo("没有运行中的守护进程，现在在本进程中抓取。")
        done, failed = [], False
        for rid in ids:
            summary = run_queued(rid, settings, clock_from_env())
            if summary is None:
                continue  # taken by another process, or its county is being crawled
            done.append(rid)
            print_run(summary)
            failed |= rid == run_id and summary.get("status") in ("blocked", "failed")
        typer.echo(f"已运行 {len(done)} 个排队的抓取" + (f"：{', '.join(map(str, done))}" if done else "") + "。")
        if failed:
            raise typer.Exit(1)


def plugins() -> dict[str, Any]:
    """The bot and the outbox sender, when the notifier provides them."""
    return {}


def _wait_for(settings: Any, run_id: int, poll: float = 1.0) -> dict[str, Any]:
    from storage.db import session_factory
    from storage.models import CrawlRun

    engine = settings.engine()
    try:
        while True:
            with session_factory(engine)() as s:
                run = s.get_one(CrawlRun, run_id)
                if run.status not in ("queued", "running"):
                    st = run.stats or {}
                    return {"run_id": run_id, "county": run.county_code, "status": run.status, "error": run.error,
                            "pages": st.get("pages", 0), "blocked": st.get("blocked", 0),
                            "documents": {k: st.get(k, 0) for k in ("new", "changed", "unchanged")}}
            time.sleep(poll)
    finally:
        engine.dispose()


STATUS_LABEL = {"ok": "完成", "partial": "部分完成", "blocked": "被拦截", "failed": "失败"}


def print_run(s: dict[str, Any]) -> None:
    docs = s.get("documents") or {}
    line = (f"抓取 #{s['run_id']}（{s['county']}）：{STATUS_LABEL.get(s['status'], s['status'])}  "
            f"页面 {s.get('pages', 0)}  文件：新 {docs.get('new', 0)} 变更 {docs.get('changed', 0)} "
            f"未变 {docs.get('unchanged', 0)}  被拦截 {s.get('blocked', 0)}")
    if s.get("error"):
        line += f"  {s['error']}"
    typer.echo(line)
