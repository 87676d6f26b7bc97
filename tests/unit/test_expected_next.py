"""What a task's listing says is expected next: the state's deadline, else the step that leads on,
never a cancellation or a rejection (issue 14: proposed topics showed "Hủy đề tài")."""

from __future__ import annotations

from workflows.registry import Registry

REGISTRY = Registry()
UNIT_TASK = REGISTRY.get("unit_task")
REPORT = REGISTRY.get("unit_report")


def test_a_state_with_a_deadline_expects_what_its_deadline_is_called() -> None:
    assert UNIT_TASK.expected_next("proposed", "vi") == "Báo cáo kết quả xét duyệt đề cương"
    assert UNIT_TASK.expected_next("in_progress", "en") == "Acceptance results due"
    assert REPORT.expected_next("requested", "vi") == "Hạn gửi báo cáo"


def test_a_state_without_a_deadline_expects_the_step_that_leads_on() -> None:
    # suspended: resume or cancel; submitted: acknowledge or return for changes
    assert UNIT_TASK.expected_next("suspended", "vi") == "Tiếp tục thực hiện"
    assert REPORT.expected_next("submitted", "en") == "Acknowledge"


def test_a_final_or_unknown_state_expects_nothing() -> None:
    assert UNIT_TASK.expected_next("published", "vi") is None
    assert UNIT_TASK.expected_next("cancelled", "vi") is None
    assert UNIT_TASK.expected_next("no_such_state", "vi") is None


def test_no_packaged_workflow_ever_expects_a_step_to_a_void_end() -> None:
    names = REGISTRY.names()
    assert {"unit_task", "province_task", "initiative"} <= set(names)  # those that can be voided
    for name in names:
        wf = REGISTRY.get(name)
        voiding = {ev.labels.get(lang) for ev in wf.events.values() if wf.states[ev.dest].void
                   for lang in ("vi", "en")}
        for state in wf.states:
            for lang in ("vi", "en"):
                assert wf.expected_next(state, lang) not in voiding, (name, state, lang)
