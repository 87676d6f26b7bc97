"""Councils, acceptance outcomes and recognition (hội đồng, kết quả nghiệm thu, công nhận) — the
rules.

A research task's outline review and its acceptance each have a council, established by a
decision (number, day), whose members are registered people with a role: one chair (chủ tịch),
one secretary (thư ký), reviewers (phản biện) and members (ủy viên). The acceptance council's
outcome is one of: passed with a grade (xuất sắc / khá / đạt), passed with revisions, failed;
with an optional score and minutes file. Recording it fires the workflow's own event through
`Engine.fire`'s path (one authority on what may happen when, and who may do it): a pass or a pass
with revisions fires the `accepted` milestone's event (`accept`) carrying the grade, a fail the
failing event the task's state allows (`fail_acceptance` from in progress, `fail_reevaluation`
after an earlier fail). Recognition (công nhận) by the Sở or the sector council is a record of
its own, guarded by the task's history: only a task that reached `accepted` is recognised, once.

Rules, each refused in one line with the database unchanged:
- the task exists and is a research task (a report obligation has no council);
- a council is set while its stage's events may fire from the task's state; its decision number
  is one line, its day real and not after today; its meeting day, if given, real and not before
  the decision; members are `email:role`, each a registered, active person, once, never the
  task's own investigator; exactly one chair and one secretary;
- an outcome needs the acceptance council awaiting it; `passed` needs a grade, `failed` takes
  none; a score is 0–100; the meeting day is not after today nor before the council's decision;
- a recognition follows the acceptance (exit 2 before it), once per task, dated not after today
  nor before the acceptance;
- with a person recording (`--as` on `council set` and `task recognise`): the office, or the
  head of the task's unit (the unit's head signs a unit-level council's decision).

Each member of a council just set is told, in their daily letter, what to review and by when
(`notices`, queued in the same transaction: the council and its notices commit together).

Pure where it can be: the parsing and checks on values take no session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.directory import find_person
from engine.directory_log import Operator
from notifications.plan import MailPlan
from storage import councils as rows
from storage import directory as people
from storage import mailfacts, submissions
from storage.councils import Council, CouncilMember, CouncilOutcome, Recognition
from storage.db import Session
from storage.models import Person, Task
from storage.webmodels import StoredFile
from workflows import inputs
from workflows.councilterms import LABELS
from workflows.dates import shown
from workflows.effects import Mail
from workflows.errors import Conflict, InvalidData, NotAllowed, NotFound
from workflows.model import RESEARCH_LEVELS, Workflow

DECISION_LIMIT = 100
ACCEPTED = "accepted"  # the milestone an acceptance reaches; recognition follows it
# Which events each stage's council decides, by name in the packaged workflows; the outcome's
# event is taken from these, and the engine decides whether it may fire now.
STAGE_EVENTS = {"outline": ("approve_outline", "request_revision", "reject"),
                "acceptance": ("accept", "fail_acceptance", "fail_reevaluation")}
RESULT_EVENTS = {"passed": ("accept",), "revise": ("accept",),
                 "failed": ("fail_acceptance", "fail_reevaluation")}

# What people type (Vietnamese without diacritics, or English) -> the stored value.
ROLE_NAMES = {"chair": "chair", "chu-tich": "chair", "secretary": "secretary",
              "thu-ky": "secretary", "reviewer": "reviewer", "phan-bien": "reviewer",
              "member": "member", "uy-vien": "member"}
GRADE_NAMES = {"xuat-sac": "excellent", "excellent": "excellent", "kha": "good",
               "good": "good", "dat": "pass", "pass": "pass"}
RESULT_NAMES = {"passed": "passed", "dat": "passed", "revise": "revise",
                "failed": "failed", "khong-dat": "failed"}
ISSUER_NAMES = {"so": "department", "department": "department", "hoi-dong": "sector_council",
                "sector-council": "sector_council"}
STAGE_NAMES = {"acceptance": "acceptance", "nghiem-thu": "acceptance", "outline": "outline",
               "de-cuong": "outline"}

@dataclass(frozen=True)
class MemberInput:
    email: str
    role: str


@dataclass(frozen=True)
class CouncilInput:
    task_id: int
    decision_no: str
    decided_on: dt.date
    members: tuple[MemberInput, ...]
    stage: str = "acceptance"
    meeting_on: dt.date | None = None  # the day it meets: what its members review by


@dataclass(frozen=True)
class OutcomeInput:
    task_id: int
    result: str
    grade: str | None = None
    score: str | None = None
    held_on: dt.date | None = None  # the meeting; default today
    reason: str | None = None  # a fail's reasons; default: the council's verdict


@dataclass(frozen=True)
class RecognitionInput:
    task_id: int
    decision_no: str
    decided_on: dt.date
    issuer: str = "department"


@dataclass(frozen=True)
class OutcomePlan:
    """What recording an outcome will do: the event to fire with its data and reason, and the
    row to write once the event's history entry exists."""

    council_id: int
    event: str
    data: dict[str, str]
    reason: str | None
    result: str
    grade: str | None
    score: float | None
    held_on: dt.date


