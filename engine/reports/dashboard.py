"""The province dashboard: units × this year's obligations, each cell coloured, with counts and
rates per unit and for the province. Pure: computed from the report `Dataset` (loaded by
`storage.reports.load_year` in a fixed number of statements, whatever the number of units) or,
for the web page, from `Loaded` (`storage.dashboard.load`, three statements).

A cell is `done` (submitted by the legal end of its due date), `late` (submitted after it),
`overdue` (not submitted, the legal end passed) or `open` (not yet due). "Late" means after
the legal end (Civil Code art. 148), as everywhere in nckh. The rate is done on time over the
cells due (those submitted, and those whose legal end has passed).

After the obligations, a column per research milestone of the year: the deadlines of the year's
research tasks grouped by what the deadline is called (`Workflow.deadline_label`), e.g. "Báo
cáo kết quả nghiệm thu đề tài", dated by the most common due date of that label. A unit's cell
there aggregates its deadlines of that label: `overdue` if any open one's legal end has passed,
else `open` if any is open, else `late` if any was closed after its legal end, else `done`; it
links to the task that decides that colour. These cells are not in the unit's counts and rate,
which stay the obligations' (what the unit owes the Department on a date it cannot move).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from storage.reportrows import DeadlineRow, TaskRow

COLOURS = ("done", "late", "overdue", "open")
# A research cell's colour is its worst deadline's: the order in which one decides it.
_WORST_FIRST = ("overdue", "open", "late", "done")


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


class Milestone(Protocol):
    """A research task's deadline as the dashboard reads it (`storage.dashboard.MilestoneLine`)."""

    @property
    def unit_id(self) -> int: ...
    @property
    def task_id(self) -> int: ...
    @property
    def workflow(self) -> str: ...
    @property
    def task_state(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def due_on(self) -> dt.date: ...
    @property
    def closed_on(self) -> dt.date | None: ...


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


def milestone_state(m: Milestone, today: dt.date, legal_end: Callable[[dt.date], dt.date]) -> str:
    """One deadline's colour, as an obligation's: closed by its legal end `done`, after it
    `late`; open `overdue` once its legal end has passed, else `open`."""
    end = legal_end(m.due_on)
    closed = m.closed_on if m.closed_on and m.closed_on <= today else None
    if closed is not None:
        return "done" if closed <= end else "late"
    return "overdue" if today > end else "open"


def milestones(rows: Sequence[Milestone], today: dt.date,
               legal_end: Callable[[dt.date], dt.date], label_of: Callable[[str, str], str],
               void: frozenset[tuple[str, str]],
               ) -> tuple[list[tuple[str, dt.date]], dict[tuple[int, str], dict[str, Any]]]:
    """The research milestones' columns, (label, date) by date then label, and each (unit,
    label)'s cell: {state, task_id, due_on, submitted_on}. `label_of(workflow, state)`: what a
    deadline is called; `void`: the (workflow, state) pairs of tasks that never counted, whose
    deadlines are left out. `rows` come by due date, so the first deadline of the worst colour
    decides the cell."""
    labels: dict[tuple[str, str], str] = {}
    days: dict[str, dict[dt.date, int]] = {}
    worst: dict[tuple[int, str], tuple[int, Milestone]] = {}
    for m in rows:
        if (m.workflow, m.task_state) in void:
            continue
        label = labels.get((m.workflow, m.state))
        if label is None:
            label = labels[(m.workflow, m.state)] = label_of(m.workflow, m.state)
        count = days.setdefault(label, {})
        count[m.due_on] = count.get(m.due_on, 0) + 1
        rank = _WORST_FIRST.index(milestone_state(m, today, legal_end))
        held = worst.get((m.unit_id, label))
        if held is None or rank < held[0]:
            worst[(m.unit_id, label)] = (rank, m)
    # the most common due date of the label; of equally common ones, the earliest
    columns = sorted((min(count, key=lambda d: (-count[d], d)), label)
                     for label, count in days.items())
    cells = {key: {"state": _WORST_FIRST[rank], "task_id": m.task_id, "due_on": m.due_on,
                   "submitted_on": m.closed_on if rank >= 2 else None}
             for key, (rank, m) in worst.items()}
    return [(label, day) for day, label in columns], cells


def cell_state(ob: Due, today: dt.date, legal_end: Callable[[dt.date], dt.date]) -> str:
    end = legal_end(ob.due_on)
    submitted = ob.submitted_on if ob.submitted_on and ob.submitted_on <= today else None
    if submitted is not None:
        return "done" if submitted <= end else "late"
    return "overdue" if today > end else "open"


def dashboard(data: Board, today: dt.date, legal_end: Callable[[dt.date], dt.date],
              labels: Mapping[str, str], *, unit_kind: str | None = None,
              research_counts: Mapping[int, tuple[int, int]] | None = None,
              milestone_rows: Sequence[Milestone] = (),
              label_of: Callable[[str, str], str] = lambda workflow, state: state,
              void: frozenset[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    """`research_counts`: per unit (tasks, overdue) when read already counted (the web app's
    `storage.dashboard`); else counted from the data's tasks and deadlines. `milestone_rows`,
    `label_of`, `void`: the research milestones' columns (`milestones`)."""
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

    shown = {u.id for u in units}  # a column only for milestones of the units shown
    research_columns, research_cells = milestones(
        [m for m in milestone_rows if m.unit_id in shown], today, end_of, label_of, void)
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
        for column, (label, _) in enumerate(research_columns, start=len(keys) + 1):
            found = research_cells.get((unit.id, label))
            row_cells.append(None if found is None else {**found, "column": column})
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
        "milestones": [{"label": label, "due_on": day} for label, day in research_columns],
        "rows": rows, "total": total, "rate": _rate(total),
    }


def _rate(counts: Mapping[str, int]) -> float | None:
    due = counts["done"] + counts["late"] + counts["overdue"]
    return None if due == 0 else round(100 * counts["done"] / due, 1)
