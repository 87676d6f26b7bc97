"""publications: the register of articles and other publications of the units' research

Tasks that reached `published` stay as they are; a `publish` fired from now on with a URL also
records a row here (engine/publications.py), and earlier ones are not back-filled: their URL is
in the history, and a register filled from it would claim titles and authors nobody entered.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KINDS = ("journal_domestic", "journal_international", "conference", "unit_website", "other")


def upgrade() -> None:
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("authors", sa.Text(), nullable=False),
        sa.Column("venue_kind", sa.String(length=24), nullable=False),
        sa.Column("venue_name", sa.String(length=300), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("doi", sa.String(length=200), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=320), nullable=False),
        sa.Column("acting_as", sa.String(length=320), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.CheckConstraint("venue_kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
                           name=op.f("ck_publication_venue_kind")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_publication_unit_id_unit")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_publication_task_id_task")),
        sa.ForeignKeyConstraint(["file_id"], ["stored_file.id"],
                                name=op.f("fk_publication_file_id_stored_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_publication_fingerprint")),
    )
    op.create_index("ix_publication_unit_published", "publication", ["unit_id", "published_on"])
    op.create_index("ix_publication_task_id", "publication", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_publication_task_id", "publication")
    op.drop_index("ix_publication_unit_published", "publication")
    op.drop_table("publication")
