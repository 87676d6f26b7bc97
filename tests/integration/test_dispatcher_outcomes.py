"""The dispatcher's logic through the in-memory transport: what each answer does to the outbox.

A real database (SQLite, then PostgreSQL), the real dispatcher, and a scripted server in the
process (`notifications.transports.memory`) instead of SMTP: release on stop, dead on 5xx,
backoff on 4xx, deferred when unreachable, lost when the lease is gone, a refused recipient noted.
Time is a hand-moved clock (the pass clock's `monotonic`, and the server's `sleep`): nothing waits.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from engine.app import App, build
from notifications.dispatcher import Dispatcher
from notifications.outbox import backoff, enqueue
from notifications.sendnow import send_test
from notifications.transports.memory import (
    MemoryTransport,
    accept,
    drop,
    reply,
    slow,
    unreachable,
)
from tests.conftest import make_settings
from tests.integration.mailfixtures import CONTACT, HEAD, MAIL_ENV, PI, T0, rows
from workflows.clock import RunningClock
from workflows.errors import DeliveryError

LATER = dt.timedelta(hours=2)  # beyond any backoff of the first attempts (cap 1 h)
SEED = 11


class Ticker:
    """A monotonic clock that moves only when told (the server's `sleep` moves it)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def mapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "nckh.toml"
    config.write_text('[mail]\ndigest_weekday = "off"\nbatch_size = 4\n', encoding="utf-8")
    application = build(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config), **MAIL_ENV),
                        jobs=("outbox",))
    yield application
    application.close()


def dispatcher(app: App, transport: MemoryTransport, ticker: Ticker | None = None,
               owner: str = "a:1") -> Dispatcher:
    built = app.dispatcher
    return Dispatcher(built.db, built.cfg, built.catalog, built.renderer, tz=built.tz,
                      owner=owner, rng=random.Random(SEED), calendar=built.calendar,
                      transport=transport, monotonic=ticker or Ticker())


def queue_tests(app: App, n: int) -> None:
    with app.engine.transaction() as s:
        for i in range(n):
            enqueue(s.connection(), kind="test", to=[f"user{i}@example.vn"], now=T0,
                    dedupe_key=f"t:{i}")


def done(counts: Mapping[str, int]) -> dict[str, int]:
    """A pass's counts without the zeros (the digest's, the deaths at claim)."""
    return {k: v for k, v in counts.items() if v}


def delivered_ids(transport: MemoryTransport) -> list[int]:
    return [d.item.id for d in transport.delivered]


def test_the_memory_transport_is_the_one_the_dispatcher_sends_through(mapp: App) -> None:
    queue_tests(mapp, 6)
    server = MemoryTransport()
    assert done(dispatcher(mapp, server).tick(T0)) == {"sent": 6}
    assert sorted(delivered_ids(server)) == [r.id for r in rows(mapp)]
    assert {(r.state, r.attempts, r.claimed_by) for r in rows(mapp)} == {("sent", 1, None)}
    sent = {r.id: r for r in rows(mapp)}
    for d in server.delivered:  # the row's own frozen message, byte for byte
        assert d.recipients == (f"user{d.item.id - 1}@example.vn",)
        assert f"Message-ID: {sent[d.item.id].message_id}\r\n".encode() in d.item.data


def test_a_stop_mid_batch_releases_the_untried_rows_due_at_once_without_an_attempt(
        mapp: App) -> None:
    queue_tests(mapp, 4)
    server = MemoryTransport()
    d = dispatcher(mapp, server)
    counts = d.tick(T0, lambda: len(server.attempts) >= 1)
    assert (counts.get("sent"), counts.get("released")) == (1, 3)
    left = [r for r in rows(mapp) if r.state != "sent"]
    assert [(r.state, r.attempts, r.claimed_by, r.last_error, r.first_attempt_at,
             r.next_attempt_at) for r in left] == [("pending", 0, None, None, None, T0)] * 3
    assert d.tick(T0).get("sent") == 3  # due at once: the same instant's pass takes them
    assert sorted(Counter(delivered_ids(server)).values()) == [1] * 4


