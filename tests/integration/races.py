"""Shared by several test modules (moved out of test_concurrency.py: a test module imports none)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from engine.app import App
from engine.service import Fired
from workflows.errors import NckhError


def race(calls: list[Callable[[], Fired]]) -> list[Fired | NckhError]:
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list[Fired | NckhError | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except NckhError as exc:
            results[i] = exc
        except BaseException as exc:  # surfaced below, not swallowed by the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def hold_before_first_write(app: App, barrier: threading.Barrier) -> None:
    """Both sides wait here after reading and deciding, just before their UPDATE of the task.

    On the statement itself, not on a session flush: the engine writes a transition with Core
    statements, so no flush precedes it (a `before_flush` hold never held, and the race was
    left to luck — lost under load, with the loser reading after the winner's commit)."""
    waited: set[int] = set()

    def before_execute(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE TASK ") and (
                threading.get_ident() not in waited):
            waited.add(threading.get_ident())
            barrier.wait()

    event.listen(app.db, "before_cursor_execute", before_execute)


