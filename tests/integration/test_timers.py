"""Timers against real SQLite and PostgreSQL: planted with transitions, fired once, re-checked."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update

import storage.db
from engine.app import App
from storage.models import HistoryEntry, Task
from storage.outbox import OutboxMessage
from storage.timers import Timer
from tests.conftest import _empty_pg, local, make_settings
from tests.scheduling import (
    OFFICE,
    TOPIC_LADDER_TOML,
    Recorder,
    build_scheduling_app,
    seed_timers,
    small_province,
)
from workflows.errors import InputError

PI = "pi.a@syt.example.vn"


@pytest.fixture
def sapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "nckh.toml"
    config.write_text("[scheduler]\nobligations = []\nreports = {}\nquota_check = \"off\"\n"
                      + TOPIC_LADDER_TOML)
    app = build_scheduling_app(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)))
    small_province(app, local(2025, 1, 2))
    yield app
    app.close()


@pytest.fixture
def rec(sapp: App) -> Recorder:
    recorder = Recorder(sapp)
    return recorder


def new_task(app: App, when: dt.datetime, unit: str = "A") -> int:
    return app.engine.create_task(unit_code=unit, level="unit", title="Đề tài thử nghiệm",
                                  pi_email=PI, pi_name="BS. Nguyễn Văn An", year=2025, now=when)


def timers(app: App, task_id: int) -> list[tuple[str, str, str, str]]:
    with app.sessions() as s:
        rows = s.scalars(select(Timer).where(Timer.task_id == task_id)
                         .order_by(Timer.fire_at, Timer.id))
        return [(t.kind, t.fire_at.astimezone(app.engine.tz).date().isoformat(), t.status,
                 t.to_role or str(t.days)) for t in rows]


def tick_days(app: App, start: dt.date, end: dt.date) -> None:
    day = start
    while day <= end:
        app.tick(local(day.year, day.month, day.day))
        day += dt.timedelta(days=1)


def test_registering_a_task_plants_its_timers_with_the_deadline(sapp: App) -> None:
    task = new_task(sapp, local(2025, 1, 2, 10))
    assert timers(sapp, task) == [
        ("reminder", "2025-04-15", "pending", "14"), ("reminder", "2025-04-26", "pending", "3"),
        ("deadline", "2025-05-06", "pending", "0"),
        # A week after the date (legal end 5/5): the head, and the office's digest.
        ("escalation", "2025-05-12", "pending", "unit_head"),
        ("escalation", "2025-05-12", "pending", "office")]


def test_a_due_reminder_fires_once_however_often_the_sweep_runs(sapp: App, rec: Recorder) -> None:
    task = new_task(sapp, local(2025, 1, 2, 10))
    for hour in (7, 8, 9, 15):
        sapp.tick(local(2025, 4, 15, hour))
    assert rec.of(task) == [("2025-04-15", "reminder", "14d")]
    assert timers(sapp, task)[0][2] == "fired"


def test_leaving_the_state_cancels_its_timers_and_they_never_fire(sapp: App, rec: Recorder) -> None:
    task = new_task(sapp, local(2025, 1, 2, 10))
    sapp.engine.fire(task, "reject", actor_email=OFFICE, reason="Trùng lặp",
                     now=local(2025, 4, 10, 9))
    assert {status for _, _, status, _ in timers(sapp, task)} == {"cancelled"}
    tick_days(sapp, dt.date(2025, 4, 10), dt.date(2025, 5, 20))
    assert rec.of(task) == []


def test_an_extension_reschedules_the_ladder(sapp: App, rec: Recorder) -> None:
    task = new_task(sapp, local(2025, 1, 2, 10))
    sapp.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 3, 9))
    sapp.engine.fire(task, "start", actor_email=OFFICE, now=local(2025, 3, 4, 9))
    sapp.engine.fire(task, "extend", actor_email=OFFICE, reason="Bổ sung mẫu",
                     data={"until": "2026-03-31"}, now=local(2025, 11, 10, 9))
    rows = timers(sapp, task)
    assert ("reminder", "2025-10-31", "pending", "30") not in rows  # it was cancelled
    assert ("reminder", "2025-11-17", "cancelled", "14") in rows
    assert ("reminder", "2026-03-17", "pending", "14") in rows
    assert ("deadline", "2026-04-01", "pending", "0") in rows


def test_a_timer_whose_task_moved_on_unnoticed_is_skipped_with_the_reason(sapp: App,
                                                                          rec: Recorder) -> None:
    task = new_task(sapp, local(2025, 1, 2, 10))
    with sapp.engine.transaction() as s:  # as if a change bypassed the engine
        s.execute(update(Task).where(Task.id == task).values(state="outline_revision"))
    sapp.tick(local(2025, 4, 15))
    with sapp.sessions() as s:
        t = s.scalars(select(Timer).where(Timer.task_id == task, Timer.status != "pending")).one()
    assert (t.status, t.reason) == ("skipped", "task is in outline_revision, no longer in proposed")
    assert rec.of(task) == []


def test_no_packaged_workflow_suspends_a_task_on_its_own(sapp: App, rec: Recorder) -> None:
    # The seeds provide for no automatic suspension: far overdue, the task stays in progress.
    task = new_task(sapp, local(2025, 1, 2, 10))
    sapp.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 3, 9))
    sapp.engine.fire(task, "start", actor_email=OFFICE, now=local(2025, 3, 4, 9))
    assert "auto_event" not in {kind for kind, *_ in timers(sapp, task)}
    sapp.tick(local(2026, 3, 2))
    with sapp.sessions() as s:
        assert s.scalar(select(Task.state).where(Task.id == task)) == "in_progress"
    with sapp.sessions() as s:
        assert s.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.task_id == task, HistoryEntry.actor_role == "system")) == 0


def test_an_operator_may_opt_in_to_the_automatic_suspension(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "nckh.toml"
    config.write_text("[scheduler]\nobligations = []\nreports = {}\nquota_check = \"off\"\n"
                      "[scheduler.timers.\"unit_task.in_progress\"]\nremind_before = [3]\n"
                      "on_overdue = { after = 90, fire = \"suspend\" }\n")
    sapp = build_scheduling_app(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)))
    small_province(sapp, local(2025, 1, 2))
    task = new_task(sapp, local(2025, 1, 2, 10))
    sapp.engine.fire(task, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 3, 9))
    sapp.engine.fire(task, "start", actor_email=OFFICE, now=local(2025, 3, 4, 9))
    sapp.tick(local(2026, 3, 2))  # legal end 1/12/2025 + 90 days = 1/3/2026 (Sunday) → 2/3
    with sapp.sessions() as s:
        state = s.scalar(select(Task.state).where(Task.id == task))
        last = s.scalars(select(HistoryEntry).where(HistoryEntry.task_id == task)
                         .order_by(HistoryEntry.seq.desc())).first()
    assert state == "suspended"
    assert last is not None and (last.event, last.actor_role) == ("suspend", "system")
    assert "90 days overdue" in (last.reason or "")
    assert all(status != "pending" for _, _, status, _ in timers(sapp, task))
    sapp.close()


def test_after_downtime_reminders_past_their_date_are_skipped_and_the_ladder_continues(
        sapp: App, rec: Recorder) -> None:
    task = new_task(sapp, local(2025, 1, 2, 10))
    sapp.tick(local(2025, 5, 19))  # down from 2 January to 19 May
    # Of the ladder only its latest steps: the head's escalation (12/5) supersedes the notice
    # (6/5); the office's (12/5) goes to its digest; both say 14 days overdue as of 19/5.
    assert sorted(rec.of(task)) == [  # one batch: on PostgreSQL fired by parallel workers
        ("2025-05-19", "escalated", "office"), ("2025-05-19", "escalated", "unit_head")]
    assert [(kind, status) for kind, _, status, _ in timers(sapp, task)
            if kind in ("reminder", "deadline")] == [("reminder", "skipped")] * 2 + [
        ("deadline", "skipped")]
    # The head's weekly series goes on from its next date still ahead (19/5 is already past).
    pending = [r for r in timers(sapp, task) if r[2] == "pending"]
    assert pending == [("escalation", "2025-05-26", "pending", "unit_head")]
    sapp.tick(local(2025, 5, 26))
    assert rec.of(task)[-1] == ("2025-05-26", "escalated", "unit_head")
    assert len(rec.timer_ids) == len(set(rec.timer_ids))


@pytest.mark.parametrize("when", [local(2025, 4, 15, 7, 59), local(2025, 4, 15, 18, 0),
                                  local(2025, 4, 30, 9), local(2025, 4, 19, 9)])
def test_nothing_goes_out_at_night_on_a_holiday_or_a_weekend(sapp: App, rec: Recorder,
                                                            when: dt.datetime) -> None:
    new_task(sapp, local(2025, 1, 2, 10))
    sapp.tick(when)
    assert rec.facts == []


def test_task_show_lists_pending_and_fired_timers(sapp: App) -> None:
    task = new_task(sapp, local(2025, 1, 2, 10))
    sapp.tick(local(2025, 4, 15))
    extra = sapp.engine.task_detail(task, now=local(2025, 4, 16))["extra"]
    assert extra["Timers done"] == [
        "2025-04-15 08:00  reminder 14d before 2025-04-30  [proposed]  fired 2025-04-15 08:00"]
    assert extra["Timers pending"][0] == (
        "2025-04-26 08:00  reminder 3d before 2025-04-30  [proposed]")


def test_a_refused_transition_leaves_no_timers_behind(sapp: App) -> None:
    task = new_task(sapp, local(2025, 1, 2, 10))
    with sapp.sessions() as s:
        before = s.scalar(select(func.count()).select_from(Timer))
    with pytest.raises(InputError):
        sapp.engine.fire(task, "approve_outline", actor_email=OFFICE, data={"decided_on": "x"},
                         now=local(2025, 3, 3, 9))
    with sapp.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Timer)) == before


def test_a_bad_scheduler_config_stops_the_app_before_it_runs(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[scheduler]\nsend_at = \"25:00\"\n")
    with pytest.raises(InputError, match=r"config \[scheduler\] send_at: invalid time '25:00'"):
        build_scheduling_app(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)))


@pytest.mark.parametrize("workers", [1, 20])
def test_a_stop_mid_sweep_hands_back_the_unfired_timers_and_the_next_sweep_fires_them(
        db_url: str, tmp_path: Path, workers: int) -> None:
    """20 sweep threads hold more connections than the pool has (15 on PostgreSQL): handing
    back their claims must not need one more."""
    config = tmp_path / "nckh.toml"
    config.write_text("[scheduler]\nobligations = []\nreports = {}\nquota_check = \"off\"\n"
                      f"workers = {workers}\nbatch = 2000\n")
    app = build_scheduling_app(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)))
    try:
        small_province(app, local(2025, 1, 2))
        seed_timers(app, 2000, local(2025, 4, 15, 8), local(2025, 1, 2), per_task=10)
        looked = itertools.count()
        now = local(2025, 4, 15, 9)
        first = app.timers.sweep(now, lambda: next(looked) >= workers + 2)
        with app.sessions() as s:
            status = Counter(s.scalars(select(Timer.status)))
            held = s.scalar(select(func.count()).select_from(Timer).where(
                Timer.claimed_by.is_not(None)))
        assert 0 < first["fired"] < 2000 and status["fired"] == first["fired"]
        assert held == 0  # handed back: the next sweep need not wait for a lease to end
        second = app.timers.sweep(now)
        assert first["fired"] + second["fired"] == 2000
        with app.sessions() as s:
            assert Counter(s.scalars(select(Timer.status))) == {"fired": 2000}
    finally:
        app.close()


@pytest.mark.postgres
def test_a_task_locked_by_another_session_delays_only_its_own_timers(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone left a transaction open on a task (a psql BEGIN): the sweep gives up on that
    task's timers after the lock timeout instead of waiting for ever, fires the others, and
    fires the held ones once the lock is gone."""
    monkeypatch.setattr(storage.db, "PG_LOCK_TIMEOUT_S", 0.5)
    _empty_pg(pg_url)
    config = tmp_path / "nckh.toml"
    config.write_text("[scheduler]\nobligations = []\nreports = {}\nquota_check = \"off\"\n"
                      "workers = 1\n")
    app = build_scheduling_app(make_settings(pg_url, tmp_path, NCKH_CONFIG=str(config)))
    other = create_engine(pg_url)
    try:
        small_province(app, local(2025, 1, 2))
        locked, free = seed_timers(app, 20, local(2025, 4, 15, 8), local(2025, 1, 2),
                                   per_task=10)
        now = local(2025, 4, 15, 9)
        sweep = app.timers.sweep
        with other.connect() as psql:
            psql.execute(text("SELECT id FROM task WHERE id = :t FOR UPDATE"), {"t": locked})
            pool = ThreadPoolExecutor(1)
            try:
                counts = pool.submit(sweep, now).result(timeout=60)  # not for ever
            finally:
                psql.rollback()  # first: a sweep still waiting would hold the shutdown
                pool.shutdown()
        assert (counts["fired"], counts["failed"]) == (10, 10)
        with app.sessions() as s:
            pending = set(s.scalars(select(Timer.task_id).where(Timer.done_at.is_(None))))
        assert pending == {locked}
        later = now + dt.timedelta(seconds=app.config.scheduler.lease_s + 1)
        assert sweep(later)["fired"] == 10  # after their lease, with the lock gone
        with app.sessions() as s:
            assert Counter(s.scalars(select(Timer.task_id).where(
                Timer.status == "fired"))) == {locked: 10, free: 10}
    finally:
        other.dispose()
        app.close()


