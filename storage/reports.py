"""The reports' query layer: one year's rows out of the database, dates made local.

Storage's side of `engine.reports` (which computes from these rows). Research tasks are those of
the research levels (unit, province, initiative); the scheduler's obligation tasks (`unit_report`,
one per unit and period, linked from the `obligation` table) are read apart: an obligation was
submitted on time when its task's first `submit` took effect on or before the obligation's due
date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import applications, councils, publications, sessions
from storage.models import Deadline, HistoryEntry, Person, Task, Unit, WorkflowDefinition
from storage.reportrows import (
    ApplicationRow,
    Dataset,
    DeadlineRow,
    EventRow,
    ObligationRow,
    OutcomeRow,
    PublicationRow,
    TaskRow,
    UnitRow,
)
from storage.timers import Obligation
from workflows.model import RESEARCH_LEVELS, Workflow
from workflows.registry import from_snapshot


def _local(value: dt.datetime, tz: dt.tzinfo) -> dt.date:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).date()


def _history(session: Session, task_ids: Iterable[int], tz: dt.tzinfo,
             milestone: Callable[[int, str], str | None]) -> dict[int, list[EventRow]]:
    ids = list(task_ids)
    found: dict[int, list[EventRow]] = defaultdict(list)
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start:start + 500]
        query = (select(HistoryEntry.task_id, HistoryEntry.event, HistoryEntry.to_state,
                        HistoryEntry.effective_at, HistoryEntry.data)
                 .where(HistoryEntry.task_id.in_(chunk))
                 .order_by(HistoryEntry.task_id, HistoryEntry.seq))
        for task_id, event, to_state, at, data in session.execute(query):
            found[task_id].append(EventRow(event, to_state, _local(at, tz),
                                           milestone(task_id, event), dict(data or {})))
    return found


def load_year(session: Session, year: int, tz: dt.tzinfo,
              current: Mapping[str, Workflow] | None = None) -> Dataset:
    """Every row the compliance and progress reports of `year` need. `current`: the workflows
    in force by name (what milestones and cut-offs mean for definitions that predate them)."""
    current = current or {}
    units = tuple(
        UnitRow(u.id, u.code, u.name, u.kind, u.active, _local(u.created_at, tz))
        for u in session.scalars(select(Unit).order_by(Unit.code)))
    held = tuple(sessions.held_days(session, dt.date(year, 1, 1), dt.date(year, 12, 31)))
    published = tuple(PublicationRow(*p) for p in publications.counted(
        session, dt.date(year, 1, 1), dt.date(year, 12, 31)))

    obligation_rows = [
        (r.key, r.unit_id, r.period, r.task_id, r.due_on)
        for r in session.execute(
            select(Obligation.key, Obligation.unit_id, Obligation.period, Obligation.task_id,
                   Obligation.due_on)
            .where(Obligation.year == year)
            .order_by(Obligation.due_on, Obligation.unit_id))]
    obligation_tasks = {task_id for *_, task_id, _ in obligation_rows}

    task_rows = [
        t for t in session.execute(
            select(Task.id, Task.unit_id, Task.level, Task.workflow, Task.definition_id,
                   Task.title, Task.topic, Person.name.label("pi_name"),
                   Task.funding_source, Task.funding_amount)
            .join(Person, Person.id == Task.pi_id)
            .where(Task.year == year, Task.level.in_(RESEARCH_LEVELS)).order_by(Task.id))
        if t.id not in obligation_tasks]
    definitions = dict(session.execute(
        select(Task.id, Task.definition_id).where(Task.id.in_(list(obligation_tasks)))).all())
    definitions.update((t.id, t.definition_id) for t in task_rows)
    workflows = {snap.id: from_snapshot(snap.source, snap.source_path)
                 for snap in session.scalars(select(WorkflowDefinition).where(
                     WorkflowDefinition.id.in_(sorted(set(definitions.values())))))}

    def milestone(task_id: int, event: str) -> str | None:
        """The milestone an event reaches, by the task's own definition; a definition written
        before milestones existed is read with today's of the same workflow."""
        wf = workflows[definitions[task_id]]
        if not any(ev.milestone for ev in wf.events.values()):
            wf = current.get(wf.name, wf)
        ev = wf.events.get(event)
        return ev.milestone if ev else None

    history = _history(session, [t.id for t in task_rows], tz, milestone)
    tasks = tuple(TaskRow(t.id, t.unit_id, t.level, t.workflow, tuple(history[t.id]),
                          t.title, t.pi_name, t.topic, t.funding_source, t.funding_amount)
                  for t in task_rows if history[t.id])

    deadlines: list[DeadlineRow] = []
    ids = [t.id for t in tasks]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for d in session.scalars(select(Deadline).where(Deadline.task_id.in_(chunk))
                                 .order_by(Deadline.id)):
            deadlines.append(DeadlineRow(
                d.task_id, d.due_on, _local(d.opened_at, tz),
                _local(d.closed_at, tz) if d.closed_at is not None else None))

    submits = _history(session, obligation_tasks, tz, milestone)

    def accepted_on(task_id: int) -> dt.date | None:
        """The day a final state was entered straight from a submission (the office's
        acknowledgement), read from the definition's flags, never from a state's name."""
        events = submits.get(task_id, [])
        if not events:
            return None
        wf = workflows[definitions[task_id]]
        for before, ev in pairwise(events):
            state = wf.states.get(ev.to_state)
            if before.milestone == "submitted" and state is not None and state.final:
                return ev.on
        return None

    obligations = tuple(
        ObligationRow(unit_id, key, period, due_on, next(
            (ev.on for ev in submits.get(task_id, []) if ev.milestone == "submitted"), None),
            task_id, accepted_on(task_id))
        for key, unit_id, period, task_id, due_on in obligation_rows)

    final: set[tuple[str, str]] = set()
    labels: dict[str, str] = {}
    for definition_id in sorted({t.definition_id for t in task_rows}):
        wf = workflows[definition_id]
        for name, state in wf.states.items():
            labels.setdefault(name, state.labels.get("vi"))
            if state.final:
                final.add((wf.name, name))
    # Void by the stored snapshot or by the workflow in force: a task that started under a
    # version that did not mark its states void yet is judged by today's rule.
    void = {(wf.name, name) for wf in (*current.values(), *workflows.values())
            for name, state in wf.states.items() if state.void}
    cutoffs: dict[str, tuple[int, int]] = {}
    for wf in (*current.values(), *workflows.values()):
        if wf.level in RESEARCH_LEVELS:
            for m in ("outline_approved", "accepted"):
                if m not in cutoffs and (day := wf.cutoff(m)) is not None:
                    cutoffs[m] = day
    outcomes, recognised = councils.report_rows(session, ids)
    return Dataset(year=year, units=units, tasks=tasks, deadlines=tuple(deadlines),
                   obligations=obligations, final_states=frozenset(final), sessions=held,
                   publications=published,
                   outcomes=tuple(OutcomeRow(*o) for o in outcomes), recognitions=recognised,
                   applications=tuple(ApplicationRow(*a)
                                      for a in applications.report_rows(session, ids)),
                   void_states=frozenset(void), state_labels=labels,
                   cutoffs=cutoffs)
