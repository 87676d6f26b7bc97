"""Database failures as one line: what the driver said, without SQL, parameters or links.

SQLAlchemy's text for a failed statement spans several lines: the driver's message (itself often
two lines on psycopg), `[SQL: …]`, `[parameters: …]` (every bound value, the caller's data
included) and a background link. nckh's errors are one line each, so a database failure is
converted where it enters: opening the database (`storage.migrate`), each engine transaction,
and, as a last resort, the CLI's one handler. Never shows a password.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from workflows.errors import InputError, NckhError, StorageError

P = ParamSpec("P")
R = TypeVar("R")

# SQLite's answer when the file exists but is something else (SQLITE_NOTADB).
NOT_A_DATABASE = "file is not a database"
SQLITE_BUSY_TIMEOUT_S = 15  # storage.db waits this long for SQLite's write lock
BUSY_ADVICE = (
    f"the SQLite database is busy: another process has held its write lock for more than "
    f"{SQLITE_BUSY_TIMEOUT_S} s (the daemon in a long pass, a bulk import, an open sqlite3 "
    "shell); try again, or run nckh on PostgreSQL for concurrent writers")
READ_ONLY_DIRECTORY_ADVICE = (
    "this account may read the SQLite database but not create its -wal and -shm files beside "
    "it, which SQLite needs while no other process has the database open: run the command "
    "while the daemon runs, or as the nckh user")
READ_ONLY_ADVICE = (
    "this account may only read the SQLite database (attempt to write a readonly database): "
    "run commands that change something as the nckh user")




def driver_message(exc: BaseException) -> str:
    """The driver's own words on one line (SQLAlchemy's wrapping dropped), whitespace collapsed
    and line breaks joined with ' — '."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [" ".join(line.split()) for line in str(orig).splitlines()]
    text = " — ".join(line for line in lines if line and not line.startswith("(Background on"))
    return text or type(orig).__name__


def where(url: URL) -> str:
    """The database as an operator names it: the SQLite file, or the URL without its password."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


def database_error(exc: SQLAlchemyError, url: URL | None = None) -> NckhError:
    """`exc` as nckh's error: a file that is not a database is the caller's (exit 2); a server
    that is down, a database that is missing or any other failure is storage's (exit 1)."""
    said = driver_message(exc)
    place = f" {where(url)}" if url is not None else ""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    name = str(getattr(orig, "sqlite_errorname", "") or "")
    if name.startswith("SQLITE_BUSY") or said == "database is locked":
        return StorageError(BUSY_ADVICE)
    if name == "SQLITE_READONLY_DIRECTORY":
        return StorageError(READ_ONLY_DIRECTORY_ADVICE)
    if name == "SQLITE_READONLY":
        return StorageError(READ_ONLY_ADVICE)
    if NOT_A_DATABASE in said:
        return InputError(f"cannot use the database{place}: it is not an SQLite database "
                          f"({said})")
    return StorageError(f"database error{' at' + place if place else ''}: {said}")


def converts_errors(fn: Callable[Concatenate[Engine, P], R]) -> Callable[Concatenate[Engine, P], R]:
    """Run `fn(engine, …)` with its database failures converted by `database_error` (the engine's
    URL named): for the functions that first touch a database."""

    @functools.wraps(fn)
    def wrapper(engine: Engine, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(engine, *args, **kwargs)
        except SQLAlchemyError as exc:
            raise database_error(exc, engine.url) from exc

    return wrapper
