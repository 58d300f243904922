"""Paths in JSON-like values (dict keys and list indexes): how a carrier names its fields, and how
a payload is put at one without touching the rest."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

PathT = tuple[str | int, ...]


def dotted(path: PathT) -> str:
    return ".".join(str(p) for p in path)


def string_leaves(value: Any, prefix: PathT = ()) -> Iterator[tuple[PathT, str]]:
    """Every string leaf of a JSON-like value, with its path (dict keys and list indexes)."""
    if isinstance(value, str):
        yield prefix, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from string_leaves(v, (*prefix, k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from string_leaves(v, (*prefix, i))


def get_at(value: Any, path: PathT) -> Any:
    for part in path:
        value = value[part]
    return value


def set_at(value: Any, path: PathT, new: Any) -> Any:
    """A copy of ``value`` with ``path`` set to ``new`` (containers along the path copied, the rest shared)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping):
        out = dict(value)
        out[head] = set_at(value[head], rest, new)
        return out
    if isinstance(value, list | tuple) and isinstance(head, int):
        items = list(value)
        items[head] = set_at(items[head], rest, new)
        return items
    raise KeyError(f"cannot descend into {type(value).__name__} at {path!r}")


def matches(path: PathT, patterns: Sequence[str] | None) -> bool:
    if patterns is None:
        return True
    text = dotted(path)
    return any(fnmatch.fnmatchcase(text, p) for p in patterns)
