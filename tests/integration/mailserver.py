"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, a free port, faults on demand.

`Inbox` is the handler: it parses what arrives with the standard `email` parser and can refuse a
recipient (`rcpt_replies`), answer DATA with scripted replies (`data_replies`: 421, 550…), or drop
the connection without answering on the n-th message (`drop_on`). `tls_files` makes a self-signed
certificate (the `cryptography` package) for STARTTLS tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOLD_LIMIT_S = 120.0  # a held DATA goes on after this even if the test never opens the gate


@dataclass
class Received:
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Inbox:
    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    drop_on: int | None = None  # drop the connection, unanswered, at this DATA (1-based)
    data_calls: int = 0
    target: int | None = None
    delay_s: float = 0.0  # a slow server: each DATA waits this long before its answer
    hold: threading.Event | None = None  # once the target is reached, DATA waits for this
    reached: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_calls += 1
            call = self.data_calls
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.hold is not None and self.reached.is_set():
            await asyncio.to_thread(self.hold.wait, HOLD_LIMIT_S)
        if self.data_replies:
            return self.data_replies.pop(0)
        if self.drop_on == call:
            server.transport.close()
            return "421 dropped"
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(msg, EmailMessage)
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos), msg))
            if self.target is not None and len(self.received) >= self.target:
                self.reached.set()
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(inbox: Inbox, port: int | None = None, **smtp_kwargs: Any) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(),
                            **smtp_kwargs)
    controller.start()
    return controller


def tls_files(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False)
    return check
