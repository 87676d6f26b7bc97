"""obligation.concerns: the milestone a unit report lists the unit's topics against

The 30/4 outline-review report and the 1/12 acceptance report are obligations of the unit that
list its topics (`concerns = "outline_approved"` / `"accepted"` in `[[scheduler.obligations]]`).
The row keeps what its obligation reported on when it was created, so a later config change
does not rewrite what an earlier report asked for. Existing rows report on no topics (NULL).

Revision ID: 0016
Revises: see down_revision (the one line to change when re-chained)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
# Re-chained when merged after 0015: this line (and storage/migrate.py's list) is all that moves.
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("obligation") as batch:
        batch.add_column(sa.Column("concerns", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("obligation") as batch:
        batch.drop_column("concerns")
