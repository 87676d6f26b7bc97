"""Views of a workflow for people: a JSON-ready description and Mermaid/dot diagrams."""

from __future__ import annotations

from typing import Any

from workflows.model import Workflow


def describe(wf: Workflow, lang: str = "vi") -> dict[str, Any]:
    return {
        "name": wf.name, "version": wf.version, "level": wf.level, "label": wf.labels.get(lang),
        "initial": wf.initial, "sha256": wf.sha256,
        "states": [{
            "name": s.name, "label": s.labels.get(lang), "final": s.final, "void": s.void,
            "deadline": s.deadline.describe() if s.deadline else None,
        } for s in wf.states.values()],
        "events": [{
            "name": e.name, "label": e.labels.get(lang), "from": list(e.sources), "to": e.dest,
            "roles": sorted(e.roles), "not_by": sorted(e.not_by), "reason": e.reason,
            "fields": [{"name": f.name, "type": f.type, "required": f.required} for f in e.fields],
            "one_of": [list(g) for g in e.one_of],
        } for e in wf.events.values()],
    }


def _quote(text: str) -> str:
    return text.replace('"', "'")


def diagram(wf: Workflow, fmt: str = "mermaid", lang: str = "vi") -> str:
    lines: list[str] = []
    if fmt == "mermaid":
        lines.append("stateDiagram-v2")
        for s in wf.states.values():
            lines.append(f'    {s.name}: {_quote(s.labels.get(lang))}')
        lines.append(f"    [*] --> {wf.initial}")
        for e in wf.events.values():
            for src in e.sources:
                lines.append(f"    {src} --> {e.dest}: {e.name}")
        for s in wf.states.values():
            if s.final:
                lines.append(f"    {s.name} --> [*]")
        return "\n".join(lines) + "\n"
    lines.append(f'digraph "{wf.name}" {{')
    lines.append("    rankdir=LR;")
    for s in wf.states.values():
        shape = "doublecircle" if s.final else "box"
        lines.append(f'    {s.name} [label="{_quote(s.labels.get(lang))}", shape={shape}];')
    for e in wf.events.values():
        for src in e.sources:
            lines.append(f'    {src} -> {e.dest} [label="{e.name}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
