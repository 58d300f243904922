"""Shared simulator core: state, ids, clock, idempotency, tenants and tokens, ledger, faults,
HTTP plumbing and OpenAPI. Services (billing, ticketing, crm) build on :class:`Simulator`."""

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
