"""What the engine records beyond the state: deadlines and their outcomes, definition snapshots,
Vietnamese text, and domain events published inside the transaction. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.app import App, build
from storage.models import HistoryEntry, WorkflowDefinition
from tests.conftest import local, make_settings
from tests.integration.province import (
    COUNCIL,
    HEAD_A,
    OFFICE,
    PI,
    all_tables,
    seed,
    snapshot,
)
from workflows.errors import NotAllowed
from workflows.registry import PACKAGED_DIR, Registry


@pytest.fixture
def core(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(db_url, tmp_path), jobs=())
    seed(app.engine)
    yield app
    app.close()


def new_task(app: App, when: dt.datetime, title: str = "Đề tài", level: str = "unit") -> int:
    return app.engine.create_task(unit_code="BVDK", level=level, title=title, pi_email=PI,
                                  year=2025, now=when)


def deadlines(app: App, task_id: int) -> list[tuple[str, str, str | None]]:
    return [(d["state"], d["due_on"].isoformat(), d["outcome"])
            for d in snapshot(app, task_id)["deadlines"]]


# --- deadlines -----------------------------------------------------------------------------------
def test_leaving_a_state_by_its_deadline_closes_it_on_time(core: App) -> None:
    task = new_task(core, local(2025, 2, 3))
    core.engine.fire(task, "approve_outline", actor_email=COUNCIL, now=local(2025, 4, 30, 17))
    assert deadlines(core, task) == [("proposed", "2025-04-30", "on_time"),
                                     ("outline_approved", "2025-05-30", None)]


def test_leaving_a_state_after_its_deadline_closes_it_late(core: App) -> None:
    task = new_task(core, local(2025, 2, 3))
    core.engine.fire(task, "approve_outline", actor_email=COUNCIL, now=local(2025, 5, 2))
    core.engine.fire(task, "start", actor_email=HEAD_A, now=local(2025, 6, 20))
    assert deadlines(core, task) == [("proposed", "2025-04-30", "late"),
                                     ("outline_approved", "2025-06-01", "late"),
                                     ("in_progress", "2025-12-01", None)]


def test_a_backdated_decision_is_judged_by_its_effective_time(core: App) -> None:
    task = new_task(core, local(2025, 2, 3))
    core.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 5, 6),
                     at=local(2025, 4, 28, 14), data={"decided_on": "2025-04-28",
                                                      "decision_no": "41/QĐ-BVĐK"})
    assert deadlines(core, task) == [("proposed", "2025-04-30", "on_time"),
                                     ("outline_approved", "2025-05-28", None)]
    last = snapshot(core, task)["history"][-1]
    assert last["effective_at"] == local(2025, 4, 28, 14)
    assert last["recorded_at"] == local(2025, 5, 6)
    assert snapshot(core, task)["task"]["state_entered_at"] == local(2025, 4, 28, 14)


def test_an_extension_closes_the_deadline_as_extended_and_keeps_the_state(core: App) -> None:
    task = new_task(core, local(2025, 2, 3))
    core.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 3))
    core.engine.fire(task, "start", actor_email=HEAD_A, now=local(2025, 3, 10))
    entered = snapshot(core, task)["task"]["state_entered_at"]
    core.engine.fire(task, "extend", actor_email=HEAD_A, reason="Chờ đủ cỡ mẫu",
                     data={"until": "2026-03-31"}, now=local(2025, 11, 20))
    core.engine.fire(task, "extend", actor_email=OFFICE, reason="Lần hai",
                     data={"until": "2026-06-30"}, now=local(2026, 3, 1))
    snap = snapshot(core, task)
    assert deadlines(core, task)[-3:] == [("in_progress", "2025-12-01", "extended"),
                                          ("in_progress", "2026-03-31", "extended"),
                                          ("in_progress", "2026-06-30", None)]
    assert snap["task"]["state"] == "in_progress"
    assert snap["task"]["state_entered_at"] == entered  # an extension is not a new entry
    assert [d["rule"] for d in snap["deadlines"][-2:]] == ["extend to 2026-03-31",
                                                          "extend to 2026-06-30"]


def test_entering_a_state_without_a_deadline_leaves_none_open(core: App) -> None:
    task = new_task(core, local(2025, 2, 3))
    core.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 3))
    core.engine.fire(task, "start", actor_email=HEAD_A, now=local(2025, 3, 10))
    core.engine.fire(task, "suspend", actor_email=HEAD_A, reason="Chủ nhiệm đi học",
                     now=local(2025, 4, 1))
    assert [d for d in snapshot(core, task)["deadlines"] if d["closed_at"] is None] == []
    core.engine.fire(task, "resume", actor_email=HEAD_A, now=local(2025, 6, 1))
    assert deadlines(core, task)[-1] == ("in_progress", "2025-12-01", None)


def test_overdue_tasks_are_listed_once_their_due_day_has_ended(core: App) -> None:
    late = new_task(core, local(2025, 2, 3), "Đề tài chậm")
    done = new_task(core, local(2025, 2, 3), "Đề tài đúng hạn")
    core.engine.fire(done, "approve_outline", actor_email=OFFICE, now=local(2025, 4, 29))
    on_due_day = core.engine.list_tasks(now=local(2025, 4, 30, 23, 59), overdue=True)
    assert on_due_day == []
    rows = core.engine.list_tasks(now=local(2025, 5, 1, 0, 1), overdue=True)
    assert [(r["id"], r["due_on"], r["overdue"]) for r in rows] == [(late, "2025-04-30", True)]
    assert [r["id"] for r in core.engine.list_tasks(now=local(2025, 5, 1),
                                                    state="outline_approved")] == [done]
    detail = core.engine.task_detail(late, now=local(2025, 5, 1))
    assert [(d["due_on"], d["open"], d["overdue"]) for d in detail["deadlines"]] == [
        ("2025-04-30", True, True)]


# --- definition versions -------------------------------------------------------------------------
def test_a_task_keeps_the_definition_it_started_with_after_the_file_changes(
        db_url: str, tmp_path: Path) -> None:
    workflows = tmp_path / "workflows"
    shutil.copytree(PACKAGED_DIR, workflows)
    settings = make_settings(db_url, tmp_path, NCKH_WORKFLOWS_DIR=str(workflows))
    first = build(settings, jobs=())
    seed(first.engine)
    old_task = new_task(first, local(2025, 2, 3))
    first.close()

    path = workflows / "unit_task.yaml"
    text = path.read_text(encoding="utf-8")
    ver = Registry().get("unit_task").version
    edited = (text.replace(f"version: {ver}", f"version: {ver + 1}", 1)
              .replace('before: "04-30"', 'before: "03-31"')
              .replace("roles: [office, council]\n    not_by: [pi]\n    fields:\n      decision_no",
                       "roles: [office]\n    not_by: [pi]\n    fields:\n      decision_no", 1)
              .replace("Đã đề xuất, chờ xét duyệt đề cương", "Chờ hội đồng xét duyệt"))
    assert edited.count("03-31") == 2 and "Chờ hội đồng" in edited
    path.write_text(edited, encoding="utf-8")

    second = build(settings, jobs=())  # a new process reads the edited file
    try:
        new = new_task(second, local(2025, 2, 4))
        old_detail = second.engine.task_detail(old_task, now=local(2025, 2, 5))
        new_detail = second.engine.task_detail(new, now=local(2025, 2, 5))
        assert (old_detail["workflow_version"], new_detail["workflow_version"]) == (ver, ver + 1)
        assert old_detail["definition_sha256"] != new_detail["definition_sha256"]
        assert old_detail["state_label"] == "Đã đề xuất, chờ xét duyệt đề cương"
        assert new_detail["state_label"] == "Chờ hội đồng xét duyệt"
        assert [d["due_on"] for d in old_detail["deadlines"]] == ["2025-04-30"]
        assert [d["due_on"] for d in new_detail["deadlines"]] == ["2025-03-31"]
        with pytest.raises(NotAllowed, match=r"allowed roles: office$"):
            second.engine.fire(new, "approve_outline", actor_email=COUNCIL,
                               now=local(2025, 2, 6))
        second.engine.fire(old_task, "approve_outline", actor_email=COUNCIL,
                           now=local(2025, 2, 6))  # the old rules still hold for the old task
        with second.sessions() as s:
            snaps = s.execute(select(WorkflowDefinition.version, WorkflowDefinition.source)
                              .where(WorkflowDefinition.name == "unit_task")
                              .order_by(WorkflowDefinition.id)).all()
        assert [(v, src) for v, src in snaps] == [(ver, text), (ver + 1, edited)]
    finally:
        second.close()


def test_tasks_of_one_definition_share_one_snapshot(core: App) -> None:
    for day in (3, 4, 5):
        new_task(core, local(2025, 2, day))
    new_task(core, local(2025, 2, 6), level="initiative")
    with core.sessions() as s:
        names = s.scalars(select(WorkflowDefinition.name).order_by(WorkflowDefinition.id)).all()
    assert names == ["unit_task", "initiative"]


# --- Vietnamese text -----------------------------------------------------------------------------
TITLE_NFC = "Nghiên cứu tỷ lệ nhiễm khuẩn vết mổ ở người bệnh cao tuổi tại Khoa Ngoại – năm 2025"
TITLE_NFD = unicodedata.normalize("NFD", "Ứng dụng trí tuệ nhân tạo đọc phim X-quang ngực")


def test_vietnamese_titles_names_reasons_and_data_round_trip_exactly_in_nfc(core: App) -> None:
    # Text is stored NFC-normalised (workflows.inputs): a title typed decomposed comes back
    # precomposed, every other character exactly as typed.
    assert unicodedata.normalize("NFC", TITLE_NFD) != TITLE_NFD
    nfc = new_task(core, local(2025, 2, 3), TITLE_NFC)
    nfd = new_task(core, local(2025, 2, 3), TITLE_NFD)
    reason = "Đề cương chưa nêu rõ cỡ mẫu; đề nghị bổ sung “giải trình” theo ý kiến Hội đồng."
    core.engine.fire(nfc, "request_revision", actor_email=COUNCIL, reason=reason,
                     now=local(2025, 3, 1))
    core.engine.fire(nfd, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 1),
                     data={"decision_no": "Số 15/QĐ-BVĐK ngày 01/3/2025"})
    assert core.engine.task_detail(nfc, now=local(2025, 3, 2))["title"] == TITLE_NFC
    detail = core.engine.task_detail(nfd, now=local(2025, 3, 2))
    assert detail["title"] == unicodedata.normalize("NFC", TITLE_NFD)
    assert detail["unit_name"] == "Bệnh viện Đa khoa tỉnh"
    assert detail["pi"]["name"] == "ThS.BS Lê Văn Bình"
    assert detail["history"][-1]["data"] == {"decision_no": "Số 15/QĐ-BVĐK ngày 01/3/2025"}
    assert detail["workflow_label"] == "Đề tài cấp cơ sở"
    assert core.engine.task_detail(nfc, now=local(2025, 3, 2))["history"][-1]["reason"] == reason
    listed = {r["id"]: r["title"] for r in core.engine.list_tasks(now=local(2025, 3, 2))}
    assert listed == {nfc: TITLE_NFC, nfd: unicodedata.normalize("NFC", TITLE_NFD)}
    units = {u["code"]: u for u in core.engine.list_units()}
    assert units["TTYT-DH"]["head_name"] == "BS.CKII Hoàng Văn Đức"
    en = core.engine.task_detail(nfc, now=local(2025, 3, 2), lang="en")
    assert en["state_label"] == "Outline revision requested"


# --- a step is written whole, or not at all ------------------------------------------------------
def test_a_step_that_cannot_be_written_whole_leaves_nothing_behind(
        core: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """The transition, its deadlines, its timers and its mails are one transaction: a failure in
    the last of them (here: queueing the mail) leaves the task as it was."""
    import storage.tasks

    task = new_task(core, local(2025, 2, 3))
    before = dict(all_tables(core))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(storage.tasks, "queue_mails", broken)
    with pytest.raises(RuntimeError, match="outbox unavailable"):
        core.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 3))
    assert dict(all_tables(core)) == before
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(HistoryEntry)) == 1


def test_allowed_events_follow_the_state_and_the_person(core: App) -> None:
    task = new_task(core, local(2025, 2, 3))
    assert [e.name for e in core.engine.allowed_events(task)] == [
        "approve_outline", "request_revision", "reject", "cancel"]
    assert [e.name for e in core.engine.allowed_events(task, HEAD_A)] == ["cancel"]
    assert [e.name for e in core.engine.allowed_events(task, PI)] == []
