"""The compiled `transitions` machine and the deadline arithmetic: pure, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from workflows.loader import load_text
from workflows.machine import CompiledWorkflow, MachineError, compiled
from workflows.model import DeadlineRule, Duration, WorkingDays, add_months, due_on
from workflows.registry import Registry, from_snapshot

UNIT_TASK = Registry().get("unit_task")
D = dt.date


def test_stepping_follows_the_definition_for_every_event_and_source() -> None:
    machine = compiled(UNIT_TASK)
    for ev in UNIT_TASK.events.values():
        for source in ev.sources:
            assert machine.step(source, ev.name) == ev.dest


def test_an_event_from_a_state_it_does_not_leave_raises_machine_error() -> None:
    with pytest.raises(MachineError):
        compiled(UNIT_TASK).step("proposed", "publish")


def test_a_state_not_in_the_definition_is_refused() -> None:
    with pytest.raises(ValueError, match=r"state 'drafted' is not in workflow unit_task"):
        compiled(UNIT_TASK).step("drafted", "approve_outline")


def test_the_machine_has_no_automatic_to_state_shortcuts() -> None:
    machine = compiled(UNIT_TASK).machine
    assert set(machine.events) == set(UNIT_TASK.events)
    assert not any(name.startswith("to_") for name in machine.events)


def test_triggers_from_a_state_are_the_definitions_events_from_it() -> None:
    c = compiled(UNIT_TASK)
    for state in UNIT_TASK.states:
        assert sorted(c.triggers(state)) == sorted(e.name for e in UNIT_TASK.events_from(state))


def test_one_machine_is_shared_per_definition_content() -> None:
    again = from_snapshot(UNIT_TASK.source, UNIT_TASK.path)
    assert compiled(again) is compiled(UNIT_TASK)
    v = UNIT_TASK.version
    edited = load_text(UNIT_TASK.source.replace(f"version: {v}", f"version: {v + 1}"), "<edited>")
    assert compiled(edited) is not compiled(UNIT_TASK)
    assert isinstance(compiled(edited), CompiledWorkflow)


def test_stepping_does_not_touch_shared_state_between_calls() -> None:
    c = compiled(UNIT_TASK)
    assert c.step("proposed", "approve_outline") == "outline_approved"
    assert c.step("proposed", "request_revision") == "outline_revision"
    assert c.machine.models == []


# --- deadline arithmetic -----------------------------------------------------------------------
def rule(before: tuple[int, int] | None = None, within: Duration | None = None) -> DeadlineRule:
    return DeadlineRule(before=before, within=within)


def test_a_fixed_day_deadline_falls_in_the_tasks_year_whenever_the_state_is_entered() -> None:
    assert due_on(rule(before=(4, 30)), 2025, D(2024, 12, 20)) == D(2025, 4, 30)
    assert due_on(rule(before=(12, 1)), 2026, D(2026, 7, 1)) == D(2026, 12, 1)


@pytest.mark.parametrize(("entered", "within", "expected"), [
    (D(2025, 3, 10), Duration(30, "days"), D(2025, 4, 9)),
    (D(2025, 12, 20), Duration(30, "days"), D(2026, 1, 19)),
    (D(2025, 1, 31), Duration(1, "months"), D(2025, 2, 28)),
    (D(2024, 1, 31), Duration(1, "months"), D(2024, 2, 29)),
    (D(2025, 3, 31), Duration(3, "months"), D(2025, 6, 30)),
    (D(2025, 11, 15), Duration(24, "months"), D(2027, 11, 15)),
    (D(2025, 5, 30), Duration(1, "working_days"), D(2025, 6, 2)),  # Friday → Monday
    (D(2025, 5, 31), Duration(1, "working_days"), D(2025, 6, 2)),  # Saturday → Monday
    (D(2025, 6, 2), Duration(10, "working_days"), D(2025, 6, 16)),
])
def test_a_period_deadline_counts_from_the_day_of_entry(entered: dt.date, within: Duration,
                                                        expected: dt.date) -> None:
    assert due_on(rule(within=within), 2025, entered) == expected


def test_a_holiday_aware_calendar_can_replace_plain_working_days() -> None:
    class NoWorkOnMondays(WorkingDays):
        def add(self, start: dt.date, days: int) -> dt.date:
            day = super().add(start, days)
            return day + dt.timedelta(days=1) if day.weekday() == 0 else day

    assert due_on(rule(within=Duration(1, "working_days")), 2025, D(2025, 5, 30),
                  NoWorkOnMondays()) == D(2025, 6, 3)


def test_add_months_keeps_the_day_or_clamps_to_the_months_end() -> None:
    assert add_months(D(2025, 8, 31), 1) == D(2025, 9, 30)
    assert add_months(D(2025, 10, 15), 3) == D(2026, 1, 15)


def test_a_state_without_a_deadline_has_no_due_day() -> None:
    assert UNIT_TASK.deadline_due_on("suspended", 2025, D(2025, 3, 1)) is None
    assert UNIT_TASK.deadline_due_on("proposed", 2025, D(2025, 3, 1)) == D(2025, 4, 30)


def test_deadline_rules_describe_themselves_for_people() -> None:
    assert rule(before=(4, 30)).describe() == "before 30/04"
    assert rule(within=Duration(3, "months")).describe() == "within 3mo"
    assert rule(within=Duration(10, "working_days")).describe() == "within 10wd"


def test_workflow_values_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        UNIT_TASK.initial = "accepted"  # type: ignore[misc]
