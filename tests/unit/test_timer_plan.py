"""Planning timers from a deadline, a policy and the calendar: pure, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.scheduling.config import load_config
from workflows.calendar import BusinessCalendar
from workflows.clock import DEFAULT_TZ
from workflows.errors import InputError
from workflows.model import AutoEvent, EscalationStep, TimerPolicy
from workflows.timerplan import Planner

D = dt.date
PLANNER = Planner(BusinessCalendar(), dt.time(8, 0), DEFAULT_TZ)
LADDER = TimerPolicy(
    remind_before_days=(14, 3),
    escalate=(EscalationStep(1, "unit_head"), EscalationStep(7, "office", 7)),
    on_overdue=AutoEvent(90, "suspend"),
)


def summary(due: dt.date, policy: TimerPolicy | None, opened: dt.date) -> list[tuple[str, str]]:
    return [(p.kind + (f":{p.to_role}" if p.to_role else f":{p.days}" if p.days else ""),
             p.fire_on.isoformat()) for p in PLANNER.plan(due, policy, opened)]


def test_before_30_april_reminds_against_29_april_and_escalates_after_5_may() -> None:
    assert summary(D(2025, 4, 30), LADDER, D(2025, 1, 2)) == [
        ("reminder:14", "2025-04-15"),
        ("reminder:3", "2025-04-26"),  # the make-up Saturday is a working day
        ("deadline", "2025-05-06"),
        ("escalation:unit_head", "2025-05-06"),
        ("escalation:office", "2025-05-12"),
        ("auto_event:90", "2025-08-04"),
    ]


def test_a_saturday_deadline_reminds_friday_and_passes_after_monday() -> None:
    assert summary(D(2025, 7, 5), TimerPolicy((14, 3)), D(2025, 6, 1)) == [
        ("reminder:14", "2025-06-20"), ("reminder:3", "2025-07-01"), ("deadline", "2025-07-08")]


def test_a_reminder_on_a_day_off_moves_earlier_never_later() -> None:
    # 1/12/2025 is a Monday: 3 days before is Friday 28/11; 14 before is Monday 17/11.
    # The 2-day reminder falls on Saturday 29/11, moves to Friday 28/11 and merges with the 3-day.
    assert summary(D(2025, 12, 1), TimerPolicy((30, 14, 3, 2)), D(2025, 6, 1)) == [
        ("reminder:30", "2025-10-31"), ("reminder:14", "2025-11-17"),
        ("reminder:3", "2025-11-28"), ("deadline", "2025-12-02")]


def test_reminders_dated_before_the_deadline_opened_are_not_planned() -> None:
    assert summary(D(2025, 4, 30), TimerPolicy((14, 3)), D(2025, 4, 20)) == [
        ("reminder:3", "2025-04-26"), ("deadline", "2025-05-06")]


def test_every_timer_fires_at_eight_on_a_working_day() -> None:
    for due in (D(2025, 1, 31), D(2025, 4, 30), D(2025, 9, 2), D(2026, 2, 20)):
        for p in PLANNER.plan(due, LADDER, D(2024, 12, 1)):
            assert p.fire_at.time() == dt.time(8, 0) and p.fire_at.tzinfo is DEFAULT_TZ
            assert PLANNER.calendar.is_working_day(p.fire_on), (due, p)


def test_without_a_policy_only_the_deadline_notice_is_planned() -> None:
    assert summary(D(2025, 3, 31), None, D(2025, 1, 2)) == [("deadline", "2025-04-01")]


def test_a_repeating_escalation_after_downtime_continues_from_now() -> None:
    step = EscalationStep(7, "office", 7)
    legal = D(2025, 7, 7)
    now = dt.datetime(2025, 8, 25, 8, 0, tzinfo=DEFAULT_TZ)
    # occurrences: 14/7, 21/7, 28/7, 4/8, 11/8, 18/8, 25/8 (= now, folded), 1/9 → 3/9 (holidays)
    nxt = PLANNER.next_occurrence(legal, step, 4, now)
    assert nxt is not None and nxt[0] == 7 and nxt[1].date() == D(2025, 9, 3)
    assert PLANNER.next_occurrence(legal, EscalationStep(1, "unit_head"), 0, now) is None


@pytest.mark.parametrize(("scheduler", "message"), [
    ({"send_at": "8h"}, r"\[scheduler\] send_at: invalid time '8h'"),
    ({"send_at": "18:00"}, "quiet_from: must be later than send_at"),
    ({"interval": 5}, "unknown key 'interval'"),
    ({"lease_s": 0}, "lease_s: expected a whole number"),
    ({"quota_check": "04-31"}, "no such day"),
    ({"quota_kinds": ["public", "district"]},
     r"\[scheduler\] quota_kinds: expected a list drawn from public, private"),
    ({"quota_kinds": []}, r"\[scheduler\] quota_kinds: expected a list"),
    ({"quota_kinds": "public"}, r"\[scheduler\] quota_kinds: expected a list"),
    ({"reports": {"progress": "7/1"}}, "expected MM-DD"),
    ({"obligations": [{"key": "x", "every": "week"}]}, "every must be 'year' or 'month'"),
    ({"obligations": [{"key": "x"}]}, "needs due"),
    ({"obligations": [{"key": "x", "due": "03-31"}, {"key": "x", "due": "04-01"}]},
     "listed twice"),
    ({"timers": {"unit_task": {"escalate": [{"after": 1, "to": "boss"}]}}},
     "unknown role 'boss'"),
    ({"timers": {"unit_task": {"remind": [3]}}}, "unknown key 'remind'"),
])
def test_bad_scheduler_config_is_a_one_line_input_error(scheduler: dict[str, object],
                                                        message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config(scheduler, {})


def test_config_overrides_a_workflow_ladder_per_state() -> None:
    config = load_config({"timers": {"unit_task": {"remind_before": [7]},
                                     "unit_task.in_progress": {"remind_before": [60, 30]}}}, {})
    assert config.policy_override("unit_task", "proposed") == TimerPolicy((7,))
    assert config.policy_override("unit_task", "in_progress") == TimerPolicy((60, 30))
    assert config.policy_override("initiative", "proposed") is None
