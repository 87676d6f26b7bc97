"""Every table nckh has, on one metadata (for Alembic and the model/migration drift test)."""

from __future__ import annotations

from storage import letters, models, outbox, sessions, timers  # noqa: F401  (each registers its tables)
from storage.base import Base

metadata = Base.metadata
