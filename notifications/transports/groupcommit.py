"""Group commit: outcomes of concurrent senders recorded in groups, with a bound on the unrecorded.

Each recorded group is a transaction (and a hop to a thread), so recording one outcome at a time
would cost more than sending it; recording only at the end of a batch would let a crash re-send
the whole batch. `GroupCommit` sits between: the senders (coroutines, one per SMTP connection)
`add` outcomes as they learn them and ask `ready()` before taking the next message; one recorder
task hands the waiting outcomes to `record` (run in a thread) in groups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from notifications.outbox import Outcome
from notifications.transports.base import Record


class GroupCommit:
    """Records the outcomes of concurrent senders in groups, and bounds how many wait unrecorded.

    Invariant, kept by this class alone:

    - **Groups.** A group is recorded once the previous one is, and it holds every outcome
      waiting: recording starts as soon as `group` outcomes wait, or the oldest has waited
      `wait_s`, or the senders are done. Each outcome is handed to `record` once, in the order
      it was added.
    - **Bound.** `ready()` holds a sender while `limit` outcomes wait unrecorded, so a crash
      re-sends at most `limit`, plus the group being recorded, plus one message per sender on
      the wire — whatever the batch size.
    - **A stopped recorder never pauses the senders.** Once the recorder has ended (`record`
      raised), `ready()` answers False at once, and nothing waits for room that nobody would
      make. (The stall of a227269: a send that finished after recording failed reached the
      limit and paused its sender forever.)
    - **A fault in one sender ends that sender only.** `run` lets the other senders finish, adds
      the `leftovers` (the messages nobody took), records every outcome, and only then raises
      the fault. (The lost outcomes of b08d3ce: the fault was raised at once and the other
      senders' outcomes never reached the database, so those messages went out again.) If
      `record` raised, that error is raised (the senders stopped at their next `ready()`).
    """

    def __init__(self, record: Record, *, group: int, limit: int, wait_s: float) -> None:
        self._record = record
        self.group = group
        self.limit = limit
        self.wait_s = wait_s
        self._pending: list[Outcome] = []
        self._oldest = 0.0  # loop time when the oldest waiting outcome was added
        self._wake = asyncio.Event()  # set: the recorder should look again
        self._room = asyncio.Event()  # clear: senders wait
        self._room.set()
        self._finished = False  # no sender will add any more
        self._stopped = False  # the recorder has ended
        self._loop = asyncio.get_running_loop()

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def waiting(self) -> int:
        """Outcomes added and not yet handed to `record`."""
        return len(self._pending)

    def add(self, outcome: Outcome) -> None:
        pending = self._pending
        if not pending:
            self._oldest = self._loop.time()
        pending.append(outcome)
        if len(pending) == 1 or len(pending) == self.group:  # start the group's clock; or full
            self._wake.set()
        if len(pending) >= self.limit and not self._stopped:  # never pause for a dead recorder
            self._room.clear()

    async def ready(self) -> bool:
        """Wait while too many outcomes wait unrecorded; False once the recorder has stopped
        (the sender must take no more work)."""
        if not self._room.is_set():
            await self._room.wait()
        return not self._stopped

    async def run(self, senders: Iterable[Coroutine[Any, Any, None]],
                  leftovers: Callable[[], Iterable[Outcome]] = tuple) -> None:
        """Run the senders to their end with the recorder beside them; then add `leftovers()`,
        record what waits, and raise the first fault (see the invariant)."""
        recorder = asyncio.create_task(self._recorder())
        try:
            ended = await asyncio.gather(*senders, return_exceptions=True)
            for outcome in leftovers():
                self.add(outcome)
        finally:
            self._finished = True
            self._wake.set()
            await recorder  # raises what `record` raised
        for result in ended:
            if isinstance(result, BaseException):
                raise result

    async def _recorder(self) -> None:
        loop, pending = self._loop, self._pending
        try:
            while True:
                waited = loop.time() - self._oldest
                if pending and (self._finished or len(pending) >= self.group
                                or waited >= self.wait_s):
                    chunk = pending[:]
                    pending.clear()
                    self._room.set()
                    await asyncio.to_thread(self._record, chunk)
                elif self._finished:
                    return
                else:
                    self._wake.clear()
                    try:
                        async with asyncio.timeout(self.wait_s - waited if pending else None):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
        finally:
            self._stopped = True
            self._room.set()