def _name(table: dict[str, str], text: str, what: str, field: str) -> str:
    key = text.strip().lower().replace("_", "-")
    if key not in table:
        choices = ", ".join(table)
        raise InvalidData(f"{what} '{inputs.printable(text)[:40]}': expected one of {choices}",
                          field=field)
    return table[key]


def parse_member(text: str) -> MemberInput:
    """`email:role` as typed on the command line (`--member a@b.vn:chu-tich`)."""
    email, sep, role = text.rpartition(":")
    if not sep or not email.strip():
        raise InvalidData(f"--member '{inputs.printable(text)[:80]}': expected EMAIL:ROLE",
                          field="members")
    return MemberInput(email.strip(), _name(ROLE_NAMES, role, "member role", "members"))


def check_members(members: Sequence[MemberInput]) -> None:
    """One chair, one secretary, each person once (pure: who they are is checked later)."""
    seen: set[str] = set()
    for m in members:
        if m.role not in LABELS["role"]:
            raise InvalidData(f"member role '{inputs.printable(m.role)[:40]}': expected one of "
                              f"{', '.join(LABELS['role'])}", field="members")
        key = m.email.strip().lower()
        if key in seen:
            raise InvalidData(f"member {inputs.printable(m.email)} is named twice",
                              field="members")
        seen.add(key)
    for role in ("chair", "secretary"):
        count = sum(m.role == role for m in members)
        if count != 1:
            raise InvalidData(f"a council has exactly one {role} "
                              f"({LABELS['role'][role]['vi'].lower()}); {count} given",
                              field="members")


def check_day(day: dt.date, what: str, today: dt.date, field: str) -> dt.date:
    inputs.check_date(day, what, shown=shown(day), field=field)
    if day > today:
        raise InvalidData(f"{what} {shown(day)} is in the future (today is {shown(today)})",
                          field=field)
    return day


def check_outcome(data: OutcomeInput) -> tuple[str, str | None, float | None]:
    """(result, grade, score) as stored. Pure."""
    result = _name(RESULT_NAMES, data.result, "result", "result")
    grade = _name(GRADE_NAMES, data.grade, "grade", "grade") if data.grade else None
    if result == "failed" and grade is not None:
        raise InvalidData("a failed acceptance has no grade: leave out --grade", field="grade")
    if result == "passed" and grade is None:
        raise InvalidData("a passed acceptance needs its grade: xuat-sac, kha or dat",
                          field="grade")
    score = None
    if data.score is not None and data.score.strip():
        text = data.score.strip().replace(",", ".")
        try:
            score = float(text)
        except ValueError:
            score = -1.0
        if not 0 <= score <= 100 or text.lower() in ("nan", "inf"):
            raise InvalidData(f"score '{inputs.printable(data.score)[:20]}': expected a number "
                              "0–100", field="score")
    return result, grade, score


