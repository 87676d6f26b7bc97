"""the outbox's states and the timers' statuses and kinds, checked by the database

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OUTBOX_STATES = ("pending", "sending", "sent", "dead")
TIMER_STATUSES = ("pending", "fired", "skipped", "cancelled")
TIMER_KINDS = ("reminder", "deadline", "escalation", "auto_event")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.create_check_constraint("state", _in("state", OUTBOX_STATES))
    with op.batch_alter_table("timer") as batch:
        batch.create_check_constraint("status", _in("status", TIMER_STATUSES))
        batch.create_check_constraint("kind", _in("kind", TIMER_KINDS))


def downgrade() -> None:
    with op.batch_alter_table("timer") as batch:
        batch.drop_constraint("kind", type_="check")
        batch.drop_constraint("status", type_="check")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("state", type_="check")
