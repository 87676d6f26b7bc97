"""Fixtures of the web tier: a site on each database (SQLite file, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.webfixtures import Site


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    found = Site(db_url, tmp_path)
    yield found
    found.close()


@pytest.fixture
def tasks(site: Site) -> dict[str, int]:
    return site.province()
