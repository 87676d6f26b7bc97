"""directory history and one active head per unit

Adds the append-only `directory_change` table and a partial unique index allowing at most one
active `unit_head` per unit. Databases written by earlier versions may hold several active heads
for one unit (importing a unit with a new head used to add a second one): before the index is
built, every such unit keeps its most recently registered head and the others are deactivated,
each replacement recorded in `directory_change` as done by this migration.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ACTIVE_HEAD = "role = 'unit_head' AND active"
OPERATOR = "migration 0005"


def upgrade() -> None:
    op.create_table(
        "directory_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("operator", sa.String(length=120), nullable=False),
        sa.Column("acting_as", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_change")),
    )
    op.create_index("ix_directory_change_entity_key", "directory_change", ["entity", "key"],
                    unique=False)
    _keep_one_active_head()
    op.create_index("uq_person_one_active_head", "person", ["unit_id"], unique=True,
                    sqlite_where=sa.text(ACTIVE_HEAD), postgresql_where=sa.text(ACTIVE_HEAD))


def _keep_one_active_head() -> None:
    conn = op.get_bind()
    unit = sa.table("unit", sa.column("id", sa.Integer()), sa.column("code", sa.String()))
    person = sa.table(
        "person", sa.column("id", sa.Integer()), sa.column("email", sa.String()),
        sa.column("name", sa.String()), sa.column("role", sa.String()),
        sa.column("unit_id", sa.Integer()), sa.column("active", sa.Boolean()),
        sa.column("created_at", storage.base.UTCDateTime()))
    change = sa.table(
        "directory_change", sa.column("at", storage.base.UTCDateTime()),
        sa.column("entity", sa.String()), sa.column("key", sa.String()),
        sa.column("change", sa.String()), sa.column("details", sa.JSON()),
        sa.column("operator", sa.String()), sa.column("acting_as", sa.String()))
    heads = conn.execute(
        sa.select(person.c.id, person.c.email, person.c.name, person.c.unit_id,
                  person.c.created_at, unit.c.code)
        .join(unit, unit.c.id == person.c.unit_id)
        .where(person.c.role == "unit_head", person.c.active.is_(True))
        .order_by(person.c.unit_id, person.c.id)).all()
    by_unit: dict[int, list[sa.Row[Any]]] = {}
    for row in heads:
        by_unit.setdefault(row.unit_id, []).append(row)
    for rows in by_unit.values():
        keep = rows[-1]  # the latest registered: the head an import meant to put in place
        for old, new in pairwise(rows):
            conn.execute(sa.update(person).where(person.c.id == old.id).values(active=False))
            conn.execute(sa.insert(change).values(
                at=new.created_at, entity="unit", key=keep.code, change="head_replaced",
                details={"old": {"email": old.email, "name": old.name},
                         "new": {"email": new.email, "name": new.name}},
                operator=OPERATOR, acting_as=None))
            conn.execute(sa.insert(change).values(
                at=new.created_at, entity="person", key=old.email, change="deactivated",
                details={"reason": f"replaced as head of unit {keep.code} by {new.email}"},
                operator=OPERATOR, acting_as=None))


def downgrade() -> None:
    op.drop_index("uq_person_one_active_head", table_name="person")
    op.drop_index("ix_directory_change_entity_key", table_name="directory_change")
    op.drop_table("directory_change")
