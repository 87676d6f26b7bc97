"""notification outbox

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("addressed_to", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("sent_at", storage.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_outbox_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index("ix_outbox_state_due", "outbox", ["state", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_outbox_task_id"), "outbox", ["task_id"], unique=False)
    op.create_table(
        "outbox_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mimetype", sa.String(length=120), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="CASCADE",
                                name=op.f("fk_outbox_attachment_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attachment")),
    )
    op.create_index(op.f("ix_outbox_attachment_outbox_id"), "outbox_attachment", ["outbox_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_attachment_outbox_id"), table_name="outbox_attachment")
    op.drop_table("outbox_attachment")
    op.drop_index(op.f("ix_outbox_task_id"), table_name="outbox")
    op.drop_index("ix_outbox_state_due", table_name="outbox")
    op.drop_table("outbox")
