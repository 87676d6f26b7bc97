"""applications: where an accepted task's result is applied and since when, technology transfers
and cooperation agreements (table `result_application`)

Nothing is back-filled: no application was recorded before this revision.

Revision ID: 0014
Revises: see down_revision (the one line to change when re-chained)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0014"
# Re-chained when merged after 0013: this line (and storage/migrate.py's list) is all that moves.
down_revision = "0013"
branch_labels = None
depends_on = None


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


RECEIVERS = _in("same_unit", "public_province", "private_hospital", "lower_level",
                "outside_province")


def upgrade() -> None:
    op.create_table(
        "result_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("receiver_kind", sa.String(length=24), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("doc_no", sa.String(length=100), nullable=True),
        sa.Column("doc_date", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("recorded_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.Column("acting_as", sa.String(length=320), nullable=True),
        sa.CheckConstraint(f"kind IN ({_in('applied', 'transfer', 'cooperation')})",
                           name=op.f("ck_result_application_kind")),
        sa.CheckConstraint(f"receiver_kind IN ({RECEIVERS})",
                           name=op.f("ck_result_application_receiver_kind")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_result_application_task_id_task")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_result_application_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_application")),
        sa.UniqueConstraint("task_id", "kind", "place", "since",
                            name=op.f("uq_result_application_task_id_kind_place_since")),
    )
    op.create_index("ix_result_application_task_id", "result_application", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_result_application_task_id", "result_application")
    op.drop_table("result_application")
