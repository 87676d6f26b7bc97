"""Every table nckh has, gathered on one metadata (for Alembic and the model/migration drift test)."""

from __future__ import annotations

from storage import models  # noqa: F401  (registers the core tables)
from storage.base import Base

metadata = Base.metadata