def choose_event(wf: Workflow, state: str, result: str) -> str:
    """The event a result fires: the first of its candidates the workflow has and the state
    allows; else the first the workflow has (firing it gives the engine's own refusal)."""
    known = [name for name in RESULT_EVENTS[result] if name in wf.events]
    if not known:
        raise InvalidData(f"workflow {wf.name} has no event for the result '{result}'")
    return next((n for n in known if state in wf.events[n].sources), known[0])


def decision_no(text: str, what: str = "decision number") -> str:
    return inputs.clean_text(text, what, limit=DECISION_LIMIT, field="decision_no")


# --- with the database ---------------------------------------------------------------------
def research_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, inputs.check_id("task", task_id))
    if task is None:
        raise NotFound("task", task_id)
    if task.level not in RESEARCH_LEVELS:
        raise InvalidData(f"task {task_id} is a report obligation, not a research task: it has "
                          "no council")
    return task


def check_recorder(session: Session, operator: Operator, task: Task) -> None:
    """The office, or the head of the task's unit, when a person is named."""
    if not operator.acting_as:
        return
    person = find_person(session, operator.acting_as)
    if not person.active:
        raise NotAllowed(f"{person.email} is inactive")
    if person.role != "office" and not (person.role == "unit_head"
                                        and person.unit_id == task.unit_id):
        raise NotAllowed(f"{person.email} is neither of the office nor the head of unit "
                         f"{task.unit.code}: they may not record task {task.id}'s council "
                         "or recognition")


def _member(session: Session, m: MemberInput, task: Task) -> Person:
    key = inputs.lookup_key(m.email)
    person = people.person_by_email(session, key) if key is not None else None
    if person is None:
        raise InvalidData(f"member {inputs.printable(m.email)[:80]} is not a registered person: "
                          "register them in the directory first", field="members")
    if not person.active:
        raise InvalidData(f"member {person.email} is inactive", field="members")
    if person.id == task.pi_id:
        raise NotAllowed(f"{person.email} leads task {task.id} and may not sit on its council")
    return person


def set_council(session: Session, wf: Workflow, data: CouncilInput, *, today: dt.date,
                now: dt.datetime, operator: Operator) -> Council:
    stage = _name(STAGE_NAMES, data.stage, "stage", "stage")
    task = research_task(session, data.task_id)
    number = decision_no(data.decision_no)
    day = check_day(data.decided_on, "decision date", today, "decided_on")
    if not data.members:
        raise InvalidData("name the council's members (--member EMAIL:ROLE)", field="members")
    meeting = data.meeting_on
    if meeting is not None:
        inputs.check_date(meeting, "meeting date", shown=shown(meeting), field="meeting_on")
        if meeting < day:
            raise InvalidData(f"meeting date {shown(meeting)} is before the council's decision "
                              f"({shown(day)})", field="meeting_on")
    check_members(data.members)
    seated = [(_member(session, m, task), m.role) for m in data.members]
    check_recorder(session, operator, task)
    sources = {s for name in STAGE_EVENTS[stage] if name in wf.events
               for s in wf.events[name].sources}
    if task.state not in sources:
        raise InvalidData(f"task {task.id} is '{task.state}': its "
                          f"{LABELS['stage'][stage]['en'].lower()} is set while it is "
                          f"{' or '.join(sorted(sources)) or 'never'}", field="stage")
    rows.lock_task(session, task.id)
    council = rows.awaiting(session, task.id, stage) or Council(task_id=task.id, stage=stage)
    council.decision_no, council.decided_on, council.meeting_on = number, day, meeting
    council.recorded_at, council.recorded_by = now, operator.login[:320]
    council.acting_as = operator.acting_as
    members = [CouncilMember(person_id=p.id, role=role) for p, role in seated]
    return rows.save_council(session, council, members)


