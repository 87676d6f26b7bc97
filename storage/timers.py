"""Scheduler tables: timers, calendar-job runs, obligations, daemon heartbeats.

(Being built for the scheduling issue.)
"""

from __future__ import annotations
