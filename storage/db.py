"""Opening the database: SQLite with WAL and immediate transactions, PostgreSQL through psycopg 3.

SQLite needs three things SQLAlchemy does not do by default: foreign keys switched on for every
connection, WAL so readers do not block the writer, and `BEGIN IMMEDIATE` so a transaction that
reads then writes takes the write lock up front (a deferred one fails with SQLITE_BUSY at its first
write, ignoring the busy timeout). One writer at a time is the SQLite contract; the daemon's
claims rely on it.

Reads take no write lock: a connection from `read_only(engine)`
begins a deferred transaction, which in WAL mode reads a snapshot while a writer holds the lock,
so `task list` never waits behind the daemon. On PostgreSQL the same connection is a READ ONLY
transaction: a write slipped into a read path fails at once instead of passing unnoticed.

A database file nckh creates is 0600 (its -wal and -shm take the database file's mode: SQLite
sets it); its directory 0700. Storage failures leave as one line (`storage.faults`): "database is
locked" says what holds it and what to do.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection as Connection  # re-exported for the layers above
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session as Session  # re-exported for the layers above
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from storage.faults import SQLITE_BUSY_TIMEOUT_S, database_error
from storage.files import create_private, private_dir
from workflows.errors import Conflict, InputError

# The names the layers above use for what they hold, so that nothing outside storage/ imports
# SQLAlchemy: a database (pool), one connection in a transaction, and a database failure.
DbEngine = Engine
DbError = SQLAlchemyError

# PostgreSQL waits for a row lock for ever by default. A transaction left open elsewhere (a psql
# BEGIN, a stuck client) would then hold a daemon's pass, every later pass and its shutdown; with
# a bound the statement fails, the timer or message is retried later, and the rest go on.
PG_LOCK_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 10
READ_ONLY = "nckh_read_only"  # the execution option that marks a read-only connection


def normalise_url(url: str) -> str:
    """Let operators write `postgresql://…`; we always talk to PostgreSQL through psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def parse_url(url: str) -> URL:
    """The database URL, or `InputError` saying what is wrong with it (never its password)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise InputError(f"invalid database URL '{_hide_password(url)}': expected "
                         "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE") from None
    except ValueError:  # the port is not a number: SQLAlchemy's int() says no more
        port = urlsplit(url).netloc.rpartition("@")[2].rpartition(":")[2]
        raise InputError(f"invalid database URL '{_hide_password(url)}': port '{port}' is not "
                         "a number") from None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise InputError(f"invalid database URL '{_hide_password(url)}': port {parsed.port} "
                         "is not 1–65535")
    return parsed


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise InputError("SQLite needs a file path (':memory:' is one database per connection)")
        if parsed.query.get("uri") not in ("true", "1"):  # a `file:` URI is opened as given
            _create_sqlite_file(Path(database).expanduser())
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        # The URL's own `options` come after ours: a lock_timeout set there wins.
        options = f"-c lock_timeout={int(PG_LOCK_TIMEOUT_S * 1000)}"
        given = parsed.query.get("options")
        if given:
            options += " " + (given if isinstance(given, str) else " ".join(given))
        return create_engine(parsed.difference_update_query(["options"]), echo=echo,
                             pool_pre_ping=True, connect_args={
                                 "connect_timeout": PG_CONNECT_TIMEOUT_S, "options": options})
    raise InputError(f"unsupported database '{backend}': use sqlite:///PATH or postgresql://…")


def _create_sqlite_file(path: Path) -> None:
    """Create the database file 0600 (and its directory 0700) before SQLite does: SQLite would
    create it 0644 minus the umask. An empty file is an empty SQLite database. An existing file
    is left alone, so an account that may only read it opens it as it is."""
    if path.exists():
        return
    try:
        private_dir(path.parent)
        create_private(path)
    except OSError as exc:
        raise InputError(f"cannot create the SQLite database {path}: "
                         f"{exc.strerror or type(exc).__name__}") from None


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN (so we can make it IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        # Switching to WAL writes the database header: only when it is not WAL yet (WAL is
        # persistent), so an account that may only read a WAL database can still open it; one
        # that may not write a database in another mode reads it in that mode.
        if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                cur.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if not str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_READONLY"):
                    raise
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only connection begins a deferred transaction: it takes no write lock, and in
        # WAL mode it reads the last committed snapshot while a writer holds the lock.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


_READER = "_nckh_read_only"  # where an engine keeps its read-only twin


def read_only(engine: Engine) -> Engine:
    """The same engine (same pool) for reads: no write lock on SQLite, READ ONLY on PostgreSQL.
    Made once per engine and kept on it: every signed-in page reads through it, and making it
    cost as much as the session check's statement."""
    found = engine.__dict__.get(_READER)
    if isinstance(found, Engine):
        return found
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    found = engine.__dict__[_READER] = engine.execution_options(**options)
    return found


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction on a Core connection, rolled back: for a hot read of plain rows,
    without an ORM session's bookkeeping (the session check of every signed-in page)."""
    try:
        with read_only(engine).connect() as conn:
            yield conn
    except OperationalError as exc:
        raise database_error(exc) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    try:
        with factory() as session, session.begin():
            yield session
    except OperationalError as exc:
        raise database_error(exc) from None


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """An ORM session in a read-only transaction (no write lock on SQLite), rolled back."""
    try:
        with Session(read_only(engine), expire_on_commit=False) as session, session.begin():
            yield session
    except OperationalError as exc:
        raise database_error(exc) from None


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction on a connection (Core): commit on success, roll back on error."""
    try:
        with engine.begin() as conn:
            yield conn
    except OperationalError as exc:
        raise database_error(exc) from None


@contextmanager
def unit_of_work(engine: Engine, *, read_only_: bool = False) -> Iterator[Session]:
    """One ORM transaction, committed on success. A concurrent write that got there first is a
    one-line `Conflict`; a database failure is one line too (`storage.faults`). `read_only_`:
    no write lock on SQLite, a READ ONLY transaction on PostgreSQL."""
    bind = read_only(engine) if read_only_ else engine
    try:
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session
    except StaleDataError as exc:
        raise Conflict(f"the task was changed by someone else meanwhile: reload and retry "
                       f"({exc.args[0].split(';')[0] if exc.args else 'stale row'})") from None
    except IntegrityError as exc:
        # The driver's text may go on with DETAIL lines; an error is one line.
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "?"
        raise Conflict(f"concurrent change refused by the database: {first}") from None
    except OperationalError as exc:
        raise database_error(exc) from None
