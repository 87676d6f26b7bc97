"""The in-memory transport on its own: each scripted answer and the outcome it gives; and which
transport the mail settings choose."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.config import MailConfig, SmtpConfig
from notifications.outbox import Outcome
from notifications.transports import transport_for
from notifications.transports.base import Outgoing
from notifications.transports.maildir import MaildirTransport
from notifications.transports.memory import (
    MemoryTransport,
    accept,
    drop,
    reply,
    slow,
    unreachable,
)
from notifications.transports.smtp import SmtpTransport


def items(n: int, *recipients: str) -> list[Outgoing]:
    return [Outgoing(i, f"m{i}", "nckh@syt.example.vn", recipients or (f"u{i}@example.vn",),
                     b"Subject: x\r\n\r\nx\r\n") for i in range(1, n + 1)]


def deliver(server: MemoryTransport, batch: list[Outgoing], **kw: object) -> list[Outcome]:
    got: list[Outcome] = []
    server.deliver(batch, got.extend, **kw)  # type: ignore[arg-type]
    return got


def test_the_script_answers_first_in_order_then_the_answer_function() -> None:
    server = MemoryTransport().script(reply("421 4.3.2 try  later"), reply("550 5.7.1 no"),
                                      drop())
    got = deliver(server, items(4))
    assert got == [Outcome(1, "retry", "421 4.3.2 try later"),
                   Outcome(2, "dead", "550 5.7.1 no"),
                   Outcome(3, "retry", "connection lost before the reply"),
                   Outcome(4, "sent")]
    assert [i.id for i in server.attempts] == [1, 2, 3, 4]
    assert [d.item.id for d in server.delivered] == [4]


def test_refused_recipients_are_noted_with_the_note_already_on_the_message() -> None:
    server = MemoryTransport(lambda item: accept(refused={"b@x.vn": "550 5.1.1 unknown"}))
    (item,) = items(1, "a@x.vn", "b@x.vn", "c@x.vn")
    noted = Outgoing(item.id, item.name, item.sender, item.recipients, item.data,
                     note="not sent to d@x: no dot")
    assert deliver(server, [noted]) == [
        Outcome(1, "sent", "refused b@x.vn: 550 5.1.1 unknown; not sent to d@x: no dot")]
    assert server.delivered[0].recipients == ("a@x.vn", "c@x.vn")


def test_every_recipient_refused_is_dead_only_when_every_refusal_is_permanent() -> None:
    both = ("a@x.vn", "b@x.vn")
    dead = MemoryTransport().script(accept(refused={"a@x.vn": "550 no", "b@x.vn": "551 gone"}))
    assert deliver(dead, items(1, *both)) == [
        Outcome(1, "dead", "a@x.vn: 550 no; b@x.vn: 551 gone")]
    mixed = MemoryTransport().script(accept(refused={"a@x.vn": "550 no", "b@x.vn": "452 full"}))
    assert [o.state for o in deliver(mixed, items(1, *both))] == ["retry"]
    assert dead.delivered == [] and mixed.delivered == []


def test_a_stop_releases_every_message_not_yet_started() -> None:
    server = MemoryTransport()
    got = deliver(server, items(5), stop=lambda: len(server.attempts) >= 2)
    assert [(o.id, o.state) for o in got] == [
        (1, "sent"), (2, "sent"), (3, "released"), (4, "released"), (5, "released")]


def test_a_message_no_longer_ours_is_lost_and_never_offered() -> None:
    server = MemoryTransport()
    got = deliver(server, items(3), may_send=lambda row_id: row_id != 2)
    assert [(o.id, o.state) for o in got] == [(1, "sent"), (2, "lost"), (3, "sent")]
    assert [i.id for i in server.attempts] == [1, 3]


def test_a_server_down_or_lost_defers_the_rest_and_offers_nothing_more() -> None:
    server = MemoryTransport()
    server.down = "connection refused"
    assert {o.state for o in deliver(server, items(3))} == {"deferred"}
    assert server.attempts == []
    server.down = None
    server.script(accept(), unreachable("no route to host"))
    got = deliver(server, items(4))
    assert got == [Outcome(1, "sent"),
                   Outcome(2, "deferred", "cannot connect to memory: no route to host"),
                   Outcome(3, "deferred", "not attempted: cannot connect to memory: no route "
                                          "to host"),
                   Outcome(4, "deferred", "not attempted: cannot connect to memory: no route "
                                          "to host")]
    assert [i.id for i in server.attempts] == [1]


def test_a_slow_answer_passes_its_time_through_the_injected_sleep() -> None:
    waited: list[float] = []
    server = MemoryTransport(sleep=waited.append).script(slow(2.5), slow(1, reply("421 x")))
    assert [o.state for o in deliver(server, items(3))] == ["sent", "retry", "sent"]
    assert waited == [2.5, 1]


def test_outcomes_are_recorded_in_groups_and_a_failing_record_ends_the_delivery() -> None:
    server = MemoryTransport(group=2)
    groups: list[list[int]] = []
    server.deliver(items(5), lambda got: groups.append([o.id for o in got]))
    assert groups == [[1, 2], [3, 4], [5]]

    def broken(got: list[Outcome]) -> None:
        raise OSError("disk full")

    failing = MemoryTransport(group=2)
    with pytest.raises(OSError, match="disk full"):
        failing.deliver(items(5), broken)
    assert [i.id for i in failing.attempts] == [1, 2]


@pytest.mark.parametrize("line", ["oops", "42 short", "4211 long", ""])
def test_a_scripted_reply_must_start_with_a_three_digit_code(line: str) -> None:
    with pytest.raises(ValueError, match="3-digit code"):
        reply(line)


def test_the_settings_choose_smtp_when_a_server_is_configured_else_the_maildir(
        tmp_path: Path) -> None:
    def mail(smtp: SmtpConfig | None) -> MailConfig:
        return MailConfig(mail_from="nckh@syt.example.vn", office={}, plan_reference=None,
                          lang="vi", smtp=smtp, maildir=tmp_path / "maildir", templates_dir=None,
                          kinds_file=None)

    maildir = transport_for(mail(None))
    assert isinstance(maildir, MaildirTransport) and maildir.maildir == tmp_path / "maildir"
    smtp = transport_for(mail(SmtpConfig("mail.example.vn", 587, tls="starttls")))
    assert isinstance(smtp, SmtpTransport)
    assert smtp.where(items(1)[0]) == "mail.example.vn:587 (tls: starttls)"
    assert maildir.where(items(1)[0]) == f"maildir {tmp_path / 'maildir' / 'new' / 'm1.eml'}"
