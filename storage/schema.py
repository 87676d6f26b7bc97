"""Every table nckh has, on one metadata (for Alembic and the model/migration drift test)."""

from __future__ import annotations

from storage import (  # noqa: F401  (each module registers its tables)
    applications,
    councils,
    letters,
    models,
    outbox,
    publications,
    sessions,
    taskextras,
    timers,
    webmodels,
)
from storage.base import Base

metadata = Base.metadata
