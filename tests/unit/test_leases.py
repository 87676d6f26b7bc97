"""The lease keeper, driven by a hand-moved clock: what it lets a holder do, and when it renews."""

from __future__ import annotations

import datetime as dt

from storage.leases import LeaseKeeper

T0 = dt.datetime(2025, 3, 3, 8, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> dt.datetime:
        return self.at


class Db:
    """The database side of a renewal: which rows are still ours, and the renewals asked for."""

    def __init__(self, ours: set[int]) -> None:
        self.ours = ours
        self.calls: list[tuple[list[int], dt.datetime]] = []
        self.down = False

    def renew(self, ids: list[int], until: dt.datetime) -> list[int]:
        if self.down:
            raise ConnectionError("server closed the connection unexpectedly")
        self.calls.append((ids, until))
        return [i for i in ids if i in self.ours]


def keeper(clock: Clock, db: Db, ids: tuple[int, ...] = (1, 2, 3)) -> LeaseKeeper:
    return LeaseKeeper(ids, T0 + LEASE, lease=LEASE, renew=db.renew, now=clock.now)


def test_a_claimed_row_is_owned_until_the_margin_before_its_lease_ends() -> None:
    clock, db = Clock(), Db({1, 2, 3})
    k = keeper(clock, db)
    assert k.owns(1) and not k.owns(4)
    clock.at = T0 + LEASE - k.margin - dt.timedelta(seconds=1)
    assert k.owns(1)
    clock.at = T0 + LEASE - k.margin
    assert not k.owns(1)  # too close to the end to start putting it on the wire


def test_no_renewal_before_a_third_of_the_lease_has_gone_by() -> None:
    clock, db = Clock(), Db({1, 2, 3})
    k = keeper(clock, db)
    clock.at = T0 + LEASE / 3 - dt.timedelta(seconds=1)
    k.renew_if_due()
    assert db.calls == []
    clock.at = T0 + LEASE / 3 + dt.timedelta(seconds=1)
    k.renew_if_due()
    assert db.calls == [([1, 2, 3], clock.at + LEASE)] and k.until == clock.at + LEASE


def test_renewals_keep_a_slow_batch_ours_far_beyond_the_first_lease() -> None:
    clock, db = Clock(), Db({1, 2, 3})
    k = keeper(clock, db)
    for _ in range(100):  # 100 renewals: a batch that takes an hour and a half on a 60 s lease
        clock.at += LEASE / 2
        k.renew_if_due()
        assert k.owns(1) and k.owns(3)
    assert len(db.calls) == 100


def test_a_row_taken_over_by_another_holder_is_never_acted_on_again() -> None:
    clock, db = Clock(), Db({1, 3})  # row 2's lease lapsed and another dispatcher claimed it
    k = keeper(clock, db)
    clock.at = T0 + LEASE / 2
    k.renew_if_due()
    assert k.owns(1) and not k.owns(2) and k.owns(3)
    clock.at += LEASE / 2
    k.renew_if_due()
    assert db.calls[-1][0] == [1, 3]


def test_finished_rows_are_not_renewed() -> None:
    clock, db = Clock(), Db({1, 2, 3})
    k = keeper(clock, db)
    k.done([1, 2])
    clock.at = T0 + LEASE / 2
    k.renew_if_due()
    assert db.calls == [([3], clock.at + LEASE)]
    assert not k.owns(1)


def test_when_renewals_fail_the_holder_stops_before_the_lease_ends() -> None:
    clock, db = Clock(), Db({1, 2, 3})
    k = keeper(clock, db)
    db.down = True
    clock.at = T0 + LEASE / 2
    k.renew_if_due()  # logged, not raised
    assert k.owns(1)
    clock.at = T0 + LEASE - k.margin
    assert not k.owns(1)
    db.down = False
    k.renew_if_due()  # the database is back: the rows are still ours, the lease goes on
    assert k.owns(1) and k.until == clock.at + LEASE


def test_the_keeper_thread_renews_while_the_holder_works() -> None:
    """The thread only calls `renew_if_due`; with a clock already past a third of the lease it
    renews at its first wake-up (a few milliseconds for a 60 ms lease), without any sleep here
    beyond waiting for that call."""
    import threading

    clock, db = Clock(), Db({1})
    renewed = threading.Event()

    def renew(ids: list[int], until: dt.datetime) -> list[int]:
        renewed.set()
        return db.renew(ids, until)

    short = dt.timedelta(milliseconds=60)
    k = LeaseKeeper([1], T0 + short, lease=short, renew=renew, now=clock.now)
    clock.at = T0 + short / 2
    with k:
        assert renewed.wait(10)
    assert db.calls and k.until == clock.at + short
