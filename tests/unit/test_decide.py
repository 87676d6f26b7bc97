"""`decide()`: who may fire what, with which data, when — pure, on the packaged definitions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

import pytest

from workflows.clock import DEFAULT_TZ
from workflows.decide import (
    SYSTEM,
    Actor,
    Decision,
    TaskView,
    acting_roles,
    allowed_events,
    decide,
    is_valid_email,
)
from workflows.errors import InputError, InvalidData, InvalidTransition, NotAllowed, Refused
from workflows.loader import load_text
from workflows.machine import compiled
from workflows.model import Workflow
from workflows.registry import Registry

UNIT_TASK = Registry().get("unit_task")
PROVINCE = Registry().get("province_task")
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=DEFAULT_TZ)

OFFICE = Actor(id=1, email="office@syt.vn", role="office", unit_id=None)
COUNCIL = Actor(id=2, email="council@syt.vn", role="council", unit_id=None)
HEAD_A = Actor(id=3, email="head@a.vn", role="unit_head", unit_id=10, unit_code="A")
HEAD_B = Actor(id=4, email="head@b.vn", role="unit_head", unit_id=20, unit_code="B")
PI_A = Actor(id=5, email="pi@a.vn", role="pi", unit_id=10, unit_code="A")
OTHER_PI = Actor(id=6, email="other.pi@a.vn", role="pi", unit_id=10, unit_code="A")


def task(state: str = "proposed", **kw: object) -> TaskView:
    base = TaskView(id=7, state=state, unit_id=10, unit_code="A", pi_id=PI_A.id or 0, year=2025)
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def fire(view: TaskView, event: str, actor: Actor, *, wf: Workflow = UNIT_TASK,
         reason: str | None = None, data: Mapping[str, str] | None = None,
         at: dt.datetime = NOW, now: dt.datetime = NOW) -> Decision:
    return decide(wf, compiled(wf), view, event, actor, reason=reason, data=data or {},
                  effective_at=at, now=now, tz=DEFAULT_TZ)


# --- events and states -----------------------------------------------------------------------
def test_the_office_approves_an_outline_and_the_work_deadline_opens_30_days_later() -> None:
    d = fire(task(open_due_on=dt.date(2025, 4, 30)), "approve_outline", OFFICE,
             data={"decision_no": "15/QĐ-BV", "decided_on": "2025-03-09"})
    assert d == Decision(
        event="approve_outline", from_state="proposed", to_state="outline_approved",
        acting_role="office", reason=None,
        data={"decision_no": "15/QĐ-BV", "decided_on": "2025-03-09"}, effective_at=NOW,
        close_outcome="on_time", new_deadline=d.new_deadline)
    assert d.new_deadline is not None
    assert (d.new_deadline.state, d.new_deadline.due_on, d.new_deadline.rule) == (
        "outline_approved", dt.date(2025, 4, 9), "within 30d")


def test_an_unknown_event_is_bad_input_not_a_refusal() -> None:
    with pytest.raises(InputError) as caught:
        fire(task(), "approve", OFFICE)
    assert not isinstance(caught.value, Refused)
    assert "unknown event 'approve' in workflow unit_task; events: approve_outline" in str(
        caught.value)


def test_an_event_from_the_wrong_state_lists_the_events_allowed_now() -> None:
    with pytest.raises(InvalidTransition) as caught:
        fire(task("proposed"), "publish", OFFICE, data={"url": "https://a.vn"})
    err = caught.value
    assert (err.task_id, err.event, err.state) == (7, "publish", "proposed")
    assert err.allowed == ("approve_outline", "request_revision", "reject", "cancel")
    assert str(err) == ("task 7: event 'publish' cannot fire from state 'proposed'; allowed now: "
                        "approve_outline, request_revision, reject, cancel")


def test_a_final_state_says_no_event_is_allowed() -> None:
    with pytest.raises(InvalidTransition, match=r"allowed now: none \(final state\)$"):
        fire(task("published"), "cancel", OFFICE, reason="x")


def test_the_state_is_checked_before_the_actor() -> None:
    with pytest.raises(InvalidTransition):
        fire(task("accepted"), "approve_outline", PI_A)


# --- roles and scope ---------------------------------------------------------------------------
def test_a_council_member_may_approve_but_an_investigator_may_not() -> None:
    assert fire(task(), "approve_outline", COUNCIL).acting_role == "council"
    with pytest.raises(NotAllowed) as caught:
        fire(task(), "approve_outline", PI_A)
    assert str(caught.value) == ("pi@a.vn (role pi) may not fire 'approve_outline' on task 7; "
                                 "allowed roles: council, office")


def test_a_unit_head_acts_on_their_own_units_tasks_only() -> None:
    assert fire(task("outline_approved"), "start", HEAD_A).acting_role == "unit_head"
    with pytest.raises(NotAllowed) as caught:
        fire(task("outline_approved"), "start", HEAD_B)
    assert str(caught.value) == ("head@b.vn is unit head of B and may act only on that unit's "
                                 "tasks; task 7 belongs to A")


def test_only_the_tasks_own_investigator_acts_as_pi() -> None:
    assert fire(task("accepted"), "publish", PI_A,
                data={"reference": "Tạp chí Y học Việt Nam 2025;540(2)"}).acting_role == "pi"
    with pytest.raises(NotAllowed, match=r"other.pi@a.vn is not the principal investigator of "
                                         r"task 7$"):
        fire(task("accepted"), "publish", OTHER_PI, data={"url": "https://a.vn/x"})


def test_a_unit_head_who_is_also_the_investigator_holds_both_roles() -> None:
    head_pi = task(pi_id=HEAD_A.id or 0)
    assert acting_roles(HEAD_A, head_pi) == ["unit_head", "pi"]
    assert acting_roles(HEAD_B, head_pi) == []
    assert acting_roles(OFFICE, head_pi) == ["office"]


def test_the_system_may_suspend_but_not_start() -> None:
    assert fire(task("in_progress"), "suspend", SYSTEM, reason="quá hạn 90 ngày").acting_role \
        == "system"
    with pytest.raises(NotAllowed, match=r"system \(role system\) may not fire 'start'"):
        fire(task("outline_approved"), "start", SYSTEM)


def test_an_inactive_person_may_fire_nothing() -> None:
    gone = dataclasses.replace(OFFICE, active=False)
    with pytest.raises(NotAllowed, match=r"office@syt.vn is inactive"):
        fire(task(), "approve_outline", gone)
    assert allowed_events(UNIT_TASK, task(), gone) == []


def test_allowed_events_are_filtered_by_role_and_scope() -> None:
    def names(actor: Actor | None, state: str = "in_progress") -> list[str]:
        return [e.name for e in allowed_events(UNIT_TASK, task(state), actor)]

    everything = ["extend", "suspend", "accept", "fail_acceptance", "cancel"]
    assert names(None) == everything
    assert names(OFFICE) == everything
    assert names(HEAD_A) == ["extend", "suspend", "cancel"]
    assert names(HEAD_B) == []
    assert names(COUNCIL) == ["accept", "fail_acceptance"]
    assert names(PI_A, "outline_revision") == ["resubmit"]
    assert names(OTHER_PI, "outline_revision") == []


def test_in_the_province_workflow_only_the_office_extends() -> None:
    with pytest.raises(NotAllowed, match=r"allowed roles: office$"):
        fire(task("in_progress", open_due_on=dt.date(2026, 1, 1)), "extend", HEAD_A, wf=PROVINCE,
             reason="chậm", data={"until": "2026-06-30"})


# --- data --------------------------------------------------------------------------------------
@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_rejecting_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(InvalidData, match=r"event 'reject' needs a reason \(--reason TEXT\)") as c:
        fire(task(), "reject", COUNCIL, reason=reason)
    assert c.value.field == "reason"


def test_a_reason_is_kept_trimmed_and_exact() -> None:
    d = fire(task(), "reject", COUNCIL, reason="  Đề cương trùng lặp với đề tài năm 2023. ")
    assert d.reason == "Đề cương trùng lặp với đề tài năm 2023."


def test_a_required_field_must_be_given() -> None:
    with pytest.raises(InvalidData, match=r"event 'extend' needs --set until=DD/MM/YYYY") as c:
        fire(task("in_progress"), "extend", OFFICE, reason="chậm tiến độ")
    assert c.value.field == "until"


def test_publishing_needs_a_url_or_a_reference() -> None:
    with pytest.raises(InvalidData, match=r"needs --set url=… or --set reference=…"):
        fire(task("accepted"), "publish", OFFICE)
    assert fire(task("accepted"), "publish", OFFICE,
                data={"url": "https://bvt.vn/nckh/2025"}).data == {"url": "https://bvt.vn/nckh/2025"}


@pytest.mark.parametrize(("event", "state", "data", "message"), [
    ("publish", "accepted", {"url": "ftp://x.vn/a"}, r"'ftp://x.vn/a' is not an http\(s\) URL"),
    ("publish", "accepted", {"url": "https://a.vn", "doi": "10.1/x"},
     r"event 'publish' has no field 'doi'; fields: url, reference"),
    ("publish", "accepted", {"reference": "  "}, r"field 'reference' of event 'publish' is empty"),
    ("approve_outline", "proposed", {"decided_on": "2025-02-30"},
     r"field 'decided_on' of event 'approve_outline': invalid date '2025-02-30', expected "
     r"DD/MM/YYYY \(or YYYY-MM-DD\)"),
    ("start", "outline_approved", {"anything": "1"}, r"event 'start' has no field 'anything'; "
                                                     r"fields: none"),
])
def test_malformed_event_data_is_invalid(event: str, state: str, data: dict[str, str],
                                         message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        fire(task(state), event, OFFICE, data=data)


TYPED = load_text("""\
name: typed
version: 1
level: unit
labels: {vi: "Kiểu", en: "Types"}
initial: a
states:
  a: {labels: {vi: "A", en: "A"}}
  b: {labels: {vi: "B", en: "B"}, final: true}
