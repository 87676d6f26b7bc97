"""Separation of duties on real databases: nobody decides on a task they lead, and people
register tasks only within their scope. Every refusal is audited and changes nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.app import App, build
from tests.conftest import local, make_settings
from tests.integration.province import (
    COUNCIL,
    HEAD_A,
    HEAD_B,
    OFFICE,
    OTHER_PI,
    PI,
    all_tables,
    refusals,
    seed,
    snapshot,
)
from workflows.errors import NotAllowed

T1 = local(2025, 2, 3, 9)


@pytest.fixture
def core(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(db_url, tmp_path), jobs=())
    seed(app.engine)
    yield app
    app.close()


def tables(app: App) -> dict[str, list[tuple[Any, ...]]]:
    return dict(all_tables(app))


def register(app: App, actor: str | None, *, unit: str = "BVDK", pi: str = PI) -> int:
    return app.engine.create_task(unit_code=unit, level="unit", title="Đề tài", pi_email=pi,
                                  year=2025, actor_email=actor, now=T1)


# --- registration --------------------------------------------------------------------------------
@pytest.mark.parametrize(("actor", "unit", "pi", "role"), [
    (OFFICE, "BVDK", PI, "office"),
    (OFFICE, "TTYT-DH", OTHER_PI, "office"),
    (HEAD_A, "BVDK", OTHER_PI, "unit_head"),
    (PI, "BVDK", PI, "pi"),
    (None, "TTYT-DH", PI, "admin"),  # no --as: an administrator's registration, as before
], ids=["office", "office-other-unit", "own-unit-head", "pi-for-themselves", "administrator"])
def test_a_task_is_registered_within_the_registrants_scope(
        core: App, actor: str | None, unit: str, pi: str, role: str) -> None:
    task = register(core, actor, unit=unit, pi=pi)
    first = snapshot(core, task)["history"][0]
    assert (first["event"], first["actor"], first["actor_role"]) == (
        "create", actor or "admin", role)
    assert refusals(core) == []


REFUSED = [
    (HEAD_B, "BVDK", PI, f"{HEAD_B} is unit head of TTYT-DH and may register tasks only for "
                         "that unit, not for BVDK"),
    (PI, "BVDK", OTHER_PI, f"{PI} may register only tasks they lead themselves (--pi-email "
                           f"{PI}), not one for {OTHER_PI}"),
    (PI, "TTYT-DH", PI, f"{PI} is an investigator of BVDK and may register tasks only for that "
                        "unit, not for TTYT-DH"),
    (COUNCIL, "BVDK", PI, f"{COUNCIL} (role council) may not register tasks; the office, the "
                          "unit head or the investigator registers them"),
]


@pytest.mark.parametrize(("actor", "unit", "pi", "message"), REFUSED,
                         ids=["other-unit-head", "pi-for-someone-else", "pi-other-unit",
                              "council"])
def test_a_registration_outside_the_registrants_scope_is_refused_audited_and_changes_nothing(
        core: App, actor: str, unit: str, pi: str, message: str) -> None:
    before = tables(core)
    with pytest.raises(NotAllowed) as caught:
        register(core, actor, unit=unit, pi=pi)
    assert str(caught.value) == message and caught.value.exit_code == 3
    assert tables(core) == before
    assert [(r["task_id"], r["event"], r["actor"], r["kind"], r["message"])
            for r in refusals(core)] == [(None, "create", actor, "NotAllowed", message)]


def test_a_refused_registration_registers_no_new_investigator(core: App) -> None:
    before = tables(core)
    with pytest.raises(NotAllowed):
        core.engine.create_task(unit_code="BVDK", level="unit", title="Đề tài", year=2025,
                                pi_email="moi@ttyt.example.vn", pi_name="BS. Mới",
                                actor_email=HEAD_B, now=T1)
    assert tables(core) == before


# --- deciding on one's own task ------------------------------------------------------------------
def test_a_council_member_who_leads_a_task_may_not_review_or_accept_it(core: App) -> None:
    task = register(core, OFFICE, pi=COUNCIL)
    names = [e.name for e in core.engine.allowed_events(task, COUNCIL)]
    assert names == []  # approve, revise and reject are barred; cancel is the head's or office's
    assert [e.name for e in core.engine.allowed_events(task, OFFICE)] == [
        "approve_outline", "request_revision", "reject", "cancel"]
    before = snapshot(core, task)
    with pytest.raises(NotAllowed, match=re.escape(
            f"{COUNCIL} is the principal investigator of task {task} and may not approve "
            "outline (approve_outline) on their own task")):
        core.engine.fire(task, "approve_outline", actor_email=COUNCIL, now=local(2025, 3, 1))
    assert snapshot(core, task) == before
    assert [(r["task_id"], r["event"], r["actor"]) for r in refusals(core)] == [
        (task, "approve_outline", COUNCIL)]

    core.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 1))
    core.engine.fire(task, "start", actor_email=HEAD_A, now=local(2025, 3, 2))
    with pytest.raises(NotAllowed, match=r"may not accept \(accept\) on their own task"):
        core.engine.fire(task, "accept", actor_email=COUNCIL, now=local(2025, 11, 1))
    with pytest.raises(NotAllowed, match=r"may not fail acceptance \(fail_acceptance\)"):
        core.engine.fire(task, "fail_acceptance", actor_email=COUNCIL, reason="x",
                         now=local(2025, 11, 1))
    core.engine.fire(task, "accept", actor_email=OFFICE, now=local(2025, 11, 1))
    assert snapshot(core, task)["task"]["state"] == "accepted"
