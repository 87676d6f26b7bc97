"""The input rules through the engine's API, the same on SQLite and PostgreSQL: text stored
NFC-normalised, every limit's longest value stored whole, ids beyond the column unknown, `--state`
checked against the workflows in force. (The CLI's catalogue of refusals is
tests/acceptance/test_cli_bad_inputs.py.)"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.app import App, build
from engine.directory import UnitInput
from storage.models import HistoryEntry, Person, Task, Unit
from tests.conftest import local, make_settings
from tests.integration.province import COUNCIL, OFFICE, PI, all_tables, seed
from workflows.errors import InputError, InvalidData, NotFound
from workflows.inputs import LIMITS, MAX_ID

NOW = local(2025, 3, 3)
TITLE = "Nghiên cứu ứng dụng trí tuệ nhân tạo trong đọc phim X-quang ngực tại Bệnh viện"


def nfd(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    return decomposed


@pytest.fixture
def core(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(db_url, tmp_path), jobs=())
    seed(app.engine)
    yield app
    app.close()


def new_task(app: App, title: str) -> int:
    return app.engine.create_task(unit_code="BVDK", level="unit", title=title, pi_email=PI,
                                  year=2025, now=NOW)


def test_two_titles_that_differ_only_by_nfc_and_nfd_are_stored_identically(core: App) -> None:
    typed_nfc, typed_nfd = new_task(core, TITLE), new_task(core, nfd(TITLE))
    with core.sessions() as s:
        stored = {row.id: row.title for row in s.execute(select(Task.id, Task.title))}
    assert stored[typed_nfc] == stored[typed_nfd] == TITLE


def test_names_reasons_and_event_data_are_stored_nfc(core: App) -> None:
    core.engine.add_unit(UnitInput("BV-YHCT", nfd("Bệnh viện Y học cổ truyền"),
                                   nfd("BS.CKII Trịnh Thị Huyền"), "huyen@yhct.example.vn"),
                         now=NOW)
    core.engine.add_person(email="ngoc@syt.example.vn", name=nfd("Đặng Thị Ngọc"), role="office",
                           title=nfd("ThS. Dược sĩ"), now=NOW)
    task = new_task(core, TITLE)
    core.engine.fire(task, "request_revision", actor_email=COUNCIL, now=NOW,
                     reason=nfd("Bổ sung cỡ mẫu\r\nvà giải trình"))
    core.engine.fire(task, "resubmit", actor_email=PI, now=NOW)
    core.engine.fire(task, "approve_outline", actor_email=OFFICE, now=NOW,
                     data={"decision_no": nfd("Số 15/QĐ-BVĐK")})
    with core.sessions() as s:
        unit = s.scalars(select(Unit).where(Unit.code == "BV-YHCT")).one()
        people = {p.email: (p.name, p.title) for p in s.scalars(select(Person))}
        history = [(h.reason, h.data) for h in s.scalars(
            select(HistoryEntry).where(HistoryEntry.task_id == task).order_by(HistoryEntry.seq))]
    assert unit.name == "Bệnh viện Y học cổ truyền"
    assert people["huyen@yhct.example.vn"] == ("BS.CKII Trịnh Thị Huyền", None)
    assert people["ngoc@syt.example.vn"] == ("Đặng Thị Ngọc", "ThS. Dược sĩ")
    assert history[1][0] == "Bổ sung cỡ mẫu\nvà giải trình"
    assert history[3][1] == {"decision_no": "Số 15/QĐ-BVĐK"}


def test_the_longest_value_each_limit_allows_is_stored_whole(core: App) -> None:
    # At the limit, in Vietnamese (several bytes a character): the column holds it on both.
    title, name = "ễ" * LIMITS["task title"], "Ữ" * LIMITS["unit name"]
    task = new_task(core, title)
    core.engine.add_unit(UnitInput("U" * LIMITS["unit code"], name, "Đ" * LIMITS["person name"],
                                   "dai@example.vn"), now=NOW)
    core.engine.add_person(email="t@example.vn", name="Tên", role="council",
                           title="ạ" * LIMITS["person title"], now=NOW)
    core.engine.fire(task, "reject", actor_email=COUNCIL, now=NOW, reason="ố" * LIMITS["reason"])
    with core.sessions() as s:
        assert s.scalars(select(Task.title).where(Task.id == task)).one() == title
        assert s.scalars(select(Unit.name).where(Unit.name == name)).one() == name
        assert s.scalars(select(Person.title).where(Person.email == "t@example.vn")).one() == \
            "ạ" * LIMITS["person title"]
        assert s.scalars(select(HistoryEntry.reason).where(
            HistoryEntry.task_id == task, HistoryEntry.event == "reject")).one() == \
            "ố" * LIMITS["reason"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda a: new_task(a, "ễ" * 501), "task title is 501 characters long; at most 500"),
    (lambda a: new_task(a, "Đề tài\x00"), "task title contains a control character (U+0000"),
    (lambda a: a.engine.add_unit(UnitInput("BV-X", "X" * 301, "Y", "y@x.vn"), now=NOW),
     "unit BV-X: name is 301 characters long; at most 300"),
    (lambda a: a.engine.add_person(email="z@x.vn", name="Z", role="office", title="T" * 61,
                                   now=NOW), "person title is 61 characters long; at most 60"),
    (lambda a: a.engine.add_person(email="z@x.vn", name="Z\u202e", role="office", now=NOW),
     "person name contains a bidirectional control character (U+202E"),
])
def test_text_breaking_a_rule_is_refused_before_the_database_sees_it(
        core: App, call: object, message: str) -> None:
    tables = dict(all_tables(core))
    with pytest.raises(InvalidData) as caught:
        call(core)  # type: ignore[operator]
    assert message in str(caught.value)
    assert dict(all_tables(core)) == tables


@pytest.mark.parametrize("task_id", [0, -1, MAX_ID + 1, 10**20])
def test_an_id_beyond_the_column_is_an_unknown_task(core: App, task_id: int) -> None:
    tables = dict(all_tables(core))
    for call in (lambda: core.engine.task_detail(task_id, now=NOW),
                 lambda: core.engine.allowed_events(task_id),
                 lambda: core.engine.fire(task_id, "approve_outline", actor_email=OFFICE,
                                          now=NOW)):
        with pytest.raises(NotFound, match=f"^unknown task: {task_id}$"):
            call()
    assert dict(all_tables(core)) == tables


def test_listing_by_state_takes_names_or_labels_and_refuses_unknown_ones(core: App) -> None:
    task = new_task(core, TITLE)
    assert [r["id"] for r in core.engine.list_tasks(now=NOW, state="proposed")] == [task]
    assert core.engine.list_tasks(now=NOW, state="in_progress") == []
    with pytest.raises(InputError) as caught:
        core.engine.list_tasks(now=NOW, state="in-progress")
    message = str(caught.value)
    assert message.startswith("unknown state 'in-progress'; states: ")
    listed = message.split("states: ", 1)[1].split(", ")
    assert listed == sorted(listed) and {"proposed", "in_progress", "accepted"} <= set(listed)
    # The label as the tables show it (issue 13: "--state accepts both"), marks and case aside.
    for label in ("Đã đề xuất, chờ xét duyệt đề cương", "da de xuat, cho xet duyet de cuong",
                  "Proposed, outline under review"):
        assert [r["id"] for r in core.engine.list_tasks(now=NOW, state=label)] == [task]
    assert core.engine.list_tasks(now=NOW, state="Đang thực hiện") == []
    with pytest.raises(InputError, match=r"^unknown state 'Đang làm'"):
        core.engine.list_tasks(now=NOW, state="Đang làm")  # no state has this label
