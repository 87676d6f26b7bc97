"""`--backdate`: a task that was under way before nckh is recorded as of its real start, and
nothing of its past is mailed (`nckh task new --backdate`, the API's `backdate`). SQLite and
PostgreSQL; the command itself through the in-process CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.app import App, build
from storage.models import HistoryEntry
from storage.outbox import OutboxMessage
from storage.timers import Timer
from tests.conftest import local, make_settings
from tests.integration.province import PI, seed
from workflows.clock import DEFAULT_TZ


@pytest.fixture
def core(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(db_url, tmp_path), jobs=())
    seed(app.engine)
    yield app
    app.close()


def test_a_backdated_task_starts_on_its_day_and_mails_nothing_of_its_past(core: App) -> None:
    now = local(2025, 4, 22, 10)
    task = core.engine.create_task(unit_code="BVDK", level="unit", title="Đề tài đang làm",
                                   pi_email=PI, now=now, backdate=dt.date(2025, 1, 6))
    with core.engine.transaction(read_only=True) as s:
        [created] = s.scalars(select(HistoryEntry).where(HistoryEntry.task_id == task)).all()
        mails = s.scalars(select(OutboxMessage.kind).where(OutboxMessage.task_id == task)).all()
        fire_at = s.scalars(select(Timer.fire_at).where(Timer.task_id == task)).all()
    assert created.effective_at.astimezone(DEFAULT_TZ).date() == dt.date(2025, 1, 6)
    assert created.recorded_at.astimezone(DEFAULT_TZ) == now
    assert mails == []  # no registration mail for a task registered in January
    assert fire_at and min(fire_at) > now  # the 14-day reminder (16/4) is history


def test_the_plan_year_follows_the_backdated_start(core: App) -> None:
    task = core.engine.create_task(unit_code="BVDK", level="unit", title="Đề tài năm trước",
                                   pi_email=PI, now=local(2025, 1, 15),
                                   backdate=dt.date(2024, 11, 4))
    assert core.engine.task_detail(task, now=local(2025, 1, 15))["year"] == 2024
