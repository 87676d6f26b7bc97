"""Separation of duties, pure: `not_by` in the workflow data (loader and `decide`), and who may
register a task for which unit (`check_registration`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from tests.unit.workflow_samples import edit, line_of
from workflows.clock import DEFAULT_TZ
from workflows.decide import (
    Actor,
    TaskView,
    acting_roles,
    allowed_events,
    check_registration,
    decide,
)
from workflows.errors import DefinitionError, NotAllowed
from workflows.loader import load_text
from workflows.machine import compiled
from workflows.model import Workflow
from workflows.registry import Registry

REGISTRY = Registry()
TASK_WORKFLOWS = ("unit_task", "province_task", "initiative")
# The events that review or decide on a task: its PI must never take them.
DECISIONS = ("approve_outline", "request_revision", "reject", "accept", "fail_acceptance",
             "fail_reevaluation", "extend")
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=DEFAULT_TZ)

OFFICE = Actor(id=1, email="office@syt.vn", role="office", unit_id=None)
COUNCIL = Actor(id=2, email="council@syt.vn", role="council", unit_id=None)
HEAD_A = Actor(id=3, email="head@a.vn", role="unit_head", unit_id=10, unit_code="A")
PI_A = Actor(id=5, email="pi@a.vn", role="pi", unit_id=10, unit_code="A")


def task(state: str = "proposed", pi_id: int = 5) -> TaskView:
    return TaskView(id=7, state=state, unit_id=10, unit_code="A", pi_id=pi_id, year=2025)


def fire(wf: Workflow, view: TaskView, event: str, actor: Actor, **data: str) -> str:
    reason = "lý do" if wf.events[event].reason == "required" else None
    return decide(wf, compiled(wf), view, event, actor, reason=reason, data=data,
                  effective_at=NOW, now=NOW, tz=DEFAULT_TZ).acting_role


# --- the loader ----------------------------------------------------------------------------------
# `resume` is the event whose block ends just before `finish:`.
BARRED = edit("    roles: [office]\n  finish:", "    roles: [office]\n    not_by: [pi]\n  finish:")

BAD_NOT_BY = [
    ("unknown-role", BARRED.replace("not_by: [pi]", "not_by: [pi, dean]"), "not_by: [pi, dean]",
     "unknown role 'dean' in not_by; roles that can be barred are office, council, unit_head, "
     "pi"),
    ("system-cannot-be-barred", BARRED.replace("not_by: [pi]", "not_by: system"),
     "not_by: system", "unknown role 'system' in not_by"),
    ("allowed-and-barred", BARRED.replace("not_by: [pi]", "not_by: [office]"),
     "not_by: [office]", "role 'office' is both allowed (roles) and barred (not_by) in event "
                         "'resume'"),
    ("empty-list", BARRED.replace("not_by: [pi]", "not_by: []"), "not_by: []",
     "not_by of event 'resume' needs at least one role"),
    ("listed-twice", BARRED.replace("not_by: [pi]", "not_by: [pi, pi]"), "not_by: [pi, pi]",
     "not_by of event 'resume' lists a role twice"),
    ("misspelt-key", BARRED.replace("not_by: [pi]", "notby: [pi]"), "notby: [pi]",
     "unknown key 'notby' in event 'resume'"),
]


def test_an_event_may_bar_roles_and_the_barred_roles_are_loaded() -> None:
    wf = load_text(BARRED, "demo.yaml")
    assert wf.events["resume"].not_by == frozenset({"pi"})
    assert wf.events["start"].not_by == frozenset()


@pytest.mark.parametrize(("text", "marker", "reason"),
                         [pytest.param(*case[1:], id=case[0]) for case in BAD_NOT_BY])
def test_a_bad_not_by_is_rejected_with_file_line_and_reason(text: str, marker: str,
                                                            reason: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_text(text, "demo.yaml")
    assert str(caught.value).startswith(f"demo.yaml:{line_of(text, marker)}: {reason}"), \
        str(caught.value)


# --- the packaged workflows ----------------------------------------------------------------------
@pytest.mark.parametrize("name", TASK_WORKFLOWS)
def test_every_review_and_decision_event_bars_the_tasks_investigator(name: str) -> None:
    wf = REGISTRY.get(name)
    barred = sorted(ev.name for ev in wf.events.values() if ev.not_by)
    assert barred == sorted(DECISIONS)
    assert all(wf.events[e].not_by == frozenset({"pi"}) for e in DECISIONS)


@pytest.mark.parametrize("name", [*TASK_WORKFLOWS, "unit_report"])
def test_whatever_a_pi_may_fire_the_unit_head_may_fire_too(name: str) -> None:
    # What `person deactivate` promises: a deactivated PI's open tasks can still move, by the
    # head of their unit.
    wf = REGISTRY.get(name)
    for ev in wf.events.values():
        if "pi" in ev.roles:
            assert "unit_head" in ev.roles and "unit_head" not in ev.not_by, ev.name


# --- decide --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TASK_WORKFLOWS)
@pytest.mark.parametrize("role", ["council", "office"])
def test_a_reviewer_who_is_the_pi_may_not_approve_their_own_outline(name: str,
                                                                    role: str) -> None:
    wf = REGISTRY.get(name)
    reviewer = COUNCIL if role == "council" else OFFICE
    own = task(pi_id=reviewer.id or 0)
    assert acting_roles(reviewer, own) == [role, "pi"]
    with pytest.raises(NotAllowed) as caught:
        fire(wf, own, "approve_outline", reviewer)
    action = {"unit_task": "approve outline", "province_task": "approve outline",
              "initiative": "accept application"}[name]  # the event's English label
    assert str(caught.value) == (
        f"{reviewer.email} is the principal investigator of task 7 and may not {action} "
        "(approve_outline) on their own task")
    assert fire(wf, task(), "approve_outline", reviewer) == role  # another PI's task: allowed


@pytest.mark.parametrize("name", TASK_WORKFLOWS)
def test_no_decision_is_open_to_the_pi_in_any_state(name: str) -> None:
    wf = REGISTRY.get(name)
    for state in wf.states:
        own = task(state, pi_id=COUNCIL.id or 0)
        names = {ev.name for ev in allowed_events(wf, own, COUNCIL)}
        assert not names & set(DECISIONS), (state, names)
        as_council = {ev.name for ev in allowed_events(wf, task(state), COUNCIL)}
        as_pi = {ev.name for ev in wf.events_from(state) if "pi" in ev.roles}
        assert names == (as_council - set(DECISIONS)) | as_pi


def test_a_unit_head_who_is_the_pi_may_start_but_not_extend_their_own_task() -> None:
    wf = REGISTRY.get("unit_task")
    own = task("outline_approved", pi_id=HEAD_A.id or 0)
    assert fire(wf, own, "start", HEAD_A) == "unit_head"
    running = task("in_progress", pi_id=HEAD_A.id or 0)
    with pytest.raises(NotAllowed, match=re.escape(
            "head@a.vn is the principal investigator of task 7 and may not extend (extend) "
            "on their own task")):
        fire(wf, running, "extend", HEAD_A, until="2026-03-01")
    assert fire(wf, task("in_progress"), "extend", HEAD_A, until="2026-03-01") == "unit_head"


def test_a_barred_unit_head_is_told_so_by_role() -> None:
    text = BARRED.replace("    roles: [office]\n    not_by: [pi]\n  finish:",
                          "    roles: [office, pi]\n    not_by: [unit_head]\n  finish:")
    wf = load_text(text, "demo.yaml")
    head_pi = task("suspended", pi_id=HEAD_A.id or 0)
    with pytest.raises(NotAllowed, match=re.escape(
            "head@a.vn is the head of unit A, which task 7 belongs to, and may not resume "
            "(resume) on it")):
        fire(wf, head_pi, "resume", HEAD_A)
    assert fire(wf, task("suspended"), "resume", PI_A) == "pi"


# --- registration --------------------------------------------------------------------------------
def register(actor: Actor, unit_id: int = 10, pi_email: str = "pi@a.vn") -> None:
    check_registration(actor, unit_id=unit_id, unit_code="A" if unit_id == 10 else "B",
                       pi_email=pi_email)


def test_the_office_registers_for_any_unit_and_any_pi() -> None:
    register(OFFICE)
    register(OFFICE, unit_id=20, pi_email="x@b.vn")


def test_a_unit_head_registers_for_their_own_unit_only() -> None:
    register(HEAD_A, pi_email="anyone@a.vn")
    with pytest.raises(NotAllowed, match=re.escape(
            "head@a.vn is unit head of A and may register tasks only for that unit, not for B")):
        register(HEAD_A, unit_id=20)


def test_a_pi_registers_only_their_own_task_in_their_own_unit() -> None:
    register(PI_A)
    with pytest.raises(NotAllowed, match=re.escape(
            "pi@a.vn may register only tasks they lead themselves (--pi-email pi@a.vn), not one "
            "for other@a.vn")):
        register(PI_A, pi_email="other@a.vn")
    with pytest.raises(NotAllowed, match=re.escape(
            "pi@a.vn is an investigator of A and may register tasks only for that unit, not "
            "for B")):
        register(PI_A, unit_id=20)


def test_the_council_registers_nothing_and_nor_does_an_inactive_person() -> None:
    with pytest.raises(NotAllowed, match=re.escape(
            "council@syt.vn (role council) may not register tasks; the office, the unit head "
            "or the investigator registers them")):
        register(COUNCIL)
    with pytest.raises(NotAllowed, match=r"office@syt\.vn is inactive and may not register"):
        register(dataclasses.replace(OFFICE, active=False))
