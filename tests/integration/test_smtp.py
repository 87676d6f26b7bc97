"""Delivery through a real SMTP server (aiosmtpd, in-process): TLS, login, and every fault."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from engine.app import App
from notifications.config import SmtpConfig
from notifications.dispatcher import Dispatcher
from notifications.outbox import Outcome, enqueue
from notifications.sendnow import send_test
from notifications.transports import smtp
from notifications.transports.base import Outgoing
from notifications.transports.smtp import UNRECORDED_PER_CONNECTION, deliver_smtp, run_coroutine
from tests.integration import mailserver
from tests.integration.mailfixtures import (
    CONTACT,
    HEAD,
    LATER,
    PI,
    T0,
    addresses,
    province,
    rows,
    smtp_app,
    text_body,
)
from workflows.errors import DeliveryError


def queue_tests(app: App, n: int) -> None:
    with app.engine.transaction() as s:
        for i in range(n):
            enqueue(s.connection(), kind="test", to=[f"user{i}@example.vn"], now=T0,
                    dedupe_key=f"t:{i}")


def test_a_task_mail_arrives_with_its_recipients_vietnamese_text_and_message_id(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = smtp_app(sqlite_url, tmp_path, inbox.port)  # type: ignore[attr-defined]
    try:
        province(app)
        # The investigator's mail at once; the unit's copy (head and research contact) and the
        # office's (no digest here) in their letters of the day.
        assert app.tick(T0)["outbox"]["sent"] == 3
        assert app.tick(T0 + LATER)["outbox"].get("sent", 0) == 0
        (got,) = [r for r in inbox.received if r.rcpt_tos == [PI]]
        assert got.message["X-Nckh-Kind"] == "task_registered"
        assert addresses(got.message, "To") == [PI]
        (unit,) = [r for r in inbox.received if sorted(r.rcpt_tos) == sorted([HEAD, CONTACT])]
        assert unit.message["X-Nckh-Kind"] == "task_registered"  # a letter of one notice
        assert got.message["Subject"].startswith("[Sở Y tế] V/v tiếp nhận đăng ký đề tài “")
        assert "Kính gửi: ThS.BS Nguyễn Thị Hoa" in text_body(got.message)
        assert got.message_id == rows(app)[0].message_id
    finally:
        app.close()


def test_starttls_with_login_delivers_and_never_logs_the_password(
        sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cert, key = mailserver.tls_files(tmp_path)
    box = mailserver.Inbox()
    controller = mailserver.start(
        box, tls_context=mailserver.server_tls_context(cert, key), require_starttls=True,
        authenticator=mailserver.authenticator("nckh", "s3cret-pw"), auth_required=True)
    config = tmp_path / "nckh.toml"
    config.write_text(f'[mail]\nca_file = "{cert}"\ndigest_weekday = "off"\n',
                      encoding="utf-8")
    caplog.set_level(logging.DEBUG)
    try:
        good = smtp_app(sqlite_url, tmp_path, controller.port, NCKH_SMTP_TLS="starttls",
                        NCKH_SMTP_USER="nckh", NCKH_SMTP_PASSWORD="s3cret-pw",
                        NCKH_CONFIG=str(config))
        bad = smtp_app(sqlite_url, tmp_path, controller.port, NCKH_SMTP_TLS="starttls",
                       NCKH_SMTP_USER="nckh", NCKH_SMTP_PASSWORD="wrong-pw",
                       NCKH_CONFIG=str(config))
        assert "s3cret" not in repr(good.settings)
        queue_tests(good, 1)
        assert bad.tick(T0)["outbox"].get("sent", 0) == 0
        refused = rows(bad)[0]
        assert refused.state == "pending" and "535" in (refused.last_error or "")
        assert good.tick(T0 + LATER)["outbox"]["sent"] == 1
        assert len(box.received) == 1
        assert "wrong-pw" not in caplog.text and "s3cret-pw" not in caplog.text
        assert all("pw" not in (r.last_error or "") for r in rows(good))
        good.close()
        bad.close()
    finally:
        controller.stop()


def test_server_down_then_up_delivers_each_message_once(sqlite_url: str,
                                                        tmp_path: Path) -> None:
    port = mailserver.free_port()
    app = smtp_app(sqlite_url, tmp_path, port)
    try:
        queue_tests(app, 5)
        counts = app.tick(T0)["outbox"]
        assert counts.get("deferred") == 5 and counts.get("sent", 0) == 0
        # Never tried, so no attempt is used up: a long outage cannot kill the mail.
        assert all(r.state == "pending" and "cannot connect" in (r.last_error or "")
                   and r.next_attempt_at > T0 and r.attempts == 0 and r.first_attempt_at is None
                   for r in rows(app))
        box = mailserver.Inbox()
        controller = mailserver.start(box, port=port)
        try:
            assert app.tick(T0 + dt.timedelta(seconds=1))["outbox"].get("sent", 0) == 0
            assert app.tick(T0 + LATER)["outbox"]["sent"] == 5
            assert app.tick(T0 + 2 * LATER)["outbox"].get("sent", 0) == 0
            assert sorted(Counter(box.message_ids()).values()) == [1] * 5
        finally:
            controller.stop()
    finally:
        app.close()


def test_421_is_retried_later_and_then_delivered(sqlite_url: str, tmp_path: Path,
                                                 inbox: mailserver.Inbox) -> None:
    inbox.data_replies.append("421 4.3.2 Service not available, try later")
    app = smtp_app(sqlite_url, tmp_path, inbox.port)  # type: ignore[attr-defined]
    try:
        queue_tests(app, 1)
        assert app.tick(T0)["outbox"]["pending"] == 1
        (row,) = [r for r in rows(app) if r.kind == "test"]
        assert row.state == "pending" and row.last_error and row.last_error.startswith("421")
        assert row.next_attempt_at - T0 <= dt.timedelta(minutes=1)
        app.tick(T0 + LATER)
        (row,) = [r for r in rows(app) if r.kind == "test"]
        assert row.state == "sent" and row.attempts == 2
        assert [r.message_id for r in inbox.received
                if r.message["X-Nckh-Kind"] == "test"] == [row.message_id]
    finally:
        app.close()


def test_550_goes_to_the_dead_letters_with_the_reply_and_is_not_retried(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    inbox.data_replies.append("550 5.7.1 Message rejected by policy")
    app = smtp_app(sqlite_url, tmp_path, inbox.port)  # type: ignore[attr-defined]
    try:
        queue_tests(app, 1)
        app.tick(T0)
        calls = inbox.data_calls
        app.tick(T0 + LATER)
        app.tick(T0 + 10 * LATER)
        (row,) = [r for r in rows(app) if r.kind == "test"]
        assert row.state == "dead" and row.attempts == 1
        assert row.last_error == "550 5.7.1 Message rejected by policy"
        assert inbox.data_calls == calls
    finally:
        app.close()


def test_recipients_refused_one_by_one_are_noted_and_all_refused_is_dead(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    inbox.rcpt_replies[CONTACT] = "550 5.1.1 No such user"
    inbox.rcpt_replies["user0@example.vn"] = "550 5.1.1 No such user"
    app = smtp_app(sqlite_url, tmp_path, inbox.port)  # type: ignore[attr-defined]
    try:
        province(app)
        queue_tests(app, 1)
        app.tick(T0)
        by_kind = {r.kind: r for r in rows(app)}
        (partial,) = [r for r in rows(app) if "khth@" in (r.last_error or "")]
        assert partial.kind == "letter" and partial.state == "sent"  # to the head and contact
        assert "refused khth@bvdk.example.vn: 550" in (partial.last_error or "")
        assert by_kind["test"].state == "dead"
        assert "user0@example.vn: 550 5.1.1 No such user" in (by_kind["test"].last_error or "")
    finally:
        app.close()


def test_a_connection_dropped_mid_batch_loses_nothing(sqlite_url: str, tmp_path: Path,
                                                      inbox: mailserver.Inbox) -> None:
    inbox.drop_on = 4
    app = smtp_app(sqlite_url, tmp_path, inbox.port)  # type: ignore[attr-defined]
    try:
        queue_tests(app, 20)
        app.tick(T0)
        assert sum(r.state == "pending" for r in rows(app)) >= 1
        app.tick(T0 + LATER)
        assert all(r.state == "sent" for r in rows(app))
        expected = {r.message_id for r in rows(app)}
        assert set(inbox.message_ids()) == expected
        assert len(inbox.received) == 20  # the dropped one never reached the mailbox
    finally:
        app.close()


def _outgoing(n: int) -> list[Outgoing]:
    return [Outgoing(i, f"m{i}", "nckh@syt.example.vn", (f"user{i}@example.vn",),
                     f"Message-ID: <{i}@syt.example.vn>\r\nSubject: {i}\r\n\r\nx\r\n".encode())
            for i in range(n)]


def _most_unrecorded(cfg: SmtpConfig) -> int:
    """Waiting outcomes (the pause threshold, overshot by the sends on the wire), as many in the
    group being recorded, and the sends on the wire."""
    return 2 * (UNRECORDED_PER_CONNECTION + 1) * cfg.concurrency + cfg.concurrency


def test_while_recording_is_slow_few_messages_are_ever_sent_but_unrecorded(
        inbox: mailserver.Inbox) -> None:
    cfg = SmtpConfig(host="127.0.0.1", port=inbox.port)  # type: ignore[attr-defined]
    recorded: list[int] = []
    unrecorded: list[int] = []

    def slow_record(outcomes: list[Outcome]) -> None:
        unrecorded.append(len(inbox.received) - len(recorded))
        time.sleep(0.05)  # a database that takes its time
        recorded.extend(o.id for o in outcomes)

    run_coroutine(deliver_smtp(_outgoing(300), cfg, slow_record))
    assert sorted(recorded) == list(range(300)) and len(inbox.received) == 300
    assert max(unrecorded) <= _most_unrecorded(cfg) < 300


def test_when_recording_fails_sending_stops(inbox: mailserver.Inbox) -> None:
    cfg = SmtpConfig(host="127.0.0.1", port=inbox.port)  # type: ignore[attr-defined]

    def broken_record(outcomes: list[Outcome]) -> None:
        time.sleep(0.05)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_coroutine(deliver_smtp(_outgoing(300), cfg, broken_record))
    assert len(inbox.received) <= _most_unrecorded(cfg)


async def _ends_within(seconds: float, work: Coroutine[Any, Any, None]) -> None:
    """`work`'s own result or error, or a failure (not the suite's timeout) if it hangs."""
    task = asyncio.create_task(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise AssertionError(f"the batch was still going after {seconds} s")
    await task


def test_a_send_finishing_after_recording_failed_does_not_pause_the_batch_forever() -> None:
    """The send on the wire when recording fails brings the unrecorded outcomes to the pause
    threshold. Nothing will record them any more: the batch must end, not wait for room."""
    gate = threading.Event()
    box = mailserver.Inbox(hold=gate)
    controller = mailserver.start(box)
    cfg = SmtpConfig(host="127.0.0.1", port=controller.port, concurrency=1)

    def record_then_fail(outcomes: list[Outcome]) -> None:
        # Hold the DATA that will bring the waiting outcomes to the threshold, fail meanwhile,
        # and let that DATA be answered once the recorder is gone.
        box.target = len(outcomes) + UNRECORDED_PER_CONNECTION - 1
        deadline = time.monotonic() + 30
        while box.data_calls <= box.target and time.monotonic() < deadline:
            time.sleep(0.005)
        threading.Timer(0.2, gate.set).start()
        raise OSError("disk full")

    try:
        with pytest.raises(OSError, match="disk full"):
            run_coroutine(_ends_within(30, deliver_smtp(_outgoing(300), cfg, record_then_fail)))
        assert len(box.received) == box.target + 1
    finally:
        gate.set()
        controller.stop()


def _dispatcher(app: App) -> Dispatcher:
    found = app.dispatcher
    assert isinstance(found, Dispatcher)
    return found


@pytest.mark.parametrize("connections", [1, 4])
def test_a_stop_mid_batch_releases_the_untried_messages_without_counting_an_attempt(
        db_url: str, tmp_path: Path, inbox: mailserver.Inbox, connections: int) -> None:
    config = tmp_path / "conn.toml"
    config.write_text(f'[mail]\ndigest_weekday = "off"\nconcurrency = {connections}\n',
                      encoding="utf-8")
    app = smtp_app(db_url, tmp_path, inbox.port,  # type: ignore[attr-defined]
                   NCKH_CONFIG=str(config))
    try:
        queue_tests(app, 30)
        dispatcher = _dispatcher(app)
        counts = dispatcher.tick(T0, lambda: len(inbox.received) >= 5)
        sent = counts.get("sent", 0)
        # Each connection finishes the message it has on the wire, and takes no other.
        assert 5 <= sent <= 5 + connections - 1 and sent == len(inbox.received)
        assert counts.get("released") == 30 - sent
        left = [r for r in rows(app) if r.state != "sent"]
        assert len(left) == 30 - sent
        assert {(r.state, r.attempts, r.claimed_by, r.last_error) for r in left} == {
            ("pending", 0, None, None)}
        assert {r.next_attempt_at for r in left} == {T0}  # due at once, no backoff
        assert dispatcher.tick(T0).get("sent") == 30 - sent
        assert sorted(Counter(inbox.message_ids()).values()) == [1] * 30
    finally:
        app.close()


def test_a_release_leaves_alone_a_row_another_dispatcher_reclaimed(
        db_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = smtp_app(db_url, tmp_path, inbox.port)  # type: ignore[attr-defined]
    try:
        queue_tests(app, 3)
        a = _dispatcher(app)
        b = Dispatcher(a.db, a.cfg, a.catalog, a.renderer, tz=a.tz, owner="other:1")
        batch_a, _ = a.claim(T0)
        after_lease = T0 + a.cfg.lease + dt.timedelta(seconds=1)
        batch_b, _ = b.claim(after_lease)  # A's lease ran out: B takes the same rows
        assert [m.id for m in batch_b.items] == [m.id for m in batch_a.items]
        assert a.send(batch_a, after_lease, stop=lambda: True).get("released", 0) == 0
        # Not stopping either: A's lease ran out, so A puts none of them on the wire.
        assert a.send(batch_a, after_lease).get("lost") == 3 and inbox.received == []
        assert {(r.state, r.claimed_by, r.attempts) for r in rows(app)} == {
            ("sending", "other:1", 2)}  # still B's: not made due again under it
        assert b.send(batch_b, after_lease).get("sent") == 3
        assert len(inbox.received) == 3
    finally:
        app.close()


def test_a_client_that_cannot_be_built_is_a_connection_failure_not_a_crash(
        inbox: mailserver.Inbox, tmp_path: Path) -> None:
    """The CA file checked at start disappeared since: each message is kept for a retry."""
    cfg = SmtpConfig(host="127.0.0.1", port=inbox.port,  # type: ignore[attr-defined]
                     tls="starttls", ca_file=str(tmp_path / "gone.pem"))
    outcomes: list[Outcome] = []
    run_coroutine(deliver_smtp(_outgoing(10), cfg, outcomes.extend))
    assert sorted(o.id for o in outcomes) == list(range(10)) and inbox.received == []
    assert {o.state for o in outcomes} == {"deferred"}  # never tried: no attempt used
    assert all(o.error and "cannot connect to 127.0.0.1:" in o.error and
               "FileNotFoundError" in o.error for o in outcomes)


def test_a_fault_in_one_connection_leaves_the_others_to_finish_and_be_recorded(
        inbox: mailserver.Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug that escapes one worker (here: in sorting out a 421) must not strand the messages
    the other connections are sending: they finish, are recorded, then the fault is raised."""
    cfg = SmtpConfig(host="127.0.0.1", port=inbox.port)  # type: ignore[attr-defined]
    inbox.data_replies = ["421 busy"]

    def broken_classify(exc: BaseException) -> str:
        raise RuntimeError("a bug in classify")

    monkeypatch.setattr(smtp, "classify", broken_classify)
    recorded: list[Outcome] = []
    with pytest.raises(RuntimeError, match="a bug in classify"):
        run_coroutine(deliver_smtp(_outgoing(50), cfg, recorded.extend))
    assert len(inbox.received) == 49  # all but the refused one, which has no outcome
    assert sorted(o.id for o in recorded if o.state == "sent") == sorted(
        int(r.message_id.strip("<>").split("@")[0]) for r in inbox.received)


