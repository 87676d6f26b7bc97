"""GroupCommit on its own: pure asyncio, no server, no database. Each test runs its own loop.

`record` runs in a thread (as it does in the dispatcher); gates are threading events so a test
decides when a recording finishes. Nothing waits on a timer except where the group's own wait
(`wait_s`) is the subject, and every wait that could hang is bounded so a regression fails the
test instead of stalling the suite.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from notifications.outbox import Outcome
from notifications.transports.groupcommit import GroupCommit

BOUND_S = 10.0  # longer than any of these tests needs; a hang fails at this, not the suite's limit


def sent(n: int) -> Outcome:
    return Outcome(n, "sent")


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), BOUND_S))


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop (and the recorder's thread) run until `condition` holds."""
    while not condition():
        await asyncio.sleep(0.001)


class Recorder:
    """A `record` that keeps every group; `gate`, when given, holds each call until it is set."""

    def __init__(self, gate: threading.Event | None = None,
                 fail: BaseException | None = None) -> None:
        self.groups: list[list[int]] = []
        self.calls = 0
        self.gate = gate
        self.fail = fail

    def __call__(self, outcomes: list[Outcome]) -> None:
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(BOUND_S)
        if self.fail is not None:
            raise self.fail
        self.groups.append([o.id for o in outcomes])

    @property
    def ids(self) -> list[int]:
        return [i for group in self.groups for i in group]


async def sender(commit: GroupCommit, ids: range, order: list[int] | None = None) -> list[int]:
    """Takes the next message only when `ready()` says so, as the SMTP senders do."""
    added: list[int] = []
    for i in ids:
        if not await commit.ready():
            break
        commit.add(sent(i))
        added.append(i)
        if order is not None:
            order.append(i)
        await asyncio.sleep(0)  # a send takes at least one turn of the loop
    return added


def test_every_outcome_is_recorded_once_in_the_order_added_and_in_groups() -> None:
    record = Recorder()
    order: list[int] = []

    async def main() -> None:
        commit = GroupCommit(record, group=4, limit=16, wait_s=60)
        await commit.run([sender(commit, range(k, 200, 4), order) for k in range(4)])

    run(main)
    assert record.ids == order and sorted(order) == list(range(200))
    assert len(record.groups) < 200 / 2  # grouped, not one transaction per outcome
    assert all(record.groups)


def test_a_group_is_recorded_when_it_is_full_and_not_before() -> None:
    record = Recorder()

    async def main() -> None:
        commit = GroupCommit(record, group=3, limit=30, wait_s=60)
        finish = asyncio.Event()

        async def one() -> None:
            commit.add(sent(1))
            commit.add(sent(2))
            for _ in range(20):  # the recorder has every chance to look
                await asyncio.sleep(0)
            assert (commit.waiting, record.calls) == (2, 0)  # two of three: it waits
            commit.add(sent(3))
            await until(lambda: record.groups == [[1, 2, 3]])
            finish.set()

        await commit.run([one()])
        assert finish.is_set()

    run(main)


def test_a_lone_outcome_waits_at_most_wait_s_for_its_group() -> None:
    record = Recorder()

    async def main() -> None:
        commit = GroupCommit(record, group=100, limit=1000, wait_s=0.05)

        async def one() -> None:
            commit.add(sent(7))
            await until(lambda: record.groups == [[7]])  # recorded while the sender still runs

        await commit.run([one()])

    run(main)


def test_the_senders_pause_while_limit_outcomes_wait_unrecorded() -> None:
    gate = threading.Event()
    record = Recorder(gate)
    seen: dict[str, int] = {}

    async def main() -> None:
        commit = GroupCommit(record, group=1, limit=4, wait_s=60)
        task = asyncio.create_task(commit.run([sender(commit, range(50))]))
        await until(lambda: record.calls == 1 and commit.waiting >= 4)
        for _ in range(50):  # the sender has every chance to go on: it must not
            await asyncio.sleep(0)
        seen["waiting"], seen["calls"] = commit.waiting, record.calls
        gate.set()
        await task

    run(main)
    # One group in the recording (held at the gate), `limit` waiting, and not one more.
    assert seen == {"waiting": 4, "calls": 1}
    assert record.ids == list(range(50))


def test_a_stopped_recorder_never_pauses_the_senders() -> None:
    """The stall of a227269: recording fails while a send is on the wire; that send's outcome
    brings the waiting ones to the limit. Nobody will record them: the sender must be told to
    stop, not left waiting for room (the pass, and every pass after, hung)."""
    gate = threading.Event()
    record = Recorder(gate, fail=OSError("disk full"))
    told: list[bool] = []

    async def main() -> None:
        commit = GroupCommit(record, group=1, limit=3, wait_s=60)

        async def on_the_wire() -> None:
            commit.add(sent(1))
            await until(lambda: record.calls == 1)  # the recorder took [1] and is stuck
            commit.add(sent(2))
            commit.add(sent(3))  # two waiting; the third send is on the wire...
            gate.set()  # ...when recording fails
            await until(lambda: commit.stopped)
            commit.add(sent(4))  # the send finishes: three waiting, the limit
            told.append(await commit.ready())

        with pytest.raises(OSError, match="disk full"):
            await commit.run([on_the_wire()])

    run(main)  # without the fix: TimeoutError after BOUND_S, the sender waiting for room
    assert told == [False]


def test_when_recording_fails_the_senders_stop_and_its_error_is_raised() -> None:
    record = Recorder(fail=OSError("disk full"))
    added: list[list[int]] = []

    async def main() -> None:
        commit = GroupCommit(record, group=2, limit=8, wait_s=60)

        async def many(k: int) -> None:
            added.append(await sender(commit, range(k * 1000, k * 1000 + 1000)))

        with pytest.raises(OSError, match="disk full"):
            await commit.run([many(0), many(1)])

    run(main)
    assert record.calls == 1 and record.groups == []
    # They stopped taking work: at most the failed group and `limit` more were ever added.
    assert sum(map(len, added)) <= 8 + 8


def test_a_fault_in_one_sender_ends_it_only_and_the_others_are_recorded_before_it_is_raised(
        ) -> None:
    """The lost outcomes of b08d3ce: a fault that escaped one connection was raised at once and
    the other connections went on sending, unrecorded (their rows went out again later)."""
    record = Recorder()

    async def main() -> None:
        commit = GroupCommit(record, group=4, limit=16, wait_s=60)
        broke = asyncio.Event()

        async def faulty() -> None:
            commit.add(sent(0))
            broke.set()
            raise RuntimeError("a bug in classify")

        async def healthy(k: int) -> None:
            await broke.wait()  # everything this sender does happens after the fault
            await sender(commit, range(k, 100, 2))

        with pytest.raises(RuntimeError, match="a bug in classify"):
            await commit.run([faulty(), healthy(1), healthy(2)],
                             leftovers=lambda: [Outcome(500, "released")])

    run(main)
    assert sorted(record.ids) == [0, *range(1, 100), 500]


def test_leftovers_are_added_after_the_senders_end_and_recorded() -> None:
    record = Recorder()

    async def main() -> None:
        commit = GroupCommit(record, group=8, limit=32, wait_s=60)
        await commit.run([sender(commit, range(3))],
                         leftovers=lambda: [Outcome(i, "released") for i in (3, 4)])

    run(main)
    assert record.ids == [0, 1, 2, 3, 4]


def test_no_senders_and_no_leftovers_records_nothing() -> None:
    record = Recorder()

    async def main() -> None:
        await GroupCommit(record, group=8, limit=32, wait_s=60).run([])

    run(main)
    assert record.calls == 0
