"""Crash safety: an ingest process killed (SIGKILL) in the middle of a batch leaves no half-written
report, and running the batch again finishes it with no duplicate rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from crawler.sim.reportgen import make_spec, render
from monitor.profiles import Body, CountyProfile, sync_profiles
from storage.blobs import BlobStore
from storage.db import session_factory
from storage.models import Document, Entity, Finding, Report, ReportVersion

CHILD = r"""
import sys
import time
from pathlib import Path
from monitor.pipeline import ingest_bytes
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory

url, blob_dir, hold, *files = sys.argv[1:]
sf = session_factory(make_engine(url))
blobs = BlobStore(blob_dir)


def inside(session, events):
    # the document's rows are written, its transaction not committed: tell the parent, and wait
    # here when asked to (the parent kills us now)
    print("inside", flush=True)
    if int(hold) == done + 1:
        time.sleep(600)


for done, f in enumerate(files):
    ingest_bytes(sf, blobs, Path(f).read_bytes(), county_code="370830", filename=Path(f).name, sweep=False,
                 on_events=inside)
    print("done", f, flush=True)
"""
TOWNS = "东西南北中上下前后左"


def _batch(tmp_path: Path) -> list[Path]:
    files = []
    for i, t in enumerate(TOWNS):
        # no_period: every report has a finding (STRUCT-005), so its transaction calls on_events
        spec = make_spec(100 + i, entity=f"{t}岗镇人民政府", year=2021, variants=["no_period"])
        p = tmp_path / f"r{i:02d}.txt"
        p.write_bytes(render(spec, "txt-cells"))
        files.append(p)
    return files


def _run_child(db_url: str, blob_dir: Path, files: list[Path], kill_after: int | None) -> int:
    """Ingest `files` in a child process; with `kill_after=n`, SIGKILL it inside the transaction of
    document n+1 (its rows written, not committed: the child says so and waits there)."""
    hold = 0 if kill_after is None else kill_after + 1
    cmd = [sys.executable, "-c", CHILD, db_url, str(blob_dir), str(hold), *map(str, files)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    done = inside = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        done += line.startswith("done")
        inside += line.startswith("inside")
        if kill_after is not None and inside == kill_after + 1:
            assert done == kill_after
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=120)
    return proc.returncode


def _check_consistent(sf, blobs: BlobStore) -> dict[str, int]:
    with sf() as s:
        current = {rid: n for rid, n in s.execute(select(ReportVersion.report_id, func.count())
                                                  .where(ReportVersion.is_current.is_(True))
                                                  .group_by(ReportVersion.report_id))}
        reports = list(s.scalars(select(Report.id)))
        assert all(current.get(r) == 1 for r in reports), "a report without exactly one current version"
        for sha in s.scalars(select(Document.sha256).join(ReportVersion,
                                                          ReportVersion.document_id == Document.id)):
            assert blobs.exists(sha), f"version's blob {sha} missing"
        orphans = s.scalar(select(func.count()).select_from(Document).where(
            ~select(ReportVersion.id).where(ReportVersion.document_id == Document.id).exists()))
        assert orphans == 0, "a document stored without its report"
        names = list(s.scalars(select(Entity.name)))
        assert len(names) == len(set(names))
        return {"reports": len(reports),
                "versions": s.scalar(select(func.count()).select_from(ReportVersion)),
                "documents": s.scalar(select(func.count()).select_from(Document)),
                "entities": len(names),
                "doc findings": s.scalar(
                    select(func.count()).select_from(Finding).where(Finding.scope == "doc"))}


def test_sigkill_mid_batch_leaves_no_half_written_report(engine, db_url, tmp_path) -> None:
    sf = session_factory(engine)
    with sf() as s, s.begin():
        sync_profiles(s, [CountyProfile(code="370830", name="汶上县", province=None, city=None, portals=[],
                                        bodies=[Body(name="汶上县人民政府", kind="county_gov")])])
    files = _batch(tmp_path)
    blob_dir = tmp_path / "blobs"
    blobs = BlobStore(blob_dir)

    rc = _run_child(db_url, blob_dir, files, kill_after=3)
    assert rc == -signal.SIGKILL
    partial = _check_consistent(sf, blobs)
    assert partial["reports"] == 3  # the fourth, killed inside its transaction, left nothing
    assert partial["versions"] == partial["reports"] == partial["documents"]

    assert _run_child(db_url, blob_dir, files, kill_after=None) == 0
    full = _check_consistent(sf, blobs)
    assert full["reports"] == full["versions"] == full["documents"] == len(files)
    assert full["entities"] == len(files) + 1

    # Once more: no new rows (hist findings may grow: each report now has all its peers to compare).
    assert _run_child(db_url, blob_dir, files, kill_after=None) == 0
    assert _check_consistent(sf, blobs) == full
