"""The catalog of notification kinds: who receives each, which workflow event sends which.

Read from `kinds.yaml` (data, not code; an operator may point `mail.kinds_file` at a copy).
Validated on load: an unknown role, an event mapped to an unknown kind or a kind without
recipients is an `InputError` naming the file, caught by `nckh mail check` and at daemon start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from workflows.errors import InputError

PACKAGED_KINDS = Path(__file__).parent / "kinds.yaml"
ROLES = ("pi", "unit_head", "unit_contact", "office", "council", "addressed")
LANGS = ("vi", "en")
# How a kind reaches people (see notifications/letters.py):
#   single     one message to every recipient at once (the digest, a report, a test)
#   immediate  at once to its `to` people (a step that concerns them); its copies, and anything
#              for the office, go into their next letter or the office's digest
#   daily      into each recipient's letter of the day (the office's: its digest)
SEND_MODES = ("single", "immediate", "daily")


@dataclass(frozen=True)
class KindSpec:
    name: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    calendar: bool = False
    send: str = "single"
    urgent: bool = False  # for the office: its digest goes out the next working day
    act: bool = False  # asks its `to` people to act: each gets a personal link to the item


@dataclass(frozen=True)
class Catalog:
    kinds: Mapping[str, KindSpec]
    events: Mapping[str, str]
    words: Mapping[str, Any]  # nouns, leaders, obligations: plain data for the templates
    path: str

    def kind(self, name: str) -> KindSpec:
        try:
            return self.kinds[name]
        except KeyError:
            raise InputError(f"unknown notification kind '{name}' "
                             f"(known: {', '.join(sorted(self.kinds))})") from None

    def kind_for_event(self, event: str) -> str | None:
        return self.events.get(event)


def _roles(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: expected a list of roles")
    unknown = [v for v in value if v not in ROLES]
    if unknown:
        raise InputError(f"{where}: unknown role {unknown[0]!r} (known: {', '.join(ROLES)})")
    return tuple(value)


def parse_catalog(text: str, path: str) -> Catalog:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("kinds"), dict):
        raise InputError(f"{path}: expected a mapping with 'kinds'")
    kinds: dict[str, KindSpec] = {}
    for name, spec in raw["kinds"].items():
        where = f"{path}: kind {name}"
        if not isinstance(spec, dict):
            raise InputError(f"{where}: expected a mapping")
        to = _roles(spec.get("to"), f"{where}: to")
        if not to:
            raise InputError(f"{where}: 'to' names no role")
        extra = set(spec) - {"to", "cc", "calendar", "send", "urgent", "act"}
        if extra:
            raise InputError(f"{where}: unknown key {sorted(extra)[0]!r}")
        send = spec.get("send", "single")
        if send not in SEND_MODES:
            raise InputError(f"{where}: send must be one of {', '.join(SEND_MODES)}, "
                             f"not {send!r}")
        kinds[str(name)] = KindSpec(str(name), to, _roles(spec.get("cc"), f"{where}: cc"),
                                    bool(spec.get("calendar", False)), str(send),
                                    bool(spec.get("urgent", False)), bool(spec.get("act", False)))
    events = raw.get("events") or {}
    if not isinstance(events, dict):
        raise InputError(f"{path}: 'events' must map workflow events to kinds")
    for event, kind in events.items():
        if kind not in kinds:
            raise InputError(f"{path}: event {event} sends unknown kind {kind!r}")
    words = {key: raw.get(key) or {} for key in ("nouns", "leaders", "obligations")}
    return Catalog(kinds, {str(k): str(v) for k, v in events.items()}, words, path)


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> Catalog:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"cannot read the notification kinds file {path}: "
                         f"{exc.strerror or exc}") from None
    return parse_catalog(text, path)


def load_catalog(path: Path | None = None) -> Catalog:
    target = path or PACKAGED_KINDS
    try:
        stat = target.stat()
    except OSError:
        raise InputError(f"notification kinds file not found: {target}") from None
    return _load_cached(str(target), stat.st_mtime_ns)
