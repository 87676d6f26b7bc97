"""Shared fixtures: a real SQLite file and a real PostgreSQL database for every storage test.

PostgreSQL: one database per pytest worker, migrated once, emptied before each test. Locally a
missing server skips those tests; with CI=true it fails them (dramatiq's habit).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from engine.app import App, build
from engine.settings import Settings, load_settings
from storage.db import make_engine
from storage.migrate import upgrade
from storage.schema import metadata
from workflows.clock import DEFAULT_TZ

PG_ADMIN_URL = os.environ.get("NCKH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI") == "true"
_pg_checked: bool | None = None


def local(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=DEFAULT_TZ)


def pg_available() -> bool:
    global _pg_checked
    if _pg_checked is None:
        try:
            with create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3}).connect():
                _pg_checked = True
        except Exception:
            _pg_checked = False
    return _pg_checked


def require_pg() -> None:
    if not pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and does not answer at {PG_ADMIN_URL}")
        pytest.skip("no PostgreSQL server answers (set CI=true to make this a failure)")


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    require_pg()
    name = f"nckh_test_{worker_id}_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


_EMPTYING: dict[str, tuple[Engine, str]] = {}  # per database: a pooled engine, its one script


def _empty_pg(url: str) -> None:
    # DELETE children first and restart the id sequences: on tables this small it is ~5x faster
    # than TRUNCATE (which rewrites every table's files), and leaves the same empty state. All
    # of it is one script sent in one round trip, on an engine kept for the session: a new
    # engine and one statement per table cost 0.14 s a test, on every PostgreSQL test.
    if url not in _EMPTYING:
        engine = make_engine(url)
        with engine.connect() as conn:
            sequences = conn.execute(text(
                "SELECT sequence_name FROM information_schema.sequences "
                "WHERE sequence_schema = current_schema() ORDER BY sequence_name")).scalars()
            script = "".join(
                [f'DELETE FROM "{t.name}";' for t in reversed(metadata.sorted_tables)]
                + [f'ALTER SEQUENCE "{seq}" RESTART;' for seq in sequences])
        _EMPTYING[url] = (engine, script)
    engine, script = _EMPTYING[url]
    with engine.begin() as conn:
        conn.exec_driver_sql(script)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the current schema, migrated once per worker: each test
    gets a copy (running the migrations took 0.15–0.25 s a test, a minute and a half of the
    suite)."""
    path = tmp_path_factory.mktemp("template") / "nckh.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection checkpoints the WAL: the file alone is the database
    return path


def _fresh_sqlite(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "nckh.db"
    shutil.copy2(template, target)  # its mode too (0600, as nckh creates it)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path) -> str:
    """A migrated, empty database: a SQLite file, then (as a second run) PostgreSQL."""
    if request.param == "sqlite":
        return _fresh_sqlite(migrated_sqlite, tmp_path)
    url = str(request.getfixturevalue("pg_url"))
    _empty_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    return _fresh_sqlite(migrated_sqlite, tmp_path)


def make_settings(url: str, data_dir: Path, **env: str) -> Settings:
    base = {"NCKH_DATA_DIR": str(data_dir), "NCKH_DATABASE_URL": url, **env}
    return load_settings(env=base)


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[App]:
    application = build(make_settings(db_url, tmp_path))
    yield application
    application.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--dist loadgroup` keeps an `xdist_group`'s tests on one worker by an `@group` suffix
    on their ids. pytest-xdist 3.8 adds it by renaming `item._nodeid`, which pytest 9 no longer
    reads (ids are structured, `item._id`), so the demo year's tests were spread over both
    workers and each replayed the year (20 s). Added here, the way pytest 9 reads it."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and item.nodeid.rfind("@") <= item.nodeid.rfind("]"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")
