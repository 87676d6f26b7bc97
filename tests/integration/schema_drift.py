"""What the migrations build and the models declare, compared (alembic autogenerate)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from storage.schema import metadata


def drift(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                     "render_as_batch": True})
        return list(compare_metadata(ctx, metadata))


