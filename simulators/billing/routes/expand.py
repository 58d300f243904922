"""``expand[]``: replace ids by the objects they name, as Stripe does, up to four levels deep.

Stripe checks an expansion path up front, whatever the data: a field that cannot be expanded is
a 400 ``parameter_invalid`` even when the object holds ``null`` there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

#: object type -> field -> resource table it can be expanded from ("*": by the id's prefix)
EXPANDABLE: dict[str, dict[str, str]] = {
    "customer": {"test_clock": "-", "invoice_settings": ".", "default_source": "-"},
    #: nested objects (".") expand inside: the key is "<object>.<field>"
    "customer.invoice_settings": {"default_payment_method": "payment_methods"},
    "payment_intent": {
        "customer": "customers",
        "latest_charge": "charges",
        "invoice": "invoices",
        "payment_method": "payment_methods",
    },
    "charge": {
        "customer": "customers",
        "payment_intent": "payment_intents",
        "invoice": "invoices",
        "balance_transaction": "balance_transactions",
    },
    "refund": {"charge": "charges", "payment_intent": "payment_intents", "balance_transaction": "balance_transactions"},
    "invoice": {
        "customer": "customers",
        "charge": "charges",
        "payment_intent": "payment_intents",
        "subscription": "subscriptions",
        "default_payment_method": "payment_methods",
    },
    "invoiceitem": {"customer": "customers", "invoice": "invoices", "subscription": "subscriptions"},
    "subscription": {
        "customer": "customers",
        "latest_invoice": "invoices",
        "default_payment_method": "payment_methods",
    },
    "subscription_item": {},
    "dispute": {"charge": "charges", "payment_intent": "payment_intents"},
    "balance_transaction": {"source": "*"},
    "product": {"default_price": "prices"},
    "price": {"product": "products"},
    "payment_method": {"customer": "customers"},
}

OBJECT_OF_TABLE = {
    "customers": "customer",
    "charges": "charge",
    "payment_intents": "payment_intent",
    "invoices": "invoice",
    "refunds": "refund",
    "invoice_items": "invoiceitem",
    "subscriptions": "subscription",
    "disputes": "dispute",
    "balance_transactions": "balance_transaction",
    "products": "product",
    "prices": "price",
    "payment_methods": "payment_method",
}

#: id prefix -> table, for polymorphic fields (a balance transaction's ``source``)
TABLE_OF_PREFIX = {"ch": "charges", "re": "refunds", "dp": "disputes", "pi": "payment_intents"}


def _table_for(object_type: str, field: str, value: Any) -> str | None:
    table = EXPANDABLE.get(object_type, {}).get(field)
    if table == "*":
        return TABLE_OF_PREFIX.get(str(value).split("_", 1)[0]) if isinstance(value, str) else None
    return table


def _fetch(ctx: Context, table: str, ident: str) -> Any:
    found = ctx.get(table, ident)
    if found is None and table == "payment_methods":
        from .cards import TEST_PAYMENT_METHODS, payment_method_object  # cards needs this module first

        if ident in TEST_PAYMENT_METHODS:  # Stripe's magic test ids expand like stored methods
            return payment_method_object(ctx, ident, ident)
    return found


def _expand_node(ctx: Context, node: Any, path: list[str], object_type: str | None = None) -> Any:
    if isinstance(node, list):
        return [_expand_node(ctx, item, path, object_type) for item in node]
    if not isinstance(node, dict) or not path:
        return node
    head, rest = path[0], path[1:]
    if head == "data" and node.get("object") in ("list", "search_result"):
        node["data"] = _expand_node(ctx, node["data"], rest)
        return node
    kind = object_type or str(node.get("object"))
    value = node.get(head)
    table = _table_for(kind, head, value)
    if table == ".":  # a nested object: expand inside it
        node[head] = _expand_node(ctx, value, rest, f"{kind}.{head}")
        return node
    if table is None or table == "-":
        return node
    if isinstance(value, str):
        target = _fetch(ctx, table, value)
        if target is not None:
            value = target.model_dump(mode="json")
    node[head] = _expand_node(ctx, value, rest) if rest else value
    return node


def check_expand(object_type: str, path: str) -> None:
    """Reject a path that cannot be expanded whatever the data (Stripe checks it up front)."""
    parts = path.split(".")
    if len(parts) > 4:
        raise SimError("parameter_invalid", f"You cannot expand more than 4 levels ({path}).", param="expand")
    current: str | None = object_type
    for part in parts:
        table = EXPANDABLE.get(current or "", {}).get(part)
        if table is None:
            raise SimError(
                "parameter_invalid",
                f"This property cannot be expanded ({path}). You may want to try expanding 'data.{path}' instead."
                if current is None
                else f"This property cannot be expanded ({path}).",
                param="expand",
            )
        current = f"{current}.{part}" if table == "." else OBJECT_OF_TABLE.get(table)


def respond(ctx: Context, obj: Any, expand: Iterable[str], item_type: str | None = None) -> Any:
    """``obj`` itself (fast JSON path) unless ``expand[]`` asks for nested objects."""
    paths = [p for p in expand if p]
    if not paths:
        return obj
    for p in paths:
        if item_type is not None:
            if not p.startswith("data."):
                raise SimError("parameter_invalid", f"This property cannot be expanded ({p}).", param="expand")
            check_expand(item_type, p[5:])
        else:
            check_expand(obj.object, p)
    data = obj.model_dump(mode="json")
    for p in paths:
        data = _expand_node(ctx, data, p.split("."))
    return data