def notices(session: Session, plan: MailPlan, council: Council) -> tuple[Mail, ...]:
    """Each member's notice of a council just set: the task, their role, the decision, what to
    review (the task's latest document on file, if any) and by when — the meeting day, else
    the task's deadline open now, else (neither) the meeting the office will announce."""
    review_on: dt.date | None = council.meeting_on
    review_from: str | None = "meeting"
    if review_on is None:
        open_deadline = mailfacts.open_deadline_facts(session.connection(), council.task_id)
        review_on = open_deadline.due_on if open_deadline is not None else None
        review_from = "deadline" if open_deadline is not None else None
    on_file = [(sub, f) for sub, f, _, _ in submissions.of_task(session, council.task_id)
               if f is not None]
    documents = [{"name": f.name, "doc_number": sub.doc_number, "dated_on": sub.doc_date}
                 for sub, f in on_file[-1:]]
    return tuple(plan.council_appointed(council.task_id, council.id, m.person_id, {
        "id": council.id, "stage": council.stage, "role": m.role,
        "decision_no": council.decision_no, "decided_on": council.decided_on,
        "meeting_on": council.meeting_on, "review_on": review_on, "review_from": review_from,
        "documents": documents}, m.person.email) for m in council.members)


def plan_outcome(session: Session, wf: Workflow, data: OutcomeInput, *,
                 today: dt.date) -> OutcomePlan:
    result, grade, score = check_outcome(data)
    task = research_task(session, data.task_id)
    council = rows.awaiting(session, task.id, "acceptance")
    if council is None:
        raise InvalidData(f"task {task.id} has no acceptance council awaiting its outcome: set "
                          "the council (its decision and members) first", field="council")
    held = check_day(data.held_on or today, "meeting date", today, "held_on")
    if held < council.decided_on:
        raise InvalidData(f"meeting date {shown(held)} is before the council's decision "
                          f"({shown(council.decided_on)})", field="held_on")
    event = choose_event(wf, task.state, result)
    verdict = (f"Hội đồng nghiệm thu (QĐ số {council.decision_no} ngày "
               f"{shown(council.decided_on)}), họp ngày {shown(held)}: "
               f"{LABELS['result'][result]['vi']}")
    fields: dict[str, str] = {}
    spec = wf.events[event]
    if spec.field("decision_no") is not None:
        fields["decision_no"] = council.decision_no
    if grade is not None and spec.field("grade") is not None:
        fields["grade"] = LABELS["grade"][grade]["vi"]
    reason = inputs.optional_text(data.reason, "reason", limit=inputs.LIMITS["reason"],
                                  multiline=True)
    if reason is None and (result != "passed" or spec.reason == "required"):
        reason = verdict
    return OutcomePlan(council.id, event, fields, reason, result, grade, score, held)


def write_outcome(session: Session, plan: OutcomePlan, *, task_id: int, history_id: int,
                  now: dt.datetime, operator: Operator, minutes: StoredFile | None) -> None:
    if minutes is not None:
        rows.add(session, minutes)
    rows.add(session, CouncilOutcome(
        council_id=plan.council_id, task_id=task_id, history_id=history_id, result=plan.result,
        grade=plan.grade, score=plan.score, held_on=plan.held_on,
        minutes_file_id=minutes.id if minutes else None, recorded_at=now,
        recorded_by=operator.login[:320], acting_as=operator.acting_as))


def accepted_on(wf: Workflow, task: Task, tz: dt.tzinfo) -> dt.date | None:
    """The day the task was last accepted (its history's `accepted` milestone), or None."""
    event = wf.milestone_event(ACCEPTED)
    days = [h.effective_at.astimezone(tz).date() for h in task.history
            if event is not None and h.event == event.name]
    return days[-1] if days else None


