"""The migrations and the models agree, on SQLite and PostgreSQL; unknown schemas are refused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from storage.migrate import current_revision, ensure_current, head_revision, upgrade
from storage.schema import metadata
from tests.acceptance.cli import NCKH
from tests.integration.schema_drift import drift
from workflows.errors import SchemaError


def stamp(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_upgrading_an_empty_database_to_head_gives_exactly_the_models(empty_db: Engine) -> None:
    assert upgrade(empty_db) == (None, head_revision())
    assert current_revision(empty_db) == head_revision()
    assert drift(empty_db) == []
    tables = set(inspect(empty_db).get_table_names()) - {"alembic_version"}
    assert tables == set(metadata.tables)


def test_upgrading_twice_changes_nothing(empty_db: Engine) -> None:
    upgrade(empty_db)
    assert upgrade(empty_db) == (head_revision(), head_revision())
    assert drift(empty_db) == []


def test_the_drift_check_notices_a_column_the_migrations_lack(empty_db: Engine) -> None:
    upgrade(empty_db)
    with empty_db.begin() as conn:
        conn.execute(text("ALTER TABLE unit ADD COLUMN fax VARCHAR(40)"))
    assert any("fax" in repr(diff) for diff in drift(empty_db))


def test_an_empty_database_is_initialised_on_first_use(empty_db: Engine) -> None:
    ensure_current(empty_db)
    assert current_revision(empty_db) == head_revision()


def test_a_database_at_an_unknown_newer_revision_is_refused(empty_db: Engine) -> None:
    upgrade(empty_db)
    stamp(empty_db, "ffff")
    with pytest.raises(SchemaError, match=r"database schema ffff is newer than this nckh knows "
                                          r"\(head \w+\): upgrade nckh before using this database"):
        ensure_current(empty_db)
    with pytest.raises(SchemaError, match="newer than this nckh knows"):
        upgrade(empty_db)
    assert current_revision(empty_db) == "ffff"


def test_a_database_behind_head_is_told_to_run_init(empty_db: Engine) -> None:
    upgrade(empty_db)
    stamp(empty_db, "0001")
    with pytest.raises(SchemaError, match=rf"database schema is at 0001, this nckh needs "
                                          rf"{head_revision()}: run `nckh init`"):
        ensure_current(empty_db)


def test_a_foreign_database_is_not_taken_over(empty_db: Engine) -> None:
    with empty_db.begin() as conn:
        conn.execute(text("CREATE TABLE patients (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaError, match=r"not an nckh database \(no alembic_version table\)"):
        ensure_current(empty_db)
    assert inspect(empty_db).get_table_names() == ["patients"]


def foreign_app(engine: Engine, *, with_alembic: bool = False) -> None:
    """Another application's tables (and, if it uses Alembic too, its alembic_version)."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE patients (id INTEGER PRIMARY KEY, name VARCHAR(80))"))
        conn.execute(text("INSERT INTO patients VALUES (1, 'Nguyễn Văn A')"))
        conn.execute(text("CREATE TABLE visits (id INTEGER PRIMARY KEY)"))
        if with_alembic:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version VALUES ('a1b2c3d4e5f6')"))


def contents(engine: Engine) -> tuple[list[str], list[tuple[object, ...]]]:
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM patients ORDER BY id"))]
    return sorted(inspect(engine).get_table_names()), rows


@pytest.mark.parametrize("with_alembic", [False, True], ids=["plain", "alembic-managed"])
def test_init_refuses_a_database_holding_another_applications_tables(
        empty_db: Engine, with_alembic: bool) -> None:
    foreign_app(empty_db, with_alembic=with_alembic)
    before = contents(empty_db)
    with pytest.raises(SchemaError, match=r"^database holds tables that are not nckh's "
                                          r"\(patients, visits\): nckh will not add its tables "
                                          r"to another application's database; point "
                                          r"NCKH_DATABASE_URL at an empty database$"):
        upgrade(empty_db)
    assert contents(empty_db) == before


def test_nckh_init_on_a_foreign_database_is_one_line_exit_2_and_changes_nothing(
        empty_db: Engine, tmp_path: Path) -> None:
    foreign_app(empty_db)
    before = contents(empty_db)
    url = empty_db.url.render_as_string(hide_password=False)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("NCKH_")},
           "NCKH_DATABASE_URL": url, "NCKH_DATA_DIR": str(tmp_path)}
    result = subprocess.run([NCKH, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("nckh: database holds tables that are not nckh's (patients, visits): "
                             "nckh will not add its tables to another application's database; "
                             "point NCKH_DATABASE_URL at an empty database\n")
    assert contents(empty_db) == before


def test_the_revisions_every_command_checks_against_are_alembics() -> None:
    """`storage.migrate.REVISIONS` spares every command Alembic's import and file parsing; it
    must name the migration files' chain exactly, the last one the head."""
    from storage.migrate import REVISIONS, alembic_revisions

    assert tuple(alembic_revisions()) == REVISIONS
