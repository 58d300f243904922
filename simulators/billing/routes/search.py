"""Stripe's search query language, the common subset: ``field:"v"``, ``-field:"v"`` (not),
``field~"sub"`` (substring, 3+ characters), ``field>N`` / ``>=`` / ``<`` / ``<=``,
``metadata["k"]:"v"``, clauses joined by ``AND`` (or a space) or by ``OR`` but not both, at
most 10 clauses; string matches ignore case. Fields are the ones Stripe documents per resource.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.core.errors import SimError

#: resource -> the query fields Stripe documents for it (dotted paths into the object)
SEARCH_FIELDS: dict[str, frozenset[str]] = {
    "customers": frozenset({"created", "email", "metadata", "name", "phone", "test_clock"}),
    "charges": frozenset(
        {
            "amount",
            "billing_details.address.postal_code",
            "created",
            "currency",
            "customer",
            "disputed",
            "metadata",
            "payment_method_details.card.brand",
            "payment_method_details.card.exp_month",
            "payment_method_details.card.exp_year",
            "payment_method_details.card.fingerprint",
            "payment_method_details.card.last4",
            "payment_intent",
            "refunded",
            "status",
        }
    ),
    "payment_intents": frozenset({"amount", "created", "currency", "customer", "metadata", "status"}),
    "invoices": frozenset(
        {"created", "currency", "customer", "metadata", "number", "receipt_number", "status", "subscription", "total"}
    ),
    "subscriptions": frozenset({"created", "metadata", "status"}),
}

_DOCS = "https://stripe.com/docs/search#query-fields-for-{resource}"
_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?(?P<field>[a-z_][a-z0-9_.]*)(?:\[\s*"(?P<key>(?:[^"\\]|\\.)*)"\s*\])?"""
    r"""\s*(?P<op>:|~|>=|<=|>|<)\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s"()]+)"""
)
_JOIN = re.compile(r"\s*(AND|OR)\s+|\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Clause:
    field: str
    key: str | None
    op: str
    value: str
    negated: bool

    def matches(self, obj: dict[str, Any]) -> bool:
        return self._test(obj) != self.negated

    def _test(self, obj: dict[str, Any]) -> bool:
        actual = _lookup(obj, self.field, self.key)
        if actual is None:
            return self.op == ":" and self.value.lower() == "null"
        if self.op in (">", ">=", "<", "<="):
            if not isinstance(actual, int) or not self.value.lstrip("-").isdigit():
                return False
            number = int(self.value)
            return {">": actual > number, ">=": actual >= number, "<": actual < number, "<=": actual <= number}[self.op]
        text = str(actual).lower()
        if self.op == "~":
            return self.value.lower() in text
        return text == self.value.lower()


def _lookup(obj: Any, field: str, key: str | None) -> Any:
    node = obj
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if key is not None:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _syntax_error(query: str, detail: str) -> SimError:
    return SimError(
        "parameter_invalid",
        f"We were unable to parse your search query ({detail}). Try using the format "
        '`metadata["key"]:"value"` to query for metadata or `key:"value"` to query for other fields.',
        param="query",
    )


def _unquote(raw: str) -> str:
    if raw.startswith('"'):
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _clause(query: str, resource: str, m: re.Match[str]) -> Clause:
    field, key, op, value = m["field"], m["key"], m["op"], _unquote(m["value"])
    if field not in SEARCH_FIELDS[resource] or (field == "metadata") != (key is not None):
        raise SimError(
            "parameter_invalid",
            f"Field `{field}` is an unsupported search field for resource `{resource}`. "
            f"See {_DOCS.format(resource=resource)} for a list of supported fields.",
            param="query",
        )
    if op == "~" and len(value) < 3:
        raise _syntax_error(query, f"`{field}~` needs at least 3 characters")
    return Clause(field, None if key is None else _unquote(f'"{key}"'), op, value, bool(m["neg"]))


def parse(query: str, resource: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate over an object's JSON form; ``SimError`` (param ``query``) for a bad query."""
    clauses: list[Clause] = []
    joins: set[str] = set()
    pos = 0
    text = query.strip()
    while pos < len(text):
        m = _CLAUSE.match(text, pos)
        if m is None:
            raise _syntax_error(query, f"unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        clauses.append(_clause(query, resource, m))
        pos = m.end()
        if pos < len(text):
            j = _JOIN.match(text, pos)
            if j is None or j.end() == pos:
                raise _syntax_error(query, f"expected AND or OR at position {pos}")
            joins.add((j.group(1) or "AND").upper())
            pos = j.end()
    if not clauses:
        raise _syntax_error(query, "empty query")
    if len(joins) > 1:
        raise SimError(
            "parameter_invalid", "You cannot combine `AND` and `OR` in the same search query.", param="query"
        )
    if len(clauses) > 10:
        raise SimError("parameter_invalid", "A search query may have at most 10 clauses.", param="query")
    if joins == {"OR"}:
        return lambda obj: any(c.matches(obj) for c in clauses)
    return lambda obj: all(c.matches(obj) for c in clauses)
