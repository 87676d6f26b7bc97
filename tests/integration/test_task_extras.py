"""A task's dates, funding and co-investigators on real databases: recorded with the task or
later, shown by `task show`, the end date becoming the acceptance deadline when work starts,
and every bad input refused in one line with nothing written."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.app import App, build
from engine.directory_log import Operator
from engine.reports.build import make_compilation, render
from engine.taskextras import ExtrasInput
from storage.models import Task
from storage.taskextras import TaskMember
from tests.acceptance.cli import cli_env, nckh_in_process
from tests.conftest import local, make_settings
from tests.scheduling import OFFICE, head_email, small_province
from workflows.errors import NotAllowed

PI = "pi.a@syt.example.vn"
MEMBER = "Lê Thị Hoa <hoa.lt@syt.example.vn>:thư ký khoa học"


@pytest.fixture
def xapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(db_url, tmp_path))
    small_province(app, local(2024, 12, 20), codes=("A", "B"))
    app.engine.add_person(email="hoa.lt@syt.example.vn", name="Lê Thị Hoa", role="pi",
                          unit_code="A", now=local(2024, 12, 20))
    yield app
    app.close()


def new_task(app: App, extras: ExtrasInput | None = None) -> int:
    return app.engine.create_task(unit_code="A", level="unit", title="Giảm đau sau mổ",
                                  pi_email=PI, pi_name="ThS. Lê Bình", year=2025,
                                  now=local(2025, 2, 3, 9), extras=extras)


def snapshot(app: App) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with app.sessions() as s:
        tasks = [tuple(r) for r in s.execute(select(
            Task.id, Task.version, Task.starts_on, Task.ends_on, Task.funding_source,
            Task.funding_amount).order_by(Task.id))]
        members = [tuple(r) for r in s.execute(select(
            TaskMember.task_id, TaskMember.seq, TaskMember.name, TaskMember.email,
            TaskMember.person_id, TaskMember.role).order_by(TaskMember.id))]
    return tasks, members


def test_a_multi_year_task_is_due_on_its_end_date_once_started_and_shows_its_extras(
        xapp: App) -> None:
    task = new_task(xapp, ExtrasInput("01/03/2025", "30/06/2027", "quy-khcn-tinh",
                                      "150.000.000 đ", (MEMBER, "Trần Văn Nam:thành viên")))
    for i, event in enumerate(("approve_outline", "start")):
        xapp.engine.fire(task, event, actor_email=OFFICE, now=local(2025, 3, 1 + i))
    detail = xapp.engine.task_detail(task, now=local(2025, 3, 3))
    opened = detail["deadlines"][-1]
    assert (opened["state"], opened["due_on"], opened["open"]) == ("in_progress", "2027-06-30",
                                                                  True)
    extras = detail["extras"]
    assert (extras["starts_on"], extras["ends_on"], extras["funding_label"],
            extras["funding_shown"]) == ("01/03/2025", "30/06/2027", "Quỹ KH&CN tỉnh",
                                         "150.000.000 đ")
    with xapp.sessions() as s:
        hoa = s.scalar(select(TaskMember.person_id).where(TaskMember.seq == 1))
    assert [(m["name"], m["email"], m["role"], m["person_id"] is not None)
            for m in extras["members"]] == [
        ("Lê Thị Hoa", "hoa.lt@syt.example.vn", "thư ký khoa học", True),
        ("Trần Văn Nam", None, "thành viên", False)]
    assert hoa is not None
    assert detail["extra"]["Dates, funding and team"][:2] == [
        "dates: 01/03/2025 – 30/06/2027", "funding: Quỹ KH&CN tỉnh, 150.000.000 đ"]


def test_a_task_without_an_end_date_keeps_the_plans_first_of_december(xapp: App) -> None:
    task = new_task(xapp)
    for i, event in enumerate(("approve_outline", "start")):
        xapp.engine.fire(task, event, actor_email=OFFICE, now=local(2025, 3, 1 + i))
    detail = xapp.engine.task_detail(task, now=local(2025, 3, 3))
    assert detail["deadlines"][-1]["due_on"] == "2025-12-01"
    assert detail["extras"]["members"] == [] and "Dates, funding and team" not in detail["extra"]


def test_extras_are_changed_later_by_the_units_head_but_not_by_another_units(
        xapp: App) -> None:
    task = new_task(xapp, ExtrasInput(starts="01/03/2025", members=(MEMBER,)))
    xapp.engine.set_extras(task, ExtrasInput(ends="31/12/2026", funding_source="don-vi",
                                             funding_amount="0"), now=local(2025, 3, 4),
                           operator=Operator("thu", head_email("A")))
    before = snapshot(xapp)
    assert before[0] == [(task, 1, dt.date(2025, 3, 1), dt.date(2026, 12, 31), "unit", 0)]
    assert len(before[1]) == 1  # the team was left as it was
    with pytest.raises(NotAllowed, match=f"{head_email('B')} is neither of the office"):
        xapp.engine.set_extras(task, ExtrasInput(funding_amount="1"), now=local(2025, 3, 5),
                               operator=Operator("thu", head_email("B")))
    assert snapshot(xapp) == before
    extras = xapp.engine.task_detail(task, now=local(2025, 3, 5))["extras"]
    assert (extras["recorded_on"], extras["recorded_by"], extras["acting_as"]) == (
        "04/03/2025", "thu", head_email("A"))
    xapp.engine.set_extras(task, ExtrasInput(members=()), now=local(2025, 3, 6),
                           operator=Operator("lan", OFFICE))
    assert snapshot(xapp)[1] == []
    extras = xapp.engine.task_detail(task, now=local(2025, 3, 6))["extras"]
    assert (extras["recorded_on"], extras["recorded_by"], extras["acting_as"]) == (
        "06/03/2025", "lan", OFFICE)


def test_the_cli_records_and_refuses_extras_in_one_line_with_nothing_written(
        xapp: App, db_url: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path, "2025-02-03T09:00", NCKH_DATABASE_URL=db_url)
    new = ("task", "new", "--unit", "A", "--level", "unit", "--title", "Đề tài nhiều năm",
           "--pi-email", PI, "--pi-name", "ThS. Lê Bình")
    ran = nckh_in_process(env, *new, "--starts", "01/03/2025", "--ends", "30/06/2027",
                          "--funding-source", "ngan-sach-su-nghiep", "--funding-amount",
                          "150.000.000", "--member", MEMBER)
    assert (ran.returncode, ran.stderr) == (0, "")
    task = ran.stdout.strip()
    shown = nckh_in_process(env, "task", "show", task).stdout
    assert "dates: 01/03/2025 – 30/06/2027" in shown
    assert "funding: Ngân sách sự nghiệp, 150.000.000 đ" in shown
    assert "member: Lê Thị Hoa <hoa.lt@syt.example.vn> — thư ký khoa học" in shown
    assert "recorded: 03/02/2025 by " in shown
    before = snapshot(xapp)
    edit = ("task", "edit-extras", task, "--as", OFFICE)
    for args, message in (
            ((*new, "--starts", "01/03/2025", "--ends", "28/02/2025"),
             "end date 28/02/2025 is before the start date 01/03/2025"),
            ((*edit, "--ends", "28/02/2025"),
             "end date 28/02/2025 is before the start date 01/03/2025"),
            ((*edit, "--ends", "01/03/2031"), "end date 01/03/2031 is more than 5 years after "
                                              "01/03/2025"),
            ((*edit, "--ends", "31/02/2026"), "end date '31/02/2026': expected DD/MM/YYYY"),
            ((*edit, "--funding-amount", "-5"), "funding amount '-5': expected a whole number"),
            ((*new, "--funding-source", "khac", "--funding-amount", "1,5 tỷ"),
             "funding amount '1,5 tỷ': expected a whole number of đồng"),
            ((*edit, "--funding-amount", "15.00.000"), "funding amount '15.00.000'"),
            ((*new, "--funding-amount", "100"), "funding amount needs its source"),
            ((*edit, "--funding-source", "ngan-hang"), "funding source 'ngan-hang': expected "
                                                       "one of recurrent, provincial_fund"),
            ((*edit, "--member", "Lê Thị Hoa <hoa.lt@syt.example.vn>"),
             "member 'Lê Thị Hoa <hoa.lt@syt.example.vn>': expected 'Name <e-mail>:role'"),
            ((*edit, "--member", "Hoa <hoa@@x>:thư ký"), "member e-mail"),
            ((*edit, "--member", MEMBER, "--member", MEMBER),
             "member hoa.lt@syt.example.vn is listed twice"),
            (edit, "nothing to change"),
            (("task", "edit-extras", "999", "--ends", "01/01/2026"), "unknown task: 999")):
        ran = nckh_in_process(env, *args)
        assert ran.returncode == 2, (args, ran.stderr)
        assert message in ran.stderr and ran.stderr.count("\n") == 1, (args, ran.stderr)
        assert ran.stdout == ""
    assert snapshot(xapp) == before
    with xapp.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Task)) == 1


def test_the_compilations_detail_carries_the_funding_in_its_last_column(xapp: App) -> None:
    new_task(xapp, ExtrasInput(funding_source="ngan-sach-su-nghiep",
                               funding_amount="150.000.000"))
    new_task(xapp)
    result = make_compilation(xapp.engine, 2025, today=dt.date(2025, 12, 10),
                              rules=xapp.report_rules())
    assert [e.funding for e in result.entries] == ["150.000.000 đ (Ngân sách sự nghiệp)", ""]
    ws = load_workbook(io.BytesIO(render(result, "xlsx")))["Danh mục"]
    header = [c.value for c in ws[7]]
    assert header[-1] == "Kinh phí (nguồn)"
    assert ws.cell(row=8, column=len(header)).value == "150.000.000 đ (Ngân sách sự nghiệp)"
