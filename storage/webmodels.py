"""The listening side's tables: sign-in, sessions, personal action links, files, submissions.

No secret is stored in clear. A sign-in link and an action link are HMACs of the row they stand
for under the web secret (`notifications.links`), and only their SHA-256 is kept here: a copy of
the database alone can neither sign anyone in nor act on an item. Sessions keep the hash of the
cookie's token. `action_link_use` and `submission` are append-only records: a use of a link, a
document that arrived. A submission's decision (`outcome`) is written once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class WebPassword(Base):
    """A password the office set for one of its own people (argon2id, never the password)."""

    __tablename__ = "web_password"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    hash: Mapped[str] = mapped_column(Text)
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    set_by: Mapped[str] = mapped_column(String(320))


class SigninToken(Base):
    """One request for a sign-in link. `person_id` and `token_hash` are NULL when the address is
    not registered: the request is still counted for the rate limit, and nothing is sent."""

    __tablename__ = "signin_token"
    __table_args__ = (Index("ix_signin_token_email_at", "email", "requested_at"),
                      Index("ix_signin_token_client_at", "client", "requested_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    client: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    how: Mapped[str] = mapped_column(String(16))  # link, password, action
    client: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ActionLink(Base):
    """The personal link of one person to one item, written when a mail first carries it."""

    __tablename__ = "action_link"
    __table_args__ = (UniqueConstraint("person_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ActionLinkUse(Base):
    """Each use of an action link: opened (GET), acted (POST) or refused. Append-only."""

    __tablename__ = "action_link_use"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("action_link.id"), index=True)
    what: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    client: Mapped[str] = mapped_column(String(64))
    browser: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(300))


class StoredFile(Base):
    """A file as uploaded: stored on disk under its SHA-256, never under the uploaded name."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Submission(Base):
    """A document that arrived for a task (a report, a result): its unit's number and date,
    the channel, the file, who sent it and who recorded it. Every version is kept."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    history_id: Mapped[int | None] = mapped_column(ForeignKey("task_history.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    doc_number: Mapped[str] = mapped_column(String(100))
    doc_date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))  # web, email, paper
    submitted_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