def test_a_5xx_reply_is_dead_with_the_reply_and_never_tried_again(mapp: App) -> None:
    queue_tests(mapp, 2)
    server = MemoryTransport().script(reply("550 5.7.1 Message rejected by policy"))
    d = dispatcher(mapp, server)
    assert done(d.tick(T0)) == {"dead": 1, "sent": 1}
    dead, ok = rows(mapp)
    assert (dead.state, dead.attempts, dead.claimed_by) == ("dead", 1, None)
    assert dead.last_error == "550 5.7.1 Message rejected by policy"
    assert ok.state == "sent"
    d.tick(T0 + LATER)
    d.tick(T0 + 10 * LATER)
    assert len(server.attempts) == 2 and rows(mapp)[0].state == "dead"


def test_a_4xx_reply_backs_off_exponentially_and_each_try_counts_an_attempt(mapp: App) -> None:
    queue_tests(mapp, 1)
    server = MemoryTransport().script(reply("421 4.3.2 try later"), reply("451 4.3.0 again"))
    d = dispatcher(mapp, server)
    cfg, expected = d.cfg, random.Random(SEED)
    assert done(d.tick(T0)) == {"pending": 1}
    (row,) = rows(mapp)
    assert (row.state, row.attempts, row.first_attempt_at) == ("pending", 1, T0)
    assert row.last_error == "421 4.3.2 try later"
    assert row.next_attempt_at == T0 + backoff(1, cfg.retry_base, cfg.retry_cap, expected)
    assert d.tick(T0 + dt.timedelta(seconds=1)).get("pending", 0) == 0  # not due yet
    second = T0 + LATER
    assert done(d.tick(second)) == {"pending": 1}
    (row,) = rows(mapp)
    assert (row.attempts, row.first_attempt_at, row.last_error) == (2, T0, "451 4.3.0 again")
    assert row.next_attempt_at == second + backoff(2, cfg.retry_base, cfg.retry_cap, expected)
    assert done(d.tick(second + LATER)) == {"sent": 1}
    assert rows(mapp)[0].attempts == 3 and len(server.attempts) == 3


def test_a_dropped_connection_is_retried_and_the_message_goes_out_next_time(mapp: App) -> None:
    queue_tests(mapp, 3)
    server = MemoryTransport(lambda item: drop() if item.id == 2 else accept())
    d = dispatcher(mapp, server)
    assert done(d.tick(T0)) == {"sent": 2, "pending": 1}
    assert [(r.state, r.attempts) for r in rows(mapp)] == [
        ("sent", 1), ("pending", 1), ("sent", 1)]
    assert rows(mapp)[1].last_error == "connection lost before the reply"
    server.answer = lambda item: accept()
    assert done(d.tick(T0 + LATER)) == {"sent": 1}
    assert sorted(delivered_ids(server)) == [1, 2, 3]


def test_an_unreachable_server_defers_without_an_attempt_and_stops_the_pass(mapp: App) -> None:
    queue_tests(mapp, 6)  # two batches of four
    server = MemoryTransport()
    server.down = "connection refused"
    d = dispatcher(mapp, server)
    assert done(d.tick(T0)) == {"deferred": 4}  # the second batch is not even claimed
    deferred, untouched = rows(mapp)[:4], rows(mapp)[4:]
    assert all(r.state == "pending" and r.attempts == 0 and r.first_attempt_at is None
               and r.next_attempt_at > T0 and r.claimed_by is None for r in deferred)
    assert deferred[0].last_error == "cannot connect to memory: connection refused"
    assert {r.last_error for r in deferred[1:]} == {
        "not attempted: cannot connect to memory: connection refused"}
    assert [(r.state, r.attempts, r.last_error) for r in untouched] == [("pending", 0, None)] * 2
    assert server.attempts == []
    server.down = None
    assert done(d.tick(T0 + LATER)) == {"sent": 6}


def test_a_server_lost_mid_batch_defers_the_rest_and_keeps_what_it_took(mapp: App) -> None:
    queue_tests(mapp, 4)
    server = MemoryTransport().script(accept(), unreachable("network is unreachable"))
    assert done(dispatcher(mapp, server).tick(T0)) == {"sent": 1, "deferred": 3}
    assert [(r.state, r.attempts) for r in rows(mapp)] == [("sent", 1)] + [("pending", 0)] * 3


