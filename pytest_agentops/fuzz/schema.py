"""JSON Schema -> hypothesis strategies, for the subset pydantic's ``model_json_schema()`` produces.

Covers ``type`` (and lists of types), ``enum``/``const``, ``anyOf``/``oneOf``/``allOf`` (one member),
``$ref`` into ``$defs``, string length/pattern/format, numeric bounds and ``multipleOf``, arrays
(``items``, ``minItems``/``maxItems``, ``uniqueItems``) and objects (``properties``, ``required``,
``additionalProperties``). Sizes are capped so a tool call stays small; values a tool's own validators
reject (beyond its schema) are possible, and ``ToolCall.valid`` says what the tool's model thinks.
No dependency: hypothesis-jsonschema covers more of the standard, this covers what tools declare.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

MAX_STRING = 24
MAX_ITEMS = 3
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=MAX_STRING)
_JSON_LEAF = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    _JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


class SchemaError(ValueError):
    pass


def from_schema(schema: Mapping[str, Any] | bool, defs: Mapping[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """A strategy of values valid for ``schema`` (``$defs`` looked up in ``defs`` or the schema itself)."""
    if isinstance(schema, bool):
        return ANY_JSON if schema else st.nothing()
    defs = {**(defs or {}), **(schema.get("$defs") or schema.get("definitions") or {})}
    return _build(schema, defs, 0)


def _resolve(ref: str, defs: Mapping[str, Any]) -> Mapping[str, Any]:
    name = ref.rsplit("/", 1)[-1]
    if name not in defs:
        raise SchemaError(f"unresolved $ref {ref!r}")
    found: Mapping[str, Any] = defs[name]
    return found


def _build(schema: Mapping[str, Any] | bool, defs: Mapping[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if isinstance(schema, bool):
        return ANY_JSON if schema else st.nothing()
    if depth > 8:
        return st.none()
    if "$ref" in schema:
        target = dict(_resolve(schema["$ref"], defs))
        target.update({k: v for k, v in schema.items() if k != "$ref"})
        return _build(target, defs, depth + 1)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([_build(s, defs, depth + 1) for s in schema[key]])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        merged = dict(schema["allOf"][0])
        merged.update({k: v for k, v in schema.items() if k != "allOf"})
        return _build(merged, defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([_build({**schema, "type": k}, defs, depth) for k in kind])
    if kind is None:
        if "properties" in schema:
            kind = "object"
        elif "items" in schema:
            kind = "array"
        else:
            return ANY_JSON
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return _integer(schema)
    if kind == "number":
        return _number(schema)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return _array(schema, defs, depth)
    if kind == "object":
        return _object(schema, defs, depth)
    raise SchemaError(f"unsupported schema type {kind!r}")


def _string(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    lo = int(schema.get("minLength", 0))
    hi = schema.get("maxLength")
    hi = max(lo, min(int(hi), lo + MAX_STRING)) if hi is not None else lo + MAX_STRING
    pattern = schema.get("pattern")
    if pattern:
        return st.from_regex(re.compile(pattern), fullmatch=True).filter(lambda s: lo <= len(s) <= (hi or len(s)))
    fmt = schema.get("format")
    if fmt == "email":
        return st.emails().filter(lambda s: lo <= len(s) <= max(hi, 254))
    if fmt == "date-time":
        return st.datetimes().map(lambda d: d.isoformat() + "Z")
    if fmt == "date":
        return st.dates().map(lambda d: d.isoformat())
    if fmt in ("uri", "url"):
        return st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9]{0,10}", fullmatch=True)
    return st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=lo, max_size=hi)


def _bounds(schema: Mapping[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    ex_lo, ex_hi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    open_lo = open_hi = False
    if isinstance(ex_lo, int | float) and not isinstance(ex_lo, bool):
        lo, open_lo = ex_lo, True
    if isinstance(ex_hi, int | float) and not isinstance(ex_hi, bool):
        hi, open_hi = ex_hi, True
    return lo, hi, open_lo, open_hi


def _integer(schema: Mapping[str, Any]) -> st.SearchStrategy[int]:
    lo, hi, open_lo, open_hi = _bounds(schema)
    ilo = None if lo is None else (math.floor(lo) + 1 if open_lo else math.ceil(lo))
    ihi = None if hi is None else (math.ceil(hi) - 1 if open_hi else math.floor(hi))
    ilo = ilo if ilo is not None else (-(10**6) if ihi is None else min(0, ihi) - 10**6)
    ihi = ihi if ihi is not None else ilo + 2 * 10**6
    step = schema.get("multipleOf")
    if isinstance(step, int) and step > 0:
        first = -(-ilo // step)
        last = ihi // step
        return st.integers(first, last).map(lambda n: n * step)
    return st.integers(ilo, ihi)


def _number(schema: Mapping[str, Any]) -> st.SearchStrategy[float]:
    lo, hi, open_lo, open_hi = _bounds(schema)
    return st.floats(
        min_value=lo,
        max_value=hi,
        exclude_min=open_lo and lo is not None,
        exclude_max=open_hi and hi is not None,
        allow_nan=False,
        allow_infinity=False,
    )


def _array(schema: Mapping[str, Any], defs: Mapping[str, Any], depth: int) -> st.SearchStrategy[list[Any]]:
    items = _build(schema.get("items", True), defs, depth + 1)
    lo = int(schema.get("minItems", 0))
    hi = schema.get("maxItems")
    hi = min(int(hi), lo + MAX_ITEMS) if hi is not None else lo + MAX_ITEMS
    if schema.get("uniqueItems"):
        return st.lists(items, min_size=lo, max_size=hi, unique_by=repr)
    return st.lists(items, min_size=lo, max_size=hi)


def _object(schema: Mapping[str, Any], defs: Mapping[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    props: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    fixed = {k: _build(v, defs, depth + 1) for k, v in props.items() if k in required}
    optional = {k: _build(v, defs, depth + 1) for k, v in props.items() if k not in required}
    extra = schema.get("additionalProperties", True)
    base = st.fixed_dictionaries(fixed, optional=optional)
    if props or extra is False:
        return base  # extra keys are the schema-breaking strategies' job
    values = _build(extra if isinstance(extra, Mapping) else True, defs, depth + 1)
    return st.dictionaries(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8), values, max_size=2)
