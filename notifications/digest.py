"""The office's periodic digest: once a week (configurable), what is in progress and what is late.

Queued by the dispatcher's tick, not by a timer: the digest for a week is due at the configured
weekday and hour (local time), and its dedupe key is that slot's date, so any number of ticks or
daemons queue it once. Nothing is queued when no office address is configured. The counts are
computed when the digest is queued and stored as its facts, so a re-send says the same thing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifications.catalog import Catalog
from notifications.config import MailConfig
from notifications.outbox import enqueue
from storage.models import Deadline, Person, Task, Unit, WorkflowDefinition
from storage.outbox import OutboxMessage
from workflows.model import WorkingDays
from workflows.registry import from_snapshot

OBLIGATION_WORKFLOW = "unit_report"
MAX_ROWS = 20


def last_slot(now: dt.datetime, tz: dt.tzinfo, weekday: int, hour: int) -> dt.datetime:
    """The most recent digest time at or before `now` (local weekday and hour)."""
    local = now.astimezone(tz)
    day = local.date() - dt.timedelta(days=(local.weekday() - weekday) % 7)
    slot = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
    return slot if slot <= local else slot - dt.timedelta(days=7)


def digest_facts(session: Session, *, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo,
                 lang: str) -> dict[str, Any]:
    year = end.astimezone(tz).year
    today = end.astimezone(tz).date()
    labels: dict[str, int] = {}
    order: list[str] = []
    rows = session.execute(
        select(Task.definition_id, Task.state, func.count())
        .where(Task.year == year, Task.workflow != OBLIGATION_WORKFLOW)
        .group_by(Task.definition_id, Task.state).order_by(Task.definition_id, Task.state))
    for definition_id, state, count in rows:
        snap = session.get(WorkflowDefinition, definition_id)
        assert snap is not None
        wf = from_snapshot(snap.source, snap.source_path)
        label = wf.states[state].labels.get(lang) if state in wf.states else state
        if label not in labels:
            order.append(label)
            labels[label] = 0
        labels[label] += int(count)
    late = (select(Deadline, Task, Unit).join(Task, Deadline.task_id == Task.id)
            .join(Unit, Task.unit_id == Unit.id)
            .where(Deadline.closed_at.is_(None), Deadline.due_on < today))
    total = session.scalar(select(func.count()).select_from(late.subquery())) or 0
    overdue = []
    for deadline, task, unit in session.execute(late.order_by(Deadline.due_on).limit(MAX_ROWS)):
        snap = session.get(WorkflowDefinition, task.definition_id)
        assert snap is not None
        wf = from_snapshot(snap.source, snap.source_path)
        state_def = wf.states.get(deadline.state)
        rule = state_def.deadline if state_def else None
        label = (rule.label.get(lang) if rule and rule.label else
                 state_def.labels.get(lang) if state_def else deadline.state)
        overdue.append({"task_id": task.id, "title": " ".join(task.title.split()),
                        "unit_name": unit.name, "label": label, "due_on": deadline.due_on,
                        "days_overdue": (today - deadline.due_on).days})
    sent = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.state == "sent", OutboxMessage.sent_at >= start,
        OutboxMessage.sent_at < end)) or 0
    dead = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.state == "dead")) or 0
    return {"year": year, "period_start": start.astimezone(tz).date(), "period_end": today,
            "by_state": [{"label": k, "count": labels[k]} for k in order],
            "overdue_total": int(total), "overdue": overdue, "sent": int(sent),
            "dead": int(dead)}


def enqueue_digest(session: Session, cfg: MailConfig, *, now: dt.datetime, tz: dt.tzinfo,
                   lang: str, catalog: Catalog, working_days: WorkingDays | None = None) -> int:
    """Queue this period's digest if it is due and not queued yet; return 1 if queued.

    Nothing is queued on a day off, and a slot that falls on one (a Monday of Tết) waits for the
    next working day at the digest hour, like every other mail the office gets."""
    if cfg.digest_weekday is None:
        return 0
    slot = last_slot(now, tz, cfg.digest_weekday, cfg.digest_hour)
    if working_days is not None and not working_days.is_working_day(now.astimezone(tz).date()):
        return 0
    if working_days is not None and not working_days.is_working_day(slot.date()):
        day = slot.date()
        while not working_days.is_working_day(day):
            day += dt.timedelta(days=1)
        if now < slot.replace(year=day.year, month=day.month, day=day.day):
            return 0
    if not cfg.office.get("email") and session.scalar(select(Person.id).where(
            Person.role == "office", Person.active.is_(True)).limit(1)) is None:
        return 0  # nobody would read it (see notifications.recipients)
    key = f"digest:{slot.date().isoformat()}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return 0
    facts = digest_facts(session, start=slot - dt.timedelta(days=7), end=slot, tz=tz, lang=lang)
    return int(enqueue(session, kind="digest", now=now, dedupe_key=key,
                       context={"digest": facts}, lang=lang, catalog=catalog) is not None)
