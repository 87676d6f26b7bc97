"""Every transition and every refusal of every task workflow, on SQLite and PostgreSQL.

The cases are generated from the definition files: every (event, source state) pair fires, every
event is tried from every state it cannot leave, every role and scope is tried on every event.
After each step the whole task (row, history, deadlines) is compared with what the definition
says; after each refusal it is compared with what it was, byte for byte. Refused attempts
(`Refused`: not allowed, invalid transition) leave one `refusal` row — the audit log of refused
attempts, by design; bad input (`InvalidData`, `NotFound`) leaves none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.app import App, build
from tests.conftest import make_settings
from tests.integration.province import (
    ACTORS,
    HEAD_B,
    OFFICE,
    OTHER_PI,
    PI,
    TASK_WORKFLOWS,
    Driver,
    all_tables,
    event_input,
    refusals,
    snapshot,
    transitions,
)
from workflows.errors import InputError, InvalidData, InvalidTransition, NotAllowed, NotFound
from workflows.registry import Registry

REGISTRY = Registry()
DEFINITIONS = {name: REGISTRY.get(name) for name in TASK_WORKFLOWS}


@pytest.fixture
def core(db_url: str, tmp_path: Path) -> Iterator[App]:
    """The engine alone (no scheduler or mail subscribers), on a seeded province."""
    from tests.integration.province import seed

    app = build(make_settings(db_url, tmp_path), jobs=())
    seed(app.engine)
    yield app
    app.close()


def params(pairs: list[tuple[str, ...]]) -> list[object]:
    return [pytest.param(*p, id="-".join(p)) for p in pairs]


# --- every transition ----------------------------------------------------------------------------
@pytest.mark.parametrize(("workflow", "event", "source"), params([
    (name, ev, src) for name, wf in DEFINITIONS.items() for ev, src in transitions(wf)]))
def test_every_event_fires_from_every_source_state_exactly_as_defined(
        core: App, workflow: str, event: str, source: str) -> None:
    drive = Driver(core, workflow)
    exp = drive.task_in(source)
    drive.step(exp, event)
    assert exp.snap["task"]["state"] == DEFINITIONS[workflow].events[event].dest


@pytest.mark.parametrize("workflow", TASK_WORKFLOWS)
def test_the_main_path_takes_a_task_from_proposed_to_published(core: App, workflow: str) -> None:
    drive = Driver(core, workflow)
    exp = drive.new_task()
    for event in ("approve_outline", "start", "accept", "publish"):
        drive.step(exp, event)
    detail = core.engine.task_detail(exp.snap["task"]["id"], now=drive.tick())
    assert detail["state"] == "published"
    assert [(h["event"], h["from"], h["to"]) for h in detail["history"]] == [
        ("create", None, "proposed"), ("approve_outline", "proposed", "outline_approved"),
        ("start", "outline_approved", "in_progress"), ("accept", "in_progress", "accepted"),
        ("publish", "accepted", "published")]
    assert [d["open"] for d in detail["deadlines"]] == [False] * len(detail["deadlines"])


@pytest.mark.parametrize("workflow", TASK_WORKFLOWS)
def test_the_side_paths_revision_failure_suspension_and_extension_chain(core: App,
                                                                        workflow: str) -> None:
    drive = Driver(core, workflow)
    exp = drive.new_task()
    chain = ["request_revision", "resubmit", "approve_outline", "start", "suspend", "resume",
             "fail_acceptance", "accept", "publish"]
    chain.insert(chain.index("suspend"), "extend")
    for event in chain:
        drive.step(exp, event)
    assert exp.snap["task"]["version"] == len(chain) + 1
    outcomes = [d["outcome"] for d in exp.snap["deadlines"]]
    assert "extended" in outcomes


# --- events that cannot fire from a state --------------------------------------------------------
@pytest.mark.parametrize(("workflow", "state"), params([
    (name, state) for name, wf in DEFINITIONS.items() for state in wf.states]))
def test_an_event_from_a_state_it_does_not_leave_is_refused_and_changes_nothing(
        core: App, workflow: str, state: str) -> None:
    drive = Driver(core, workflow)
    wf = DEFINITIONS[workflow]
    exp = drive.task_in(state)
    task_id = exp.snap["task"]["id"]
    allowed = tuple(ev.name for ev in wf.events_from(state))
    before = snapshot(core, task_id)
    tables = dict(all_tables(core))
    tried = 0
    for ev in wf.events.values():
        if state in ev.sources:
            continue
        now = drive.tick()
        reason, data = event_input(ev, now, None)
        with pytest.raises(InvalidTransition) as caught:
            core.engine.fire(task_id, ev.name, actor_email=OFFICE, reason=reason, data=data,
                             now=now)
        assert (caught.value.state, caught.value.event, caught.value.allowed) == (
            state, ev.name, allowed)
        last = refusals(core)[-1]
        assert (last["task_id"], last["event"], last["actor"], last["kind"],
                last["message"], last["attempted_at"]) == (
            task_id, ev.name, OFFICE, "InvalidTransition", str(caught.value), now)
        tried += 1
    assert tried == len(wf.events) - len(allowed)
    assert len(refusals(core)) == tried
    assert snapshot(core, task_id) == before
    assert dict(all_tables(core)) == tables


# --- roles and scope -----------------------------------------------------------------------------
def refusal_message(kind: str, email: str | None, roles: frozenset[str], event: str,
                    task_id: int) -> str:
    if kind == "other-unit-head" and "unit_head" in roles:
        return (f"{HEAD_B} is unit head of TTYT-DH and may act only on that unit's tasks; "
                f"task {task_id} belongs to BVDK")
    if kind == "another-pi" and "pi" in roles:
        return f"{OTHER_PI} is not the principal investigator of task {task_id}"
    person_role = {"office": "office", "council": "council", "own-unit-head": "unit_head",
                   "other-unit-head": "unit_head", "the-pi": "pi", "another-pi": "pi",
                   "system": "system"}[kind]
    return (f"{email or 'system'} (role {person_role}) may not fire '{event}' on task {task_id}; "
            f"allowed roles: {', '.join(sorted(roles))}")


@pytest.mark.parametrize(("workflow", "event"), params([
    (name, ev) for name, wf in DEFINITIONS.items() for ev in wf.events]))
def test_each_event_is_fired_by_exactly_the_roles_it_names(core: App, workflow: str,
                                                           event: str) -> None:
    drive = Driver(core, workflow)
    ev = DEFINITIONS[workflow].events[event]
    source = ev.sources[0]
    refused_task = drive.task_in(source)
    task_id = refused_task.snap["task"]["id"]
    before, tables = snapshot(core, task_id), dict(all_tables(core))
    permitted, refused = [], []
    for kind, (email, held) in ACTORS.items():
        if ev.roles & held:
            exp = drive.task_in(source)
            drive.step(exp, event, email, role=sorted(ev.roles & held)[0])
            permitted.append(kind)
            continue
        now = drive.tick()
        reason, data = event_input(ev, now, drive.open_due(refused_task))
        with pytest.raises(NotAllowed) as caught:
            core.engine.fire(task_id, event, actor_email=email, reason=reason, data=data,
                             now=now)
        assert str(caught.value) == refusal_message(kind, email, ev.roles, event, task_id)
        last = refusals(core)[-1]
        assert (last["task_id"], last["kind"], last["actor"]) == (
            task_id, "NotAllowed", email or "system")
        refused.append(kind)
        assert snapshot(core, task_id) == before
    assert permitted and len(permitted) + len(refused) == len(ACTORS)
    assert len(refusals(core)) == len(refused)
    assert snapshot(core, task_id) == before
    tables_now = dict(all_tables(core))
    assert tables_now["task"][: len(tables["task"])] == tables["task"]


# --- bad data ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("workflow", "event"), params([
    (name, ev) for name, wf in DEFINITIONS.items() for ev in wf.events]))
def test_missing_or_malformed_event_data_is_invalid_and_changes_nothing(
        core: App, workflow: str, event: str) -> None:
    drive = Driver(core, workflow)
    ev = DEFINITIONS[workflow].events[event]
    exp = drive.task_in(ev.sources[0])
    task_id = exp.snap["task"]["id"]
    actor = next(e for e, held in ACTORS.values() if ev.roles & held)
    now = drive.tick()
    reason, data = event_input(ev, now, drive.open_due(exp))
    cases: list[tuple[str | None, dict[str, str], str, str]] = [
        (reason, {**data, "khong_co": "x"}, "khong_co", f"event '{event}' has no field "
                                                        "'khong_co'"),
    ]
    if ev.reason == "required":
        cases.append((None, data, "reason", f"event '{event}' needs a reason"))
        cases.append(("  ", data, "reason", f"event '{event}' needs a reason"))
    for spec in ev.fields:
        if spec.required:
            cases.append((reason, {k: v for k, v in data.items() if k != spec.name}, spec.name,
                          f"event '{event}' needs --set {spec.name}="))
        bad = {"date": "2025-02-30", "url": "www.example.vn", "int": "ba",
               "email": "thu.ky@"}.get(spec.type)
        if bad is not None:
            cases.append((reason, {**data, spec.name: bad}, spec.name, f"'{bad}'"))
        cases.append((reason, {**data, spec.name: " "}, spec.name, "is empty"))
    for group in ev.one_of:
        cases.append((reason, {k: v for k, v in data.items() if k not in group}, group[0],
                      f"event '{event}' needs " + " or ".join(f"--set {g}=…" for g in group)))
    before, tables = snapshot(core, task_id), dict(all_tables(core))
    for case_reason, case_data, field, message in cases:
        with pytest.raises(InvalidData) as caught:
            core.engine.fire(task_id, event, actor_email=actor, reason=case_reason,
                             data=case_data, now=now)
        assert caught.value.field == field
        assert message in str(caught.value)
    assert snapshot(core, task_id) == before
    assert dict(all_tables(core)) == tables
    assert refusals(core) == []
    drive.step(exp, event, actor)  # and the valid input still fires


def test_an_unknown_task_person_or_event_is_bad_input_and_changes_nothing(core: App) -> None:
    drive = Driver(core, "unit_task")
    exp = drive.new_task()
    task_id = exp.snap["task"]["id"]
    tables = dict(all_tables(core))
    with pytest.raises(NotFound, match=r"^unknown task: 999$"):
        core.engine.fire(999, "approve_outline", actor_email=OFFICE, now=drive.tick())
    with pytest.raises(NotFound, match=r"^unknown person: nobody@syt.example.vn$"):
        core.engine.fire(task_id, "approve_outline", actor_email="nobody@syt.example.vn",
                         now=drive.tick())
    with pytest.raises(InputError, match=r"^unknown event 'approve' in workflow unit_task"):
        core.engine.fire(task_id, "approve", actor_email=OFFICE, now=drive.tick())
    with pytest.raises(InputError, match=r"'system' is reserved for the scheduler"):
        core.engine.fire(task_id, "approve_outline", actor_email="system", now=drive.tick())
    assert dict(all_tables(core)) == tables
    # Only the attempt by someone outside the directory is audited, like a refusal.
    assert [(r["task_id"], r["event"], r["actor"], r["kind"], r["message"])
            for r in refusals(core)] == [
        (task_id, "approve_outline", "nobody@syt.example.vn", "NotFound",
         "unknown person: nobody@syt.example.vn")]


def test_people_are_found_by_their_address_in_any_case(core: App) -> None:
    drive = Driver(core, "unit_task")
    exp = drive.task_in("outline_revision")
    task_id = exp.snap["task"]["id"]
    core.engine.fire(task_id, "resubmit", actor_email=f"  {PI.upper()} ", now=drive.tick())
    last = snapshot(core, task_id)["history"][-1]
    assert (last["event"], last["actor"], last["actor_role"]) == ("resubmit", PI, "pi")
