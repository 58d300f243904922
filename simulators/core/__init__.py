"""Shared simulator core: state, ids, clock, idempotency, tenants and tokens, ledger, faults,
HTTP plumbing, OpenAPI and the simulator registry. Services (billing, ticketing, crm) build on
:class:`Simulator`.

The names below are read from their modules on use (a dictionary lookup once loaded): reading the
registry (``simulators.core.registry``, which pytest reads at startup) must not import pydantic and
every simulator module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.core.auth import READ, WRITE, TokenInfo
    from simulators.core.clock import SimClock
    from simulators.core.errors import CORE_ERROR_CODES, SimError
    from simulators.core.faults import FaultRule, Faults
    from simulators.core.ids import IdFactory
    from simulators.core.ledger import Change, Ledger, LedgerEntry
    from simulators.core.pagination import Page, paginate
    from simulators.core.routing import Route, Router
    from simulators.core.server import SimServer
    from simulators.core.simulator import Context, Reply, Simulator, Snapshot
    from simulators.core.state import ResourceSpec
    from simulators.core.wire import SimResponse, decode_form

_WHERE = {
    "READ": "auth",
    "WRITE": "auth",
    "TokenInfo": "auth",
    "SimClock": "clock",
    "CORE_ERROR_CODES": "errors",
    "SimError": "errors",
    "FaultRule": "faults",
    "Faults": "faults",
    "IdFactory": "ids",
    "Change": "ledger",
    "Ledger": "ledger",
    "LedgerEntry": "ledger",
    "Page": "pagination",
    "paginate": "pagination",
    "Route": "routing",
    "Router": "routing",
    "SimServer": "server",
    "Context": "simulator",
    "Reply": "simulator",
    "Simulator": "simulator",
    "Snapshot": "simulator",
    "ResourceSpec": "state",
    "SimResponse": "wire",
    "decode_form": "wire",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'simulators.core' has no attribute {name!r}")
    # Not cached here: a module that has since been dropped from ``sys.modules`` (an in-process
    # pytest session's, which pytester forgets) would keep answering with its own copy of the class.
    return getattr(importlib.import_module(f"simulators.core.{module}"), name)


__all__ = [
    "CORE_ERROR_CODES",
    "READ",
    "WRITE",
    "Change",
    "Context",
    "FaultRule",
    "Faults",
    "IdFactory",
    "Ledger",
    "LedgerEntry",
    "Page",
    "Reply",
    "ResourceSpec",
    "Route",
    "Router",
    "SimClock",
    "SimError",
    "SimResponse",
    "SimServer",
    "Simulator",
    "Snapshot",
    "TokenInfo",
    "decode_form",
    "paginate",
]
