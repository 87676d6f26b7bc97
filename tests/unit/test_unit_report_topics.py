"""Which topics a unit's report of results lists, and what it says of each — no database.

The rules (workflows/concerns.py) read the packaged workflows: the outline-review report before
30/4 lists the topics awaiting their review and those decided in its year; the acceptance report
before 1/12 those due that year and those accepted or failed in it.
"""

from __future__ import annotations

import datetime as dt

from workflows.concerns import Step, Topic, TopicLine, awaiting_states, concerned
from workflows.registry import Registry

REG = Registry()
UNIT, PROVINCE = REG.get("unit_task"), REG.get("province_task")


def topic(tid: int, state: str, *steps: Step, due: dt.date | None = None,
          title: str | None = None, wf: object = None) -> Topic:
    return Topic(tid, title or f"Đề tài {tid}", "unit", state, "ThS.BS Nguyễn Văn A",
                 wf or UNIT, due, steps)  # type: ignore[arg-type]


def step(event: str, src: str, dst: str, on: dt.date, **data: str) -> Step:
    return Step(event, src, dst, on, data)


def lines(topics: list[Topic], milestone: str, year: int = 2025) -> list[tuple[int, str, bool]]:
    return [(x.id, x.event or x.state, x.awaiting) for x in concerned(topics, milestone, year)]


def test_the_outline_report_awaits_the_proposed_and_the_revised_outlines() -> None:
    assert awaiting_states(UNIT, "outline_approved") == {"proposed", "outline_revision"}
    assert awaiting_states(UNIT, "accepted") == {"in_progress", "acceptance_failed"}


def test_the_outline_report_lists_decisions_of_its_year_and_topics_still_awaiting() -> None:
    approved = topic(1, "in_progress",
                     step("approve_outline", "proposed", "outline_approved",
                          dt.date(2025, 4, 22), decision_no="12/QĐ-BV"),
                     step("start", "outline_approved", "in_progress", dt.date(2025, 5, 6)))
    rejected = topic(2, "rejected", step("reject", "proposed", "rejected", dt.date(2025, 3, 20)))
    revising = topic(3, "outline_revision",
                     step("request_revision", "proposed", "outline_revision",
                          dt.date(2025, 4, 2)), due=dt.date(2025, 4, 30))
    cancelled = topic(4, "cancelled", step("cancel", "proposed", "cancelled",
                                           dt.date(2025, 3, 17)))
    last_year = topic(5, "in_progress",
                      step("approve_outline", "proposed", "outline_approved",
                           dt.date(2024, 4, 10)))
    assert lines([approved, rejected, revising, cancelled, last_year], "outline_approved") == [
        (1, "approve_outline", False), (2, "reject", False), (3, "outline_revision", True)]
    [first] = concerned([approved], "outline_approved", 2025)
    assert (first.reached, first.on, first.decision_no) == (True, dt.date(2025, 4, 22),
                                                            "12/QĐ-BV")
    assert first.result_label("vi") == "Phê duyệt đề cương"


def test_the_acceptance_report_leaves_a_topic_due_next_year_to_next_years_report() -> None:
    accepted = topic(1, "accepted", step("accept", "in_progress", "accepted",
                                         dt.date(2025, 11, 18), grade="Xuất sắc"))
    due_now = topic(2, "in_progress", due=dt.date(2025, 12, 1))
    multi_year = topic(3, "in_progress", due=dt.date(2026, 6, 30))
    failed = topic(4, "acceptance_failed",
                   step("fail_acceptance", "in_progress", "acceptance_failed",
                        dt.date(2025, 11, 25)), due=dt.date(2026, 1, 24))
    suspended = topic(5, "suspended", step("suspend", "in_progress", "suspended",
                                           dt.date(2025, 8, 12)))
    got = concerned([accepted, due_now, multi_year, failed, suspended], "accepted", 2025)
    assert [(x.id, x.event, x.awaiting, x.reached) for x in got] == [
        (1, "accept", False, True), (2, None, True, False), (4, "fail_acceptance", False, False)]
    assert (got[0].grade, got[1].due_on) == ("Xuất sắc", dt.date(2025, 12, 1))
    # Failed in November, re-evaluation due next year: this year's report says it failed,
    # next year's that it awaits the re-evaluation.
    assert concerned([failed], "accepted", 2026)[0].awaiting


def test_a_province_task_is_listed_by_its_own_workflow() -> None:
    waiting = topic(1, "proposed", due=dt.date(2025, 5, 10), wf=PROVINCE)
    [line] = concerned([waiting], "outline_approved", 2025)
    assert isinstance(line, TopicLine) and line.awaiting
    assert line.result_label("en") == PROVINCE.states["proposed"].labels.en


def test_lines_go_by_title() -> None:
    b = topic(1, "proposed", title="b đề tài")
    a = topic(2, "proposed", title="A đề tài")
    assert [x.id for x in concerned([b, a], "outline_approved", 2025)] == [2, 1]
