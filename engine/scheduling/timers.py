"""Deadline timers: planted with the transition that opens a deadline, fired exactly once.

Design note
-----------
Invariant: a timer row's effects (the domain event it publishes, hence the outbox rows the
notifications component writes, and any automatic workflow event) commit in the *same
transaction* as the conditional update `done_at = now WHERE id = :id AND done_at IS NULL`. Only one
transaction can win that update (the row lock serialises them; the loser re-reads `done_at` and
matches nothing), so a timer's effects happen at most once; and because a timer stays pending
until that transaction commits, they happen at least once.

How each step survives a crash:
1. Planting: a step that opens a deadline carries the timers planned around it
   (`engine.rules`), written with the transition in its transaction; a crash rolls back both.
   Leaving the state cancels the pending ones in the same way, so a task that moved on never
   hears from the old deadline.
2. Claiming: a short transaction marks up to `batch` due rows with our id and a lease that runs
   from the moment of the claim (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so daemons take
   disjoint rows; SQLite runs one writer at a time under BEGIN IMMEDIATE). While the batch is
   fired a keeper renews the lease, and a group is fired only while its lease is known to hold
   (`storage.leases`); the mark re-checks the claim, so a timer whose lease lapsed is left to the
   daemon that took it over. A crash after claiming only delays those rows until the lease runs
   out; another daemon then claims them. A claim is a hint, never a proof of work: exactly-once
   comes from the conditional mark below.
3. Firing: a few timers per transaction (`GROUP`), each marked done with its own effects, as
   above; a group that fails is redone one timer per transaction. The timer first re-checks
   the task: a deadline that closed or a task in another state makes it `skipped`, with the
   reason recorded. A crash before commit leaves the timers pending; after, done.
4. Repeating escalations plant their next occurrence in the firing transaction, dated from the
   schedule's first slot still in the future: after downtime each overdue timer fires once, not
   once per missed period, and the ladder continues from now.
Automatic events lock the task row before the timer row (the order a transition takes), so a
person's transition and the scheduler never deadlock; the loser gets an ordinary conflict.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from engine.scheduling.config import SchedulerConfig
from engine.service import Engine
from storage.db import Connection, DbEngine, DbError
from storage.leases import LeaseKeeper
from storage.tasks import load_view, queue_mails, write_step
from storage.timers import (
    claim_due_timers,
    plant_timers,
    release_timers,
    renew_timer_claims,
    skip_timer,
    take_due_timer,
)
from workflows.clock import RunningClock
from workflows.effects import DueTimer, Firing, Step
from workflows.errors import NckhError

log = logging.getLogger("nckh.timers")
GROUP = 10  # timers per firing transaction (see `_fire_chunk`)


@dataclass
class TimerService:
    engine: Engine
    config: SchedulerConfig
    worker: str
    monotonic: Callable[[], float] = time.monotonic

    @property
    def db(self) -> DbEngine:
        return self.engine.db

    # --- the sweep ---------------------------------------------------------------------------
    def sweep(self, now: dt.datetime, stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
        """Fire every timer due at `now`, batch by batch, until none is left (or `stop()`).

        On PostgreSQL `workers` threads fire a claimed batch concurrently, each timer still in
        its own transaction: their commits share WAL flushes. SQLite has one writer: one thread.
        """
        counts = {"fired": 0, "skipped": 0, "lost": 0}
        if not self.config.in_business_hours(now.astimezone(self.engine.tz)):
            return counts
        workers = self.config.workers if self.db.dialect.name == "postgresql" else 1
        pool = ThreadPoolExecutor(workers, thread_name_prefix="timer") if workers > 1 else None
        clock = RunningClock(now, self.monotonic)  # leases run from each claim, not the pass
        lease = dt.timedelta(seconds=self.config.lease_s)
        try:
            while not stop():
                claimed_at = clock.now()
                ids = self.claim(claimed_at)
                keeper = LeaseKeeper(ids, claimed_at + lease, lease=lease, renew=self._renew,
                                     now=clock.now, what="timers")
                # Contiguous runs, not interleaved ids: a task's timers were planted together,
                # so they sit side by side and stay on one worker instead of every worker
                # queueing for the same task's row lock.
                size = max(1, -(-len(ids) // workers))
                chunks = [ids[i:i + size] for i in range(0, len(ids), size)] or [[]]
                fire = partial(self._fire_chunk, now=now, stop=stop, keeper=keeper)
                with keeper:
                    for done in (pool.map(fire, chunks) if pool else map(fire, chunks)):
                        for outcome in done:
                            counts[outcome] = counts.get(outcome, 0) + 1
                if len(ids) < self.config.batch:
                    break
        finally:
            if pool:
                pool.shutdown(wait=True)
        counts.pop("released", None)
        return counts

    def claim(self, now: dt.datetime) -> list[int]:
        with self.db.begin() as conn:
            return claim_due_timers(conn, now=now, owner=self.worker, limit=self.config.batch,
                                    until=now + dt.timedelta(seconds=self.config.lease_s))

    def _renew(self, ids: list[int], until: dt.datetime) -> list[int]:
        with self.db.begin() as conn:
            return renew_timer_claims(conn, ids, owner=self.worker, until=until)

    def _fire_chunk(self, ids: list[int], *, now: dt.datetime, stop: Callable[[], bool],
                    keeper: LeaseKeeper) -> list[str]:
        """Fire timers over one connection (no pool checkout per timer), `GROUP` per
        transaction: each keeps its effects in the transaction that marks it done, and a group
        shares one BEGIN/COMMIT. A group that fails is rolled back whole and its timers are
        fired one transaction each, so one bad timer delays none of the others."""
        outcomes: list[str] = []
        with self.db.connect() as conn:
            for i in range(0, len(ids), GROUP):
                if stop():
                    # Handed back over the connection in hand: with every pooled connection
                    # held by a sweep thread, asking the pool for another would wait out its
                    # timeout.
                    with conn.begin():
                        release_timers(conn, ids[i:], owner=self.worker)
                    return [*outcomes, *["released"] * (len(ids) - i)]
                group = [t for t in ids[i:i + GROUP] if keeper.owns(t)]
                outcomes.extend("lost" for _ in range(len(ids[i:i + GROUP]) - len(group)))
                try:
                    outcomes.extend(self._fire_group(conn, group, now))
                except (NckhError, DbError):
                    conn.rollback()
                    outcomes.extend(self._fire_alone(conn, timer_id, now) for timer_id in group)
                keeper.done(group)
        return outcomes

    def _fire_alone(self, conn: Connection, timer_id: int, now: dt.datetime) -> str:
        try:
            return self._fire_group(conn, [timer_id], now)[0]
        except (NckhError, DbError) as exc:  # stays pending until the lease ends
            conn.rollback()
            log.warning("timer failed", extra={"fields": {
                "timer_id": timer_id, "error": str(exc).splitlines()[0], "worker": self.worker}})
            return "failed"

    def _fire_group(self, conn: Connection, ids: list[int], now: dt.datetime) -> list[str]:
        done: list[tuple[int, str, DueTimer | None, str | None]] = []
        with conn.begin():
            for timer_id in ids:
                due = take_due_timer(conn, timer_id, owner=self.worker, now=now)
                if due is None:
                    done.append((timer_id, "lost", None, None))
                    continue
                firing = self._effects(conn, due, now)
                done.append((timer_id, firing.outcome, due, firing.reason))
        for timer_id, outcome, due, reason in done:  # committed: now it may be said
            log.debug("timer %s", outcome, extra={"fields": {
                "timer_id": timer_id, "kind": due.kind if due else None,
                "task_id": due.task_id if due else None, "worker": self.worker,
                "reason": reason}})
        return [outcome for _, outcome, _, _ in done]

    def _effects(self, conn: Connection, due: DueTimer, now: dt.datetime) -> Firing:
        """Decide what the timer does (`engine.rules`) and write it with the mark."""
        rules = self.engine.rules
        firing = rules.fire_timer(due, now)
        if firing.auto_event is not None:
            view, definition = load_view(conn, due.task_id)
            step = rules.auto_step(self.engine.workflow(conn, definition), view, firing, now)
            if isinstance(step, Step):
                write_step(conn, step)
                return firing
            firing = step
        if firing.outcome == "skipped":
            skip_timer(conn, due.id, firing.reason)
            return firing
        if firing.next is not None:
            plant_timers(conn, task_id=due.task_id, deadline_id=due.deadline_id,
                         state=due.state, due_on=due.due_on, legal_end=due.legal_end,
                         timers=(firing.next,), created_at=now)
        queue_mails(conn, firing.mails, due.task_id, now)
        return firing
