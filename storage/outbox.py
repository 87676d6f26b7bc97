"""The notification outbox table.

(Being built for the notifications issue.)
"""

from __future__ import annotations
