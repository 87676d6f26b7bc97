"""YAML with line numbers and no silent overwrites.

PyYAML keeps the last of two equal keys without a word; a workflow with two `approve_outline`
entries would lose one. We compose the node tree ourselves, refuse duplicate keys, and remember
the line of every value so validation errors can point at it.

Anchors and aliases (`&name`, `*name`) are refused before anything is built from the document:
an alias is a reference, so nine aliases of nine aliases of … (a "billion laughs" file of a few
hundred bytes) expand into more values than memory holds, and an anchor that refers to itself
never ends. A workflow file has no need of them, and `workflow validate` reads untrusted files.
"""

from __future__ import annotations

from typing import Any

import yaml

from workflows.errors import DefinitionError

Path_ = tuple[str | int, ...]


class Located:
    """Plain data from a YAML document plus the line (1-based) of each path in it."""

    def __init__(self, data: Any, lines: dict[Path_, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def line(self, path: Path_) -> int | None:
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def error(self, path: Path_, reason: str) -> DefinitionError:
        return DefinitionError(self.file, self.line(path), reason)


# libyaml's composer is ~8x faster and gives the same nodes and marks; fall back when absent.
_COMPOSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_located(text: str, file: str) -> Located:
    try:
        _refuse_aliases(text, file)
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise DefinitionError(file, line, f"YAML syntax: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise DefinitionError(file, None, f"YAML syntax: {exc}") from None
    if node is None:
        raise DefinitionError(file, 1, "empty file")
    lines: dict[Path_, int] = {}
    data = _convert(node, (), lines, file)
    return Located(data, lines, file)


def _refuse_aliases(text: str, file: str) -> None:
    """Scan the parser's events (nothing is composed or expanded) for an anchor or alias."""
    for event in yaml.parse(text, Loader=_COMPOSER):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            raise DefinitionError(file, line,
                                  f"YAML alias '*{event.anchor}' is not allowed in a workflow "
                                  "file; write the value out")
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            raise DefinitionError(file, line,
                                  f"YAML anchor '&{event.anchor}' is not allowed in a workflow "
                                  "file; write the value out")


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if not isinstance(key, str | int | bool) or isinstance(key, bool):
                raise DefinitionError(file, key_node.start_mark.line + 1,
                                      f"key {key!r} is not text")
            key = str(key)
            if key in out:
                where = "/".join(str(p) for p in path) or "top level"
                raise DefinitionError(
                    file, key_node.start_mark.line + 1, f"duplicate key '{key}' in {where}"
                )
            out[key] = _convert(value_node, (*path, key), lines, file)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node)


_SCALARS = yaml.SafeLoader("")


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return node  # a non-scalar key; the caller reports it
    # Keep dates as their text: deadlines are written MM-DD and are parsed by the validator.
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value
    return _SCALARS.construct_object(node, deep=True)
