"""timers: the last day a repeating escalation may fire (its repeats, and the year's end)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timer") as batch:
        batch.add_column(sa.Column("repeat_until", sa.Date(), nullable=True))
    # Series planted before this release end with their reporting year, as new ones do.
    op.execute("UPDATE timer SET repeat_until = DATE(CAST(EXTRACT(YEAR FROM legal_end) AS "
               "INTEGER) || '-12-31') WHERE repeat_every IS NOT NULL"
               if op.get_bind().dialect.name == "postgresql" else
               "UPDATE timer SET repeat_until = strftime('%Y', legal_end) || '-12-31' "
               "WHERE repeat_every IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("timer") as batch:
        batch.drop_column("repeat_until")
