"""`nianbao demo`: the main job on the embedded default — SQLite, the built-in portal simulator,
alerts to the console. Needs nothing outside the project (no network, no shared files).

1. starts the portal simulator (crawler/sim) on 127.0.0.1 with two demo counties: 云溪县 (TRS
   portal: most bodies published, one report with broken arithmetic and misspelt labels, one body
   that never published) and 石门县 (Hanweb portal behind a 412 script challenge);
2. writes their profiles into <data-dir>/counties and creates the database;
3. crawls each county in a child process and checks every report it fetched;
4. prints each county's status grid and, as console alerts, the open findings.

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


def build_world(now: datetime) -> Any:
    from crawler.sim.world import SimWorld
    from monitor.clock import FixedClock

    world = SimWorld(seed=2026, clock=FixedClock(now))
    for code, name, flavour, fault in DEMO_COUNTIES:
        bodies = [(b.replace("云溪县", name), k) for b, k in BODIES]
        world.add_county(code, name, flavour, bodies, YEARS, attachments=("docx", "pdf"))
        world.populate(code, YEARS[:-1])
        latest = YEARS[-1]
        for i, (body, _kind) in enumerate(bodies):
            if i == 3:
                continue  # this body never publishes its latest report: TIME-004 once it is due
            variants = ("broken_arith:ARITH-003", "label_typos") if i == 1 else ()
            world.publish(code, body, latest, at=datetime(latest + 1, 1, 10 + i, 9, 30, tzinfo=now.tzinfo),
                          variants=variants)
        if fault:
            world.set_fault(code, fault)
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
    import tomli_w

    from crawler.sim.server import SimServer
    from monitor import jobs
    from monitor.clock import SHANGHAI, SystemClock
    from monitor.commands.crawl import print_summary, summarize
    from monitor.config import load_config
    from monitor.profiles import load_profile
    from notifier import outbox

    data_dir = data_dir.resolve()
    if data_dir.exists():
        shutil.rmtree(data_dir)  # the demo starts from nothing every time
    counties_dir = data_dir / "counties"
    counties_dir.mkdir(parents=True)
    now = datetime.now(SHANGHAI) - timedelta(minutes=1)
    world = build_world(now)
    os.environ.update({"NIANBAO_DATA_DIR": str(data_dir), "NIANBAO_COUNTIES_DIR": str(counties_dir),
                       "NIANBAO_DATABASE_URL": f"sqlite+pysqlite:///{(data_dir / 'nianbao.db').resolve()}"})
    settings = load_config()
    with SimServer(world) as server:
        for code, name, flavour, _fault in DEMO_COUNTIES:
            profile = world.profile(code, server.base_url(code))
            profile.setdefault("county", {})["note"] = "演示县：由内置门户模拟器提供（127.0.0.1）"
            for body in profile.get("bodies", []):
                body.setdefault("first_year", YEARS[0])  # the demo portals start in that year
            (counties_dir / f"{code}.toml").write_text(tomli_w.dumps(profile), encoding="utf-8")
            console.print(f"模拟门户 {name}（{flavour}）：{server.base_url(code)}")
        console.print()
        fast = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1}
        _subscribe_console(settings)
        on_events = outbox.hook(SystemClock())
        for code, _name, _flavour, _fault in DEMO_COUNTIES:
            profile = load_profile(counties_dir / f"{code}.toml")
            outcome = jobs.crawl_county(code, settings, trigger="cli", profile=profile, crawl_overrides=fast,
                                        on_events=on_events)
            print_summary(console, summarize(outcome, settings, profile))
            console.print()
    _print_status_and_alerts(settings, console)


def _subscribe_console(settings: Any) -> None:
    """The console, subscribed as an operator (every county, crawl health too) before the crawls."""
    from notifier import service
    from storage.db import session_factory, upgrade

    engine = settings.engine()
    try:
        upgrade(engine)
        with session_factory(engine)() as s, s.begin():
            service.subscribe(s, "console", "-", role="operator", min_severity="warning")
    finally:
        engine.dispose()


def _print_status_and_alerts(settings: Any, console: Console) -> None:
    """Each county's status grid, then the outbox drained once through the console channel."""
    from monitor.clock import SystemClock
    from monitor.commands.store import status
    from notifier import outbox
    from notifier.channels.console import ConsoleChannel
    from storage.db import session_factory

    for code, _name, _flavour, _fault in DEMO_COUNTIES:
        status(code, None)
    engine = settings.engine()
    try:
        sf = session_factory(engine)
        with sf() as s:
            pending = outbox.counts(s)["pending"]
        console.print(f"\n[bold]提醒（控制台通道）：{pending} 条[/]\n")
        outbox.drain(sf, {"console": ConsoleChannel(console)}, SystemClock())
    finally:
        engine.dispose()
