"""Creating and upgrading the schema with Alembic, and refusing a database we do not understand.

`nckh init` upgrades to head. Every other command checks the revision first: an empty database is
initialised (the embedded default is created on first use), one behind is an error that says to
run `nckh init`, and one at a revision this nckh does not know (a newer release wrote it) is
refused before anything touches it. `nckh init` also refuses a database that holds another
application's tables: it would otherwise add nckh's tables beside them.

The checks read in read-only transactions (no write lock on SQLite, so every command's schema
check passes while the daemon writes); a database failure leaves as one `StorageError` line.
Every command checks, so the check is cheap: the revision is read with one SELECT and compared
with `HEAD` (a test holds it equal to what Alembic computes from the migration files); Alembic
itself is imported only to migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from storage.db import read_only
from storage.faults import converts_errors
from storage.schema import metadata
from workflows.errors import SchemaError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The migrations in order, the last one the schema this release writes. A new migration is
# added here too (tests/integration/test_migrations.py compares with Alembic's own reading).
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010",
             "0011", "0012", "0013", "0014", "0015", "0016")
HEAD = REVISIONS[-1]


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    return HEAD


def known_revisions() -> set[str]:
    return set(REVISIONS)


def alembic_revisions() -> list[str]:
    """The revisions as Alembic reads them from the migration files, oldest first."""
    from alembic.script import ScriptDirectory

    return [rev.revision for rev in reversed(list(
        ScriptDirectory.from_config(_config()).walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    with read_only(engine).connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        found = conn.scalar(text("SELECT version_num FROM alembic_version"))
        return str(found) if found is not None else None


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
    from alembic import command

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
