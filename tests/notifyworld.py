"""A small database for the notifier tests: two counties, their bodies, one report with a version,
findings, and a running bot against the fake Bot API server."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from storage.models import County, Document, Entity, Finding, Report, ReportVersion

NOW = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
COUNTIES = (("370828", "金乡县"), ("370830", "汶上县"), ("441581", "陆丰市"))
BODIES = {"370828": [("金乡县人民政府", "county_gov"), ("金乡县教育局", "department"), ("鸡黍镇人民政府", "township")],
          "370830": [("汶上县人民政府", "county_gov"), ("汶上县财政局", "department")],
          "441581": [("陆丰市人民政府", "county_gov")]}


def seed(session: Session) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    for code, name in COUNTIES:
        session.add(County(code=code, name=name, province="山东省", city="济宁市"))
    session.flush()
    for code, bodies in BODIES.items():
        for name, kind in bodies:
            e = Entity(county_code=code, name=name, kind=kind, aliases=[], first_year=2019)
            session.add(e)
            session.flush()
            ids[name] = e.id
    doc = Document(sha256="a" * 64, url="http://127.0.0.1:9/jx/2024.html", size=10, first_seen_at=NOW,
                   last_seen_at=NOW)
    session.add(doc)
    session.flush()
    rep = Report(entity_id=ids["金乡县教育局"], year=2024, first_seen_at=NOW, published_at=date(2025, 1, 20),
                 published_source="page")
    session.add(rep)
    session.flush()
    ver = ReportVersion(report_id=rep.id, document_id=doc.id, template="2021", parsed={}, parser_version="t",
                        parsed_at=NOW, is_current=True)
    session.add(ver)
    session.flush()
    ids["report"], ids["version"] = rep.id, ver.id
    return ids


def add_finding(session: Session, ids: dict[str, Any], *, rule: str = "ARITH-003", severity: str = "error",
                county: str = "370828", entity: str = "金乡县教育局", year: int | None = 2024,
                fp: str | None = None, message: str = "表三“总计”列：（一）至（六）各项之和为12，“（七）总计”却填10",
                details: dict[str, Any] | None = None, scope: str = "doc") -> Finding:
    f = Finding(fingerprint=fp or f"{rule}-{county}-{entity}-{year}", rule_id=rule, severity=severity, scope=scope,
                county_code=county, entity_id=ids.get(entity), year=year,
                report_id=ids["report"] if entity == "金乡县教育局" else None,
                report_version_id=ids["version"] if entity == "金乡县教育局" else None, message=message,
                details=details if details is not None else {"table": "requests", "row": "total",
                                                             "column": "总计", "expected": 12, "actual": 10,
                                                             "difference": 2},
                first_seen_at=NOW, last_seen_at=NOW)
    session.add(f)
    session.flush()
    return f


def write_settings(tmp_path: Path, db_url: str, token: str, *, admins: tuple[int, ...] = (),
                   county_admins: dict[str, list[int]] | None = None, api_url: str | None = None) -> Any:
    from monitor.config import load_config

    lines = [f'database_url = "{db_url}"', f'data_dir = "{tmp_path / "data"}"', "[telegram]",
             f"admin_chat_ids = {list(admins)}"]
    if api_url:
        lines.append(f'api_url = "{api_url}"')
    if county_admins:
        lines.append("[telegram.county_admins]")
        lines += [f'"{k}" = {v}' for k, v in county_admins.items()]
    cfg = tmp_path / "nianbao.toml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(cfg, env={"NIANBAO_BOT_TOKEN": token})


class BotRunner:
    """Runs a PTB Application (long polling against the fake server) in a thread of its own."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.ready = threading.Event()
        self.error: BaseException | None = None

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        try:
            async with self.app:
                if self.app.post_init:  # as run_polling does
                    await self.app.post_init(self.app)
                await self.app.start()
                await self.app.updater.start_polling(poll_interval=0.0, timeout=1)
                self.ready.set()
                await self.stop_event.wait()
                await self.app.updater.stop()
                await self.app.stop()
        except BaseException as exc:  # surfaced by start()/stop()
            self.error = exc
            self.ready.set()

    def start(self) -> BotRunner:
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="bot", daemon=True)
        self.thread.start()
        self.ready.wait(30)
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(30)
        if self.error:
            raise self.error