def test_mail_queued_before_three_days_of_downtime_survives_a_421_and_is_delivered(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    """The give-up clock starts at the first attempt: a greylisting 421 on the first pass after
    a long downtime is one transient failure, not the end of a message queued days ago."""
    app = smtp_app(sqlite_url, tmp_path, inbox.port)  # type: ignore[attr-defined]
    try:
        queue_tests(app, 1)  # queued at T0; nckh is then down for three days
        inbox.data_replies.append("421 4.7.0 Greylisted, please try again later")
        back = T0 + dt.timedelta(days=3, hours=1)
        assert app.tick(back)["outbox"].get("pending") == 1
        (row,) = rows(app)
        assert (row.state, row.attempts) == ("pending", 1)
        assert row.first_attempt_at and back <= row.first_attempt_at < back + LATER
        assert app.tick(back + LATER)["outbox"]["sent"] == 1
        assert [r.message_id for r in inbox.received] == [row.message_id]
    finally:
        app.close()


def test_a_message_dies_only_after_both_its_attempts_and_its_time_and_retry_renews_both(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    from notifications.retry import retry

    config = tmp_path / "budget.toml"
    config.write_text('[mail]\ndigest_weekday = "off"\nmax_attempts = 3\ngive_up_after_h = 1\n',
                      encoding="utf-8")
    app = smtp_app(sqlite_url, tmp_path, inbox.port,  # type: ignore[attr-defined]
                   NCKH_CONFIG=str(config))
    try:
        queue_tests(app, 1)
        inbox.data_replies = ["421 4.3.2 try later"] * 7

        def state_after(at: dt.datetime) -> tuple[str, int]:
            app.tick(at)
            (row,) = rows(app)
            return row.state, row.attempts

        # Three attempts within the hour: enough attempts, not enough time.
        assert state_after(T0) == ("pending", 1)
        assert state_after(T0 + dt.timedelta(minutes=5)) == ("pending", 2)
        assert state_after(T0 + dt.timedelta(minutes=10)) == ("pending", 3)
        # An hour and more since the first attempt, and a fourth failure: now it is dead.
        assert state_after(T0 + dt.timedelta(minutes=80)) == ("dead", 4)
        (row,) = rows(app)
        assert row.last_error and row.last_error.startswith("gave up after 4 attempts: 421")
        # A retry is a fresh budget: the next failure is the first of a new count.
        assert retry(app.db, row.id, now=T0 + dt.timedelta(hours=2)) == 1
        (row,) = rows(app)
        assert (row.attempts, row.first_attempt_at) == (0, None)
        assert state_after(T0 + dt.timedelta(hours=2)) == ("pending", 1)
        inbox.data_replies.clear()
        assert state_after(T0 + dt.timedelta(hours=4)) == ("sent", 2)
        assert len(inbox.received) == 1
    finally:
        app.close()


def test_mail_test_goes_through_the_smtp_transport_and_reports_the_servers_refusal(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = smtp_app(sqlite_url, tmp_path, inbox.port)  # type: ignore[attr-defined]
    try:
        d = _dispatcher(app)
        where = f"127.0.0.1:{inbox.port} (tls: none)"  # type: ignore[attr-defined]
        assert send_test(d, "admin@example.vn", T0) == (
            f"test message sent to admin@example.vn via {where}")
        (got,) = inbox.received
        assert got.rcpt_tos == ["admin@example.vn"] and got.message["X-Nckh-Kind"] == "test"
        inbox.data_replies.append("554 5.7.1 Relay access denied")
        with pytest.raises(DeliveryError, match=re.escape(
                f"not delivered via {where}: 554 5.7.1 Relay access denied")):
            send_test(d, "admin@example.vn", T0)
        assert rows(app) == []  # never the outbox
    finally:
        app.close()
