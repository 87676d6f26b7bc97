"""letters: notices fanned out to their readers (letter_line), and the outbox state `bundled`

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BEFORE = ("pending", "sending", "sent", "dead")
AFTER = (*BEFORE, "bundled")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "letter_line",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("outbox.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("role", sa.String(2), nullable=False),
        sa.Column("office", sa.Boolean(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("letter_id", sa.Integer(), sa.ForeignKey("outbox.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "email"),
    )
    op.create_index("ix_letter_line_waiting", "letter_line", ["letter_id", "office"])
    op.create_index("ix_letter_line_letter_id", "letter_line", ["letter_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("state", type_="check")
        batch.create_check_constraint("state", _in("state", AFTER))


def downgrade() -> None:
    op.execute("UPDATE outbox SET state = 'sent' WHERE state = 'bundled'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("state", type_="check")
        batch.create_check_constraint("state", _in("state", BEFORE))
    op.drop_index("ix_letter_line_letter_id", "letter_line")
    op.drop_index("ix_letter_line_waiting", "letter_line")
    op.drop_table("letter_line")
