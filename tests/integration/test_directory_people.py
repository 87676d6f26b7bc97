"""People and units on real databases: replacing a unit's head, deactivating and reactivating
people and units, and the directory's history (who changed what, when, as whom)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from engine.app import App, build
from engine.directory import HeadChange
from engine.directory_log import Operator
from storage.models import DirectoryChange, HistoryEntry, Person, Task, Unit
from tests.conftest import _empty_pg as empty_pg
from tests.conftest import local, make_settings
from tests.integration.province import (
    COUNCIL,
    HEAD_A,
    HEAD_B,
    OFFICE,
    PI,
    all_tables,
    refusals,
    seed,
)
from tests.integration.races import hold_before_first_write, race
from workflows.errors import Conflict, InputError, NotAllowed, NotFound, Refused

T0 = local(2025, 1, 1)
T1 = local(2025, 2, 3, 9)
T2 = local(2025, 6, 2, 10)
NEW_HEAD = "giamdoc.moi@bvdk.example.vn"
ALICE = Operator("alice", OFFICE)


@pytest.fixture
def core(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(db_url, tmp_path), jobs=())
    seed(app.engine, T0)
    yield app
    app.close()


def people(app: App) -> dict[str, tuple[str, str | None, bool]]:
    with app.sessions() as s:
        return {p.email: (p.role, p.unit.code if p.unit else None, p.active)
                for p in s.scalars(select(Person))}


def active_heads(app: App, code: str) -> list[str]:
    with app.sessions() as s:
        return list(s.scalars(select(Person.email).join(Unit, Unit.id == Person.unit_id).where(
            Unit.code == code, Person.role == "unit_head", Person.active.is_(True))))


def log(app: App, since: int = 0) -> list[tuple[Any, ...]]:
    with app.sessions() as s:
        return [(c.entity, c.key, c.change, c.details, c.operator, c.acting_as)
                for c in s.scalars(select(DirectoryChange).where(DirectoryChange.id > since)
                                   .order_by(DirectoryChange.id))]


def last_log_id(app: App) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.max(DirectoryChange.id))) or 0)


def tables(app: App) -> dict[str, list[tuple[Any, ...]]]:
    return dict(all_tables(app))


def new_task(app: App, pi: str = PI, unit: str = "BVDK", when: dt.datetime = T1) -> int:
    return app.engine.create_task(unit_code=unit, level="unit", title="Đề tài", pi_email=pi,
                                  year=2025, now=when)


def replace_head(app: App, email: str = NEW_HEAD, name: str = "BS.CKII Đỗ Văn Mới",
                 when: dt.datetime = T2, operator: Operator = ALICE,
                 title: str | None = None) -> HeadChange:
    return app.engine.set_head("BVDK", name=name, email=email, title=title, now=when,
                               operator=operator)


# --- replacing a unit's head -------------------------------------------------------------------
def test_a_new_head_replaces_the_old_one_who_is_deactivated_not_deleted(core: App) -> None:
    since = last_log_id(core)
    change = replace_head(core, title="TS.BS")
    assert change == HeadChange("BVDK", "replaced", NEW_HEAD, HEAD_A)
    assert people(core)[HEAD_A] == ("unit_head", "BVDK", False)
    assert people(core)[NEW_HEAD] == ("unit_head", "BVDK", True)
    assert active_heads(core, "BVDK") == [NEW_HEAD]
    assert active_heads(core, "TTYT-DH") == [HEAD_B]
    units = {u["code"]: u for u in core.engine.list_units()}
    assert (units["BVDK"]["head_email"], units["BVDK"]["head_name"]) == (
        NEW_HEAD, "BS.CKII Đỗ Văn Mới")
    assert log(core, since) == [
        ("person", HEAD_A, "deactivated", {"reason": f"replaced as head of unit BVDK by "
                                                     f"{NEW_HEAD}"}, "alice", OFFICE),
        ("person", NEW_HEAD, "added", {"name": "BS.CKII Đỗ Văn Mới", "title": "TS.BS",
                                       "role": "unit_head", "unit": "BVDK"}, "alice", OFFICE),
        ("unit", "BVDK", "head_replaced", {
            "old": {"email": HEAD_A, "name": "TS.BS Nguyễn Thị Hằng"},
            "new": {"email": NEW_HEAD, "name": "BS.CKII Đỗ Văn Mới"}}, "alice", OFFICE),
    ]


def test_the_old_head_loses_every_right_and_their_records_keep_pointing_at_them(
        core: App) -> None:
    task = new_task(core)
    core.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 1))
    core.engine.fire(task, "start", actor_email=HEAD_A, now=local(2025, 3, 2))
    replace_head(core)

    assert core.engine.allowed_events(task, HEAD_A) == []
    with pytest.raises(NotAllowed, match=rf"^{re.escape(HEAD_A)} is inactive and may not fire"):
        core.engine.fire(task, "suspend", actor_email=HEAD_A, reason="x", now=T2)
    assert [e.name for e in core.engine.allowed_events(task, NEW_HEAD)] == [
        "extend", "suspend", "cancel"]
    core.engine.fire(task, "suspend", actor_email=NEW_HEAD, reason="Chờ kinh phí", now=T2)

    with core.sessions() as s:
        old_id = s.scalar(select(Person.id).where(Person.email == HEAD_A))
        started = s.scalar(select(HistoryEntry).where(HistoryEntry.task_id == task,
                                                      HistoryEntry.event == "start"))
        assert started is not None and (started.actor_id, started.actor) == (old_id, HEAD_A)
    assert [(r["actor"], r["kind"]) for r in refusals(core)] == [(HEAD_A, "NotAllowed")]


def test_an_import_row_naming_another_head_replaces_the_current_one(core: App) -> None:
    csv = ("code,name,head_name,head_email\n"
           f"BVDK,Bệnh viện Đa khoa tỉnh,BS.CKII Đỗ Văn Mới,{NEW_HEAD}\n"
           f"TTYT-DH,Trung tâm Y tế huyện Đồng Hỷ,BS.CKII Hoàng Văn Đức,{HEAD_B}\n")
    counts = core.engine.import_units(csv, "donvi.csv", now=T2, operator=Operator("bob"))
    assert counts == {"added": 0, "updated": 1, "unchanged": 1, "heads_replaced": [
        {"unit": "BVDK", "old": HEAD_A, "new": NEW_HEAD}]}
    assert active_heads(core, "BVDK") == [NEW_HEAD]
    assert people(core)[HEAD_A] == ("unit_head", "BVDK", False)
    assert {(e[2], e[4], e[5]) for e in log(core) if e[1] in ("BVDK", HEAD_A, NEW_HEAD)} >= {
        ("head_replaced", "bob", None), ("deactivated", "bob", None)}

    since = last_log_id(core)
    again = core.engine.import_units(csv, "donvi.csv", now=T2, operator=Operator("bob"))
    assert again == {"added": 0, "updated": 0, "unchanged": 2, "heads_replaced": []}
    assert log(core, since) == []


def test_a_unit_field_change_in_an_import_is_recorded_with_old_and_new_values(
        core: App) -> None:
    since = last_log_id(core)
    csv = ("code,name,head_name,head_email,contact_email,kind\n"
           f"TTYT-DH,Trung tâm Y tế Đồng Hỷ,BS.CKII Hoàng Văn Đức,{HEAD_B},"
           "khth@ttyt.example.vn,public\n")
    assert core.engine.import_units(csv, "u.csv", now=T2)["updated"] == 1
    assert log(core, since) == [("unit", "TTYT-DH", "updated", {
        "name": ["Trung tâm Y tế huyện Đồng Hỷ", "Trung tâm Y tế Đồng Hỷ"],
        "contact_email": [None, "khth@ttyt.example.vn"]}, "api", None)]


def test_a_former_head_named_again_is_made_active_again_and_the_other_steps_down(
        core: App) -> None:
    replace_head(core)
    back = replace_head(core, email=HEAD_A.upper(), name="TS.BS Nguyễn Thị Hằng",
                        when=local(2025, 9, 1))
    assert back == HeadChange("BVDK", "replaced", HEAD_A, NEW_HEAD)
    assert active_heads(core, "BVDK") == [HEAD_A]
    assert people(core)[NEW_HEAD][2] is False
    units = {u["code"]: u for u in core.engine.list_units()}
    assert units["BVDK"]["head_email"] == HEAD_A
    assert [e[2] for e in log(core) if e[1] == HEAD_A] == ["added", "deactivated", "activated"]


def test_naming_a_person_of_another_role_or_unit_as_head_is_refused_and_changes_nothing(
        core: App) -> None:
    before = tables(core)
    with pytest.raises(InputError,
                       match=rf"^{re.escape(PI)} is already registered as pi \(BVDK\)$"):
        replace_head(core, email=PI)
    with pytest.raises(InputError, match=r"is already registered as unit_head \(TTYT-DH\)$"):
        replace_head(core, email=HEAD_B)
    with pytest.raises(InputError, match=r"^unit BVDK: head name is empty$"):
        replace_head(core, name="  ")
    with pytest.raises(NotFound, match=r"^unknown unit: KHONG$"):
        core.engine.set_head("KHONG", name="X", email=NEW_HEAD, now=T2)
    assert tables(core) == before


def test_naming_the_current_head_again_changes_only_their_name_or_title(core: App) -> None:
    since = last_log_id(core)
    same = replace_head(core, email=HEAD_A, name="TS.BS Nguyễn Thị Hằng")
    assert same == HeadChange("BVDK", "unchanged", HEAD_A)
    assert log(core, since) == []
    titled = replace_head(core, email=HEAD_A, name="Nguyễn Thị Hằng", title="PGS.TS")
    assert titled == HeadChange("BVDK", "updated", HEAD_A)
    assert log(core, since) == [("person", HEAD_A, "updated", {
        "name": ["TS.BS Nguyễn Thị Hằng", "Nguyễn Thị Hằng"], "title": [None, "PGS.TS"]},
        "alice", OFFICE)]


def test_the_database_itself_holds_at_most_one_active_head_per_unit(core: App) -> None:
    with core.sessions() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "BVDK"))
    row = {"email": "thu.hai@bvdk.example.vn", "name": "X", "role": "unit_head",
           "unit_id": unit_id, "active": True, "created_at": T2}
    with pytest.raises(IntegrityError), core.db.begin() as conn:
        conn.execute(insert(Person), [row])
    with core.db.begin() as conn:  # an inactive second head, or an active PI, is fine
        conn.execute(insert(Person), [{**row, "active": False},
                                      {**row, "email": "pi3@bvdk.example.vn", "role": "pi"}])
    assert active_heads(core, "BVDK") == [HEAD_A]


def test_a_second_head_cannot_be_registered_as_a_person(core: App) -> None:
    before = tables(core)
    with pytest.raises(Refused, match=re.escape(
            f"unit BVDK already has an active head ({HEAD_A}); replace them with "
            "`nckh unit set-head BVDK --name NAME --email EMAIL`")):
        core.engine.add_person(email=NEW_HEAD, name="X", role="unit_head", unit_code="BVDK",
                               now=T2)
    assert tables(core) == before


# --- deactivating and reactivating ---------------------------------------------------------------
def test_a_deactivated_person_may_not_act_and_the_open_tasks_they_lead_are_reported(
        core: App) -> None:
    open_task, closed_task = new_task(core), new_task(core)
    core.engine.fire(closed_task, "cancel", actor_email=OFFICE, reason="Trùng", now=T1)
    core.engine.fire(open_task, "request_revision", actor_email=COUNCIL, reason="Bổ sung",
                     now=local(2025, 3, 1))
    since = last_log_id(core)

    left = core.engine.deactivate_person(PI, reason="  Chuyển   công tác ", now=T2,
                                         operator=ALICE)
    assert left == [{"id": open_task, "unit": "BVDK", "state": "outline_revision",
                     "title": "Đề tài"}]
    assert log(core, since) == [("person", PI, "deactivated", {"reason": "Chuyển công tác"},
                                 "alice", OFFICE)]
    assert people(core)[PI] == ("pi", "BVDK", False)
    assert core.engine.allowed_events(open_task, PI) == []
    with pytest.raises(NotAllowed, match="is inactive and may not fire events"):
        core.engine.fire(open_task, "resubmit", actor_email=PI, now=T2)
    # The task stays open and the head of the PI's unit moves it on.
    core.engine.fire(open_task, "resubmit", actor_email=HEAD_A, now=T2)

    core.engine.activate_person(PI, now=local(2025, 7, 1), operator=ALICE)
    assert people(core)[PI][2] is True
    assert log(core, since)[-1] == ("person", PI, "activated", {}, "alice", OFFICE)


def test_deactivating_an_inactive_or_activating_an_active_person_is_refused(core: App) -> None:
    before = tables(core)
    with pytest.raises(Refused, match=rf"^person {re.escape(OFFICE)} is already active$"):
        core.engine.activate_person(OFFICE, now=T2)
    with pytest.raises(InputError, match=r"^--reason is empty: say why the person is "):
        core.engine.deactivate_person(OFFICE, reason=" ", now=T2)
    with pytest.raises(NotFound, match=r"^unknown person: ai@x\.vn$"):
        core.engine.deactivate_person("ai@x.vn", reason="x", now=T2)
    assert tables(core) == before
    core.engine.deactivate_person(OFFICE, reason="Nghỉ hưu", now=T2)
    after = tables(core)
    with pytest.raises(Refused, match=rf"^person {re.escape(OFFICE)} is already inactive$"):
        core.engine.deactivate_person(OFFICE, reason="x", now=T2)
    assert tables(core) == after


def test_the_only_head_of_an_active_unit_cannot_be_deactivated(core: App) -> None:
    before = tables(core)
    with pytest.raises(Refused) as caught:
        core.engine.deactivate_person(HEAD_A, reason="Nghỉ hưu", now=T2)
    assert str(caught.value) == (
        f"{HEAD_A} is the only active head of unit BVDK: name the new head with `nckh unit "
        f"set-head BVDK --name NAME --email EMAIL`, which deactivates {HEAD_A}")
    assert not isinstance(caught.value, NotAllowed) and caught.value.exit_code == 3
    assert tables(core) == before


def test_a_unit_comes_back_only_with_an_active_head(core: App) -> None:
    task = new_task(core)
    open_tasks = core.engine.deactivate_unit("bvdk", reason="Sáp nhập", now=T2, operator=ALICE)
    assert [t["id"] for t in open_tasks] == [task]
    core.engine.deactivate_person(HEAD_A, reason="Nghỉ hưu", now=T2)  # the unit is inactive
    before = tables(core)
    with pytest.raises(Refused, match=re.escape(
            "unit BVDK has no active head: name one first with `nckh unit set-head BVDK")):
        core.engine.activate_unit("BVDK", now=T2)
    assert tables(core) == before
    replace_head(core, when=local(2025, 7, 1))
    core.engine.activate_unit("BVDK", now=local(2025, 7, 1), operator=ALICE)
    assert [e[2] for e in log(core) if e[1] == "BVDK"] == [
        "added", "deactivated", "head_replaced", "activated"]
    d = core.engine.unit_detail("BVDK")  # the head left when deactivated, not when replaced
    assert [(h["email"], h["since"][:10], h["until"][:10]) for h in d["past_heads"]] == [
        (HEAD_A, "2025-01-01", "2025-06-02")]
    assert (d["head"]["email"], d["active"]) == (NEW_HEAD, True)
    with pytest.raises(Refused, match=r"^unit BVDK is already active$"):
        core.engine.activate_unit("BVDK", now=T2)


def test_a_former_head_cannot_come_back_beside_the_current_one(core: App) -> None:
    replace_head(core)
    before = tables(core)
    with pytest.raises(Refused, match=re.escape(
            f"unit BVDK already has an active head ({NEW_HEAD}); to make {HEAD_A} its head "
            "again use `nckh unit set-head BVDK")):
        core.engine.activate_person(HEAD_A, now=T2)
    assert tables(core) == before


def test_a_deactivated_unit_gets_no_new_task_and_the_refusal_is_audited(core: App) -> None:
    core.engine.deactivate_unit("BVDK", reason="Sáp nhập", now=T2)
    before = tables(core)
    with pytest.raises(NotAllowed, match=r"^unit BVDK is inactive and gets no new tasks$"):
        new_task(core, when=T2)
    with pytest.raises(NotAllowed, match=r"^unit BVDK is inactive and gets no new tasks$"):
        core.engine.create_task(unit_code="BVDK", level="unit", title="Đề tài", pi_email=PI,
                                actor_email=OFFICE, now=T2)
    assert tables(core) == before
    assert [(r["task_id"], r["event"], r["actor"], r["kind"]) for r in refusals(core)] == [
        (None, "create", "admin", "NotAllowed"), (None, "create", OFFICE, "NotAllowed")]
    new_task(core, unit="TTYT-DH", when=T2)  # other units carry on


def test_an_inactive_person_is_given_no_new_task(core: App) -> None:
    core.engine.deactivate_person(PI, reason="Chuyển công tác", now=T2)
    before = tables(core)
    with pytest.raises(NotAllowed, match=rf"^{re.escape(PI)} is inactive and may not lead a "):
        new_task(core, when=T2)
    assert tables(core) == before
    assert len(refusals(core)) == 1


# --- what the directory shows ------------------------------------------------------------------
def test_a_unit_shows_its_head_its_past_heads_with_dates_and_its_history(core: App) -> None:
    replace_head(core, when=local(2025, 6, 2, 10))
    core.engine.set_head("BVDK", name="ThS. Ba", email="ba@bvdk.example.vn",
                         now=local(2025, 9, 1, 14), operator=Operator("carol"))
    d = core.engine.unit_detail("bvdk")
    assert (d["code"], d["name"], d["kind"], d["active"]) == (
        "BVDK", "Bệnh viện Đa khoa tỉnh", "public", True)
    assert d["head"]["email"] == "ba@bvdk.example.vn"
    assert [(h["email"], h["since"], h["until"]) for h in d["past_heads"]] == [
        (HEAD_A, "2025-01-01T08:00:00+07:00", "2025-06-02T10:00:00+07:00"),
        (NEW_HEAD, "2025-06-02T10:00:00+07:00", "2025-09-01T14:00:00+07:00")]
    assert [(h["at"], h["change"], h["operator"], h["acting_as"]) for h in d["history"]] == [
        ("2025-01-01T08:00:00+07:00", "added", "api", None),
        ("2025-06-02T10:00:00+07:00", "head_replaced", "alice", OFFICE),
        ("2025-09-01T14:00:00+07:00", "head_replaced", "carol", None)]


def test_a_head_registered_before_the_history_was_kept_starts_at_their_registration(
        core: App) -> None:
    with core.engine.transaction() as s:  # a database upgraded from before migration 0005
        for row in s.scalars(select(DirectoryChange)):
            s.delete(row)
    replace_head(core)
    d = core.engine.unit_detail("BVDK")
    assert [(h["email"], h["since"][:10], h["until"][:10]) for h in d["past_heads"]] == [
        (HEAD_A, "2025-01-01", "2025-06-02")]


def test_a_person_shows_the_open_tasks_they_lead_and_their_history(core: App) -> None:
    task = new_task(core)
    core.engine.deactivate_person(PI, reason="Chuyển công tác", now=T2,
                                  operator=Operator("alice"))
    d = core.engine.person_detail(PI.upper())
    assert (d["email"], d["role"], d["unit"], d["active"]) == (PI, "pi", "BVDK", False)
    assert [t["id"] for t in d["open_tasks"]] == [task]
    assert [(h["change"], h["details"], h["operator"]) for h in d["history"]] == [
        ("added", {"name": "ThS.BS Lê Văn Bình", "title": None, "role": "pi", "unit": "BVDK"},
         "api"),
        ("deactivated", {"reason": "Chuyển công tác"}, "alice")]


def test_a_pi_registered_with_a_task_is_recorded_with_who_registered_it(core: App) -> None:
    since = last_log_id(core)
    core.engine.create_task(unit_code="BVDK", level="unit", title="Đề tài", year=2025,
                            pi_email="moi@bvdk.example.vn", pi_name="BS. Mới",
                            actor_email=HEAD_A, now=T2, operator=Operator("dan"))
    assert log(core, since) == [("person", "moi@bvdk.example.vn", "added", {
        "name": "BS. Mới", "title": None, "role": "pi", "unit": "BVDK"}, "dan", HEAD_A)]


@pytest.mark.parametrize(("acting_as", "error", "message"), [
    ("ai@syt.example.vn", NotFound, "unknown person: ai@syt.example.vn"),
    (COUNCIL, NotAllowed, f"{COUNCIL} (role council) may not change the directory; only the "
                          "office may"),
    (HEAD_A, NotAllowed, f"{HEAD_A} (role unit_head) may not change the directory"),
])
def test_a_directory_change_may_be_made_only_for_an_active_office_person(
        core: App, acting_as: str, error: type[Exception], message: str) -> None:
    before = tables(core)
    with pytest.raises(error, match=re.escape(message)):
        replace_head(core, operator=Operator("alice", acting_as))
    with pytest.raises(error, match=re.escape(message)):
        core.engine.deactivate_unit("TTYT-DH", reason="x", now=T2,
                                    operator=Operator("alice", acting_as))
    assert tables(core) == before


def test_an_inactive_office_person_changes_nothing_in_the_directory(core: App) -> None:
    core.engine.deactivate_person(OFFICE, reason="Nghỉ hưu", now=T2)
    before = tables(core)
    with pytest.raises(NotAllowed, match=rf"^{re.escape(OFFICE)} is inactive and may not "
                                         "change the directory$"):
        core.engine.add_person(email="x@syt.example.vn", name="X", role="office", now=T2,
                               operator=Operator("alice", OFFICE))
    assert tables(core) == before


def test_tasks_and_history_entries_keep_pointing_at_a_replaced_head(core: App) -> None:
    task = new_task(core)
    core.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 1))
    core.engine.fire(task, "start", actor_email=HEAD_A, now=local(2025, 3, 2))
    before = {t: rows for t, rows in tables(core).items() if t in ("task", "task_history")}
    replace_head(core)
    after = {t: rows for t, rows in tables(core).items() if t in ("task", "task_history")}
    assert after == before
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Person)
                        .where(Person.email == HEAD_A)) == 1
        assert s.scalar(select(func.count()).select_from(Task)) == 1


# --- two replacements at once --------------------------------------------------------------------
@pytest.mark.postgres
def test_two_head_replacements_at_once_leave_exactly_one_active_head(
        pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL lets both read the current head before either writes (held together just
    before their first write); the partial unique index makes the second new head lose."""
    empty_pg(pg_url)
    settings = make_settings(pg_url, tmp_path)
    one, two = build(settings, jobs=()), build(settings, jobs=())
    try:
        seed(one.engine, T0)
        hold = threading.Barrier(2, timeout=30)
        for app in (one, two):
            hold_before_first_write(app, hold)
        results = race([
            lambda: replace_head(one, email="mot@bvdk.example.vn"),
            lambda: replace_head(two, email="hai@bvdk.example.vn"),
        ])
        won = [r for r in results if isinstance(r, HeadChange)]
        lost = [r for r in results if not isinstance(r, HeadChange)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], Conflict) and lost[0].exit_code == 3
        assert "\n" not in str(lost[0])
        assert active_heads(one, "BVDK") == [won[0].new]
        assert people(one)[HEAD_A][2] is False
        assert [e[1] for e in log(one) if e[2] == "head_replaced"] == ["BVDK"]
    finally:
        one.close()
        two.close()
