"""Two administrators fire the same event on the same task at the same moment: exactly one wins.

Each side is its own `App` (its own connection pool) on the same database, started together by a
`threading.Barrier`. What the loser sees depends on the backend, and is asserted exactly:

* SQLite takes the write lock at `BEGIN IMMEDIATE`, so whole transactions run one after the
  other: the loser reads the task only after the winner committed. With `expected_version` it
  gets `Conflict` (the version moved); without it, it sees the new state and gets
  `InvalidTransition` (which, being a refusal, is written to the `refusal` audit table).
* PostgreSQL (READ COMMITTED) lets both read the task before either writes. The loser's
  `UPDATE … WHERE version = 1` waits for the winner's row lock, then matches no row: SQLAlchemy's
  `StaleDataError`, reported as `Conflict`; no refusal row (a conflict is not a decision). To make
  the overlap certain rather than likely, a second barrier holds both sides just before their
  first write (`before_flush`), after both have read and decided.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.app import App, build
from engine.service import Fired
from tests.conftest import _empty_pg as empty_pg
from tests.conftest import local, make_settings
from tests.integration.province import COUNCIL, OFFICE, PI, refusals, seed, snapshot
from tests.integration.races import hold_before_first_write, race
from workflows.errors import Conflict, InvalidTransition, NckhError

NOW = local(2025, 3, 3, 9)


def two_apps(url: str, tmp_path: Path) -> Iterator[tuple[App, App, int]]:
    settings = make_settings(url, tmp_path)
    one, two = build(settings, jobs=()), build(settings, jobs=())
    seed(one.engine)
    task = one.engine.create_task(unit_code="BVDK", level="unit", title="Đề tài tranh chấp",
                                  pi_email=PI, year=2025, now=local(2025, 2, 3))
    yield one, two, task
    one.close()
    two.close()


@pytest.fixture
def apps(db_url: str, tmp_path: Path) -> Iterator[tuple[App, App, int]]:
    yield from two_apps(db_url, tmp_path)


@pytest.fixture
def sqlite_apps(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[App, App, int]]:
    yield from two_apps(sqlite_url, tmp_path)


@pytest.fixture
def pg_apps(pg_url: str, tmp_path: Path) -> Iterator[tuple[App, App, int]]:
    empty_pg(pg_url)
    yield from two_apps(pg_url, tmp_path)






def fire(app: App, task: int, actor: str, expected: int | None) -> Callable[[], Fired]:
    return lambda: app.engine.fire(task, "approve_outline", actor_email=actor, now=NOW,
                                   expected_version=expected)


def one_winner(results: list[Fired | NckhError]) -> tuple[Fired, NckhError]:
    fired = [r for r in results if isinstance(r, Fired)]
    lost = [r for r in results if isinstance(r, NckhError)]
    assert len(fired) == 1 and len(lost) == 1, results
    assert (fired[0].from_state, fired[0].to_state, fired[0].version) == (
        "proposed", "outline_approved", 2)
    return fired[0], lost[0]


def assert_written_once(app: App, task: int) -> None:
    snap = snapshot(app, task)
    assert snap["task"]["state"] == "outline_approved"
    assert snap["task"]["version"] == 2
    assert [h["event"] for h in snap["history"]] == ["create", "approve_outline"]
    assert [(d["state"], d["outcome"]) for d in snap["deadlines"]] == [
        ("proposed", "on_time"), ("outline_approved", None)]


def test_the_same_event_with_the_same_expected_version_has_one_winner_and_one_conflict(
        apps: tuple[App, App, int]) -> None:
    one, two, task = apps
    _, lost = one_winner(race([fire(one, task, OFFICE, 1), fire(two, task, COUNCIL, 1)]))
    assert isinstance(lost, Conflict)
    assert lost.exit_code == 3
    assert "reload and retry" in str(lost)
    assert_written_once(one, task)
    assert refusals(one) == []  # a conflict is not a refused decision


def test_on_sqlite_the_loser_without_expected_version_sees_the_new_state(
        sqlite_apps: tuple[App, App, int]) -> None:
    one, two, task = sqlite_apps
    _, lost = one_winner(race([fire(one, task, OFFICE, None), fire(two, task, COUNCIL, None)]))
    assert isinstance(lost, InvalidTransition)
    assert (lost.state, lost.allowed) == ("outline_approved", ("start", "cancel"))
    assert_written_once(one, task)
    assert [(r["kind"], r["task_id"]) for r in refusals(one)] == [("InvalidTransition", task)]


@pytest.mark.postgres
@pytest.mark.parametrize("expected", [None, 1], ids=["no-expected-version", "expected-version"])
def test_on_postgresql_two_writers_that_both_read_first_give_one_winner_and_one_conflict(
        pg_apps: tuple[App, App, int], expected: int | None) -> None:
    one, two, task = pg_apps
    both_read = threading.Barrier(2, timeout=30)
    hold_before_first_write(one, both_read)
    hold_before_first_write(two, both_read)
    _, lost = one_winner(race([fire(one, task, OFFICE, expected),
                               fire(two, task, COUNCIL, expected)]))
    assert isinstance(lost, Conflict)
    assert str(lost).startswith("the task was changed by someone else meanwhile")
    assert_written_once(one, task)
    assert refusals(one) == []


def test_many_writers_on_different_tasks_all_succeed(apps: tuple[App, App, int]) -> None:
    one, two, _ = apps
    tasks = [one.engine.create_task(unit_code="BVDK", level="unit", title=f"Đề tài {i}",
                                    pi_email=PI, year=2025, now=local(2025, 2, 4))
             for i in range(4)]
    results = race([fire(one if i % 2 else two, t, OFFICE, 1) for i, t in enumerate(tasks)])
    assert all(isinstance(r, Fired) for r in results), results
    for t in tasks:
        assert snapshot(one, t)["task"]["state"] == "outline_approved"
