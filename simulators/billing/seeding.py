"""Seed rows shaped like Stripe's own objects: a fixture from the official ``fixtures3.json`` or a
response recorded from the real API (expanded fields included) is stored as the simulator keeps
objects: expandable references as ids, derived fields filled in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .routes._common import short_hash
from .routes.expand import EXPANDABLE, OBJECT_OF_TABLE

#: nested lists that Stripe sends expanded and the simulator keeps as ids
_ID_LISTS = {"discounts"}
#: references inside nested objects (``transfer_data.destination``), kept as ids too
_NESTED_IDS = (("transfer_data", "destination"),)


def _as_id(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return value


def collapse(object_type: str, row: dict[str, Any]) -> dict[str, Any]:
    """Expanded references (``"customer": {...}``) back to ids, as the simulator stores them."""
    out = dict(row)
    for field in EXPANDABLE.get(object_type, {}):
        if field in out:
            out[field] = _as_id(out[field])
    for outer, inner in _NESTED_IDS:
        if isinstance(out.get(outer), dict) and inner in out[outer]:
            out[outer] = {**out[outer], inner: _as_id(out[outer][inner])}
    for field in _ID_LISTS & out.keys():
        if isinstance(out[field], list):
            out[field] = [_as_id(v) for v in out[field]]
    return out


def check_fields(resource: str, row: dict[str, Any], known: Iterable[str]) -> None:
    """A hand-written row (no ``object`` field) may only use fields the simulator models, so a
    typo fails; a row copied from Stripe (it says ``"object": ...``) keeps the fields it has."""
    if "object" in row:
        return
    unknown = sorted(set(row) - set(known))
    if unknown:
        raise ValueError(
            f"{resource} seed row {row.get('id')!r}: unknown field(s) {', '.join(unknown)} (an object copied "
            'from Stripe, with its "object" field, may carry fields the simulator does not model)'
        )


def prepare(resource: str, row: dict[str, Any]) -> dict[str, Any]:
    """The ``prepare_seed`` of billing: collapse references, fill derived fields."""
    row = collapse(OBJECT_OF_TABLE.get(resource, ""), row)
    ident = row["id"]
    if resource == "customers":
        row.setdefault("invoice_prefix", short_hash(ident).upper())
    elif resource == "payment_intents":
        row.setdefault("client_secret", f"{ident}_secret_{short_hash(ident, 'secret', n=24)}")
    elif resource == "invoice_items":
        row.setdefault("date", row.get("created"))
        row.pop("created", None)
        row.setdefault("period", {"start": row["date"], "end": row["date"]})
    elif resource == "subscriptions":
        _subscription_defaults(row)
    elif resource == "products":
        row.setdefault("updated", row.get("created"))
    return row


def _subscription_defaults(row: dict[str, Any]) -> None:
    created = row.get("created")
    row.setdefault("start_date", created)
    row.setdefault("billing_cycle_anchor", created)
    items = row.get("items")
    if isinstance(items, list):  # a plain list of items: Stripe sends a list object
        row["items"] = {"object": "list", "data": items, "url": f"/v1/subscription_items?subscription={row['id']}"}
    data = row.get("items", {}).get("data", []) if isinstance(row.get("items"), dict) else []
    first = data[0] if data and isinstance(data[0], dict) else {}
    # API 2025-03-31 moved the period onto items; older shapes keep it on the subscription
    row.setdefault("current_period_start", first.get("current_period_start", created))
    row.setdefault("current_period_end", first.get("current_period_end", created))
    for item in data:
        if isinstance(item, dict):
            item.setdefault("subscription", row["id"])
            item.setdefault("current_period_start", row["current_period_start"])
            item.setdefault("current_period_end", row["current_period_end"])
    if "currency" not in row and first.get("price"):
        row["currency"] = first["price"].get("currency")
