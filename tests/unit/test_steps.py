"""What every event does from every state of every workflow, as values, without a database.

`engine.rules` returns the whole effect of a step: the new state, the history entry, the deadline
closed (its timers cancelled with it) and the one opened with its timers, and the e-mails. The
first tests write a step out in full by hand; the sweep after them checks every (state, event)
pair of every packaged workflow: an event that cannot fire raises and yields nothing, one that
can yields exactly what its definition and the timer ladder say.
"""

from __future__ import annotations

import datetime as dt

import pytest

from engine.rules import Rules
from notifications.catalog import load_catalog
from notifications.plan import MailPlan
from workflows.calendar import BusinessCalendar
from workflows.clock import DEFAULT_TZ
from workflows.decide import SYSTEM, Actor, TaskView
from workflows.effects import (
    NEW_TASK,
    CloseDeadline,
    DueTimer,
    Firing,
    History,
    Mail,
    OpenDeadline,
    Step,
)
from workflows.errors import InvalidTransition, NotAllowed
from workflows.registry import Registry
from workflows.timerplan import PlannedTimer, Planner

CAL = BusinessCalendar()
RULES = Rules(DEFAULT_TZ, CAL, Planner(CAL, dt.time(8), DEFAULT_TZ), MailPlan(load_catalog()))
REGISTRY = Registry()
NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=DEFAULT_TZ)  # a Monday
OFFICE = Actor(id=1, email="nghiepvuy@syt.example.vn", role="office", unit_id=None)
HEAD = Actor(id=2, email="giamdoc@bvdk.example.vn", role="unit_head", unit_id=10,
             unit_code="BVDK")
PI = Actor(id=3, email="pi@bvdk.example.vn", role="pi", unit_id=10, unit_code="BVDK")
COUNCIL = Actor(id=4, email="hoidong@syt.example.vn", role="council", unit_id=None)


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=DEFAULT_TZ)


def view(state: str, *, deadline: tuple[int, str, dt.date] | None = None,
         last_seq: int = 1, version: int = 1, level: str = "unit") -> TaskView:
    return TaskView(id=7, state=state, unit_id=10, unit_code="BVDK", pi_id=PI.id or 0,
                    year=2025, open_due_on=deadline[2] if deadline else None,
                    last_effective_at=NOW - dt.timedelta(days=30), version=version,
                    state_entered_at=NOW - dt.timedelta(days=30),
                    open_deadline_id=deadline[0] if deadline else None,
                    open_deadline_state=deadline[1] if deadline else None,
                    last_seq=last_seq, level=level)


# --- steps written out in full ------------------------------------------------------------------
def test_approve_outline_closes_the_review_deadline_opens_work_to_start_and_mails_the_pi() -> None:
    wf = REGISTRY.get("unit_task")
    step = RULES.transition(wf, view("proposed", deadline=(41, "proposed", dt.date(2025, 4, 30))),
                            "approve_outline", COUNCIL, reason=None,
                            data={"decision_no": "15/QĐ-BVĐK"}, at=NOW, now=NOW)
    due = dt.date(2025, 4, 2)  # within 30 days of 3/3
    assert step == Step(
        task_id=7, seen_version=1, to_state="outline_approved", state_entered_at=NOW,
        history=History(2, "approve_outline", "proposed", "outline_approved", COUNCIL.id,
                        COUNCIL.email, "council", None, {"decision_no": "15/QĐ-BVĐK"}, NOW, NOW),
        close=CloseDeadline(41, "proposed", "on_time"),
        open=OpenDeadline("outline_approved", due, "within 30d", due, (
            PlannedTimer("reminder", 14, 0, dt.date(2025, 3, 19), at(dt.date(2025, 3, 19)),
                         days=14),
            PlannedTimer("reminder", 3, 0, dt.date(2025, 3, 28), at(dt.date(2025, 3, 28)),
                         days=3),
            PlannedTimer("deadline", 0, 0, dt.date(2025, 4, 3), at(dt.date(2025, 4, 3))),
            # The head a week after the date, and weekly three more times (the last on 30/4, a
            # holiday, moves to 5/5); the office once, the same day, in its digest.
            PlannedTimer("escalation", 0, 0, dt.date(2025, 4, 9), at(dt.date(2025, 4, 9)),
                         days=7, to_role="unit_head", repeat_every=7,
                         repeat_until=dt.date(2025, 5, 5)),
            PlannedTimer("escalation", 1, 0, dt.date(2025, 4, 9), at(dt.date(2025, 4, 9)),
                         days=7, to_role="office"))),
        mails=(Mail("outline_approved", "transition:7:2", 7, {
            "event": "approve_outline", "from_state": "proposed", "to_state": "outline_approved",
            "actor": COUNCIL.email, "actor_role": "council", "reason": None,
            "data": {"decision_no": "15/QĐ-BVĐK"}, "effective_at": NOW}),))


