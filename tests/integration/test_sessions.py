"""The science-session log on real databases: recording, the presenter's task, who may record,
and the one reminder near the end of a period with no session (no escalation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.app import App, build
from engine.directory_log import Operator
from engine.sessions import SessionInput
from storage.outbox import OutboxMessage
from storage.sessions import ScienceSession
from tests.conftest import local, make_settings
from tests.scheduling import OFFICE, head_email, small_province
from workflows.errors import InputError, NotAllowed, Refused

PI = "pi.a@syt.example.vn"


@pytest.fixture
def sapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "nckh.toml"
    config.write_text('[scheduler]\nobligations = []\nreports = {}\nquota_check = "off"\n'
                      '[scheduler.sessions]\nunits = { C = "quarter" }\n')
    app = build(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)))
    small_province(app, local(2024, 12, 20))
    yield app
    app.close()


def held(unit: str, day: dt.date, topic: str = "Cập nhật phác đồ",
         presenter: str = "bs.an@syt.example.vn", **kw: Any) -> SessionInput:
    return SessionInput(unit, day, topic, presenter, **kw)


def count(app: App) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(ScienceSession)) or 0)


def test_a_session_is_recorded_with_its_facts_and_listed(sapp: App) -> None:
    sapp.engine.add_session(held("A", dt.date(2025, 3, 14), department="Khoa Nội",
                                 attendance=32, minutes_path="/srv/bien-ban/a-03.pdf",
                                 presenter_name="BS. Nguyễn An"),
                            now=local(2025, 3, 20, 9), operator=Operator("thu", OFFICE))
    [row] = sapp.engine.list_sessions(sapp.config.scheduler.sessions, unit_code="A", year=2025)
    assert {k: row[k] for k in ("unit", "date", "period", "department", "topic", "attendance",
                                "presenter_name", "presenter_is_pi", "minutes_path",
                                "recorded_by", "acting_as")} == {
        "unit": "A", "date": "14/03/2025", "period": "tháng 03/2025", "department": "Khoa Nội",
        "topic": "Cập nhật phác đồ", "attendance": 32, "presenter_name": "BS. Nguyễn An",
        "presenter_is_pi": False, "minutes_path": "/srv/bien-ban/a-03.pdf",
        "recorded_by": "thu", "acting_as": OFFICE}
    assert sapp.engine.list_sessions(sapp.config.scheduler.sessions, year=2024) == []


def test_a_presenter_who_leads_an_open_task_of_the_unit_is_marked_as_its_pi(sapp: App) -> None:
    task = sapp.engine.create_task(unit_code="A", level="unit", title="Đề tài", pi_email=PI,
                                   pi_name="ThS. Lê Bình", year=2025, now=local(2025, 2, 3, 9))
    sapp.engine.add_session(held("A", dt.date(2025, 3, 14), presenter=PI.upper()),
                            now=local(2025, 3, 20, 9))
    [row] = sapp.engine.list_sessions(sapp.config.scheduler.sessions)
    assert (row["presenter_is_pi"], row["presenter_task_id"]) == (True, task)
    assert row["presenter_name"] == "ThS. Lê Bình"  # as registered
    # Once the task is cancelled, a later session by the same person is not a PI's.
    sapp.engine.fire(task, "cancel", actor_email=OFFICE, reason="Dừng", now=local(2025, 4, 1, 9))
    sapp.engine.add_session(held("A", dt.date(2025, 4, 10), presenter=PI),
                            now=local(2025, 4, 11, 9))
    rows = sapp.engine.list_sessions(sapp.config.scheduler.sessions)
    assert [r["presenter_is_pi"] for r in rows] == [True, False]


def test_the_unit_head_may_record_their_own_units_sessions_but_not_anothers(sapp: App) -> None:
    sapp.engine.add_session(held("A", dt.date(2025, 3, 14)), now=local(2025, 3, 20, 9),
                            operator=Operator("an", head_email("A")))
    with pytest.raises(NotAllowed, match="neither of the office nor of this unit"):
        sapp.engine.add_session(held("B", dt.date(2025, 3, 14)), now=local(2025, 3, 20, 9),
                                operator=Operator("an", head_email("A")))
    assert count(sapp) == 1


def test_an_inactive_unit_records_no_session_and_nothing_changes(sapp: App) -> None:
    sapp.engine.set_head("B", name="BS. Mới", email="moi.b@syt.example.vn",
                         now=local(2025, 1, 5, 9))
    sapp.engine.deactivate_unit("B", reason="Sáp nhập", now=local(2025, 2, 1, 9))
    with pytest.raises(Refused, match="unit B is inactive"):
        sapp.engine.add_session(held("B", dt.date(2025, 1, 20)), now=local(2025, 3, 1, 9))
    with pytest.raises(InputError, match=r"--date 21/03/2025 is in the future"):
        sapp.engine.add_session(held("A", dt.date(2025, 3, 21)), now=local(2025, 3, 20, 23))
    assert count(sapp) == 0


def reminders(app: App) -> list[tuple[str, str]]:
    with app.sessions() as s:
        return sorted((m.dedupe_key, m.created_at.astimezone(app.engine.tz).date().isoformat())
                      for m in s.scalars(select(OutboxMessage).where(
                          OutboxMessage.kind == "session_reminder")))


def unit_ids(app: App) -> dict[int, str]:
    from storage.models import Unit

    with app.sessions() as s:
        return {i: c for i, c in s.execute(select(Unit.id, Unit.code))}


def test_a_unit_with_no_session_gets_one_reminder_near_the_periods_end_and_no_more(
        sapp: App) -> None:
    sapp.engine.add_session(held("A", dt.date(2025, 3, 3)), now=local(2025, 3, 4, 9))
    # 31/3 less 5 days is Wednesday 26/3: the check runs then, at the send hour.
    for day in (25, 26, 27, 28, 31):
        sapp.tick(local(2025, 3, day, 9))
    for day in range(1, 30):
        if dt.date(2025, 4, day).weekday() < 5:
            sapp.tick(local(2025, 4, day, 9))
    codes = unit_ids(sapp)
    got = [(codes[int(key.split(":")[1])], key.split(":")[2], day)
           for key, day in reminders(sapp)]
    # February's check (21/2), caught up on 25/3, reminds no one: February is over.
    # March: A held one; B (monthly) is reminded; C holds its sessions by quarter and Q1 ends
    # in March: reminded too. April: A and B are reminded (25/4 is the last working day on or
    # before 25/4); C's quarter does not end in April. Each once.
    assert got == [("A", "2025-04", "2025-04-25"), ("B", "2025-03", "2025-03-26"),
                   ("B", "2025-04", "2025-04-25"), ("C", "2025-Q1", "2025-03-26")]


def test_a_session_recorded_in_the_quarter_spares_the_quarterly_unit_its_reminder(
        sapp: App) -> None:
    sapp.engine.add_session(held("C", dt.date(2025, 1, 20)), now=local(2025, 1, 21, 9))
    sapp.tick(local(2025, 3, 26, 9))
    codes = unit_ids(sapp)
    assert sorted(codes[int(k.split(":")[1])] for k, _ in reminders(sapp)) == ["A", "B"]
