"""The application of accepted results on real databases: recorded only after the acceptance,
listed per unit (a unit's head sees their own), shown by `task show`, summed up in the
compilation's detail list as of its day; each bad input refused in one line, nothing written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.app import App, build
from engine.applications import ApplicationInput
from engine.directory_log import Operator
from engine.reports.build import make_compilation
from storage.applications import Application
from tests.acceptance.cli import cli_env, nckh_in_process
from tests.conftest import local, make_settings
from tests.scheduling import OFFICE, head_email, small_province
from workflows.errors import Conflict, InputError, NotAllowed, NotFound

PI = "pi.a@syt.example.vn"


@pytest.fixture
def aapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(db_url, tmp_path))
    small_province(app, local(2024, 12, 20), codes=("A", "B"))
    yield app
    app.close()


def task_of(app: App, unit: str = "A", accept_on: int | None = 10) -> int:
    """A unit-level task of `unit` in progress, accepted on `accept_on` November 2025."""
    task = app.engine.create_task(unit_code=unit, level="unit", title="Giảm đau sau mổ",
                                  pi_email=PI if unit == "A" else "pi.b@syt.example.vn",
                                  pi_name="ThS. Lê Bình", year=2025, now=local(2025, 2, 3, 9))
    for i, event in enumerate(("approve_outline", "start")):
        app.engine.fire(task, event, actor_email=OFFICE, now=local(2025, 3, 1 + i))
    if accept_on is not None:
        app.engine.fire(task, "accept", actor_email=OFFICE, now=local(2025, 11, accept_on))
    return task


def count(app: App) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Application)) or 0)


def add(app: App, task: int, kind: str, where: str, receiver: str, day: int = 20,
        as_: str | None = None, doc_no: str | None = None, doc_date: dt.date | None = None,
        note: str | None = None) -> int:
    return app.engine.add_application(
        ApplicationInput(task, kind, where, receiver, dt.date(2025, 11, day), doc_no=doc_no,
                         doc_date=doc_date, note=note),
        now=local(2025, 11, 25), operator=Operator("thu", as_))


def test_applications_after_the_acceptance_are_listed_shown_and_summed_up_in_the_compilation(
        aapp: App) -> None:
    task = task_of(aapp)
    add(aapp, task, "applied", "a", "same_unit", as_=head_email("A"))
    add(aapp, task, "ap-dung", "Trạm Y tế xã Hòa Bình", "tuyen-duoi", 22, as_=PI)
    add(aapp, task, "transfer", "Bệnh viện Đa khoa tư nhân An Phú", "private_hospital", 24,
        doc_no="15/HĐ-CGKT", doc_date=dt.date(2025, 11, 24), note="Kỹ thuật gây tê")
    listed = aapp.engine.list_applications(unit_code="A", year=2025)
    assert [(r["kind"], r["place"], r["place_unit"], r["receiver_kind"], r["since"])
            for r in listed] == [
        ("applied", "Trung tâm Y tế A", "A", "same_unit", "20/11/2025"),
        ("applied", "Trạm Y tế xã Hòa Bình", None, "lower_level", "22/11/2025"),
        ("transfer", "Bệnh viện Đa khoa tư nhân An Phú", None, "private_hospital",
         "24/11/2025")]
    assert listed[2]["doc_no"] == "15/HĐ-CGKT" and listed[2]["doc_date"] == "24/11/2025"
    assert aapp.engine.list_applications(unit_code="B") == []
    assert aapp.engine.list_applications(year=2026) == []
    assert len(aapp.engine.list_applications(viewer_email=head_email("A"))) == 3
    assert aapp.engine.list_applications(viewer_email=head_email("B")) == []
    with pytest.raises(NotFound, match="unknown unit: A"):
        aapp.engine.list_applications(unit_code="A", viewer_email=head_email("B"))
    extra = aapp.engine.task_detail(task, now=local(2025, 11, 25))["extra"]
    assert extra["Application of results"][2] == (
        "Chuyển giao kỹ thuật: Bệnh viện Đa khoa tư nhân An Phú (bệnh viện tư nhân) từ "
        "24/11/2025, số 15/HĐ-CGKT ngày 24/11/2025")

    def summary(day: int) -> str:
        compiled = make_compilation(aapp.engine, 2025, today=dt.date(2025, 12, 1),
                                    as_of=dt.date(2025, 11, day), rules=aapp.report_rules())
        [entry] = compiled.entries
        return entry.application

    assert summary(19) == ""
    assert summary(22) == "Áp dụng tại 2 đơn vị"
    assert summary(30) == "Áp dụng tại 2 đơn vị; chuyển giao 1"


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"task": 999}, NotFound, "unknown task: 999"),
    ({"kind": "ban"}, InputError, "kind 'ban': expected one of applied, transfer, cooperation"),
    ({"receiver": "xa"}, InputError, "receiver kind 'xa': expected one of same_unit"),
    ({"day": 26}, InputError, "since 26/11/2025 is in the future (today is 25/11/2025)"),
    ({"day": 9}, InputError, "since 09/11/2025 is before the acceptance (10/11/2025)"),
    ({"where": " "}, InputError, "where is empty"),
    ({"receiver": "same_unit"}, InputError, "receiver kind same_unit: where must be the task's "
                                            "unit A"),
    ({"kind": "transfer", "where": "A", "receiver": "same_unit"}, InputError,
     "a transfer is with another unit or body, not the task's own unit A"),
    ({"as_": head_email("B")}, NotAllowed, f"{head_email('B')} is neither of the office, the "
                                           "head of unit A nor task"),
])
def test_a_bad_application_is_refused_in_one_line_and_nothing_is_written(
        aapp: App, change: dict[str, object], error: type[Exception], message: str) -> None:
    task = task_of(aapp)
    args: dict[str, Any] = {"task": task, "kind": "applied", "where": "Trạm Y tế xã An",
                            "receiver": "lower_level", **change}
    with pytest.raises(error, match=re.escape(message)) as raised:
        add(aapp, args.pop("task"), args.pop("kind"), args.pop("where"), args.pop("receiver"),
            **args)
    assert "\n" not in str(raised.value)
    assert count(aapp) == 0


def test_before_the_acceptance_and_twice_are_refused(aapp: App) -> None:
    task = task_of(aapp, accept_on=None)
    with pytest.raises(InputError, match=f"task {task} is not accepted yet \\('in_progress'\\): "
                                         "a result is applied after its acceptance"):
        add(aapp, task, "applied", "A", "same_unit")
    aapp.engine.fire(task, "accept", actor_email=OFFICE, now=local(2025, 11, 10))
    add(aapp, task, "cooperation", "Bệnh viện Chợ Rẫy", "ngoai-tinh")
    with pytest.raises(Conflict, match=f"task {task} already has cooperation at Bệnh viện Chợ "
                                       "Rẫy since 20/11/2025"):
        add(aapp, task, "hop-tac", "Bệnh viện Chợ Rẫy", "outside_province")
    assert count(aapp) == 1


def test_the_cli_adds_lists_as_csv_and_shows_the_applications(
        aapp: App, db_url: str, tmp_path: Path) -> None:
    task = str(task_of(aapp))
    env = cli_env(tmp_path, "2025-11-25T09:00", NCKH_DATABASE_URL=db_url)
    ran = nckh_in_process(env, "application", "add", task, "--kind", "transfer", "--where",
                          "B", "--receiver-kind", "public_province", "--since", "21/11/2025",
                          "--doc-no", "7/HĐ", "--doc-date", "20/11/2025", "--as", OFFICE)
    assert (ran.returncode, ran.stderr, ran.stdout) == (0, "", "application 1 recorded\n")
    csv = nckh_in_process(env, "application", "list", "--csv").stdout
    assert csv.startswith("\ufeffMã;Đơn vị chủ trì;Nhiệm vụ;")
    assert (f"1;A;{task};Giảm đau sau mổ;Chuyển giao kỹ thuật;Trung tâm Y tế B;Cơ sở công lập "
            "trong tỉnh;21/11/2025;7/HĐ;20/11/2025;") in csv
    shown = nckh_in_process(env, "task", "show", task).stdout
    assert "Chuyển giao kỹ thuật: Trung tâm Y tế B (cơ sở công lập trong tỉnh) từ 21/11/2025" \
        in shown
    bad = nckh_in_process(env, "application", "add", task, "--kind", "applied", "--where", "A",
                          "--receiver-kind", "same_unit", "--since", "31/11/2025")
    assert (bad.returncode, bad.stdout, bad.stderr.count("\n")) == (2, "", 1)
    assert "invalid --since '31/11/2025': expected DD/MM/YYYY" in bad.stderr
    assert count(aapp) == 1