def test_an_extension_closes_the_deadline_as_extended_and_opens_the_new_date_in_place() -> None:
    wf = REGISTRY.get("unit_task")
    step = RULES.transition(
        wf, view("in_progress", deadline=(50, "in_progress", dt.date(2025, 12, 1)), last_seq=4),
        "extend", HEAD, reason="Bổ sung cỡ mẫu", data={"until": "2026-03-31"}, at=NOW, now=NOW)
    assert (step.to_state, step.history.seq, step.close) == (
        "in_progress", 5, CloseDeadline(50, "in_progress", "extended"))
    assert step.state_entered_at == NOW - dt.timedelta(days=30)  # the same state goes on
    assert step.open is not None
    assert (step.open.due_on, step.open.rule) == (dt.date(2026, 3, 31), "extend to 2026-03-31")
    # unit_task v6: one reminder two weeks ahead; past it the head once, the office's digest.
    assert [t.kind for t in step.open.timers] == [
        "reminder", "deadline", "escalation", "escalation"]
    assert [m.kind for m in step.mails] == ["extended"]


def test_a_new_task_opens_its_review_deadline_and_mails_its_registration() -> None:
    wf = REGISTRY.get("unit_task")
    reg = RULES.register(wf, unit_id=10, pi_id=3, year=2025, topic=2, title="Đề tài",
                         actor=HEAD, creator="admin", now=NOW)
    assert (reg.state, reg.history.event, reg.history.actor, reg.history.actor_role) == (
        "proposed", "create", HEAD.email, "unit_head")
    assert reg.open is not None and reg.open.due_on == dt.date(2025, 4, 30)
    assert reg.open.legal_end == dt.date(2025, 5, 5)  # 30/4–4/5 are days off (art. 148)
    assert reg.mails == (Mail("task_registered", f"registered:{NEW_TASK}", None, {
        "state": "proposed", "due_on": dt.date(2025, 4, 30), "grace_until": None}),)


def test_an_obligation_is_requested_and_its_late_notice_goes_to_the_unit() -> None:
    wf = REGISTRY.get("unit_report")
    reg = RULES.register(wf, unit_id=10, pi_id=2, year=2025, topic=None, title="Kế hoạch",
                         actor=None, creator="system", now=NOW, due_on=dt.date(2025, 3, 31),
                         rule="unit_plan before 31/03")
    assert [m.kind for m in reg.mails] == ["obligation_requested"]
    assert reg.open is not None and reg.open.rule == "unit_plan before 31/03"
    due = DueTimer(90, 7, 41, "requested", "deadline", 0, 0, dt.date(2025, 3, 31),
                   dt.date(2025, 3, 31), 0, None, None, None, None, "requested", "obligation",
                   None)
    assert RULES.fire_timer(due, at(dt.date(2025, 4, 1))).mails[0].kind == "obligation_overdue"


# --- timers -------------------------------------------------------------------------------------
def due_timer(kind: str, **kw: object) -> DueTimer:
    values: dict[str, object] = dict(
        id=90, task_id=7, deadline_id=41, state="in_progress", kind=kind, slot=1, occurrence=0,
        due_on=dt.date(2025, 12, 1), legal_end=dt.date(2025, 12, 1), days=7, to_role="office",
        repeat_every=7, event=None, repeat_until=dt.date(2025, 12, 31),
        task_state="in_progress", task_level="unit", deadline_outcome=None)
    values.update(kw)
    return DueTimer(**values)  # type: ignore[arg-type]


def test_a_repeating_escalation_mails_the_office_and_plans_its_next_occurrence() -> None:
    firing = RULES.fire_timer(due_timer("escalation"), at(dt.date(2025, 12, 8)))
    assert firing.outcome == "fired"
    assert [(m.kind, m.dedupe_key) for m in firing.mails] == [
        ("escalation_office", "escalated:90:2:7")]
    assert firing.next == PlannedTimer("escalation", 1, 1, dt.date(2025, 12, 15),
                                       at(dt.date(2025, 12, 15)), days=7, to_role="office",
                                       repeat_every=7, repeat_until=dt.date(2025, 12, 31))


