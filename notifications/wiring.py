"""Installs the notifications component into an `App` (outbox subscriber, dispatcher tick job)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.app import App


def install(app: App) -> None:
    """Subscribe the outbox writer to domain events; register the dispatcher as a tick job."""
