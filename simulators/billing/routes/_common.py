"""The billing router and what every resource module shares: lists, search, small helpers."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from simulators.core.errors import SimError
from simulators.core.pagination import paginate
from simulators.core.routing import Router
from simulators.core.simulator import Context

from ..models import ListParams, SearchParams, SearchResult, StripeList, in_range
from .expand import OBJECT_OF_TABLE, respond
from .search import parse

router = Router("billing")

NOT_FOUND = ("resource_missing",)


def created_of(obj: Any) -> int:
    stamp = getattr(obj, "created", None)
    return int(getattr(obj, "date", 0) if stamp is None else stamp)


def newest_first(rows: list[Any]) -> list[Any]:
    """Stripe lists newest first; equal timestamps (a frozen clock) keep reverse insertion order."""
    return sorted(reversed(rows), key=created_of, reverse=True)


def list_response(
    ctx: Context, resource: str, url: str, p: ListParams, keep: Callable[[Any], bool] | None = None
) -> Any:
    """A Stripe list: newest first, ``created`` range and ``keep`` filters, cursor paging, ``expand[]``."""
    rows = newest_first(ctx.all(resource))
    if p.created is not None:
        rows = [r for r in rows if in_range(created_of(r), p.created)]
    if keep is not None:
        rows = [r for r in rows if keep(r)]
    page = paginate(rows, limit=p.limit, starting_after=p.starting_after, ending_before=p.ending_before)
    result = StripeList[Any](data=page.items, has_more=page.has_more, url=url)
    return respond(ctx, result, p.expand, item_type=OBJECT_OF_TABLE[resource])


def _page_token(query: str, offset: int) -> str:
    raw = json.dumps({"q": short_hash(query), "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page_offset(query: str, token: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] == short_hash(query) and isinstance(data["o"], int) and data["o"] >= 0:
            return int(data["o"])
    except (ValueError, KeyError, TypeError):
        pass
    raise SimError("parameter_invalid", f"Invalid page: {token!r} is not a page of this query.", param="page")


def search_response(ctx: Context, resource: str, url: str, p: SearchParams) -> Any:
    """A ``search_result``: newest first, ``next_page`` an opaque token for the same query."""
    match = parse(p.query, resource)
    rows = [r for r in newest_first(ctx.all(resource)) if match(r.model_dump(mode="json"))]
    start = _page_offset(p.query, p.page) if p.page else 0
    items = rows[start : start + p.limit]
    more = start + p.limit < len(rows)
    result = SearchResult[Any](
        data=items,
        has_more=more,
        next_page=_page_token(p.query, start + p.limit) if more else None,
        total_count=len(rows) if "total_count" in p.expand else None,
        url=url,
    )
    expand = [e for e in p.expand if e != "total_count"]
    return respond(ctx, result, expand, item_type=OBJECT_OF_TABLE[resource])


def short_hash(*parts: str, n: int = 8) -> str:
    return hashlib.blake2b("/".join(parts).encode(), digest_size=16).hexdigest()[:n]


def metadata_update(old: dict[str, str], new: dict[str, str] | None) -> dict[str, str]:
    """Stripe merges metadata; an empty value unsets a key, an empty ``metadata`` clears all."""
    if new is None:
        return old
    if not new:
        return {}
    merged = dict(old)
    for k, v in new.items():
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = v
    return merged


def upsert(ctx: Context, resource: str, obj: Any) -> None:
    if ctx.get(resource, obj.id) is None:
        ctx.insert(resource, obj)
    else:
        ctx.update(resource, obj)


def blank_to_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v == "" else v) for k, v in fields.items()}


_ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"})
_SYMBOL = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$", "inr": "₹"}


def money(amount: int, currency: str) -> str:
    """An amount as Stripe writes it in messages: ``$20.00``, ``€5.50``, ``¥2000``, ``12.00 chf``."""
    cur = currency.lower()
    value = f"{amount}" if cur in _ZERO_DECIMAL else f"{amount / 100:.2f}"
    symbol = _SYMBOL.get(cur)
    return f"{symbol}{value}" if symbol else f"{value} {cur}"


__all__ = [
    "list_response",
    "metadata_update",
    "money",
    "newest_first",
    "respond",
    "router",
    "search_response",
    "short_hash",
    "upsert",
]
