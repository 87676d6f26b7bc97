"""The template context of an outbox row: the event's facts plus what the database says now.

`gather` asks storage (`storage.mailfacts`) for the task, its workflow, its unit, the deadline and
the obligation a row speaks of; `build_context` turns those plain values into the context.

Everything returned is plain data (dicts, lists, strings, numbers, dates) — the sandbox's rule.
Every top-level key exists in every context (None when it does not apply), so templates under
`StrictUndefined` may test `{% if deadline %}` without tripping over a missing name.
Labels (states, events, deadlines) come from the workflow snapshot the task runs on, in the
message's language; nouns and obligation names from `kinds.yaml`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from notifications.catalog import Catalog
from notifications.config import MailConfig
from notifications.render import EN_MONTHS, en_date, lower_first, vi_short_date
from storage import mailfacts
from storage.db import Connection
from storage.mailfacts import DeadlineFacts, TaskFacts, UnitFacts
from storage.tasks import workflow_of
from workflows.concerns import TopicLine
from workflows.councilterms import LABELS
from workflows.model import OBLIGATION_LEVEL, Workflow

KEYS = ("office", "lang", "kind", "to", "cc", "task", "unit", "event", "deadline", "obligation",
        "plan", "digest", "report", "quota", "session", "today", "letter", "section", "as_of",
        "signin", "action_url", "council")


def empty_context(cfg: MailConfig, kind: str, lang: str, today: dt.date) -> dict[str, Any]:
    ctx: dict[str, Any] = dict.fromkeys(KEYS)
    ctx.update(office=dict(cfg.office), lang=lang, kind=kind, to=[], cc=[],
               plan=cfg.plan_reference, today=today, section=False)
    return ctx


def _word(catalog: Catalog, group: str, key: str, lang: str) -> str:
    table = catalog.words.get(group, {}).get(lang, {}) if group != "obligations" else {}
    if group == "obligations":
        return str(catalog.words.get("obligations", {}).get(key, {}).get(lang, key))
    return str(table.get(key, key))


@dataclass(frozen=True)
class Subject:
    """What a mail speaks of, as read when it is written."""

    task: TaskFacts | None
    workflow: Workflow | None
    unit: UnitFacts | None
    deadline: DeadlineFacts | None
    obligation: Mapping[str, Any] | None
    topics: list[TopicLine] | None = None  # a unit report's topics, as they stand today


def gather(conn: Connection, task_id: int | None, facts: Mapping[str, Any],
           tz: dt.tzinfo) -> Subject:
    """What the mail speaks of: as it stood when the mail was queued (`as_of`, stored with
    it), else — a row queued before snapshots were kept, a preview — as it stands now. A unit
    report's topics are read as they stand when the mail is written: the day it is dated."""
    found = _gather(conn, task_id, facts)
    if found.unit is None:
        return found
    topics = mailfacts.report_topics(conn, found.obligation, found.unit.id, tz)
    return found if topics is None else replace(found, topics=topics)


def _gather(conn: Connection, task_id: int | None, facts: Mapping[str, Any]) -> Subject:
    snap = facts.get("as_of")
    if snap:
        then, deadline, obligation = mailfacts.subject_of(snap)
        if obligation is None and then.level == OBLIGATION_LEVEL:
            # A unit's report is registered (and its request queued) just before its
            # obligation row is written; what it is (key, year, month, due date) never
            # changes, so reading it now says what was true then, under the same name as
            # every later mail about it.
            obligation = mailfacts.obligation_row(conn, then.id)
        return Subject(then, workflow_of(conn, then.definition_id), then.unit, deadline,
                       obligation)
    task = mailfacts.task_facts(conn, task_id) if task_id is not None else None
    wf = workflow_of(conn, task.definition_id) if task else None
    unit = task.unit if task else (mailfacts.unit_facts(conn, int(facts["unit_id"]))
                                   if facts.get("unit_id") else None)
    deadline = None
    if task is not None:
        if facts.get("deadline_id"):
            deadline = mailfacts.deadline_facts(conn, int(facts["deadline_id"]))
        elif not facts.get("state"):
            deadline = mailfacts.open_deadline_facts(conn, task.id)
    obligation = mailfacts.obligation_row(conn, task.id) if task else None
    return Subject(task, wf, unit, deadline, obligation)


def office_of(cfg: MailConfig, subject: Subject) -> Mapping[str, Any]:
    """The office that receives what the mail speaks of (`notifications.offices`): its
    obligation's, else its workflow's, else the default."""
    key = (subject.obligation or {}).get("key") if subject.obligation else None
    return cfg.office_for(subject.workflow.name if subject.workflow else None,
                          str(key) if key else None)


