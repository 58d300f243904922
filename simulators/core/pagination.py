"""Cursor pagination (``limit`` / ``starting_after`` / ``ending_before``) over an ordered list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from simulators.core.errors import SimError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool


def _ident(obj: Any) -> str:
    return str(obj.id)


def paginate(
    items: Sequence[T],
    *,
    limit: int,
    starting_after: str | None = None,
    ending_before: str | None = None,
    key: Callable[[T], str] = _ident,
) -> Page[T]:
    """One page of ``items`` (already in list order). An unknown cursor is a 404
    ``resource_missing`` naming the cursor parameter, as Stripe answers."""
    if starting_after is not None and ending_before is not None:
        raise SimError(
            "parameter_invalid",
            "You may only specify one of these parameters: starting_after, ending_before.",
            param="ending_before",
        )
    if starting_after is not None or ending_before is not None:
        cursor = starting_after if starting_after is not None else ending_before
        pos = next((i for i, obj in enumerate(items) if key(obj) == cursor), -1)
        if pos < 0:
            raise SimError(
                "resource_missing",
                f"No such object: '{cursor}'",
                param="starting_after" if starting_after is not None else "ending_before",
            )
        if starting_after is not None:
            rest = items[pos + 1 :]
            return Page(list(rest[:limit]), len(rest) > limit)
        before = items[:pos]
        start = max(0, len(before) - limit)
        return Page(list(before[start:]), start > 0)
    return Page(list(items[:limit]), len(items) > limit)
