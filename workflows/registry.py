"""The workflow files in force: the packaged definitions, or an operator's directory.

Parsing a snapshot is cached by its hash, so a daemon driving thousands of tasks parses each
definition version once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from workflows.errors import DefinitionError, NotFound
from workflows.loader import load_text
from workflows.model import Workflow

PACKAGED_DIR = Path(__file__).parent / "definitions"
LEVEL_WORKFLOWS = {"unit": "unit_task", "province": "province_task", "initiative": "initiative"}


class Registry:
    """Current definitions by name, read from one directory."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or PACKAGED_DIR
        self._current: dict[str, Workflow] | None = None

    def _load(self) -> dict[str, Workflow]:
        if self._current is None:
            if not self.directory.is_dir():
                raise DefinitionError(str(self.directory), None, "workflow directory not found")
            found: dict[str, Workflow] = {}
            for path in sorted(self.directory.glob("*.yaml")):
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    raise DefinitionError(str(path), None, "not UTF-8 text") from None
                except OSError as exc:
                    raise DefinitionError(str(path), None,
                                          f"cannot read: {exc.strerror or exc}") from None
                # Parsing is pure: identical text parses once per process (tests, CLI, daemon).
                wf = from_snapshot(text, str(path))
                found[wf.name] = wf
            self._current = found
        return self._current

    def current(self) -> dict[str, Workflow]:
        """Every definition in force, by name."""
        return dict(self._load())

    def names(self) -> list[str]:
        return sorted(self._load())

    def get(self, name: str) -> Workflow:
        try:
            return self._load()[name]
        except KeyError:
            raise NotFound("workflow", name) from None

    def for_level(self, level: str) -> Workflow:
        name = LEVEL_WORKFLOWS.get(level)
        if name is None:
            raise NotFound("task level", f"{level} (expected one of {', '.join(LEVEL_WORKFLOWS)})")
        return self.get(name)


@lru_cache(maxsize=256)
def from_snapshot(source: str, path: str) -> Workflow:
    """A stored definition snapshot parsed back (cached by content)."""
    return load_text(source, path)
