"""task extras: a task's contract start and end dates, its funding source and amount (with who
last set them, and when), and its co-investigators (thành viên tham gia)

The four columns are nullable and nothing is back-filled: a task registered before knows none
of them, and a made-up value would be a claim nobody made. The funding source's and dates'
rules are the engine's (engine/taskextras.py): CHECKs on `task` would need SQLite to rebuild the
table, so only the new table carries its own.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task", sa.Column("starts_on", sa.Date(), nullable=True))
    op.add_column("task", sa.Column("ends_on", sa.Date(), nullable=True))
    op.add_column("task", sa.Column("funding_source", sa.String(length=24), nullable=True))
    op.add_column("task", sa.Column("funding_amount", sa.BigInteger(), nullable=True))
    op.add_column("task", sa.Column("extras_at", storage.base.UTCDateTime(), nullable=True))
    op.add_column("task", sa.Column("extras_by", sa.String(length=120), nullable=True))
    op.add_column("task", sa.Column("extras_acting_as", sa.String(length=320), nullable=True))
    op.create_table(
        "task_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_task_member_seq")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_task_member_task_id_task")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_task_member_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_member")),
        sa.UniqueConstraint("task_id", "seq", name=op.f("uq_task_member_task_id_seq")),
    )
    op.create_index("ix_task_member_task_id", "task_member", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_member_task_id", "task_member")
    op.drop_table("task_member")
    with op.batch_alter_table("task") as batch:
        batch.drop_column("extras_acting_as")
        batch.drop_column("extras_by")
        batch.drop_column("extras_at")
        batch.drop_column("funding_amount")
        batch.drop_column("funding_source")
        batch.drop_column("ends_on")
        batch.drop_column("starts_on")
