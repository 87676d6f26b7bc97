"""councils: the councils of a task's outline review and acceptance, their members, the
acceptance outcome (grade, score, minutes) and the recognition decision

Tasks accepted before this revision keep their `accept` entry (its `grade` text in the history);
nothing is back-filled: a council's members were never entered, and a row made up from the
history would claim a decision nobody recorded.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recorded() -> list[sa.Column[object]]:
    return [sa.Column("recorded_at", storage.base.UTCDateTime(), nullable=False),
            sa.Column("recorded_by", sa.String(length=320), nullable=False),
            sa.Column("acting_as", sa.String(length=320), nullable=True)]


def upgrade() -> None:
    op.create_table(
        "council",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("decision_no", sa.String(length=100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        *_recorded(),
        sa.CheckConstraint(f"stage IN ({_in('outline', 'acceptance')})",
                           name=op.f("ck_council_stage")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_council_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council")),
        sa.UniqueConstraint("task_id", "stage", "decision_no",
                            name=op.f("uq_council_task_id_stage_decision_no")),
    )
    op.create_index("ix_council_task_id", "council", ["task_id"])
    op.create_table(
        "council_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(f"role IN ({_in('chair', 'secretary', 'reviewer', 'member')})",
                           name=op.f("ck_council_member_role")),
        sa.ForeignKeyConstraint(["council_id"], ["council.id"],
                                name=op.f("fk_council_member_council_id_council")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_council_member_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_member")),
        sa.UniqueConstraint("council_id", "person_id",
                            name=op.f("uq_council_member_council_id_person_id")),
    )
    op.create_table(
        "council_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("minutes_file_id", sa.Integer(), nullable=True),
        *_recorded(),
        sa.CheckConstraint(f"result IN ({_in('passed', 'revise', 'failed')})",
                           name=op.f("ck_council_outcome_result")),
        sa.CheckConstraint(f"grade IS NULL OR grade IN ({_in('excellent', 'good', 'pass')})",
                           name=op.f("ck_council_outcome_grade")),
        sa.CheckConstraint("result <> 'failed' OR grade IS NULL",
                           name=op.f("ck_council_outcome_failed_no_grade")),
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)",
                           name=op.f("ck_council_outcome_score")),
        sa.ForeignKeyConstraint(["council_id"], ["council.id"],
                                name=op.f("fk_council_outcome_council_id_council")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_council_outcome_task_id_task")),
        sa.ForeignKeyConstraint(["history_id"], ["task_history.id"],
                                name=op.f("fk_council_outcome_history_id_task_history")),
        sa.ForeignKeyConstraint(["minutes_file_id"], ["stored_file.id"],
                                name=op.f("fk_council_outcome_minutes_file_id_stored_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_outcome")),
        sa.UniqueConstraint("council_id", name=op.f("uq_council_outcome_council_id")),
    )
    op.create_index("ix_council_outcome_task_id", "council_outcome", ["task_id"])
    op.create_table(
        "recognition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=16), nullable=False),
        sa.Column("decision_no", sa.String(length=100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        *_recorded(),
        sa.CheckConstraint(f"issuer IN ({_in('department', 'sector_council')})",
                           name=op.f("ck_recognition_issuer")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_recognition_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition")),
        sa.UniqueConstraint("task_id", name=op.f("uq_recognition_task_id")),
    )


def downgrade() -> None:
    op.drop_table("recognition")
    op.drop_index("ix_council_outcome_task_id", "council_outcome")
    op.drop_table("council_outcome")
    op.drop_table("council_member")
    op.drop_index("ix_council_task_id", "council")
    op.drop_table("council")
