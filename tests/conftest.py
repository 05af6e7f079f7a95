"""Shared fixtures. Keep this file small and general; add your own fixtures below the others."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("NIANBAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required when CI=true: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, on SQLite (a file under tmp_path) and on PostgreSQL (a fresh schema of
    the `test` database, dropped afterwards). The URL also works in a child process."""
    if request.param == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path / 'nianbao.db'}"
        return
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(raw, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        _pg_unavailable(str(exc).strip())
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def engine(db_url: str) -> Iterator[object]:
    """An engine on `db_url` with the schema migrated to head."""
    from storage.db import make_engine, upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def blobs(tmp_path: Path) -> object:
    from storage.blobs import BlobStore

    return BlobStore(tmp_path / "blobs")


def require_cjk_font() -> None:
    """Fail under CI, skip elsewhere, when the machine has no CJK font for PDFium: one-character text
    runs of a non-embedded CJK font (reportlab's STSong-Light in the generated reports) vanish."""
    from monitor.extract.pdf import lone_cjk_glyphs_lost

    if not lone_cjk_glyphs_lost():
        return
    message = ("no CJK font for PDFium: one-character cells in non-embedded CJK fonts are lost; "
               "install one: apt-get install -y fonts-wqy-microhei")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def county_profile() -> str:
    """The county profile `cli_env` writes (counties/wenshang.toml): 汶上县 with a township and the
    county government. A test module needing other bodies overrides this fixture (taking it as an
    argument to extend it)."""
    return """\
[county]
code = "370830"
name = "汶上县"
province = "山东省"
city = "济宁市"

[[bodies]]
name = "刘楼镇人民政府"
kind = "township"
aliases = ["刘楼镇"]

[[bodies]]
name = "汶上县人民政府"
kind = "county_gov"
"""


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str, county_profile: str) -> dict[str, str]:
    """`nianbao`'s configuration on a fresh database (`db_url`): data under tmp_path/data, the
    county profile in tmp_path/counties, none of the caller's NIANBAO_* variables. As it is, the
    environment of a child process (PYTHONPATH names this checkout); in-process tests set its
    NIANBAO_* variables with monkeypatch."""
    (tmp_path / "counties").mkdir()
    (tmp_path / "counties" / "wenshang.toml").write_text(county_profile, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    env.update(NIANBAO_DATA_DIR=str(tmp_path / "data"), NIANBAO_DATABASE_URL=db_url,
               NIANBAO_COUNTIES_DIR=str(tmp_path / "counties"), PYTHONPATH=str(Path(__file__).parents[1]),
               COLUMNS="200")
    return env
