"""Search: filter groups (OR of ANDed filters), sorts, free-text query, limit/after."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import (
    CrmObject,
    Filter,
    SearchParams,
    Sort,
)
from ..properties import (
    QUERY_PROPERTIES,
    SCHEMAS,
    STAMPS,
    parse_datetime,
    parse_number,
)
from ._common import (
    after_id,
    ordered,
    render,
)

_MAX_SEARCH_RESULTS = 10_000
_SEARCH_FILTERS_MAX = 18


def _comparable(t: str, name: str, value: str) -> Any:
    kind = SCHEMAS[t][name].type
    if kind == "number":
        return parse_number(value)
    if kind == "datetime":
        when = parse_datetime(value)
        return None if when is None else when.timestamp()
    return value.casefold()


def _value(f: Filter, raw: Any) -> str:
    if raw is None:
        raise SimError(
            "search_invalid",
            f"Operator {f.operator} on {f.propertyName} needs a value.",
            param="filterGroups",
            status=400,
        )
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _tokens(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", text.casefold()) if w]


def filter_matches(t: str, obj: CrmObject, f: Filter) -> bool:
    actual = obj.properties.get(f.propertyName)
    op = f.operator
    if op == "HAS_PROPERTY":
        return actual is not None
    if op == "NOT_HAS_PROPERTY":
        return actual is None
    if op in ("IN", "NOT_IN"):
        if not f.values:
            raise SimError("search_invalid", f"Operator {op} needs `values`.", param="filterGroups", status=400)
        wanted = {_comparable(t, f.propertyName, _value(f, v)) for v in f.values}
        hit = actual is not None and _comparable(t, f.propertyName, actual) in wanted
        return hit if op == "IN" else not hit
    value = _value(f, f.value)
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = value.casefold()
        text = (actual or "").casefold()
        hit = actual is not None and (
            fnmatch.fnmatchcase(text, pattern) or any(fnmatch.fnmatchcase(tok, pattern) for tok in _tokens(text))
        )
        return hit if op == "CONTAINS_TOKEN" else not hit
    want = _comparable(t, f.propertyName, value)
    have = None if actual is None else _comparable(t, f.propertyName, actual)
    if op == "EQ":
        return have is not None and bool(have == want)
    if op == "NEQ":
        return bool(have != want)
    if have is None or want is None:
        return False
    if op == "BETWEEN":
        high = _comparable(t, f.propertyName, _value(f, f.highValue))
        return high is not None and bool(want <= have <= high)
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "LT": lambda a, b: a < b,
        "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b,
        "GTE": lambda a, b: a >= b,
    }
    return checks[op](have, want)


def _query_matches(t: str, obj: CrmObject, query: str) -> bool:
    words = [w for w in re.findall(r"\w+", query.casefold()) if w]
    if not words:
        return True
    text = " ".join(obj.properties.get(p) or "" for p in QUERY_PROPERTIES[t]).casefold()
    have = re.findall(r"\w+", text)
    return all(any(h.startswith(w) for h in have) for w in words)


def search_objects(ctx: Context, t: str, p: SearchParams) -> dict[str, Any]:
    schema = SCHEMAS[t]
    filters = [f for g in p.filterGroups for f in g.filters]
    if len(filters) > _SEARCH_FILTERS_MAX:
        raise SimError(
            "search_invalid",
            f"At most {_SEARCH_FILTERS_MAX} filters across all filter groups.",
            param="filterGroups",
            status=400,
        )
    for f in filters:
        if f.propertyName not in schema:
            raise SimError(
                "search_invalid",
                f'Property "{f.propertyName}" does not exist on {t}.',
                param="filterGroups",
                status=400,
            )
    sorts: list[tuple[str, bool]] = []
    for s in p.sorts:
        name, descending = (
            (s.propertyName, s.direction == "DESCENDING") if isinstance(s, Sort) else (s.lstrip("-"), s.startswith("-"))
        )
        if name not in schema:
            raise SimError(
                "search_invalid", f'Cannot sort by "{name}": no such property on {t}.', param="sorts", status=400
            )
        sorts.append((name, descending))
    offset = p.after if isinstance(p.after, int) else after_id(p.after)
    if offset + p.limit > _MAX_SEARCH_RESULTS:
        raise SimError(
            "search_invalid", f"Search results are limited to {_MAX_SEARCH_RESULTS}.", param="after", status=400
        )
    rows = ordered(ctx, t, archived=False)
    if p.filterGroups:
        rows = [o for o in rows if any(all(filter_matches(t, o, f) for f in g.filters) for g in p.filterGroups)]
    if p.query:
        rows = [o for o in rows if _query_matches(t, o, p.query)]
    for name, descending in reversed(sorts):
        present = [o for o in rows if o.properties.get(name) is not None]
        missing = [o for o in rows if o.properties.get(name) is None]
        present.sort(key=lambda o: _sort_value(t, name, o.properties.get(name) or ""), reverse=descending)
        rows = present + missing
    window = rows[offset : offset + p.limit]
    names = [*p.properties, "hs_object_id", *STAMPS[t]] if p.properties else None
    out: dict[str, Any] = {"total": len(rows), "results": [render(o, t, names) for o in window]}
    if offset + p.limit < len(rows):
        out["paging"] = {"next": {"after": str(offset + p.limit)}}
    return out


def _sort_value(t: str, name: str, value: str) -> tuple[int, Any]:
    v = _comparable(t, name, value)
    return (0, v) if v is not None else (1, value)
