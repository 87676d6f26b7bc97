"""science sessions: the log of the sessions each unit held (sinh hoạt khoa học)

Replaces nothing in the schema: the monthly "minutes" obligation it supersedes was an ordinary
`unit_report` task, and those already created stay as they are.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "science_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("department", sa.String(length=300), nullable=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("presenter_email", sa.String(length=320), nullable=False),
        sa.Column("presenter_name", sa.String(length=300), nullable=True),
        sa.Column("presenter_id", sa.Integer(), nullable=True),
        sa.Column("presenter_task_id", sa.Integer(), nullable=True),
        sa.Column("attendance", sa.Integer(), nullable=True),
        sa.Column("minutes_path", sa.Text(), nullable=True),
        sa.Column("recorded_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("acting_as", sa.String(length=320), nullable=True),
        sa.CheckConstraint("attendance IS NULL OR attendance >= 0",
                           name=op.f("ck_science_session_attendance")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_science_session_unit_id_unit")),
        sa.ForeignKeyConstraint(["presenter_id"], ["person.id"],
                                name=op.f("fk_science_session_presenter_id_person")),
        sa.ForeignKeyConstraint(["presenter_task_id"], ["task.id"],
                                name=op.f("fk_science_session_presenter_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_science_session")),
        sa.UniqueConstraint("unit_id", "held_on", "topic",
                            name=op.f("uq_science_session_unit_id_held_on_topic")),
    )
    op.create_index("ix_science_session_unit_held", "science_session", ["unit_id", "held_on"])


def downgrade() -> None:
    op.drop_index("ix_science_session_unit_held", "science_session")
    op.drop_table("science_session")
