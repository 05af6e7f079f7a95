"""`nianbao demo`: the daemon through a publication season on an accelerated clock — SQLite, the
built-in portal simulator, alerts on the console. Needs nothing outside the project (no network,
no shared files) and takes under two minutes.

1. starts the portal simulator (crawler/sim) on 127.0.0.1 with two demo counties on a clock that
   runs a January–April season in about 75 seconds: 云溪县 (TRS portal: most bodies publish on time,
   one late, one never, one report has broken arithmetic and misspelt labels, one is edited in
   March) and 石门县 (Hanweb portal, the same season but its department on time, that blocks
   crawlers with a 412 script challenge for a week in February);
2. writes their profiles and a nianbao.toml into <data-dir>, creates the database and a console
   subscriber (an operator: it hears of every county, portal problems included);
3. runs `nianbao daemon` (in this process) on the same clock: scheduled crawls as child processes,
   the daily deadline sweep, the outbox sender printing alerts as they arrive; in March an admin
   asks for a recrawl of 云溪县 (as `nianbao recrawl` and the bot's /recrawl do);
4. stops the daemon at the end of April and prints each county's status grid.

`--samples-only DIR` only writes generated sample reports in every format (for `nianbao check`).
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

DEMO_COUNTIES = (
    # code, name, flavour, fault
    ("990101", "云溪县", "trs", None),
    ("990102", "石门县", "hanweb", "412"),
)
BODIES = [("云溪县人民政府", "county_gov"), ("青石镇人民政府", "township"), ("白沙乡人民政府", "township"),
          ("东关街道办事处", "street"), ("云溪县教育局", "department"), ("云溪县市场监督管理局", "department")]
YEARS = (2023, 2024, 2025)


def write_samples(out: Path) -> list[Path]:
    """Sample reports made by the report generator, in every format it writes."""
    from crawler.sim.reportgen import EXTENSIONS, make_spec, render

    out.mkdir(parents=True, exist_ok=True)
    written = []
    samples = [
        ("青石镇-2022", make_spec(1, entity="青石镇人民政府", year=2022), ("docx", "html", "pdf", "txt-cells")),
        ("青石镇-2022-variants", make_spec(2, entity="青石镇人民政府", year=2022,
                                            variants=["broken_arith:ARITH-001", "label_typos", "blank_cells"]),
         ("html",)),
        ("白沙乡-2020", make_spec(3, entity="白沙乡人民政府", year=2020, variants=["no_period", "early_date"]),
         ("docx", "txt-tabs")),
        ("云溪县教育局-2018", make_spec(4, entity="云溪县教育局", year=2018, entity_kind="department"), ("html",)),
    ]
    if shutil.which("soffice"):
        samples.append(("东关街道-2023", make_spec(5, entity="东关街道办事处", year=2023, entity_kind="street"),
                        ("doc",)))
    for stem, spec, fmts in samples:
        for fmt in fmts:
            suffix = "-gbk" if fmt == "html-gbk" else ("-cells" if fmt == "txt-cells" else "")
            path = out / f"{stem}{suffix}.{EXTENSIONS[fmt].lstrip('.')}"
            path.write_bytes(render(spec, fmt))
            written.append(path)
    profile = out / "counties" / "990101.toml"
    profile.parent.mkdir(exist_ok=True)
    profile.write_text(SAMPLE_PROFILE, encoding="utf-8")
    written.append(profile)
    return written


# The county the sample reports belong to (no portal: its reports arrive by hand, `nianbao ingest`).
SAMPLE_PROFILE = """\
[county]
code = "990101"
name = "云溪县"
province = "示例省"
city = "示例市"
note = "示例县：报告由 nianbao demo --samples-only 生成"

