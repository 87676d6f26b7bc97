"""The one error hierarchy of nckh, split by whose fault it is.

    NckhError                      exit 1 (anything else)
    ├── InputError                 exit 2: the caller's input is wrong (bad value, unknown id)
    │   ├── NotFound               unknown task, unit, person, workflow
    │   ├── InvalidData            missing or malformed data for an event
    │   ├── DefinitionError        a workflow file is invalid (file, line, reason)
    │   └── SchemaError            the database is at another schema version
    ├── Refused                    exit 3: understood, but not allowed now
    │   ├── NotAllowed             the actor's role or unit scope does not permit it
    │   ├── InvalidTransition      the event cannot fire from the task's state
    │   └── Conflict               someone else changed the task first
    ├── StorageError               exit 1: the database failed
    └── DeliveryError              exit 1: the mail server failed

Every error renders as one line (`str(err)`); structured fields stay on the instance so the CLI's
`--json` mode and the tests can read them. Foreign exceptions are converted where they enter.
"""

from __future__ import annotations

from collections.abc import Sequence


class NckhError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(NckhError):
    exit_code = 2


class NotFound(InputError):
    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"unknown {kind}: {key}")
        self.kind = kind
        self.key = key


class InvalidData(InputError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DefinitionError(InputError):
    def __init__(self, file: str, line: int | None, reason: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


class SchemaError(InputError):
    pass


class Refused(NckhError):
    exit_code = 3


class NotAllowed(Refused):
    pass


class InvalidTransition(Refused):
    def __init__(self, task_id: int, event: str, state: str, allowed: Sequence[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none (final state)"
        super().__init__(
            f"task {task_id}: event '{event}' cannot fire from state '{state}'; "
            f"allowed now: {allowed_text}"
        )
        self.task_id = task_id
        self.event = event
        self.state = state
        self.allowed = tuple(allowed)


class Conflict(Refused):
    pass


class StorageError(NckhError):
    pass


class DeliveryError(NckhError):
    pass
