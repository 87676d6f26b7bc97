"""No stale or retroactive chasing, decided without a database.

A reminder whose date has passed is not sent (the overdue notice says so); of a ladder's steps
due together after a downtime only the latest goes out; a deadline that opens already past gets
one notice and a grace period, not escalations dated before the task existed; a backdated task
mails nothing of its past; a repeating escalation ends after its repeats or with the year.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from engine.rules import Rules
from notifications.catalog import load_catalog
from notifications.plan import MailPlan
from workflows.calendar import BusinessCalendar
from workflows.clock import DEFAULT_TZ
from workflows.decide import Actor
from workflows.effects import DueTimer, Firing
from workflows.model import EscalationStep, TimerPolicy
from workflows.registry import Registry
from workflows.timerplan import Planner

CAL = BusinessCalendar()
PLANNER = Planner(CAL, dt.time(8), DEFAULT_TZ)
RULES = Rules(DEFAULT_TZ, CAL, PLANNER, MailPlan(load_catalog()), grace_days=10)
WF = Registry().get("unit_task")
OFFICE = Actor(id=1, email="nghiepvuy@syt.example.vn", role="office", unit_id=None)


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=DEFAULT_TZ)


def due(kind: str, **kw: object) -> DueTimer:
    values: dict[str, object] = dict(
        id=90, task_id=7, deadline_id=41, state="proposed", kind=kind, slot=14, occurrence=0,
        due_on=dt.date(2025, 4, 29), legal_end=dt.date(2025, 4, 29), days=14, to_role=None,
        repeat_every=None, event=None, repeat_until=None, task_state="proposed",
        task_level="unit", deadline_outcome=None)
    values.update(kw)
    return DueTimer(**values)  # type: ignore[arg-type]


# --- catch-up after a downtime ------------------------------------------------------------------
def test_a_reminder_held_until_its_date_has_passed_is_not_sent() -> None:
    assert RULES.fire_timer(due("reminder"), at(dt.date(2025, 5, 5))) == Firing(
        90, "skipped", "its date has passed: the overdue notice says so")


def test_a_reminder_on_its_target_date_still_goes_out() -> None:
    firing = RULES.fire_timer(due("reminder"), at(dt.date(2025, 4, 29)))
    assert [m.kind for m in firing.mails] == ["reminder"]


@pytest.mark.parametrize("kind", ["reminder", "deadline", "escalation"])
def test_a_step_with_a_later_step_of_its_ladder_due_too_is_superseded(kind: str) -> None:
    firing = RULES.fire_timer(due(kind, to_role="unit_head" if kind == "escalation" else None,
                                  later_due=True), at(dt.date(2025, 4, 20)))
    assert firing == Firing(90, "skipped", "superseded: a later step of its ladder is due too")


# --- a deadline that opens already past ---------------------------------------------------------
def test_a_task_registered_after_its_deadline_gets_a_grace_period_and_no_retroactive_timer(
        ) -> None:
    now = at(dt.date(2025, 12, 2), 10)  # Tuesday; the review deadline was 30/4 (legal end 5/5)
    reg = RULES.register(WF, unit_id=10, pi_id=3, year=2025, topic=None, title="Đề tài",
                         actor=OFFICE, creator="cli", now=now)
    opened = reg.open
    assert opened is not None
    assert (opened.due_on, opened.legal_end) == (dt.date(2025, 4, 30), dt.date(2025, 5, 5))
    assert opened.grace_until == dt.date(2025, 12, 16)  # 10 working days after 2/12
    assert opened.ladder_due_on == opened.grace_until
    assert all(t.fire_on > now.date() for t in opened.timers)  # nothing on the day it opens
    first_escalation = min(t.fire_on for t in opened.timers if t.kind == "escalation")
    assert first_escalation > opened.grace_until
    [mail] = reg.mails
    assert (mail.kind, mail.facts["due_on"], mail.facts["grace_until"]) == (
        "task_registered", dt.date(2025, 4, 30), dt.date(2025, 12, 16))


def test_a_task_registered_before_its_deadline_has_no_grace_period() -> None:
    reg = RULES.register(WF, unit_id=10, pi_id=3, year=2025, topic=None, title="Đề tài",
                         actor=OFFICE, creator="cli", now=at(dt.date(2025, 3, 3)))
    assert reg.open is not None and reg.open.grace_until is None
    assert reg.mails[0].facts["grace_until"] is None


def test_a_backdated_task_is_recorded_as_of_its_start_and_mails_nothing_of_its_past() -> None:
    now, since = at(dt.date(2025, 4, 22), 10), at(dt.date(2025, 1, 6), 9)
    # The packaged topic leaves its 30/4 reminders to the unit's report: give it the
    # workflow's own ladder (14 and 3 days before) to see which of them is already history.
    proposed = dataclasses.replace(WF.states["proposed"], timers=None)
    wf = dataclasses.replace(WF, states={**WF.states, "proposed": proposed})
    reg = RULES.register(wf, unit_id=10, pi_id=3, year=2025, topic=None, title="Đề tài",
                         actor=OFFICE, creator="cli", now=now, since=since)
    assert reg.mails == ()
    assert (reg.history.effective_at, reg.history.recorded_at) == (since, now)
    assert reg.open is not None and reg.open.grace_until is None  # not late on 6/1
    # The 14-day reminder (16/4) is history; the 3-day one (27/4 → Fri 25/4) is still ahead.
    assert [(t.kind, t.slot) for t in reg.open.timers if t.kind == "reminder"] == [
        ("reminder", 3)]
    assert all(t.fire_at > now for t in reg.open.timers)


# --- a repeating series ends --------------------------------------------------------------------
def test_a_capped_series_stops_after_its_repeats() -> None:
    step = EscalationStep(7, "unit_head", 7, 2)
    legal = dt.date(2025, 5, 5)
    until = PLANNER.repeat_until(legal, step)
    assert until == dt.date(2025, 5, 26)  # 5/5 + 7 + 2 × 7
    fired = [PLANNER.next_occurrence(legal, step, k, at(dt.date(2025, 5, 5)), until)
             for k in range(3)]
    assert [f[0] if f else None for f in fired] == [1, 2, None]


def test_an_uncapped_series_ends_with_the_reporting_year() -> None:
    step = EscalationStep(7, "office", 7)
    legal = dt.date(2025, 12, 1)
    assert PLANNER.repeat_until(legal, step) == dt.date(2025, 12, 31)
    assert PLANNER.next_occurrence(legal, step, 3, at(dt.date(2025, 12, 29)),
                                   dt.date(2025, 12, 31)) is None


def test_the_first_occurrence_of_a_series_carries_its_end() -> None:
    policy = TimerPolicy((), (EscalationStep(7, "unit_head", 7, 3),))
    [timer] = [t for t in PLANNER.plan(dt.date(2025, 4, 30), policy, dt.date(2025, 1, 6))
               if t.kind == "escalation"]
    assert timer.repeat_until == dt.date(2025, 6, 2)  # legal end 5/5 + 7 + 3 × 7 = 2/6 (Mon)
