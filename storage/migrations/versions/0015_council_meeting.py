"""council meeting: the day a council is to meet (`council.meeting_on`), which its members' notice
gives as the day their review is due

Nullable and not back-filled: a council recorded before this revision named no meeting day, and
its members were never told one; its notice (none was sent) would fall back on the task's
deadline anyway.

Revision ID: 0015
Revises: see down_revision (the one line to change when re-chained)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
# Re-chained when merged after another helper's revision: this line (and storage/migrate.py's
# list) is all that moves.
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("council", sa.Column("meeting_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("council") as batch:
        batch.drop_column("meeting_on")