""" + "\n".join(f"""[[bodies]]
name = "{name}"
kind = "{kind}"
first_year = 2018
""" for name, kind in BODIES)


SEASON_YEAR = 2026  # the season runs January–April of this year, for the reports of the year before
REPORT_YEAR = SEASON_YEAR - 1
DEMO_START = datetime(SEASON_YEAR - 1, 12, 28)
DEMO_END = datetime(SEASON_YEAR, 5, 1)
DEMO_SECONDS = 75.0  # wall-clock length of the season
BLOCK_FROM, BLOCK_DAYS = datetime(SEASON_YEAR, 2, 3), 7
RECRAWL_AT = datetime(SEASON_YEAR, 3, 20)
YEARS = (REPORT_YEAR - 2, REPORT_YEAR - 1, REPORT_YEAR)


def build_world(clock: Any) -> Any:
    """The two demo counties and what their bodies do during the season."""
    from crawler.sim.world import SimWorld
    from monitor.clock import SHANGHAI

    def at(month: int, day: int) -> datetime:
        return datetime(SEASON_YEAR, month, day, 9, 30, tzinfo=SHANGHAI)

    world = SimWorld(seed=2026, clock=clock)
    for code, name, flavour, _fault in DEMO_COUNTIES:
        bodies = [(b.replace("云溪县", name), k) for b, k in BODIES]
        world.add_county(code, name, flavour, bodies, YEARS, attachments=("docx", "pdf"))
        world.populate(code, YEARS[:-1])
        plan = {0: (at(3, 6), ()),                                          # county government: due 03-31
                1: (at(1, 14), ("broken_arith:ARITH-003", "label_typos")),  # on time, but wrong
                2: (at(1, 22), ()),                                         # on time; edited in March
                4: (at(2, 18), ()),                                         # late (due 01-31)
                5: (at(1, 27), ())}                                         # on time; 3 never publishes
        if code == "990102":
            # the blocked county's department publishes on time: its week of 412s must show as
            # CRAWL-001 and never as a missing report — a late body there would make a TIME-004
            # depend on whether a good crawl fell between its due date and the block
            plan[4] = (at(1, 20), ())
        for i, (body, _kind) in enumerate(bodies):
            if i in plan:
                when, variants = plan[i]
                world.publish(code, body, REPORT_YEAR, at=when, variants=variants)
        world.edit(code, bodies[2][0], REPORT_YEAR, at=at(3, 10), variants=("label_typos",))
    return world


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        data_dir: Annotated[Path, typer.Option(help="where the demo keeps its database and files")] = Path("data/demo"),
        samples_only: Annotated[Path | None, typer.Option(help="only write sample reports into this folder")] = None,
    ) -> None:
        """演示：用内置的门户模拟器抓取两个示例县，检查年报，在控制台输出提醒（SQLite，无需联网）。"""
        console = Console(highlight=False)
        if samples_only is not None:
            for p in write_samples(samples_only):
                console.print(f"写入 {p}")
            return
        _run_demo(data_dir, console)


def _run_demo(data_dir: Path, console: Console) -> None:
    import asyncio

    import tomli_w

    from crawler.sim.server import SimServer
    from monitor.clock import SHANGHAI, AcceleratedClock
    from monitor.config import load_config

    data_dir = data_dir.resolve()
    if data_dir.exists():
        shutil.rmtree(data_dir)  # the demo starts from nothing every time
    counties_dir = data_dir / "counties"
    counties_dir.mkdir(parents=True)
    start, end = DEMO_START.replace(tzinfo=SHANGHAI), DEMO_END.replace(tzinfo=SHANGHAI)
    rate = (end - start).total_seconds() / DEMO_SECONDS
    world = build_world(None)
    for key in [k for k in os.environ if k.startswith("NIANBAO_")]:
        os.environ.pop(key)
    config = data_dir / "nianbao.toml"
    config.write_text(tomli_w.dumps({
        "database_url": f"sqlite+pysqlite:///{data_dir / 'nianbao.db'}", "data_dir": str(data_dir),
        "counties_dir": str(counties_dir),
        "schedule": {"misfire_grace_seconds": 10 * 86400},
        "daemon": {"http": "", "poll_seconds": 0.2, "outbox_seconds": 0.3, "stop_grace_seconds": 5,
                   "max_concurrent_crawls": 2,
                   "crawl_settings": {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1}},
    }), encoding="utf-8")
    os.environ["NIANBAO_CONFIG"] = str(config)
    settings = load_config(config)
    with SimServer(world, log_requests=False) as server:
        for code, name, flavour, _fault in DEMO_COUNTIES:
            profile = world.profile(code, server.base_url(code))
            profile.setdefault("county", {})["note"] = "演示县：由内置门户模拟器提供（127.0.0.1）"
            for body in profile.get("bodies", []):
                body.setdefault("first_year", YEARS[0])  # the demo portals start in that year
            (counties_dir / f"{code}.toml").write_text(tomli_w.dumps(profile), encoding="utf-8")
            console.print(f"模拟门户 {name}（{flavour}）：{server.base_url(code)}")
        _prepare(settings)
        clock = AcceleratedClock(start, rate)
        world.clock = clock
        console.print(f"\n守护进程启动：模拟时钟从 {start:%Y-%m-%d} 到 {end:%Y-%m-%d}，约 {DEMO_SECONDS:.0f} 秒"
                      f"（1 秒 ≈ {rate / 86400:.1f} 天）；提醒到达时打印在下面。\n")
        asyncio.run(_season(settings, clock, world, end, console))
    os.environ["NIANBAO_CLOCK"] = AcceleratedClock(end, 1e-9).to_env()  # the status as of the season's end
    try:
        _print_status(console)
    finally:
        os.environ.pop("NIANBAO_CLOCK", None)


def _prepare(settings: Any) -> None:
    """The database, the profiles and a console subscriber that hears of everything."""
    from monitor.profiles import load_profiles, sync_profiles
    from notifier import service
    from storage.db import session_factory, upgrade

    engine = settings.engine()
    try:
        upgrade(engine)
        with session_factory(engine)() as s, s.begin():
            sync_profiles(s, load_profiles(settings.counties_dir))
            service.subscribe(s, "console", "-", role="operator", health=True, min_severity="warning")
    finally:
        engine.dispose()


async def _season(settings: Any, clock: Any, world: Any, end: datetime, console: Console) -> None:
    """The daemon for one season, and the demo's own events on the same clock."""
    import asyncio
    import logging

    from monitor.daemon import Daemon, setup_logging

    setup_logging("text", logging.ERROR)
    daemon = Daemon(settings, clock=clock, http="")
    label = {"ok": "完成", "partial": "部分完成", "blocked": "被拦截", "failed": "失败"}
    names = {code: name for code, name, _f, _x in DEMO_COUNTIES}
    blocked_runs: list[int] = []

    def day() -> str:
        return f"[{clock.now():%m-%d}]"

    async def on_run(event: str, data: dict[str, Any]) -> None:
        if event != "finished":
            return
        s = data.get("summary") or {}
        docs = s.get("documents") or {}
        status = data.get("status", "")
        if data.get("stopped") == "shutdown":
            console.print(f"{day()} 抓取 {names.get(data['county'], data['county'])} #{data['run_id']}："
                          "守护进程停止，已重新排队", highlight=False)
            return
        if data["county"] == "990102" and status == "blocked":
            blocked_runs.append(data["run_id"])
        console.print(f"{day()} 抓取 {names.get(data['county'], data['county'])} #{data['run_id']}："
                      f"{label.get(status, status)}  页面 {s.get('pages', 0)}  文件：新 {docs.get('new', 0)} "
                      f"变更 {docs.get('changed', 0)}", highlight=False)

    daemon.run_listeners.append(on_run)

    async def script() -> None:
        block_from = BLOCK_FROM.replace(tzinfo=end.tzinfo)
        await _until(clock, block_from)
        world.set_fault("990102", "412")
        console.print(f"{day()} 石门县门户开始拦截抓取（412 脚本挑战），持续约一周", highlight=False)
        await _until(clock, block_from + timedelta(days=BLOCK_DAYS))
        # enough crawls meet the block for the operators' alert (after N blocked crawls in a row)
        while len(blocked_runs) < settings.health.crawl_alert_threshold:
            await asyncio.sleep(0.2)
        world.set_fault("990102", None)
        console.print(f"{day()} 石门县门户恢复正常", highlight=False)
        await _until(clock, RECRAWL_AT.replace(tzinfo=end.tzinfo))
        run_id, _ = await daemon.queue_crawl("990101", trigger="cli", requested_by="demo-admin")
        console.print(f"{day()} 管理员请求重新抓取 云溪县（#{run_id}，与 nianbao recrawl / 机器人 /recrawl 相同）",
                      highlight=False)
        await _until(clock, end)
        daemon.request_stop()

    task = asyncio.create_task(script())
    try:
        await daemon.run()
    finally:
        task.cancel()


async def _until(clock: Any, at: datetime) -> None:
    import asyncio

    while clock.now() < at:
        await asyncio.sleep(min(0.5, max(0.02, (at - clock.now()).total_seconds() / clock.rate)))


def _print_status(console: Console) -> None:
    from monitor.commands.store import status

    console.print()
    for code, _name, _flavour, _fault in DEMO_COUNTIES:
        status(code, REPORT_YEAR)
