"""What `nckh mail preview` and `nckh mail test` need: a message rendered without queuing it.

Preview renders a kind for a real task with the facts that kind would carry (the task's latest
matching history entry, its open deadline…), in a transaction that is rolled back: it writes
nothing. The sample facts are labelled as such where the task has none (no deadline yet).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from notifications.context import build_context, gather
from notifications.digest import digest_facts
from notifications.dispatcher import Dispatcher
from notifications.recipients import NoRecipients, resolve
from notifications.render import Rendered
from storage import councils, mailfacts
from storage.db import Connection, DbEngine, read_only
from storage.mailfacts import People, TaskFacts
from workflows.errors import NotFound
from workflows.inputs import check_id


def preview_facts(conn: Connection, d: Dispatcher, kind: str, task: TaskFacts,
                  now: dt.datetime) -> dict[str, Any]:
    today = now.astimezone(d.tz).date()
    events = [e for e, k in d.catalog.events.items() if k == kind]
    if events:
        entry = mailfacts.latest_history(conn, task.id, events)
        if entry is not None:
            return {"event": entry["event"], "reason": entry["reason"],
                    "data": dict(entry["data"]), "actor": entry["actor"],
                    "actor_role": entry["actor_role"],
                    "effective_at": entry["effective_at"].isoformat()}
        return {"event": events[0], "reason": "(lý do / reason)", "data": {},
                "actor": "preview", "actor_role": "office", "effective_at": now.isoformat()}
    if kind in ("reminder", "deadline_passed", "escalation_unit_head", "escalation_office",
                "obligation_requested", "obligation_overdue"):
        row = mailfacts.latest_deadline_facts(conn, task.id)
        due = row.due_on if row else today + dt.timedelta(days=14)
        return {"deadline_id": row.id if row else None, "state": row.state if row else task.state,
                "due_on": due.isoformat(), "days_before": max(0, (due - today).days),
                "days_overdue": max(1, (today - due).days)}
    if kind == "quota_not_met":
        return {"unit_id": task.unit.id, "quota": {"year": task.year}}
    if kind == "session_reminder":
        from workflows.periods import period_of

        period = period_of("month", today)
        return {"unit_id": task.unit.id, "session": {
            "period": period.label("vi"), "period_en": period.label("en"),
            "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
            "kind": period.kind}}
    if kind == "council_appointed":  # the task's latest council as its first member reads it
        seat = councils.latest_seat(conn, task.id)
        if seat is None:  # none yet: sample facts, labelled as such
            return {"council": {"stage": "acceptance", "role": "member",
                                "decision_no": "(số quyết định / decision no.)",
                                "decided_on": today.isoformat(), "meeting_on": None,
                                "review_on": None, "review_from": None, "documents": []}}
        meeting = seat["meeting_on"]
        return {"council": {**seat, "review_on": meeting,
                            "review_from": "meeting" if meeting else None, "documents": []}}
    if kind == "digest":
        return {"digest": digest_facts(conn, start=now - dt.timedelta(days=7), end=now, tz=d.tz,
                                       lang=d.cfg.lang)}
    if kind == "report":
        return {"report": {"title": "Báo cáo tiến độ (xem trước)", "period": None, "note": None,
                           "files": []}}
    return {}


def preview(d: Dispatcher, kind: str, task_id: int, lang: str,
            now: dt.datetime) -> tuple[dict[str, Any], str | None, Rendered]:
    """(recipients, a warning or None, the rendered message). Writes nothing."""
    spec = d.catalog.kind(kind)
    db: DbEngine = d.db
    with read_only(db).connect() as conn:  # no write lock: a preview never waits for one
        task = mailfacts.task_facts(conn, check_id("task", task_id))
        if task is None:
            raise NotFound("task", task_id)
        warning = None
        try:
            recipients = resolve(People(conn), spec, task=task, unit=task.unit,
                                 office=d.cfg.office, addressed=["preview@example.invalid"])
        except NoRecipients as exc:
            warning, recipients = str(exc), {"to": [], "cc": []}
        facts = preview_facts(conn, d, kind, task, now)
        ctx = build_context(gather(conn, task.id, facts, d.tz), kind=kind, lang=lang, facts=facts,
                            recipients=recipients, cfg=d.cfg, catalog=d.catalog,
                            today=now.astimezone(d.tz).date(), tz=d.tz)
        return recipients, warning, d.renderer.render(kind, lang, ctx)