def test_a_claim_is_leased_from_when_it_is_made_not_from_when_the_pass_began(
        sapp: App) -> None:
    """A pass that has been running longer than the lease (a slow database, a big backlog)
    still claims timers it holds for a whole lease: the lease is measured on the pass's clock,
    the injected `now` plus the real time elapsed since."""
    service = sapp.timers
    seed_timers(sapp, 5, local(2025, 4, 15, 8), local(2025, 1, 2), per_task=5)
    lease = dt.timedelta(seconds=service.config.lease_s)
    elapsed = iter([0.0] + [3 * lease.total_seconds()] * 50)  # the pass is 3 leases old
    service.monotonic = lambda: next(elapsed)
    claimed_at: list[dt.datetime] = []
    claim = service.claim
    service.claim = lambda at: claimed_at.append(at) or claim(at)  # type: ignore[method-assign]
    now = local(2025, 4, 15, 9)
    try:
        assert service.sweep(now)["fired"] == 5
    finally:
        service.monotonic = __import__("time").monotonic
        del service.claim
    assert claimed_at[0] == now + 3 * lease  # leased until now + 4 leases, not already over
    with sapp.sessions() as s:
        assert set(s.scalars(select(Timer.status))) == {"fired"}


def test_a_timer_whose_lease_was_taken_over_is_left_to_its_new_holder(sapp: App) -> None:
    """A daemon stalls past its lease (frozen, swapped out): another claims its timers. When
    the first wakes it still believes they are its own, but the mark re-checks the claim."""
    from storage.leases import LeaseKeeper

    service = sapp.timers
    seed_timers(sapp, 4, local(2025, 4, 15, 8), local(2025, 1, 2), per_task=4)
    now = local(2025, 4, 15, 9)
    lease = dt.timedelta(seconds=service.config.lease_s)
    stalled = service.claim(now)
    assert len(stalled) == 4
    other = type(service)(service.engine, service.config, "other-daemon:1")
    later = now + lease + dt.timedelta(seconds=1)
    assert other.claim(later) == stalled  # the stalled daemon's lease ran out
    believes = LeaseKeeper(stalled, now + lease, lease=lease, renew=lambda ids, until: ids,
                           now=lambda: now)  # its own clock stopped with it
    assert service._fire_chunk(stalled, now=later, stop=lambda: False,
                               keeper=believes) == ["lost"] * 4
    assert other.sweep(later + dt.timedelta(seconds=1)) == {"fired": 0, "skipped": 0,
                                                             "lost": 0}
    with sapp.sessions() as s:  # still the other daemon's, not fired by the stalled one
        assert set(s.execute(select(Timer.status, Timer.claimed_by))) == {
            ("pending", "other-daemon:1")}
    assert other.sweep(later + lease + dt.timedelta(seconds=2))["fired"] == 4


