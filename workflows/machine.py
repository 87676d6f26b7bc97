"""Compiling a `Workflow` into one shared `transitions.Machine` and stepping states through it.

One machine per definition snapshot, built once and cached: a Machine per task (or `add_model` on
thousands of rows) is slow and leaks (transitions #146, #434). The machine is model-less; each
step runs on a throw-away cursor object carrying only the state, so no ORM attribute can collide
with a trigger name. `auto_transitions` is off: `to_<state>()` would bypass every rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock

from transitions import Machine, MachineError

from workflows.model import Workflow


@dataclass
class _Cursor:
    state: str


class CompiledWorkflow:
    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.machine = Machine(
            model=None,
            states=list(workflow.states),
            transitions=[
                {"trigger": ev.name, "source": list(ev.sources), "dest": ev.dest}
                for ev in workflow.events.values()
            ],
            initial=None,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
        )

    def step(self, state: str, event: str) -> str:
        """The state `event` leads to from `state`; raises `MachineError` if it cannot fire."""
        if state not in self.workflow.states:
            raise ValueError(f"state '{state}' is not in workflow {self.workflow.name}")
        cursor = _Cursor(state)
        self.machine.events[event].trigger(cursor)
        return cursor.state

    def triggers(self, state: str) -> list[str]:
        return list(self.machine.get_triggers(state))


_cache: dict[str, CompiledWorkflow] = {}
_lock = Lock()


def compiled(workflow: Workflow) -> CompiledWorkflow:
    """The shared compiled machine for this exact definition (keyed by its content hash)."""
    key = f"{workflow.name}:{workflow.sha256}"
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = CompiledWorkflow(workflow)
    return found


__all__ = ["CompiledWorkflow", "MachineError", "compiled"]