def test_rows_whose_lease_another_dispatcher_took_are_lost_never_sent(mapp: App) -> None:
    queue_tests(mapp, 3)
    mine, theirs = MemoryTransport(), MemoryTransport()
    a, b = dispatcher(mapp, mine), dispatcher(mapp, theirs, owner="b:1")
    batch_a, _ = a.claim(T0)
    after_lease = T0 + a.cfg.lease + dt.timedelta(seconds=1)
    batch_b, _ = b.claim(after_lease)  # A's lease ran out: B takes the same rows
    assert [m.id for m in batch_b.items] == [m.id for m in batch_a.items]
    assert done(a.send(batch_a, after_lease)) == {"lost": 3} and mine.attempts == []
    assert {(r.state, r.claimed_by, r.attempts) for r in rows(mapp)} == {("sending", "b:1", 2)}
    assert done(b.send(batch_b, after_lease)) == {"sent": 3} and len(theirs.delivered) == 3


def test_a_dispatcher_that_stalls_past_its_lease_puts_nothing_more_on_the_wire(
        mapp: App) -> None:
    """The message on the wire when the holder froze still counts; the rest are not its own any
    more (another holder may have them by now): lost, left to whoever claims them next."""
    queue_tests(mapp, 4)
    ticker = Ticker()
    server = MemoryTransport(sleep=ticker.advance)
    lease = mapp.dispatcher.cfg.lease.total_seconds()
    server.script(slow(lease))  # the first answer takes a whole lease
    d = dispatcher(mapp, server, ticker)
    batch, _ = d.claim(T0)
    assert done(d.send(batch, T0, clock=RunningClock(T0, ticker).now)) == {"sent": 1, "lost": 3}
    assert [m.id for m in server.attempts] == [1]
    left = rows(mapp)[1:]
    assert {(r.state, r.claimed_by) for r in left} == {("sending", "a:1")}
    later = T0 + dt.timedelta(seconds=lease * 2)  # their lease has run out: due again
    assert done(dispatcher(mapp, server, owner="b:1").tick(later)) == {"sent": 3}
    assert sorted(Counter(delivered_ids(server)).values()) == [1] * 4


def test_a_refused_recipient_is_noted_and_the_others_receive_the_message(mapp: App) -> None:
    with mapp.engine.transaction() as s:
        enqueue(s.connection(), kind="test", to=[PI, HEAD, CONTACT], now=T0, dedupe_key="t")
    server = MemoryTransport().script(accept(refused={CONTACT: "550 5.1.1 No such user"}))
    assert done(dispatcher(mapp, server).tick(T0)) == {"sent": 1}
    (row,) = rows(mapp)
    assert row.state == "sent"
    assert row.last_error == f"refused {CONTACT}: 550 5.1.1 No such user"
    (got,) = server.delivered
    assert sorted(got.recipients) == sorted([PI, HEAD])


@pytest.mark.parametrize(("replies", "state"), [
    ({"user0@example.vn": "550 5.1.1 No such user"}, "dead"),
    ({"user0@example.vn": "450 4.2.1 Mailbox busy"}, "pending"),
])
def test_every_recipient_refused_is_a_failed_send_dead_on_5xx_retried_on_4xx(
        mapp: App, replies: dict[str, str], state: str) -> None:
    queue_tests(mapp, 1)
    server = MemoryTransport().script(accept(refused=replies))
    dispatcher(mapp, server).tick(T0)
    (row,) = rows(mapp)
    assert (row.state, row.attempts) == (state, 1) and server.delivered == []
    assert row.last_error == f"user0@example.vn: {replies['user0@example.vn']}"


def test_mail_test_goes_through_the_dispatchers_transport(mapp: App) -> None:
    server = MemoryTransport()
    d = dispatcher(mapp, server)
    assert send_test(d, "admin@example.vn", T0) == (
        "test message sent to admin@example.vn via the in-memory transport")
    (got,) = server.delivered
    assert got.recipients == ("admin@example.vn",) and b"X-Nckh-Kind: test" in got.item.data
    server.script(reply("550 5.7.1 Relaying denied"))
    with pytest.raises(DeliveryError, match=re.escape(
            "not delivered via the in-memory transport: 550 5.7.1 Relaying denied")):
        send_test(d, "admin@example.vn", T0)
    assert rows(mapp) == []  # straight through the transport, never the outbox
