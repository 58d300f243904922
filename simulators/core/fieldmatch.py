"""How ``assert_wrote(resource, **fields)`` finds a field in a written object, and what it says
when none matches.

A field name is looked up as written (``status=``), then as a path with ``__`` between the levels
(``via__channel="email"``, ``metadata__ticket="T-1"``, ``tags__0="vip"``); each simulator adds
its service's own flat names on top (HubSpot ``properties``, Zendesk ``custom_fields`` by id). A
value that is a dict matches a subset of the object's dict. When no write matches, the message
shows the closest write field by field and, for a name the object does not have, where a field of
that name does live (``via.channel``: pass ``via__channel=``) or the nearest spelling.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel

MISSING: Any = object()
Lookup = Callable[[Mapping[str, Any], str], Any]  # (object, field) -> value or MISSING


def matches(actual: Any, expected: Any) -> bool:
    """``expected`` is in ``actual``: equal, or for dicts every expected key matching (a subset)."""
    if isinstance(expected, BaseModel):
        expected = expected.model_dump(mode="json")
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return all(k in actual and matches(actual[k], v) for k, v in expected.items())
    return bool(actual == expected)


def by_path(obj: Mapping[str, Any], name: str) -> Any:
    """The field ``name`` of ``obj`` as written, else as an ``a__b__c`` path; MISSING if absent."""
    if name in obj:
        return obj[name]
    if "__" not in name:
        return MISSING
    value: Any = obj
    for part in name.split("__"):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def paths(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every nested field of ``value`` as (dotted path, value), lists by index."""
    items: Any = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        yield path, item
        yield from paths(item, path)


def _as_kwarg(path: str) -> str:
    return path.replace(".", "__")


def missing_hint(obj: Mapping[str, Any], name: str, flat_names: list[str]) -> str:
    """Where a field called ``name`` is in ``obj`` (its path), or the nearest spelling."""
    leaf = name.rsplit("__", 1)[-1]
    nested = [p for p, _ in paths(obj) if "." in p and p.rsplit(".", 1)[-1] == leaf]
    if nested:
        return f"not a field here; found at {nested[0]}: pass {_as_kwarg(nested[0])}=..."
    close = difflib.get_close_matches(name, [*obj, *flat_names], n=1, cutoff=0.6)
    return f"no such field; did you mean {close[0]!r}?" if close else "no such field"


def describe(obj: Mapping[str, Any], fields: Mapping[str, Any], lookup: Lookup, flat_names: list[str]) -> list[str]:
    """One line per expected field: ok, its real value, or why it is not there."""
    lines = []
    for name, want in fields.items():
        have = lookup(obj, name)
        if have is MISSING:
            lines.append(f"{name}: {missing_hint(obj, name, flat_names)}")
        elif matches(have, want):
            lines.append(f"{name}: ok")
        else:
            lines.append(f"{name}: {_short(have)} (wanted {_short(want)})")
    return lines


def score(obj: Mapping[str, Any], fields: Mapping[str, Any], lookup: Lookup) -> int:
    """How many expected fields ``obj`` has with the expected value (to pick the closest write)."""
    total = 0
    for name, want in fields.items():
        have = lookup(obj, name)
        total += have is not MISSING and matches(have, want)
    return total


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