@pytest.mark.parametrize(("change", "reason"), [
    ({"deadline_outcome": "on_time"}, "deadline closed (on_time) before the timer fired"),
    ({"task_state": "accepted"}, "task is in accepted, no longer in in_progress"),
])
def test_a_timer_whose_deadline_closed_or_task_moved_on_is_skipped_with_its_reason(
        change: dict[str, str], reason: str) -> None:
    assert RULES.fire_timer(due_timer("reminder", **change), NOW) == Firing(90, "skipped",
                                                                            reason)


def test_the_automatic_suspension_is_the_systems_step_or_a_skip_when_refused() -> None:
    wf = REGISTRY.get("unit_task")
    firing = RULES.fire_timer(due_timer("auto_event", event="suspend", days=90), NOW)
    assert firing.auto_event == "suspend"
    step = RULES.auto_step(wf, view("in_progress", deadline=(50, "in_progress",
                                                             dt.date(2025, 12, 1))), firing, NOW)
    assert isinstance(step, Step) and step.to_state == "suspended"
    assert (step.history.actor, step.history.actor_role) == ("system", "system")
    refused = RULES.auto_step(wf, view("accepted"), firing, NOW)
    assert isinstance(refused, Firing) and refused.outcome == "skipped"
    assert refused.reason and refused.reason.startswith("automatic event refused: task 7")


# --- the sweep: every (state, event) pair of every workflow ------------------------------------
def actor_for(roles: frozenset[str]) -> Actor:
    for role, actor in (("office", OFFICE), ("council", COUNCIL), ("unit_head", HEAD),
                        ("pi", PI), ("system", SYSTEM)):
        if role in roles:
            return actor
    raise AssertionError(roles)


def data_for(wf_name: str, event: str) -> dict[str, str]:
    ev = REGISTRY.get(wf_name).events[event]
    data = {f.name: ("2026-06-30" if f.type == "date" else
                     "https://bvdk.example.vn/kq" if f.type == "url" else "1")
            for f in ev.fields if f.required}
    for group in ev.one_of:
        data.setdefault(group[0], "https://bvdk.example.vn/kq")
    return data


PAIRS = [(name, state, event) for name in REGISTRY.names()
         for state in REGISTRY.get(name).states for event in REGISTRY.get(name).events]


@pytest.mark.parametrize(("workflow", "state", "event"), PAIRS)
def test_every_event_from_every_state_does_what_its_definition_says(
        workflow: str, state: str, event: str) -> None:
    wf = REGISTRY.get(workflow)
    ev = wf.events[event]
    deadline = (41, state, dt.date(2025, 4, 30)) if wf.states[state].deadline else None
    task = view(state, deadline=deadline, last_seq=3, version=4, level=wf.level)
    actor = actor_for(ev.roles - set(ev.not_by)) if ev.roles - set(ev.not_by) else SYSTEM

    def step() -> Step:
        return RULES.transition(wf, task, event, actor, reason="Lý do", data=data_for(
            workflow, event), at=NOW, now=NOW)

    if state not in ev.sources:
        with pytest.raises(InvalidTransition):
            step()
        return
    if actor is SYSTEM and "system" not in ev.roles:
        with pytest.raises(NotAllowed):
            step()
        return
    s = step()
    assert (s.task_id, s.seen_version, s.to_state) == (7, 4, ev.dest)
    assert (s.history.seq, s.history.event, s.history.from_state, s.history.to_state) == (
        4, event, state, ev.dest)
    assert s.history.actor == actor.email and s.history.recorded_at == NOW
    # a request (keeps_deadline) neither closes the open deadline nor opens one
    assert (s.close is not None) == (deadline is not None and not ev.keeps_deadline)
    dest = wf.states[ev.dest]
    opens = not ev.keeps_deadline and (ev.deadline_from is not None or dest.deadline is not None)
    assert (s.open is not None) == opens
    if s.open is not None:
        assert s.open.state == ev.dest
        assert s.open.legal_end == CAL.legal_end(s.open.due_on)
        assert list(s.open.timers) == RULES.planner.plan(
            s.open.due_on, wf.timers_for(ev.dest), NOW.date())
    kind = RULES.mails.catalog.kind_for_event(event)
    assert [(m.kind, m.dedupe_key, m.task_id) for m in s.mails] == (
        [(kind, "transition:7:4", 7)] if kind else [])
