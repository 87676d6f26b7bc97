"""Who may see which item: the one permission rule every page of the web app asks.

The office sees everything; a unit head their own unit's items; an investigator the items they
lead; the council the items it has to act on now. Acting is the engine's decision (`decide`),
never this module's: seeing an item does not mean one may fire anything on it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Viewer:
    """The signed-in person."""

    person_id: int
    email: str
    name: str
    role: str
    unit_id: int | None
    unit_code: str | None

    @property
    def is_office(self) -> bool:
        return self.role == "office"


def may_see(viewer: Viewer, *, unit_id: int, pi_id: int, council_acts: bool = False) -> bool:
    if viewer.role == "office":
        return True
    if viewer.role == "unit_head":
        return viewer.unit_id == unit_id
    if viewer.role == "pi":
        return viewer.person_id == pi_id
    if viewer.role == "council":
        return council_acts
    return False


def may_see_unit(viewer: Viewer, unit_code: str) -> bool:
    """A unit's page: the office, and the unit's own head."""
    return viewer.role == "office" or (viewer.role == "unit_head" and viewer.unit_code is not None
                                       and viewer.unit_code.lower() == unit_code.lower())
