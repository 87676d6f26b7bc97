"""What replacing a head and deactivating people and units mean downstream, on real databases:
who receives the mail (resolved when it is sent) and which units the calendar asks for reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.app import App, build
from storage.models import Task
from storage.timers import Obligation
from tests.conftest import local, make_settings
from tests.integration.mailfixtures import (
    CONTACT,
    COUNCIL,
    HEAD,
    MAIL_ENV,
    OFFICE,
    PI,
    T0,
    addresses,
    maildir_messages,
    province,
    rows,
)
from tests.scheduling import build_scheduling_app, head_email, small_province

NEW_HEAD = "giamdoc.moi@bvdk.example.vn"


@pytest.fixture
def mapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    application = build(make_settings(db_url, tmp_path, **MAIL_ENV))
    yield application
    application.close()


def sent(tmp_path: Path, kind: str) -> list[tuple[list[str], list[str]]]:
    return [(addresses(m, "To"), addresses(m, "Cc")) for m in maildir_messages(tmp_path)
            if m["X-Nckh-Kind"] == kind]


def test_mail_queued_before_a_head_is_replaced_goes_to_the_new_head_only(
        mapp: App, tmp_path: Path) -> None:
    task_id = province(mapp)
    mapp.engine.fire(task_id, "request_revision", actor_email=OFFICE, reason="Bổ sung cỡ mẫu",
                     now=T0)
    mapp.engine.set_head("BVDK", name="BS.CKII Đỗ Văn Mới", email=NEW_HEAD, now=T0)
    mapp.tick(T0 + dt.timedelta(minutes=1))
    assert sent(tmp_path, "revision_requested") == [([PI], [])]
    # The unit's copies of the registration and the revision, in one letter to the new head.
    assert sent(tmp_path, "letter") == [([NEW_HEAD, CONTACT], [])]
    mapp.engine.fire(task_id, "resubmit", actor_email=PI, now=T0 + dt.timedelta(hours=1))
    mapp.engine.fire(task_id, "approve_outline", actor_email=OFFICE,
                     now=T0 + dt.timedelta(hours=2))
    mapp.tick(T0 + dt.timedelta(hours=3))
    assert sent(tmp_path, "outline_approved") == [([PI], [])]
    everyone = {a for m in maildir_messages(tmp_path) for h in ("To", "Cc")
                for a in addresses(m, h)}
    assert NEW_HEAD in everyone and HEAD not in everyone  # even task_registered, queued before


def test_a_deactivated_investigator_or_council_member_receives_no_mail(
        mapp: App, tmp_path: Path) -> None:
    task_id = province(mapp)
    mapp.engine.fire(task_id, "request_revision", actor_email=OFFICE, reason="Bổ sung",
                     now=T0)
    mapp.engine.fire(task_id, "resubmit", actor_email=PI, now=T0 + dt.timedelta(minutes=5))
    mapp.engine.deactivate_person(PI, reason="Chuyển công tác", now=T0 + dt.timedelta(hours=1))
    mapp.engine.deactivate_person(COUNCIL, reason="Hết nhiệm kỳ",
                                  now=T0 + dt.timedelta(hours=1))
    mapp.engine.fire(task_id, "approve_outline", actor_email=OFFICE,
                     now=T0 + dt.timedelta(hours=2))
    mapp.tick(T0 + dt.timedelta(hours=3))
    everyone = {a for m in maildir_messages(tmp_path) for h in ("To", "Cc")
                for a in addresses(m, h)}
    # Neither hears of what follows their leaving: outline_resubmitted (the office's, in its
    # digest, copied to the council) and outline_approved (the investigator's, the office's
    # copy in its digest) reach only the office's digest.
    assert sent(tmp_path, "outline_approved") == sent(tmp_path, "outline_resubmitted") == []
    assert COUNCIL not in everyone
    after = [m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] != "revision_requested"]
    assert all(PI not in addresses(m, "To") + addresses(m, "Cc") for m in after)
    assert {r.kind: r.state for r in rows(mapp)}["outline_approved"] == "bundled"


# --- the calendar --------------------------------------------------------------------------------
CONFIG = """
[scheduler]
[[scheduler.obligations]]
key = "unit_plan"
title = "Kế hoạch nghiên cứu khoa học năm {year}"
request = "01-02"
due = "03-31"
"""


@pytest.fixture
def sapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "nckh.toml"
    config.write_text(CONFIG)
    app = build_scheduling_app(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)))
    small_province(app, local(2024, 12, 20))
    yield app
    app.close()


def test_a_deactivated_unit_is_asked_for_no_report_and_a_new_head_is_the_one_asked(
        sapp: App) -> None:
    sapp.engine.deactivate_unit("B", reason="Sáp nhập vào A", now=local(2024, 12, 30))
    sapp.engine.set_head("C", name="Giám đốc mới C", email="moi.c@syt.example.vn",
                         now=local(2024, 12, 30))
    sapp.tick(local(2025, 1, 2, 8))
    with sapp.sessions() as s:
        asked = [(task.unit.code, task.pi.email) for task in s.scalars(
            select(Task).join(Obligation, Obligation.task_id == Task.id).order_by(Task.id))]
    assert asked == [("A", head_email("A")), ("C", "moi.c@syt.example.vn")]
