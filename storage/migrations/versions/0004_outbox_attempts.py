"""outbox: when a message was first attempted (the give-up clock starts there, not at queueing)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("first_attempt_at", storage.base.UTCDateTime(), nullable=True))
    # Rows already tried once keep a clock: their queueing time is the best we know.
    op.execute("UPDATE outbox SET first_attempt_at = created_at WHERE attempts > 0")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("first_attempt_at")
