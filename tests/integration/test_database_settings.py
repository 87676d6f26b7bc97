"""What every PostgreSQL connection is opened with: a lock timeout the URL may override."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.db import make_engine

pytestmark = pytest.mark.postgres


def settings_of(url: str) -> tuple[str, str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return (str(conn.execute(text("SHOW lock_timeout")).scalar()),
                    str(conn.execute(text("SHOW statement_timeout")).scalar()))
    finally:
        engine.dispose()


def test_a_row_lock_is_waited_for_30_s_at_most(pg_url: str) -> None:
    assert settings_of(pg_url) == ("30s", "0")


def test_options_in_the_url_are_kept_and_win(pg_url: str) -> None:
    url = pg_url + "?options=-c%20lock_timeout%3D5s%20-c%20statement_timeout%3D7s"
    assert settings_of(url) == ("5s", "7s")