def recognise(session: Session, wf: Workflow, data: RecognitionInput, *, today: dt.date,
              now: dt.datetime, tz: dt.tzinfo, operator: Operator) -> Recognition:
    task = research_task(session, data.task_id)
    number = decision_no(data.decision_no)
    issuer = _name(ISSUER_NAMES, data.issuer, "issuer", "issuer")
    day = check_day(data.decided_on, "recognition date", today, "decided_on")
    accepted = accepted_on(wf, task, tz)
    if accepted is None:
        raise InvalidData(f"task {task.id} is not accepted yet ('{task.state}'): a recognition "
                          "(công nhận) follows the acceptance (nghiệm thu)", field="task")
    if day < accepted:
        raise InvalidData(f"recognition date {shown(day)} is before the acceptance "
                          f"({shown(accepted)})", field="decided_on")
    check_recorder(session, operator, task)
    found = rows.recognition_of(session, task.id)
    if found is not None:
        raise Conflict(f"task {task.id} is already recognised (decision {found.decision_no} "
                       f"of {shown(found.decided_on)})")
    row = Recognition(task_id=task.id, issuer=issuer, decision_no=number, decided_on=day,
                      recorded_at=now, recorded_by=operator.login[:320],
                      acting_as=operator.acting_as)
    rows.add(session, row)
    return row


def detail(session: Session, task_id: int, lang: str = "vi") -> dict[str, Any]:
    """The task's councils (each with its members and outcome) and its recognition, as the CLI,
    the web page and `--json` show them."""
    def label(kind: str, key: str | None) -> str | None:
        return LABELS[kind][key].get(lang) if key is not None else None

    outcomes = {o.council_id: o for o in rows.outcomes_of(session, task_id)}
    councils = []
    for c in rows.councils_of(session, task_id):
        o = outcomes.get(c.id)
        councils.append({
            "id": c.id, "stage": c.stage, "stage_label": label("stage", c.stage),
            "decision_no": c.decision_no, "decided_on": shown(c.decided_on),
            "members": [{"name": m.person.name, "email": m.person.email, "role": m.role,
                         "role_label": label("role", m.role)} for m in c.members],
            "outcome": None if o is None else {
                "result": o.result, "result_label": label("result", o.result),
                "grade": o.grade, "grade_label": label("grade", o.grade), "score": o.score,
                "score_text": None if o.score is None else f"{o.score:g}".replace(".", ","),
                "held_on": shown(o.held_on), "event": o.history.event,
                "minutes": None if o.minutes is None else {"id": o.minutes.id,
                                                           "name": o.minutes.name}},
        })
    r = rows.recognition_of(session, task_id)
    return {"councils": councils, "recognition": None if r is None else {
        "decision_no": r.decision_no, "decided_on": shown(r.decided_on), "issuer": r.issuer,
        "issuer_label": label("issuer", r.issuer)},
        "labels": {k: v.get(lang) for k, v in LABELS["word"].items()}}


def lines(d: dict[str, Any]) -> list[str]:
    """The councils and recognition as the CLI's `task show` prints them (Vietnamese)."""
    out = []
    for c in d["councils"]:
        out.append(f"{c['stage_label']}: QĐ số {c['decision_no']} ngày {c['decided_on']}")
        out += [f"  {m['role_label']}: {m['name']} <{m['email']}>" for m in c["members"]]
        o = c["outcome"]
        if o is not None:
            extra = "".join((f", xếp loại {o['grade_label']}" if o["grade"] else "",
                             f", điểm {o['score_text']}" if o["score"] is not None else "",
                             f", biên bản {o['minutes']['name']}" if o["minutes"] else ""))
            out.append(f"  kết quả ngày {o['held_on']}: {o['result_label']}{extra} "
                       f"({o['event']})")
    r = d["recognition"]
    if r is not None:
        out.append(f"Công nhận: {r['issuer_label']}, QĐ số {r['decision_no']} ngày "
                   f"{r['decided_on']}")
    return out
