"""Installs the scheduling component into an `App` (subscribers and tick jobs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.app import App


def install(app: App) -> None:
    """Subscribe the timer planner to the engine's domain events; register the timer sweep."""
