"""Fixtures of the integration tier beyond the root conftest: an empty database to migrate,
a real SMTP server (aiosmtpd, in-process) that keeps what it receives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from storage.db import make_engine
from tests.conftest import PG_ADMIN_URL, require_pg
from tests.integration import mailserver


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no tables at all (a scratch PostgreSQL database, dropped afterwards)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    require_pg()
    name = f"nckh_migrate_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def inbox() -> Iterator[mailserver.Inbox]:
    box = mailserver.Inbox()
    controller = mailserver.start(box)
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()
