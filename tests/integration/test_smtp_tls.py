"""Implicit TLS (SMTPS, `NCKH_SMTP_TLS=tls`) against a real aiosmtpd server that speaks TLS from
the first byte, with AUTH; and a server whose certificate nckh does not trust."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.integration import mailserver
from tests.integration.mailfixtures import (
    LATER,
    PI,
    T0,
    addresses,
    queue_test_mail,
    rows,
    smtp_app,
    text_body,
)


def _smtps(tmp_path: Path, box: mailserver.Inbox) -> tuple[Path, Controller]:
    cert, key = mailserver.tls_files(tmp_path)
    controller = mailserver.start(
        box, ssl_context=mailserver.server_tls_context(cert, key),
        authenticator=mailserver.authenticator("nckh", "s3cret-pw"), auth_required=True,
        # aiosmtpd counts only STARTTLS as TLS when deciding to offer AUTH; this connection is
        # TLS from its first byte, which the untrusted-certificate test below shows.
        auth_require_tls=False)
    return cert, controller


pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def test_implicit_tls_with_login_delivers_the_mail(sqlite_url: str, tmp_path: Path) -> None:
    box = mailserver.Inbox()
    cert, controller = _smtps(tmp_path, box)
    config = tmp_path / "nckh.toml"
    config.write_text(f'[mail]\nca_file = "{cert}"\ndigest_weekday = "off"\n', encoding="utf-8")
    app = smtp_app(sqlite_url, tmp_path, controller.port,
                   NCKH_SMTP_TLS="tls", NCKH_SMTP_USER="nckh", NCKH_SMTP_PASSWORD="s3cret-pw",
                   NCKH_CONFIG=str(config))
    try:
        queue_test_mail(app)
        assert app.tick(T0)["outbox"]["sent"] == 1
        (got,) = box.received
        assert addresses(got.message, "To") == [PI]
        assert "Kính gửi:" in text_body(got.message)
        assert got.message_id == rows(app)[0].message_id
    finally:
        app.close()
        controller.stop()


def test_an_untrusted_certificate_is_not_sent_to_and_is_retried(sqlite_url: str,
                                                                tmp_path: Path) -> None:
    box = mailserver.Inbox()
    _, controller = _smtps(tmp_path, box)
    config = tmp_path / "nckh.toml"
    config.write_text('[mail]\ndigest_weekday = "off"\n', encoding="utf-8")  # no ca_file
    app = smtp_app(sqlite_url, tmp_path, controller.port,
                   NCKH_SMTP_TLS="tls", NCKH_SMTP_USER="nckh", NCKH_SMTP_PASSWORD="s3cret-pw",
                   NCKH_CONFIG=str(config))
    try:
        queue_test_mail(app)
        assert app.tick(T0)["outbox"].get("sent", 0) == 0
        (row,) = rows(app)
        assert row.state == "pending" and "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "")
        assert "s3cret" not in (row.last_error or "")
        assert box.received == []
        assert app.tick(T0 + LATER)["outbox"].get("sent", 0) == 0  # still untrusted, still kept
    finally:
        app.close()
        controller.stop()
