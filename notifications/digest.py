"""The office's digest: what is new for the office, and where the year stands.

Escalations to the office, and its copies of steps (a registration, an acceptance, an outline
sent back to it), are never mails of their own: they wait as lines (`notifications.letters`)
for the digest. The digest goes out on a working day from the digest hour when something
urgent waits (an escalation, an outline to pass to the council), else once a week on the
configured weekday (the next working day when that one is off); never twice a day. Its facts
(the new items, the overdue list, the counts) are computed when it is queued and stored with
it, so a re-send says the same thing. Nothing is queued when nobody would read it.

A report due that day (`engine.reports.mailer`) is one of its lines: the digest carries the
report's files and says what they are, so the office gets one mail that day, not two.

With the digest turned off (`digest_weekday = "off"`) the office's lines go into daily letters
like anybody's (a letter, too, carries the files of the notices it holds).

Several offices (`notifications.offices`): each line carries its office's key, and each office
gets a digest of its own lines. The default office's comes as described above; another's only
when lines wait for it: at once for an urgent line, else on the weekly slot. An office copied
on a task (the Sở KH&CN) finds the copy among its news, never among what it must act on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from notifications.catalog import Catalog
from notifications.config import MailConfig
from notifications.context import obligation_context, topic_context
from notifications.outbox import enqueue
from notifications.recipients import office_recipients
from storage import mailfacts
from storage.db import Connection
from storage.letters import WaitingLine, attach, last_digest_at, notice_files, waiting_lines
from storage.mailfacts import People
from storage.tasks import workflow_of
from workflows.model import OBLIGATION_LEVEL, WorkingDays

MAX_ROWS = 20
# What the office must act on (first in the digest, most overdue first); the rest is news.
ACT = ("escalation_office", "quota_not_met", "outline_resubmitted", "report_submitted")


def last_slot(now: dt.datetime, tz: dt.tzinfo, weekday: int, hour: int) -> dt.datetime:
    """The most recent digest time at or before `now` (local weekday and hour)."""
    local = now.astimezone(tz)
    day = local.date() - dt.timedelta(days=(local.weekday() - weekday) % 7)
    slot = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
    return slot if slot <= local else slot - dt.timedelta(days=7)


def weekly_slot(now: dt.datetime, tz: dt.tzinfo, cfg: MailConfig,
                working_days: WorkingDays | None) -> dt.datetime:
    """This week's digest time, moved to the next working day when its day is off."""
    assert cfg.digest_weekday is not None
    slot = last_slot(now, tz, cfg.digest_weekday, cfg.digest_hour)
    if working_days is not None and not working_days.is_working_day(slot.date()):
        day = working_days.next_working_day(slot.date())
        slot = slot.replace(year=day.year, month=day.month, day=day.day)
    return slot


def digest_facts(conn: Connection, *, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo,
                 lang: str, working_days: WorkingDays | None = None) -> dict[str, Any]:
    """The digest's facts. "Overdue" counts from the legal end (Civil Code art. 148: a date
    that falls on a day off ends with the next working day), as escalations and the reports
    do; without a calendar, from the date itself."""
    legal_end = working_days.next_working_day if working_days is not None else None
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
    total, late = mailfacts.overdue_deadlines(conn, today, MAX_ROWS, legal_end)
    overdue = []
    for row in late:
        wf = workflow_of(conn, row["definition_id"])
        label = wf.deadline_label(row["state"], lang)
        overdue.append({"task_id": row["task_id"], "title": " ".join(row["title"].split()),
                        "unit_name": row["unit_name"], "label": label, "due_on": row["due_on"],
                        "days_overdue": (today - (legal_end or _same)(row["due_on"])).days})
    sent, dead = mailfacts.mail_counts(conn, start, end)
    return {"year": year, "period_start": start.astimezone(tz).date(), "period_end": today,
            "by_state": [{"label": k, "count": labels[k]} for k in order],
            "overdue_total": total, "overdue": overdue, "sent": sent, "dead": dead}


def _same(day: dt.date) -> dt.date:
    return day


