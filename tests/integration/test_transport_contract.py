"""One contract, every transport: SMTP (a real aiosmtpd server), the maildir and the in-memory one
keep the promises of `notifications.transports.base` that the dispatcher relies on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from notifications.config import SmtpConfig
from notifications.outbox import Outcome
from notifications.transports.base import Outgoing, Transport
from notifications.transports.maildir import MaildirTransport
from notifications.transports.memory import MemoryTransport
from notifications.transports.smtp import SmtpTransport
from tests.integration import mailserver


@dataclass
class Subject:
    transport: Transport
    received: Callable[[], list[int]]  # ids of the messages that arrived, as many times as each


@pytest.fixture(params=["smtp", "maildir", "memory"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    if request.param == "smtp":
        box = mailserver.Inbox()
        controller = mailserver.start(box)
        yield Subject(SmtpTransport(SmtpConfig("127.0.0.1", controller.port, concurrency=3)),
                      lambda: [int(r.message["X-Id"]) for r in box.received])
        controller.stop()
    elif request.param == "maildir":
        maildir = tmp_path / "maildir"
        yield Subject(MaildirTransport(maildir, chunk=4), lambda: [
            int(p.stem.removeprefix("m")) for p in (maildir / "new").glob("*.eml")])
    else:
        memory = MemoryTransport()
        yield Subject(memory, lambda: [d.item.id for d in memory.delivered])


def batch(n: int) -> list[Outgoing]:
    return [Outgoing(i, f"m{i}", "nckh@syt.example.vn", (f"user{i}@example.vn",),
                     f"X-Id: {i}\r\nSubject: {i}\r\n\r\nx\r\n".encode()) for i in range(1, n + 1)]


def deliver(subject: Subject, n: int, **kw: object) -> list[Outcome]:
    got: list[Outcome] = []
    subject.transport.deliver(batch(n), got.extend, **kw)  # type: ignore[arg-type]
    return got


def test_every_message_gets_exactly_one_outcome_and_arrives_once(subject: Subject) -> None:
    got = deliver(subject, 20)
    assert sorted(o.id for o in got) == list(range(1, 21))
    assert {o.state for o in got} == {"sent"}
    assert sorted(Counter(subject.received()).items()) == [(i, 1) for i in range(1, 21)]


def test_once_stopping_nothing_is_started_and_everything_is_released(subject: Subject) -> None:
    got = deliver(subject, 10, stop=lambda: True)
    assert sorted((o.id, o.state) for o in got) == [(i, "released") for i in range(1, 11)]
    assert subject.received() == []


def test_a_message_whose_lease_is_gone_is_lost_and_never_put_on_the_wire(
        subject: Subject) -> None:
    got = deliver(subject, 10, may_send=lambda row_id: row_id % 2 == 1)
    assert sorted((o.id, o.state) for o in got) == [
        (i, "sent" if i % 2 else "lost") for i in range(1, 11)]
    assert sorted(subject.received()) == [1, 3, 5, 7, 9]


def test_a_failing_record_is_raised(subject: Subject) -> None:
    def broken(outcomes: list[Outcome]) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        subject.transport.deliver(batch(10), broken)


def test_where_names_the_place_a_message_went(subject: Subject) -> None:
    assert subject.transport.where(batch(1)[0]).strip()
