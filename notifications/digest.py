"""The office's periodic digest: once a week (configurable), what is in progress and what is late.

Queued by the dispatcher's tick, not by a timer: the digest for a week is due at the configured
weekday and hour (local time), and its dedupe key is that slot's date, so any number of ticks or
daemons queue it once. Nothing is queued when no office address is configured. The counts are
computed when the digest is queued and stored as its facts, so a re-send says the same thing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from notifications.catalog import Catalog
from notifications.config import MailConfig
from notifications.outbox import enqueue
from notifications.recipients import office_recipients
from storage import mailfacts
from storage.db import Connection
from storage.mailfacts import People
from storage.tasks import workflow_of
from workflows.model import OBLIGATION_LEVEL, WorkingDays

MAX_ROWS = 20


def last_slot(now: dt.datetime, tz: dt.tzinfo, weekday: int, hour: int) -> dt.datetime:
    """The most recent digest time at or before `now` (local weekday and hour)."""
    local = now.astimezone(tz)
    day = local.date() - dt.timedelta(days=(local.weekday() - weekday) % 7)
    slot = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
    return slot if slot <= local else slot - dt.timedelta(days=7)


def digest_facts(conn: Connection, *, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo,
                 lang: str) -> dict[str, Any]:
    year = end.astimezone(tz).year
    today = end.astimezone(tz).date()
    labels: dict[str, int] = {}
    order: list[str] = []
    for definition_id, state, count in mailfacts.tasks_by_state(
            conn, year, exclude_level=OBLIGATION_LEVEL):
        wf = workflow_of(conn, definition_id)
        label = wf.states[state].labels.get(lang) if state in wf.states else state
        if label not in labels:
            order.append(label)
            labels[label] = 0
        labels[label] += count
    total, late = mailfacts.overdue_deadlines(conn, today, MAX_ROWS)
    overdue = []
    for row in late:
        wf = workflow_of(conn, row["definition_id"])
        label = wf.deadline_label(row["state"], lang)
        overdue.append({"task_id": row["task_id"], "title": " ".join(row["title"].split()),
                        "unit_name": row["unit_name"], "label": label, "due_on": row["due_on"],
                        "days_overdue": (today - row["due_on"]).days})
    sent, dead = mailfacts.mail_counts(conn, start, end)
    return {"year": year, "period_start": start.astimezone(tz).date(), "period_end": today,
            "by_state": [{"label": k, "count": labels[k]} for k in order],
            "overdue_total": total, "overdue": overdue, "sent": sent, "dead": dead}


def enqueue_digest(conn: Connection, cfg: MailConfig, *, now: dt.datetime, tz: dt.tzinfo,
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
        day = working_days.next_working_day(slot.date())
        if now < slot.replace(year=day.year, month=day.month, day=day.day):
            return 0
    if not office_recipients(People(conn), cfg.office):
        return 0  # nobody would read it
    key = f"digest:{slot.date().isoformat()}"
    if mailfacts.is_queued(conn, key):
        return 0
    facts = digest_facts(conn, start=slot - dt.timedelta(days=7), end=slot, tz=tz, lang=lang)
    return int(enqueue(conn, kind="digest", now=now, dedupe_key=key,
                       context={"digest": facts}, lang=lang, catalog=catalog) is not None)
