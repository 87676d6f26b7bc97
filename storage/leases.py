"""Leases on claimed rows (outbox messages, timers): how a holder knows a row is still its own.

Design note — the invariant: *a holder acts on a row (puts a message on the wire, fires a timer)
only while the database has that row leased to it until at least `margin` from now, as of the
last claim or renewal that returned the row.* Another dispatcher or daemon takes a row only once
its lease has run out, so two holders never act on one row at once — unless a holder stalls for
longer than `margin` between its check and its act (a crash, a frozen process, a partition),
and then only the one row in hand can be doubled.

- A lease runs from the moment of the claim (`now` read when the claim is made), never from the
  start of a long pass: a pass that outlives the lease no longer claims rows already expired.
- While the holder works, a keeper thread renews the lease of every row it still holds, once a
  third of the lease has gone by. A renewal returns the rows still ours; any other row was
  taken by someone else after our lease lapsed, and is dropped: we never act on it.
- When renewals fail (the database is unreachable), nothing is renewed and `owns` turns false
  `margin` before the last known expiry: the holder stops acting and the rows wait for their
  lease to end, then for whoever claims them next.

The keeper reads the time through the `now` it is given (a pass clock: the injected time of the
pass plus the real time elapsed since), so tests can drive it without sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from types import TracebackType

log = logging.getLogger("nckh.leases")

Renew = Callable[[list[int], dt.datetime], Iterable[int]]  # (ids, new expiry) -> ids still ours


class LeaseKeeper:
    def __init__(self, ids: Iterable[int], until: dt.datetime, *, lease: dt.timedelta,
                 renew: Renew, now: Callable[[], dt.datetime],
                 margin: dt.timedelta | None = None, what: str = "rows") -> None:
        self._held = set(ids)
        self._until = until
        self.lease = lease
        self.margin = margin if margin is not None else lease / 5
        self._renew = renew
        self._now = now
        self._what = what
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def until(self) -> dt.datetime:
        return self._until

    def owns(self, row_id: int) -> bool:
        """True while `row_id` is ours with at least `margin` of its lease left."""
        with self._lock:
            return row_id in self._held and self._now() < self._until - self.margin

    def done(self, ids: Iterable[int]) -> None:
        """These rows are finished (their outcome is recorded): no more renewals for them."""
        with self._lock:
            self._held.difference_update(ids)

    def renew_if_due(self) -> None:
        """Renew every held row once a third of the lease has passed since the last renewal."""
        with self._lock:
            held = sorted(self._held)
            start = self._now()
            if not held or self._until - start > self.lease * 2 / 3:
                return
        until = start + self.lease
        try:
            kept = set(self._renew(held, until))
        except Exception as exc:  # the database is down: owns() will turn false in time
            log.warning("lease renewal failed", extra={"fields": {
                "what": self._what, "rows": len(held), "error": str(exc).splitlines()[0]}})
            return
        with self._lock:
            lost = set(held) - kept
            if lost:
                log.warning("rows taken over by another holder", extra={"fields": {
                    "what": self._what, "rows": sorted(lost)[:20], "count": len(lost)}})
            self._held -= lost
            self._until = until

    # --- the keeper thread ---------------------------------------------------------------------
    def __enter__(self) -> LeaseKeeper:
        interval = max(0.01, self.lease.total_seconds() / 6)

        def run() -> None:
            while not self._stop.wait(interval):
                self.renew_if_due()

        self._thread = threading.Thread(target=run, name="lease-keeper", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def holder_id() -> str:
    """Who holds a claim: host, process and a random part (two dispatchers or sweeps in one
    process are two holders: a claim is proof of nothing to a twin)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
