"""In-memory state, partitioned by tenant, and the request transaction over it.

Stored objects are immutable (frozen pydantic models): handlers replace them instead of
mutating them. That makes a snapshot a cheap copy of the dicts, lets the ledger keep
before/after by reference, and makes rollback exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from simulators.core.errors import SimError
from simulators.core.ledger import Change

Tables = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """A stored resource: ``name`` is the table and tool resource (``customers``), ``prefix``
    the id prefix (``cus``), ``singular`` its name in messages (``customer``)."""

    name: str
    model: type[BaseModel]
    prefix: str
    singular: str
    numeric_ids: bool = False


class Store:
    """tenant -> resource -> id -> object, in insertion order."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        self._tables: Tables = {}

    def table(self, tenant: str, resource: str) -> dict[str, Any]:
        t = self._tables.get(tenant)
        if t is None:
            t = self._tables[tenant] = {}
        rows = t.get(resource)
        if rows is None:
            rows = t[resource] = {}
        return rows

    def get(self, tenant: str, resource: str, ident: str | int) -> Any:
        t = self._tables.get(tenant)
        if t is None:
            return None
        rows = t.get(resource)
        return None if rows is None else rows.get(ident)  # type: ignore[arg-type]  # Zendesk keys are ints

    def tenants(self) -> list[str]:
        return list(self._tables)

    def items(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for tenant, tables in self._tables.items():
            for resource, rows in tables.items():
                yield tenant, resource, rows

    def copy(self) -> Tables:
        return {t: {r: dict(rows) for r, rows in tables.items()} for t, tables in self._tables.items()}

    def replace(self, tables: Tables) -> None:
        self._tables = {t: {r: dict(rows) for r, rows in ts.items()} for t, ts in tables.items()}


class Transaction:
    """The writes of one request, applied immediately and undone on rollback.

    Requests run one at a time under the simulator's lock, so nobody sees a half-applied
    request; the undo log exists for handlers that fail after writing.
    """

    __slots__ = ("changes", "singular", "store", "tenant")

    def __init__(self, store: Store, tenant: str, singular: dict[str, str]) -> None:
        self.store = store
        self.tenant = tenant
        self.singular = singular
        self.changes: list[Change] = []

    def get(self, resource: str, ident: str) -> Any:
        return self.store.get(self.tenant, resource, ident)

    def require(self, resource: str, ident: str, *, param: str | None = "id") -> Any:
        obj = self.store.get(self.tenant, resource, ident)
        if obj is None:
            name = self.singular.get(resource, resource)
            raise SimError("resource_missing", f"No such {name}: '{ident}'", param=param)
        return obj

    def all(self, resource: str) -> list[Any]:
        t = self.store._tables.get(self.tenant)
        rows = None if t is None else t.get(resource)
        return [] if rows is None else list(rows.values())

    def insert(self, resource: str, obj: Any) -> Any:
        rows = self.store.table(self.tenant, resource)
        ident = obj.id
        if ident in rows:
            raise ValueError(f"{resource} {ident} already exists")
        rows[ident] = obj
        self.changes.append(Change(resource, ident, "create", None, obj))
        return obj

    def update(self, resource: str, obj: Any) -> Any:
        rows = self.store.table(self.tenant, resource)
        ident = obj.id
        before = rows.get(ident)
        if before is None:
            raise KeyError(f"{resource} {ident} does not exist")
        rows[ident] = obj
        self.changes.append(Change(resource, ident, "update", before, obj))
        return obj

    def delete(self, resource: str, ident: str) -> Any:
        rows = self.store.table(self.tenant, resource)
        before = rows.pop(ident)
        self.changes.append(Change(resource, ident, "delete", before, None))
        return before

    def rollback(self) -> None:
        for change in reversed(self.changes):
            rows = self.store.table(self.tenant, change.resource)
            if change.op == "create":
                rows.pop(change.id, None)
            else:
                rows[change.id] = change.before_obj
        self.changes.clear()