def task_context(task: TaskFacts, wf: Workflow, catalog: Catalog, lang: str) -> dict[str, Any]:
    state = wf.states.get(task.state)
    return {
        "id": task.id, "title": " ".join(task.title.split()), "year": task.year,
        "level": task.level, "level_label": wf.labels.get(lang),
        "noun": _word(catalog, "nouns", task.level, lang),
        "leader": _word(catalog, "leaders", task.level, lang),
        "state": task.state, "state_label": state.labels.get(lang) if state else task.state,
        "unit_name": task.unit.name, "unit_code": task.unit.code,
        "pi_name": " ".join(task.pi.name.split()), "pi_title": task.pi.title or "",
        "pi_email": task.pi.email,
    }


def deadline_context(wf: Workflow | None, row: DeadlineFacts | None, facts: Mapping[str, Any],
                     lang: str) -> dict[str, Any] | None:
    state = facts.get("state") or (row.state if row else None)
    due = facts.get("due_on") or (row.due_on.isoformat() if row else None)
    if state is None or due is None:
        return None
    state_def = wf.states.get(state) if wf else None
    rule = state_def.deadline if state_def else None
    label = wf.deadline_label(state, lang) if wf else state
    return {
        "due_on": dt.date.fromisoformat(str(due)[:10]), "label": label, "state": state,
        # "trước ngày" or "chậm nhất ngày", as the rule the deadline was opened with says (an
        # obligation's own rule, "six_month_report before 05/07", over its workflow's).
        "before": ("before" in row.rule.split()) if row is not None and row.state == state
        else (rule.before is not None) if rule else True,
        "days_before": facts.get("days_before"), "days_overdue": facts.get("days_overdue"),
        "grace_until": (dt.date.fromisoformat(str(facts["grace_until"])[:10])
                        if facts.get("grace_until") else None),
    }


def obligation_context(row: Mapping[str, Any] | None, catalog: Catalog, lang: str,
                       title: str | None = None) -> dict[str, Any] | None:
    """The calendar obligation a `unit_report` task stands for. In Vietnamese it is named as
    the province configured its task ("Báo cáo sơ kết 6 tháng đầu năm 2025", as the plan writes
    it), the same name in the subject, the text and the facts; its month is added only when
    that name does not give it. Else (English, or no title) by the catalog's word for it."""
    if row is None:
        return None
    key = str(row.get("key"))
    due = row.get("due_on")
    period = _period(row.get("period"), lang)
    label = _word(catalog, "obligations", key, lang)
    if lang == "vi" and title and title.strip():
        label = lower_first(title)
        month = row.get("period")
        if period is not None and re.search(rf"tháng\s*0?{month}\b", title, re.IGNORECASE):
            period = None
    return {"key": key, "label": label, "period": period, "topics": None,
            "year": row.get("year"), "due_on": due if isinstance(due, dt.date) else None}


def topic_context(line: TopicLine, catalog: Catalog, lang: str) -> dict[str, Any]:
    """One topic of a unit report: while it awaits its result, the state it is in (and by
    when); else the step that is its result, on its day, with the decision and grade."""
    return {"id": line.id, "title": line.title, "pi_name": line.pi_name,
            "noun": _word(catalog, "nouns", line.level, lang),
            "awaiting": line.awaiting, "reached": line.reached,
            "result": line.result_label(lang), "on": line.on, "due_on": line.due_on,
            "decision_no": line.decision_no, "grade": line.grade}


def _period(period: Any, lang: str) -> str | None:
    """The scheduler stores 0 for a yearly obligation, else the month (1–12)."""
    if period in (None, "", 0, "0"):
        return None
    try:
        month = int(period)
    except (TypeError, ValueError):
        return str(period)
    if not 1 <= month <= 12:
        return str(period)
    if lang == "en":
        return EN_MONTHS[month - 1]
    return f"tháng {month:02d}" if month <= 2 else f"tháng {month}"


def field_value(value: Any, kind: str | None, lang: str) -> str:
    """An event's field as people read it: a date (stored as ISO text in the event's payload)
    as dd/mm/yyyy, or "31 December 2026" in English; anything else on one line."""
    if kind == "date" or isinstance(value, dt.date):
        try:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return " ".join(str(value).split())
        return en_date(day) if lang == "en" else vi_short_date(day)
    return " ".join(str(value).split())


_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# The reason `engine.rules` records for an automatic step (a suspension after long overdue).
_AUTOMATIC = re.compile(r"^automatic: (\d+) days overdue since (\d{4}-\d{2}-\d{2})$")


