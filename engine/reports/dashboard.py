"""The province dashboard: units × this year's obligations, each cell coloured, with counts and
rates per unit and for the province. Pure: computed from the report `Dataset` (loaded by
`storage.reports.load_year` in a fixed number of statements, whatever the number of units) or,
for the web page, from `Loaded` (`storage.dashboard.load`, two statements).

A cell is `done` (submitted by the legal end of its due date), `late` (submitted after it),
`overdue` (not submitted, the legal end passed) or `open` (not yet due). "Late" means after
the legal end (Civil Code art. 148), as everywhere in nckh. The rate is done on time over the
cells due (those submitted, and those whose legal end has passed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from storage.reportrows import DeadlineRow, TaskRow

COLOURS = ("done", "late", "overdue", "open")


class Due(Protocol):
    """An obligation as the dashboard reads it: `storage.reportrows.ObligationRow` (the reports'
    dataset) or the plain row `storage.dashboard` reads for the web page."""

    @property
    def unit_id(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def period(self) -> int: ...
    @property
    def due_on(self) -> dt.date: ...
    @property
    def submitted_on(self) -> dt.date | None: ...
    @property
    def task_id(self) -> int | None: ...


class Row(Protocol):
    """A unit as the dashboard reads it (`UnitRow`, or `storage.dashboard`'s plain row)."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def active(self) -> bool: ...


class Board(Protocol):
    """What the dashboard is computed from: the reports' `Dataset`, or `Loaded`."""

    @property
    def year(self) -> int: ...
    @property
    def units(self) -> Sequence[Row]: ...
    @property
    def obligations(self) -> Sequence[Due]: ...
    @property
    def tasks(self) -> Sequence[TaskRow]: ...
    @property
    def deadlines(self) -> Sequence[DeadlineRow]: ...


@dataclass(frozen=True)
class Loaded:
    """The web page's rows (`storage.dashboard.load`): plain tuples, because building a frozen
    dataclass per obligation cost more than reading it (bench/web.py); its research counts come
    counted, so no tasks or deadlines."""

    year: int
    units: Sequence[Row]
    obligations: Sequence[Due]
    tasks: Sequence[TaskRow] = ()
    deadlines: Sequence[DeadlineRow] = ()


def cell_state(ob: Due, today: dt.date, legal_end: Callable[[dt.date], dt.date]) -> str:
    end = legal_end(ob.due_on)
    submitted = ob.submitted_on if ob.submitted_on and ob.submitted_on <= today else None
    if submitted is not None:
        return "done" if submitted <= end else "late"
    return "overdue" if today > end else "open"


def dashboard(data: Board, today: dt.date, legal_end: Callable[[dt.date], dt.date],
              labels: Mapping[str, str], *, unit_kind: str | None = None,
              research_counts: Mapping[int, tuple[int, int]] | None = None) -> dict[str, Any]:
    """`research_counts`: per unit (tasks, overdue) when read already counted (the web app's
    `storage.dashboard`); else counted from the data's tasks and deadlines."""
    units = [u for u in data.units if u.active and (unit_kind is None or u.kind == unit_kind)]
    ends: dict[dt.date, dt.date] = {}

    def end_of(day: dt.date) -> dt.date:  # a few due dates, thousands of cells
        if day not in ends:
            ends[day] = legal_end(day)
        return ends[day]

    columns = sorted({(ob.due_on, ob.key, ob.period) for ob in data.obligations})
    keys = [(key, period) for _, key, period in columns]
    cells: dict[tuple[int, str, int], Due] = {
        (ob.unit_id, ob.key, ob.period): ob for ob in data.obligations}
    overdue_tasks: dict[int, int] = {}
    task_unit = {t.id: t.unit_id for t in data.tasks}
    for d in data.deadlines:
        if d.task_id in task_unit and d.overdue_on(today):
            overdue_tasks[task_unit[d.task_id]] = overdue_tasks.get(task_unit[d.task_id], 0) + 1
    research: dict[int, int] = {}
    for t in data.tasks:
        research[t.unit_id] = research.get(t.unit_id, 0) + 1
    if research_counts is not None:
        research = {u: n for u, (n, _) in research_counts.items()}
        overdue_tasks = {u: late for u, (_, late) in research_counts.items()}

    rows = []
    total = dict.fromkeys(COLOURS, 0)
    for unit in units:
        counts = dict.fromkeys(COLOURS, 0)
        row_cells: list[dict[str, Any] | None] = []
        for column, (key, period) in enumerate(keys, start=1):
            ob = cells.get((unit.id, key, period))
            if ob is None:
                row_cells.append(None)
                continue
            state = cell_state(ob, today, end_of)
            counts[state] += 1
            row_cells.append({"state": state, "column": column, "task_id": ob.task_id,
                              "due_on": ob.due_on, "submitted_on": ob.submitted_on})
        for colour in COLOURS:
            total[colour] += counts[colour]
        rows.append({"code": unit.code, "name": unit.name, "kind": unit.kind,
                     "cells": row_cells, "counts": counts, "rate": _rate(counts),
                     "research_tasks": research.get(unit.id, 0),
                     "research_overdue": overdue_tasks.get(unit.id, 0)})
    return {
        "year": data.year, "today": today,
        "columns": [{"key": key, "period": period, "due_on": due,
                     "label": labels.get(key, key) + (f" {period:02d}" if period else "")}
                    for due, key, period in columns],
        "rows": rows, "total": total, "rate": _rate(total),
    }


def _rate(counts: Mapping[str, int]) -> float | None:
    due = counts["done"] + counts["late"] + counts["overdue"]
    return None if due == 0 else round(100 * counts["done"] / due, 1)
