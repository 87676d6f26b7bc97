"""web: sign-in links, sessions, passwords, personal action links and their uses, stored files,
submissions; who recorded a history entry (the office for a unit) and the operator's login

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_password",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("set_at", UTC, nullable=False),
        sa.Column("set_by", sa.String(320), nullable=False),
    )
    op.create_table(
        "signin_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
    )
    op.create_index("ix_signin_token_email_at", "signin_token", ["email", "requested_at"])
    op.create_index("ix_signin_token_client_at", "signin_token", ["client", "requested_at"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
    )
    op.create_index("ix_web_session_person_id", "web_session", ["person_id"])
    op.create_table(
        "action_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.UniqueConstraint("person_id", "task_id"),
    )
    op.create_index("ix_action_link_task_id", "action_link", ["task_id"])
    op.create_table(
        "action_link_use",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("link_id", sa.Integer(), sa.ForeignKey("action_link.id"), nullable=True),
        sa.Column("what", sa.String(16), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("browser", sa.String(300), nullable=False),
        sa.Column("note", sa.String(300), nullable=True),
    )
    op.create_index("ix_action_link_use_link_id", "action_link_use", ["link_id"])
    op.create_table(
        "stored_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("uploaded_at", UTC, nullable=False),
    )
    op.create_index("ix_stored_file_sha256", "stored_file", ["sha256"])
    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=False),
        sa.Column("history_id", sa.Integer(), sa.ForeignKey("task_history.id"), nullable=True),
        sa.Column("file_id", sa.Integer(), sa.ForeignKey("stored_file.id"), nullable=True),
        sa.Column("doc_number", sa.String(100), nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("submitted_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("recorded_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("received_at", UTC, nullable=False),
    )
    op.create_index("ix_submission_task_id", "submission", ["task_id"])
    with op.batch_alter_table("task_history") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(320), nullable=True))
        batch.add_column(sa.Column("operator", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task_history") as batch:
        batch.drop_column("operator")
        batch.drop_column("recorded_by")
    for table in ("submission", "stored_file", "action_link_use", "action_link", "web_session",
                  "signin_token", "web_password"):
        op.drop_table(table)
