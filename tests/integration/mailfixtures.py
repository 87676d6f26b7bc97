"""A small province for the mail tests: one unit with head and contact, an office, a council
member, and a task whose investigator has a title. Plain helpers (no pytest magic)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.app import App, build
from engine.directory import UnitInput
from storage.outbox import OutboxMessage
from tests.conftest import make_settings
from workflows.clock import DEFAULT_TZ

OFFICE = "pnvy@syt.example.vn"
HEAD = "minh@bvdk.example.vn"
CONTACT = "khth@bvdk.example.vn"
PI = "hoa@bvdk.example.vn"
COUNCIL = "council@syt.example.vn"
T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=DEFAULT_TZ)
MAIL_ENV = {"NCKH_OFFICE_EMAIL": OFFICE, "NCKH_MAIL_FROM": "nckh@syt.example.vn"}


def province(app: App, now: dt.datetime = T0, title: str = "Đánh giá kết quả điều trị "
             "tăng huyết áp tại tuyến huyện") -> int:
    e = app.engine
    e.add_unit(UnitInput(code="BVDK", name="Bệnh viện Đa khoa tỉnh", head_name="Trần Văn Minh",
                         head_email=HEAD, contact_email=CONTACT), now=now)
    e.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=now)
    e.add_person(email=COUNCIL, name="Lê Thị Lan", role="council", title="PGS.TS", now=now)
    e.add_person(email=PI, name="Nguyễn Thị Hoa", role="pi", unit_code="BVDK", title="ThS.BS",
                 now=now)
    return e.create_task(unit_code="BVDK", level="unit", title=title, pi_email=PI, year=2025,
                         now=now)


def queue_test_mail(app: App, to: str = PI, key: str = "t:one") -> int:
    """One message of kind `test` (a mail of its own, never part of a letter), to `to`."""
    from notifications.outbox import enqueue

    with app.engine.transaction() as s:
        row = enqueue(s.connection(), kind="test", to=[to], now=T0, dedupe_key=key)
    assert row is not None
    return row


def rows(app: App) -> list[OutboxMessage]:
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def addresses(msg: EmailMessage, header: str) -> list[str]:
    value = msg[header]
    return [] if value is None else [a.addr_spec for a in value.addresses]


def text_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def maildir_messages(data_dir: Path) -> list[EmailMessage]:
    from email import policy
    from email.parser import BytesParser

    out = []
    for path in sorted((data_dir / "maildir" / "new").glob("*.eml")):
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def attachments(msg: EmailMessage) -> dict[str, Any]:
    return {part.get_filename(): part for part in msg.iter_attachments()}


LATER = dt.timedelta(hours=2)  # beyond any backoff of the first attempts (cap 1 h)


def smtp_app(url: str, tmp: Path, port: int, **env: str) -> App:
    """An app whose passes run the outbox only: the scheduler's own mails stay out."""
    app = build(make_settings(url, tmp, NCKH_SMTP_HOST="127.0.0.1", NCKH_SMTP_PORT=str(port),
                              **{"NCKH_CONFIG": str(_no_digest(tmp)), **MAIL_ENV, **env}),
                jobs=("outbox",))
    return app


def _no_digest(tmp: Path) -> Path:
    path = tmp / "nodigest.toml"
    path.write_text('[mail]\ndigest_weekday = "off"\n', encoding="utf-8")
    return path
