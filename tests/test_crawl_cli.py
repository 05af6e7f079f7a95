"""`nianbao crawl` end to end: profile file → crawl child → monitor pipeline → summary."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import tomli_w
from typer.testing import CliRunner

from crawler.settings import user_agent
from crawler.sim.server import SimServer
from crawler.sim.world import SimWorld
from monitor.cli import app
from monitor.clock import SHANGHAI, FixedClock

BODIES = [("模拟县人民政府办公室", "county_gov"), ("刘楼镇人民政府", "township")]


def setup(tmp_path: Path, world: SimWorld, code: str) -> tuple[Path, Path]:
    counties = tmp_path / "counties"
    counties.mkdir()
    (counties / f"{code}.toml").write_bytes(tomli_w.dumps(world.profile(code)).encode())
    config = tmp_path / "nianbao.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\nuser_agent_contact = "https://example.org/nb"\n',
                      "utf-8")
    return counties, config


def test_crawl_command_crawls_checks_and_summarizes(tmp_path: Path) -> None:
    world = SimWorld(3, FixedClock(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)))
    world.add_county("990021", "模拟县", "generic", BODIES, [2025], page_size=20, distractors=False)
    world.populate("990021", published_at_fn=lambda body, year: datetime(2026, 1, 10, 9, tzinfo=SHANGHAI))
    with SimServer(world) as server:
        counties, config = setup(tmp_path, world, "990021")
        result = CliRunner().invoke(app, ["crawl", "990021", "--profile-dir", str(counties),
                                          "--config", str(config), "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.strip().splitlines()[-1])
        assert summary["status"] == "ok"
        assert summary["documents"]["new"] == len(world.expected_reports("990021")) == 2
        assert summary["ingest"]["documents"] == 2
        assert summary["blocked"] == 0 and summary["failed"] == 0
        assert server.count("990021", path_prefix="/robots.txt") == 1  # robots.txt obeyed by default

        human = CliRunner().invoke(app, ["crawl", "模拟县", "--profile-dir", str(counties), "--config", str(config)])
        assert human.exit_code == 0, human.output
        assert "完成" in human.output and "页面" in human.output


def test_blocked_crawl_exits_1_with_crawl001(tmp_path: Path) -> None:
    world = SimWorld(4, FixedClock(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)))
    world.add_county("990022", "模拟县", "trs", BODIES, [2025], distractors=False)
    world.set_fault("990022", "waf403")
    with SimServer(world):
        counties, config = setup(tmp_path, world, "990022")
        result = CliRunner().invoke(app, ["crawl", "990022", "--profile-dir", str(counties),
                                          "--config", str(config), "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["status"] == "blocked"
    assert summary["blocked_kinds"] == {"waf": summary["blocked"]}
    assert summary["findings"]["open"].get("CRAWL-001") == 1
    assert "TIME-004" not in summary["findings"]["open"]


def test_user_agent_names_nianbao_and_the_contact() -> None:
    ua = user_agent("https://example.org/nb")
    assert ua.startswith("nianbao/") and ua.endswith("(+https://example.org/nb)")


def test_progress_bar_says_blocked_or_failed_never_none() -> None:
    import io

    from rich.console import Console

    from monitor.commands.crawl import _progress

    def drawn(events: list[dict[str, int]]) -> str:
        out = io.StringIO()
        console = Console(file=out, force_terminal=True, width=160)
        with _progress(console, "模拟县") as update:
            for e in events:
                update({"event": "progress", **e})
        return out.getvalue()

    blocked = drawn([{"pages": 0, "list_pages": 0, "report_links": 0, "blocked": 1, "failed": 0}])
    assert "被拦截" in blocked and "None" not in blocked
    failed = drawn([{"pages": 0, "list_pages": 0, "report_links": 0, "blocked": 0, "failed": 2}])
    assert "访问失败" in failed and "None" not in failed
    going = drawn([{"pages": 3, "list_pages": 2, "report_links": 5, "blocked": 0, "failed": 0}])
    assert "3/7 页" in going