def test_a_task_registered_after_its_deadline_gets_a_grace_period_and_no_retroactive_chasing(
        sapp: App, rec: Recorder) -> None:
    """Registered on 20/5 for outline results due before 30/4: its registration says the date
    has passed and gives 10 working days (to 3/6); nothing is escalated for the time before nckh
    knew of it, and the ladder resumes from the end of the grace period."""
    task = new_task(sapp, local(2025, 5, 20, 10))
    with sapp.sessions() as s:
        registered = s.scalars(select(OutboxMessage).where(
            OutboxMessage.task_id == task, OutboxMessage.kind == "task_registered")).one()
    assert registered.context["grace_until"] == "2025-06-03"
    assert timers(sapp, task) == [
        ("reminder", "2025-05-30", "pending", "3"), ("deadline", "2025-06-04", "pending", "0"),
        ("escalation", "2025-06-10", "pending", "unit_head"),
        ("escalation", "2025-06-10", "pending", "office")]
    tick_days(sapp, dt.date(2025, 5, 20), dt.date(2025, 6, 30))
    assert rec.of(task) == [
        ("2025-05-30", "reminder", "3d"), ("2025-06-04", "passed", "2025-06-03"),
        ("2025-06-10", "escalated", "unit_head"), ("2025-06-10", "escalated", "office"),
        ("2025-06-17", "escalated", "unit_head"), ("2025-06-24", "escalated", "unit_head")]