def reason_text(reason: Any, lang: str) -> str | None:
    """A transition's reason as people read it: the engine's own words for an automatic step
    in the mail's language, and an ISO date someone typed as dd/mm/yyyy."""
    text = " ".join(str(reason or "").split())
    if not text:
        return None
    auto = _AUTOMATIC.match(text)
    if auto is not None:
        days, since = int(auto.group(1)), field_value(auto.group(2), "date", lang)
        if lang == "en":
            return f"automatic: {days} day{'' if days == 1 else 's'} overdue since {since}"
        return f"quá hạn {days} ngày kể từ {since}"
    return _ISO_DATE.sub(lambda m: field_value(m.group(0), "date", lang), text)


def event_context(wf: Workflow, facts: Mapping[str, Any], lang: str,
                  tz: dt.tzinfo) -> dict[str, Any]:
    name = str(facts["event"])
    ev = wf.events.get(name)
    data = facts.get("data") or {}
    fields = []
    for key, value in data.items():
        spec = ev.field(key) if ev else None
        label = spec.label.get(lang) if spec and spec.label else key
        fields.append({"label": label, "value": field_value(value, spec.type if spec else None,
                                                             lang)})
    at = dt.datetime.fromisoformat(str(facts["effective_at"]))
    return {"name": name, "label": ev.labels.get(lang) if ev else name,
            "reason": reason_text(facts.get("reason"), lang),
            "actor": facts.get("actor"), "actor_role": facts.get("actor_role"),
            "effective_on": at.astimezone(tz).date(), "fields": fields}


def build_context(subject: Subject, *, kind: str, lang: str, facts: Mapping[str, Any],
                  recipients: Mapping[str, Any], cfg: MailConfig, catalog: Catalog,
                  today: dt.date, tz: dt.tzinfo) -> dict[str, Any]:
    ctx = empty_context(cfg, kind, lang, today)
    # A unit's plan for the year goes to the Planning and Finance office when so routed: its
    # mails say so ("gửi về Sở Y tế (qua Phòng Kế hoạch – Tài chính)"). A mail of no task (a
    # digest, a report) is the default office's.
    ctx["office"] = dict(office_of(cfg, subject))
    ctx["to"], ctx["cc"] = list(recipients["to"]), list(recipients["cc"])
    task, wf = subject.task, subject.workflow
    if task is not None and wf is not None:
        ctx["task"] = task_context(task, wf, catalog, lang)
        ctx["obligation"] = obligation_context(subject.obligation, catalog, lang, task.title)
        if ctx["obligation"] is not None and subject.topics is not None:
            ctx["obligation"]["topics"] = [topic_context(t, catalog, lang)
                                           for t in subject.topics]
        if ctx["obligation"] is None and kind.startswith("obligation_"):
            # A `unit_report` task whose obligation row is gone: its title says what it is.
            ctx["obligation"] = {"key": "", "label": lower_first(task.title), "period": None,
                                 "year": task.year, "due_on": None, "topics": None}
        # A mail planned with its deadline (a timer's, or a registration's as it stood that
        # day) says that one; others say the deadline open when they are written.
        ctx["deadline"] = deadline_context(wf, subject.deadline, facts if (
            facts.get("deadline_id") or facts.get("due_on")) else {}, lang)
        if ctx["deadline"] is not None:
            # Counted on the day the mail is written, not the day it was planned for: a
            # reminder held over a weekend or a downtime must not say "3 days left" when it
            # is 1, or when the date has passed.
            ctx["deadline"]["days_left"] = (ctx["deadline"]["due_on"] - today).days
        if facts.get("event"):
            ctx["event"] = event_context(wf, facts, lang, tz)
    if subject.unit is not None:
        ctx["unit"] = {"code": subject.unit.code, "name": subject.unit.name}
    for key in ("digest", "report", "quota", "session"):
        if facts.get(key) is not None:
            ctx[key] = _dates(facts[key])
    if facts.get("council") is not None:
        ctx["council"] = council_context(facts["council"], lang)
    return ctx


def council_context(council: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A council member's notice: its facts with dates as dates and the words of the stage and
    the role in the mail's language."""
    out: dict[str, Any] = _dates(dict(council))
    stage, role = LABELS["stage"].get(str(out.get("stage"))), LABELS["role"].get(
        str(out.get("role")))
    out["stage_label"] = stage[lang] if stage else str(out.get("stage"))
    out["role_label"] = role[lang] if role else str(out.get("role"))
    return out


def _dates(value: Any) -> Any:
    """JSON brought dates back as ISO strings: turn keys ending in `_on`/`period_*` into dates."""
    if isinstance(value, Mapping):
        return {k: (dt.date.fromisoformat(v) if isinstance(v, str) and
                    (k.endswith("_on") or k in ("period_start", "period_end")) else _dates(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return value


def _jsonable_recipients(recipients: Mapping[str, Any]) -> dict[str, Any]:
    return {"to": [dict(r) for r in recipients["to"]], "cc": [dict(r) for r in recipients["cc"]]}
