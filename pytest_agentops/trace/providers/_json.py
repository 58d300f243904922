"""Defensive accessors for decoded JSON: parsers read untrusted bodies and must never raise."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentops.trace.run import UsageSource


def as_dict(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (so lookups can be chained)."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def as_int(value: object) -> int:
    """A token count; anything that is not a plain integer (null, string, bool) counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def as_str(value: object) -> str | None:
    """``value`` when it is a string, else None."""
    return value if isinstance(value, str) else None


def loads_object(text: str) -> dict[str, Any]:
    """Parse a JSON object body; anything else (garbage, arrays, too deep) gives ``{}``."""
    try:
        return as_dict(json.loads(text))
    except (ValueError, RecursionError):
        return {}


def parse_arguments(text: str) -> Any:
    """Tool arguments as JSON when they parse; the raw string otherwise; ``{}`` when empty.

    Models do emit invalid JSON, and keeping the string lets a test show what was sent.
    """
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def usage_source(usage: object) -> UsageSource:
    """``reported`` when the answer carried a usage object, else ``unknown`` (never counted as 0)."""
    return "reported" if isinstance(usage, dict) and usage else "unknown"


def owned(value: object) -> Any:
    """``value`` for a call to keep: a copy when it is an object or array, as the parsed body may be
    a cassette's own (a replayed answer), which a later replay of it must find unchanged."""
    return copy.deepcopy(value) if isinstance(value, dict | list) else value
