"""Opening the database: SQLite with WAL and immediate transactions, PostgreSQL through psycopg 3.

SQLite needs three things SQLAlchemy does not do by default: foreign keys switched on for every
connection, WAL so readers do not block the writer, and `BEGIN IMMEDIATE` so a transaction that
reads then writes takes the write lock up front (a deferred one fails with SQLITE_BUSY at its first
write, ignoring the busy timeout). One writer at a time is the SQLite contract; the daemon's
claims rely on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import InputError

SQLITE_BUSY_TIMEOUT_S = 15
# PostgreSQL waits for a row lock for ever by default. A transaction left open elsewhere (a psql
# BEGIN, a stuck client) would then hold a daemon's pass, every later pass and its shutdown; with
# a bound the statement fails, the timer or message is retried later, and the rest go on.
PG_LOCK_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 10


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
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot use the database {database}: cannot create its directory "
                             f"{folder}: {exc.strerror or exc}") from None
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


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN (so we can make it IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