events:
  go:
    labels: {vi: "Đi", en: "Go"}
    from: a
    to: b
    roles: [office]
    fields:
      count: {type: int}
      contact: {type: email}
""", "<typed>")


@pytest.mark.parametrize(("data", "expected"), [
    ({"count": "12", "contact": "thu.ky@bvt.vn"}, {"count": 12, "contact": "thu.ky@bvt.vn"}),
    ({"count": "twelve"}, "'twelve' is not a whole number"),
    ({"contact": "thu.ky at bvt.vn"}, "'thu.ky at bvt.vn' is not an e-mail address"),
])
def test_int_and_email_fields_are_parsed_or_refused(data: dict[str, str],
                                                    expected: object) -> None:
    if isinstance(expected, dict):
        assert fire(task("a"), "go", OFFICE, wf=TYPED, data=data).data == expected
    else:
        with pytest.raises(InvalidData, match=str(expected)):
            fire(task("a"), "go", OFFICE, wf=TYPED, data=data)


# --- deadlines and time ------------------------------------------------------------------------
def test_an_extension_closes_the_open_deadline_as_extended_and_opens_the_new_date() -> None:
    d = fire(task("in_progress", open_due_on=dt.date(2025, 12, 1)), "extend", HEAD_A,
             reason="Chờ kết quả xét nghiệm", data={"until": "2026-03-31"})
    assert (d.from_state, d.to_state, d.close_outcome) == ("in_progress", "in_progress",
                                                           "extended")
    assert d.new_deadline is not None
    assert (d.new_deadline.due_on, d.new_deadline.rule) == (dt.date(2026, 3, 31),
                                                            "extend to 2026-03-31")
    assert d.data == {"until": "2026-03-31"}


def test_an_extension_date_typed_dd_mm_yyyy_is_the_same_day_stored_iso() -> None:
    d = fire(task("in_progress", open_due_on=dt.date(2025, 12, 1)), "extend", HEAD_A,
             reason="Chờ kết quả xét nghiệm", data={"until": "31/3/2026"})
    assert d.new_deadline is not None and d.new_deadline.due_on == dt.date(2026, 3, 31)
    assert d.data == {"until": "2026-03-31"}


@pytest.mark.parametrize(("until", "message"), [
    ("2025-12-01", r"until 2025-12-01 must be later than the current deadline 2025-12-01"),
    ("2025-11-30", r"until 2025-11-30 must be later than the current deadline 2025-12-01"),
    ("2025-03-10", r"until 2025-03-10 must be after 2025-03-10"),
])
def test_an_extension_must_move_the_deadline_later(until: str, message: str) -> None:
    with pytest.raises(InvalidData, match=message) as caught:
        fire(task("in_progress", open_due_on=dt.date(2025, 12, 1)), "extend", OFFICE,
             reason="x", data={"until": until})
    assert caught.value.field == "until"


def test_a_deadline_from_a_field_on_a_state_change_is_not_an_extension() -> None:
    d = fire(task("outline_approved", open_due_on=dt.date(2025, 3, 1)), "start", OFFICE,
             wf=PROVINCE, data={"end_date": "2026-12-31"})
    assert d.close_outcome == "late"
    assert d.new_deadline is not None
    assert (d.new_deadline.state, d.new_deadline.due_on) == ("in_progress", dt.date(2026, 12, 31))


def test_a_task_with_its_own_end_date_is_due_then_instead_of_the_plans_day() -> None:
    ends = dt.date(2027, 6, 30)
    unit = fire(task("outline_approved", ends_on=ends), "start", OFFICE)
    assert unit.new_deadline is not None
    assert (unit.new_deadline.due_on, unit.new_deadline.rule) == (ends, "task ends 2027-06-30")
    plain = fire(task("outline_approved"), "start", OFFICE).new_deadline
    assert plain is not None and plain.due_on == dt.date(2025, 12, 1)
    # the contract's end date typed with `start` still wins over the declared one
    typed = fire(task("outline_approved", ends_on=ends), "start", OFFICE, wf=PROVINCE,
                 data={"end_date": "2026-12-31"}).new_deadline
    assert typed is not None and typed.due_on == dt.date(2026, 12, 31)
    # a state whose deadline does not say `or_task_end` ignores it
    approved = fire(task(ends_on=ends), "approve_outline", OFFICE).new_deadline
    assert approved is not None and approved.due_on == dt.date(2025, 4, 9)


def test_leaving_a_state_on_its_due_day_is_on_time_and_the_day_after_is_late() -> None:
    due = dt.date(2025, 3, 10)
    assert fire(task(open_due_on=due), "approve_outline", OFFICE).close_outcome == "on_time"
    late = fire(task(open_due_on=due - dt.timedelta(days=1)), "approve_outline", OFFICE)
    assert late.close_outcome == "late"
    assert fire(task(), "approve_outline", OFFICE).close_outcome is None


def test_the_effective_day_is_taken_in_the_configured_time_zone() -> None:
    # 23:30 UTC on 9 March is 06:30 on 10 March in Hà Nội: on time for a 10 March deadline,
    # and the new 30-day deadline counts from 10 March.
    at = dt.datetime(2025, 3, 9, 23, 30, tzinfo=dt.UTC)
    d = fire(task(open_due_on=dt.date(2025, 3, 10)), "approve_outline", OFFICE, at=at)
    assert d.close_outcome == "on_time"
    assert d.new_deadline is not None and d.new_deadline.due_on == dt.date(2025, 4, 9)


def test_an_effective_time_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidData, match=r"effective time 2025-03-10T09:00:01\+07:00 is in the "
                                          r"future \(now is 2025-03-10T09:00:00\+07:00\)") as c:
        fire(task(), "approve_outline", OFFICE, at=NOW + dt.timedelta(seconds=1))
    assert c.value.field == "at"


def test_an_effective_time_before_the_last_transition_is_refused() -> None:
    last = NOW - dt.timedelta(days=2)
    view = task(last_effective_at=last)
    with pytest.raises(InvalidData, match=r"is before the task's last transition"):
        fire(view, "approve_outline", OFFICE, at=last - dt.timedelta(minutes=1))
    assert fire(view, "approve_outline", OFFICE, at=last).effective_at == last


def test_a_backdated_decision_opens_its_deadline_from_the_effective_day() -> None:
    d = fire(task(), "approve_outline", OFFICE, at=dt.datetime(2025, 2, 1, 9, tzinfo=DEFAULT_TZ))
    assert d.new_deadline is not None and d.new_deadline.due_on == dt.date(2025, 3, 3)


@pytest.mark.parametrize(("text", "valid"), [
    ("nguyen.van.a@bvdktinh.vn", True), ("A.B+c@sub.example.com", True),
    ("no-at-sign.vn", False), ("two@@a.vn", False), ("a@b", False), ("a b@c.vn", False),
    ("a@-b.vn", False), ("a,b@c.vn", False), ("x@" + "a" * 320 + ".vn", False),
])
def test_email_addresses_are_checked(text: str, valid: bool) -> None:
    assert is_valid_email(text) is valid
