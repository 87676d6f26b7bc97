"""Every mail can be answered (issue 12, "No address to answer to"), checked on the wire through
a real SMTP server (aiosmtpd, in-process): Reply-To is the office's configured address, else its
first active person's, else the sender; and a mail addressed to an address greets the person or
role behind it, never the address."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from engine.app import App
from notifications.dispatcher import Dispatcher
from notifications.sendnow import send_test
from tests.integration import mailserver
from tests.integration.mailfixtures import (
    LATER,
    OFFICE,
    T0,
    addresses,
    province,
    queue_test_mail,
    smtp_app,
    text_body,
)

SENDER = "nckh@syt.example.vn"  # mailfixtures.MAIL_ENV's From
SECOND = "thuky.nvy@syt.example.vn"


def _app(url: str, tmp: Path, inbox: mailserver.Inbox, **env: str) -> App:
    return smtp_app(url, tmp, inbox.port, **env)  # type: ignore[attr-defined]


def _greeting(msg: EmailMessage) -> str:
    return text_body(msg).split("Kính gửi:", 1)[1].split("\n\n", 1)[0]


def _reply_to(msg: EmailMessage) -> list[str]:
    return addresses(msg, "Reply-To")


def test_every_mail_answers_to_the_configured_office_address(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = _app(sqlite_url, tmp_path, inbox)
    try:
        province(app)
        assert app.tick(T0)["outbox"]["sent"] == 3  # the investigator's, the unit's, the office's
        assert app.tick(T0 + LATER)["outbox"].get("sent", 0) == 0
        assert len(inbox.received) == 3
        for got in inbox.received:
            assert _reply_to(got.message) == [OFFICE]
            assert addresses(got.message, "From") == [SENDER]
            greeting = _greeting(got.message)
            assert "@" not in greeting and "Ông/Bà" not in greeting
    finally:
        app.close()


def test_without_an_office_address_answers_go_to_the_first_active_office_person(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = _app(sqlite_url, tmp_path, inbox, NCKH_OFFICE_EMAIL="")
    try:
        province(app)  # registers OFFICE, the office's first person
        app.engine.add_person(email=SECOND, name="Vũ Thu Hà", role="office", now=T0)
        queue_test_mail(app, key="t:first")
        app.tick(T0)
        assert {tuple(_reply_to(r.message)) for r in inbox.received} == {(OFFICE,)}
        # The first one leaves the office: answers now go to the next.
        app.engine.deactivate_person(OFFICE, reason="nghỉ hưu", now=T0 + LATER)
        inbox.received.clear()
        queue_test_mail(app, key="t:second")
        app.tick(T0 + 2 * LATER)
        assert inbox.received and {tuple(_reply_to(r.message))
                                   for r in inbox.received} == {(SECOND,)}
    finally:
        app.close()


def test_with_no_office_at_all_the_reply_to_is_the_sender(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = _app(sqlite_url, tmp_path, inbox, NCKH_OFFICE_EMAIL="")
    try:
        queue_test_mail(app, to="admin@example.vn")
        assert app.tick(T0)["outbox"]["sent"] == 1
        (got,) = inbox.received
        assert _reply_to(got.message) == [SENDER]
        assert _greeting(got.message).strip() == "Bộ phận quản trị hệ thống"
    finally:
        app.close()


def test_a_mail_addressed_to_the_office_greets_the_office_not_its_address(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    """"Kính gửi: Ông/Bà nghiepvuy@soyte…" was the report's greeting to the office."""
    app = _app(sqlite_url, tmp_path, inbox)
    try:
        province(app)
        app.tick(T0)
        inbox.received.clear()
        queue_test_mail(app, to=OFFICE, key="t:office")
        app.tick(T0 + LATER)
        (got,) = inbox.received
        assert got.rcpt_tos == [OFFICE]
        assert _greeting(got.message).strip() == "Phòng Nghiệp vụ Y – Sở Y tế"
    finally:
        app.close()


def test_mail_test_carries_the_reply_to_too(
        sqlite_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = _app(sqlite_url, tmp_path, inbox)
    try:
        d = app.dispatcher
        assert isinstance(d, Dispatcher)
        send_test(d, "admin@example.vn", T0)
        (got,) = inbox.received
        assert _reply_to(got.message) == [OFFICE]
    finally:
        app.close()
