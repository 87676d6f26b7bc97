"""Read models: tasks as plain, JSON-ready dicts for the CLI, reports and tests.

Labels come from the task's own definition snapshot, so a task shows the words of the workflow
version it runs under. A deadline is overdue once its day has ended in the configured time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from storage import readmodels
from storage.db import Session
from storage.models import Deadline, Task
from storage.timers import Timer
from workflows.model import Workflow


def iso(value: dt.datetime | dt.date | None, tz: dt.tzinfo | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime) and tz is not None:
        value = value.astimezone(tz)
    return value.isoformat()


def deadline_row(d: Deadline, wf: Workflow, today: dt.date, tz: dt.tzinfo,
                 lang: str) -> dict[str, Any]:
    label = wf.deadline_label(d.state, lang)
    return {
        "state": d.state, "due_on": d.due_on.isoformat(), "rule": d.rule, "label": label,
        "opened_at": iso(d.opened_at, tz), "closed_at": iso(d.closed_at, tz),
        "outcome": d.outcome, "open": d.closed_at is None,
        "overdue": d.closed_at is None and d.due_on < today,
    }


def task_detail(s: Session, task: Task, wf: Workflow, now: dt.datetime, tz: dt.tzinfo,
                lang: str) -> dict[str, Any]:
    today = now.astimezone(tz).date()
    snap = readmodels.definition(s, task.definition_id)
    return {
        "id": task.id,
        "title": task.title,
        "workflow": task.workflow,
        "workflow_label": wf.labels.get(lang),
        "workflow_version": snap.version,
        "definition_sha256": snap.sha256,
        "level": task.level,
        "state": task.state,
        "state_label": wf.states[task.state].labels.get(lang),
        "unit": task.unit.code,
        "unit_id": task.unit_id,
        "unit_name": task.unit.name,
        "year": task.year,
        "topic": task.topic,
        "pi": {"id": task.pi_id, "email": task.pi.email, "name": task.pi.name},
        "version": task.version,
        "created_at": iso(task.created_at, tz),
        "state_entered_at": iso(task.state_entered_at, tz),
        "deadlines": [deadline_row(d, wf, today, tz, lang) for d in task.deadlines],
        "history": [
            {
                "seq": h.seq, "event": h.event,
                "event_label": wf.events[h.event].labels.get(lang) if h.event in wf.events
                else h.event,
                "from": h.from_state, "to": h.to_state, "actor": h.actor, "role": h.actor_role,
                "reason": h.reason, "data": h.data, "at": iso(h.effective_at, tz),
                "recorded_at": iso(h.recorded_at, tz), "recorded_by": h.recorded_by,
                "operator": h.operator,
            }
            for h in task.history
        ],
    }


def list_tasks(
    s: Session, *, now: dt.datetime, tz: dt.tzinfo, unit_id: int | None, state: str | None,
    year: int | None, overdue: bool, lang: str, workflow: Callable[[int], Workflow],
    pi_email: str | None = None,
) -> list[dict[str, Any]]:
    """`workflow`: a task's workflow by its definition's id (the engine's, parsed once)."""
    today = now.astimezone(tz).date()
    rows = []
    # A state's words are looked up once per listing, not once per task: a unit's page lists
    # many tasks in a few states of a few definitions.
    words: dict[tuple[int, str], tuple[str, str | None]] = {}
    for task in readmodels.task_rows(s, unit_id=unit_id, state=state, year=year,
                                     overdue_on=today if overdue else None,
                                     pi_email=pi_email):
        key = (task.definition_id, task.state)
        said = words.get(key)
        if said is None:
            wf = workflow(task.definition_id)
            # what is expected next: the state's deadline, or the step that leads on (never a
            # cancel or a withdrawal, which the unit may fire but nobody expects)
            said = words[key] = (wf.states[task.state].labels.get(lang),
                                 wf.expected_next(task.state, lang))
        due = task.due_on
        rows.append({
            "id": task.id, "unit": task.unit, "level": task.level, "year": task.year,
            "state": task.state, "state_label": said[0], "title": task.title, "pi": task.pi,
            "next": said[1], "due_on": due.isoformat() if due else None,
            "overdue": due is not None and due < today,
        })
    return rows


def urgent_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listed rows overdue first, then by deadline (none last), then by id."""
    return sorted(rows, key=lambda r: (not r["overdue"], r["due_on"] is None,
                                       r["due_on"] or "", r["id"]))


def pending_timers(timers: Sequence[Timer], tz: dt.tzinfo) -> list[dict[str, Any]]:
    """The timers still to fire, as data (an item page says them in its reader's language)."""
    return [{"at": iso(t.fire_at, tz), "kind": t.kind, "due_on": iso(t.due_on),
             "days": t.days, "to_role": t.to_role, "event": t.event, "state": t.state}
            for t in timers if t.done_at is None]


def mail_rows(rows: Sequence[Mapping[str, Any]], tz: dt.tzinfo) -> list[dict[str, Any]]:
    """The notices about a task (storage.letters.task_mails): kind, state, subject, readers,
    when queued and when they reached their readers (alone, or in a letter or the digest)."""
    out = []
    for r in rows:
        readers = r["recipients"] or {}
        out.append({"id": r["id"], "kind": r["kind"], "state": r["state"],
                    "subject": r["subject"], "queued_at": iso(r["created_at"], tz),
                    "sent_at": iso(r["sent_at"], tz),
                    "to": [x.get("email", "") for x in readers.get("to", [])],
                    "cc": [x.get("email", "") for x in readers.get("cc", [])]})
    return out


def timer_sections(timers: Sequence[Timer], tz: dt.tzinfo) -> dict[str, list[str]]:
    """`task show`'s lines for the timers still to fire and those done (with why)."""
    pending, done = [], []
    for t in timers:
        what = {"reminder": f"reminder {t.days}d before {t.due_on.isoformat()}",
                "deadline": f"deadline {t.due_on.isoformat()} passed (legal end "
                            f"{t.legal_end.isoformat()})",
                "escalation": f"escalation to {t.to_role} (step {t.slot + 1}"
                              f"{', #' + str(t.occurrence + 1) if t.repeat_every else ''})",
                "auto_event": f"automatic event '{t.event}'"}[t.kind]
        at = t.fire_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        if t.done_at is None:
            pending.append(f"{at}  {what}  [{t.state}]")
        else:
            when = t.done_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            note = f" — {t.reason}" if t.reason else ""
            done.append(f"{at}  {what}  [{t.state}]  {t.status} {when}{note}")
    return {"Timers pending": pending, "Timers done": done}
