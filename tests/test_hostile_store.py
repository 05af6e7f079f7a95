"""Bad input to the store commands is one line on stderr, exit 2, and nothing stored: a file above
the size limit (refused before it is read), a file that cannot be read as a report, years no
report can have, and a disk that fills up while the blob is written."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select

from crawler.sim.reportgen import make_spec, render
from storage.models import Document
from tests.test_cli_store import nianbao

NIANBAO = [sys.executable, "-c", "from monitor.cli import main; main()"]


def _documents(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as c:
            return c.execute(select(func.count()).select_from(Document)).scalar_one()
    finally:
        engine.dispose()


def _blobs(tmp_path: Path) -> list[Path]:
    root = tmp_path / "data" / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _one_error_line(r: subprocess.CompletedProcess[str]) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误: "), r.stderr


def _report(tmp_path: Path, name: str = "刘楼镇2022.html") -> Path:
    path = tmp_path / name
    path.write_bytes(render(make_spec(3, entity="刘楼镇人民政府", year=2022), "html"))
    return path


def test_ingest_refuses_a_file_above_the_size_limit_before_reading_it(cli_env: dict[str, str], tmp_path: Path,
                                                                      db_url: str) -> None:
    assert nianbao(cli_env, "init", cwd=tmp_path).returncode == 0
    report = _report(tmp_path)
    r = nianbao(cli_env, "ingest", str(report), "--county", "370830", "--max-bytes", "1000", cwd=tmp_path)
    _one_error_line(r)
    assert "超过上限 1000 字节" in r.stderr
    r = nianbao(cli_env, "ingest", "/dev/zero", "--county", "370830", cwd=tmp_path)
    _one_error_line(r)
    assert "不是普通文件" in r.stderr
    assert _documents(db_url) == 0 and _blobs(tmp_path) == []


def test_ingest_of_an_unreadable_report_exits_2_and_stores_nothing(cli_env: dict[str, str], tmp_path: Path,
                                                                   db_url: str) -> None:
    assert nianbao(cli_env, "init", cwd=tmp_path).returncode == 0
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    r = nianbao(cli_env, "ingest", str(broken), "--county", "370830", cwd=tmp_path)
    _one_error_line(r)
    assert "未入库" in r.stderr
    assert _documents(db_url) == 0 and _blobs(tmp_path) == []


def test_years_no_report_can_have_are_one_line(cli_env: dict[str, str], tmp_path: Path, db_url: str) -> None:
    assert nianbao(cli_env, "init", cwd=tmp_path).returncode == 0
    report = _report(tmp_path)
    _one_error_line(nianbao(cli_env, "ingest", str(report), "--county", "370830", "--year", "1800", cwd=tmp_path))
    assert _documents(db_url) == 0
    for args in (("status", "370830", "--year", "99999"), ("status", "--year", "99999"),
                 ("findings", "--year", "-1"), ("export", "--year", "99999")):
        _one_error_line(nianbao(cli_env, *args, cwd=tmp_path))


def test_disk_full_while_writing_the_blob_is_one_line_and_nothing_stored(cli_env: dict[str, str], tmp_path: Path,
                                                                          db_url: str) -> None:
    assert nianbao(cli_env, "init", cwd=tmp_path).returncode == 0
    report = _report(tmp_path)
    # a report with 3 MB of comment after it: the blob is larger than the file size limit below,
    # the database's own writes (a few pages) stay under it
    report.write_bytes(report.read_bytes() + b"<!--" + b"x" * (3 * 1024 * 1024) + b"-->")
    limit = 2 * 1024 * 1024
    db_file = tmp_path / "data" / "nianbao.db"
    assert not db_file.exists() or db_file.stat().st_size < limit // 2

    def small_files() -> None:  # writes past 2 MB fail with EFBIG, as a full disk fails with ENOSPC
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run([*NIANBAO, "ingest", str(report), "--county", "370830"], env=cli_env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120, preexec_fn=small_files)
    _one_error_line(r)
    assert "文件存储写入失败" in r.stderr
    assert _documents(db_url) == 0 and _blobs(tmp_path) == []
    # with room again the same file goes in
    assert nianbao(cli_env, "ingest", str(report), "--county", "370830", cwd=tmp_path).returncode == 0
    assert _documents(db_url) == 1


def test_ingest_names_a_file_with_a_newline_on_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert nianbao(cli_env, "init", cwd=tmp_path).returncode == 0
    src = _report(tmp_path)
    odd = tmp_path / "刘楼镇\n2022.html"
    os.rename(src, odd)
    r = nianbao(cli_env, "ingest", str(odd), "--county", "370830", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 1 and "刘楼镇\\n2022.html" in r.stdout