def item_facts(conn: Connection, line: WaitingLine, *, today: dt.date, tz: dt.tzinfo,
               lang: str, catalog: Catalog,
               working_days: WorkingDays | None = None) -> dict[str, Any]:
    """One new item of the digest, as its notice said it (facts as of its event)."""
    facts = line.context
    snap = facts.get("as_of") or {}
    task = snap.get("task") or {}
    unit = snap.get("unit") or {}
    item: dict[str, Any] = {
        "kind": line.kind, "act": line.kind in ACT, "task_id": line.task_id,
        "title": " ".join(str(task.get("title", "")).split()),
        "unit_name": unit.get("name") or "",
        "happened_on": line.created_at.astimezone(tz).date(),
        "label": None, "due_on": None, "days_overdue": None, "obligation": None,
        "reference": None, "topics": None,
    }
    wf = workflow_of(conn, int(task["definition_id"])) if task.get("definition_id") else None
    if facts.get("due_on"):
        due = dt.date.fromisoformat(str(facts["due_on"])[:10])
        item["due_on"] = due
        legal = working_days.next_working_day(due) if working_days is not None else due
        item["days_overdue"] = max(0, (today - legal).days)
        if wf is not None and facts.get("state"):
            item["label"] = wf.deadline_label(str(facts["state"]), lang)
    elif facts.get("event") and wf is not None:
        ev = wf.events.get(str(facts["event"]))
        item["label"] = ev.labels.get(lang) if ev else str(facts["event"])
    ob = snap.get("obligation")
    named = obligation_context(ob, catalog, lang, str(task.get("title") or "")) if ob else None
    if named is not None:
        # Named as in the unit's own mails, with its month for a monthly item.
        item["obligation"] = named["label"] + (f" ({named['period']})" if named["period"]
                                               else "")
    if line.kind == "report_submitted":
        item["reference"] = (facts.get("data") or {}).get("reference") or None
        # The unit's report of results, as one document: its topics as they stand the day the
        # digest is written (the day it is dated).
        topics = mailfacts.report_topics(conn, ob, int(unit["id"]), tz) \
            if unit.get("id") else None
        if topics is not None:
            item["topics"] = [topic_context(t, catalog, lang) for t in topics]
    if line.kind == "quota_not_met" and facts.get("unit_id"):
        found = mailfacts.unit_facts(conn, int(facts["unit_id"]))
        item["unit_name"] = found.name if found else ""
        item["year"] = (facts.get("quota") or {}).get("year")
    return item


def _urgency(item: dict[str, Any]) -> tuple[int, int, str]:
    return (0 if item["act"] else 1, -(item["days_overdue"] or 0), str(item["happened_on"]))


def compose_digest(conn: Connection, cfg: MailConfig, *, now: dt.datetime, tz: dt.tzinfo,
                   lang: str, catalog: Catalog, working_days: WorkingDays | None = None) -> int:
    """Queue today's digests, one per office that has one due and none today; return how many
    were queued. The default office's as it always was; another office's only when lines wait
    for it (it has no week to review but its own items)."""
    if cfg.digest_weekday is None:
        return 0
    local = now.astimezone(tz)
    day = local.date()
    if working_days is not None and not working_days.is_working_day(day):
        return 0
    if local.hour < cfg.digest_hour:
        return 0
    by_office: dict[str, list[WaitingLine]] = {cfg.routes.default: []}
    for ln in waiting_lines(conn, office=True):
        by_office.setdefault(str(ln.recipient.get("office") or cfg.routes.default), []).append(ln)
    queued = 0
    for key, lines in by_office.items():
        if key != cfg.routes.default and not lines:
            continue
        queued += _compose_one(conn, cfg, key, lines, now=now, tz=tz, lang=lang, catalog=catalog,
                               working_days=working_days)
    return queued


def _compose_one(conn: Connection, cfg: MailConfig, key: str, lines: list[WaitingLine], *,
                 now: dt.datetime, tz: dt.tzinfo, lang: str, catalog: Catalog,
                 working_days: WorkingDays | None) -> int:
    """Office `key`'s digest, if due and not queued today; 1 if queued."""
    default = key == cfg.routes.default
    day = now.astimezone(tz).date()
    # The default office's keys are those it always had, so a running install goes on as is.
    dedupe = f"digest:{day.isoformat()}" + ("" if default else f":{key}")
    if mailfacts.is_queued(conn, dedupe):
        return 0
    slot = weekly_slot(now, tz, cfg, working_days)
    last = last_digest_at(conn, None if default else key)
    weekly = slot <= now and (last is None or last < slot)
    if not weekly and not any(ln.urgent for ln in lines):
        return 0
    if not office_recipients(People(conn), cfg.office_named(key)):
        return 0  # nobody would read it: the lines wait for a reader
    start = last or slot - dt.timedelta(days=7)
    facts = digest_facts(conn, start=start, end=now, tz=tz, lang=lang, working_days=working_days)
    # The province's overview (tasks by state, the overdue list, the mail counts) is the
    # default office's; another office is told its own items only.
    facts["overview"] = default
    notices = {ln.item_id: ln for ln in lines}
    # A report due today rides in the digest with its files, not as a second mail that day.
    facts["reports"] = [{"title": "", "period": None, "note": None,
                         **(ln.context.get("report") or {}),
                         "files": [name for name, _, _ in notice_files(conn, [ln.item_id])]}
                        for ln in notices.values() if ln.kind == "report"]
    items = sorted((item_facts(conn, ln, today=day, tz=tz, lang=lang, catalog=catalog,
                               working_days=working_days) | {"copy": ln.role == "cc" and bool(
                                   ln.recipient.get("copy"))}
                    for ln in notices.values() if ln.kind != "report"), key=_urgency)
    for item in items:
        if item["copy"]:
            item["act"] = False  # a copied office is told, never asked to act
    facts["entries"] = items  # not "items": a dict's method, to a template
    facts["acts"] = sum(1 for i in items if i["act"])
    context: dict[str, Any] = {"digest": facts}
    if not default:
        context["office"] = key  # whose digest: its recipients are resolved from it
    digest_id = enqueue(conn, kind="digest", now=now, dedupe_key=dedupe, context=context,
                        lang=lang, catalog=catalog,
                        attachments=notice_files(conn, sorted(notices)))
    if digest_id is None:
        return 0
    attach(conn, [ln.id for ln in lines], digest_id)
    return 1
