"""The notification outbox: one row per e-mail to send, written in the transaction of its cause.

`dedupe_key` is unique, so the same domain event published twice (a retried transaction, a timer
fired again after a crash) never queues the same mail twice. `state` moves
pending → sending → sent | dead (and sending → pending on a transient failure). A claimed row is
leased by pushing `next_attempt_at` to the end of the lease, so one index on
(state, next_attempt_at) finds both due pending rows and expired leases. The rendered subject,
bodies and recipients are stored on first claim: a re-send is byte-for-byte the same message with
the same Message-ID. Attachments (reports) live in `outbox_attachment`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, UTCDateTime

STATES = ("pending", "sending", "sent", "dead")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    lang: Mapped[str] = mapped_column(String(8), default="vi")
    # Facts of the event that caused the mail (plain JSON); enriched from the database at render.
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Addresses given explicitly by the caller (reports, `mail test`), on top of the kind's roles.
    addressed_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Resolved and rendered on first claim, then frozen: {"to": [{...}], "cc": [{...}]}.
    recipients: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(250))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", order_by="OutboxAttachment.id", cascade="all, delete-orphan")


class OutboxAttachment(Base):
    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mimetype: Mapped[str] = mapped_column(String(120))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")
