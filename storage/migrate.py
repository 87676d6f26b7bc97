"""Creating and upgrading the schema with Alembic, and refusing a database we do not understand.

`nckh init` upgrades to head. Every other command checks the revision first: an empty database is
initialised (the embedded default is created on first use), one behind is an error that says to
run `nckh init`, and one at a revision this nckh does not know (a newer release wrote it) is
refused before anything touches it. `nckh init` also refuses a database that holds another
application's tables: it would otherwise add nckh's tables beside them.

The checks read in read-only transactions (no write lock on SQLite, so every command's schema
check passes while the daemon writes); a database failure leaves as one `StorageError` line.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from storage.db import read_only
from storage.faults import converts_errors
from storage.schema import metadata
from workflows.errors import SchemaError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with read_only(engine).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _table_names(engine: Engine) -> set[str]:
    with read_only(engine).connect() as conn:
        return set(inspect(conn).get_table_names())


def is_empty(engine: Engine) -> bool:
    return not _table_names(engine)


def _check_ours(engine: Engine, before: str | None) -> None:
    """Refuse to migrate a database that is not (or not yet known to be) nckh's."""
    tables = _table_names(engine)
    ours = set(metadata.tables)
    if before is not None and before in known_revisions():
        return
    foreign = sorted(tables - ours - {"alembic_version"})
    if foreign and not tables & ours:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                          else "")
        raise SchemaError(
            f"database holds tables that are not nckh's ({shown}): nckh will not add its tables "
            "to another application's database; point NCKH_DATABASE_URL at an empty database")
    if before is not None:
        raise _newer(before)
    if tables & ours:
        raise SchemaError("database has nckh tables but no alembic_version: refusing to guess")


@converts_errors
def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to head; return (revision before, revision after)."""
    before = current_revision(engine)
    _check_ours(engine, before)
    cfg = _config()
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations copy tables, so foreign keys must be off meanwhile (alembic#345);
            # the pragma is ignored inside a transaction, so it goes to the driver before BEGIN.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    return before, head_revision()


@converts_errors
def ensure_current(engine: Engine) -> None:
    """Initialise an empty database; refuse one that is behind or ahead of this nckh."""
    rev = current_revision(engine)
    head = head_revision()
    if rev == head:
        return
    if rev is None:
        if is_empty(engine):
            upgrade(engine)
            return
        raise SchemaError("database is not an nckh database (no alembic_version table)")
    if rev not in known_revisions():
        raise _newer(rev)
    raise SchemaError(f"database schema is at {rev}, this nckh needs {head}: run `nckh init`")


def _newer(rev: str) -> SchemaError:
    return SchemaError(
        f"database schema {rev} is newer than this nckh knows (head {head_revision()}): "
        "upgrade nckh before using this database"
    )
