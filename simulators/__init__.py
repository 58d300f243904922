"""Local service simulators for testing agents: ``billing`` (Stripe-like), ``ticketing``
(Zendesk-like) and ``crm`` (HubSpot-like), all built on :mod:`simulators.core`.

Simulator classes are imported lazily so that importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.core.simulator import Simulator

#: simulator name -> "module:Class"; the plugin builds its fixtures from this table.
SIMULATORS: dict[str, str] = {
    "billing": "simulators.billing:BillingSimulator",
    "ticketing": "simulators.ticketing:TicketingSimulator",
    "crm": "simulators.crm:CrmSimulator",
}


def simulator_class(name: str) -> type[Simulator]:
    """The simulator class registered under ``name`` (``billing``, ``ticketing``, ``crm``)."""
    module, _, attr = SIMULATORS[name].partition(":")
    cls: type[Simulator] = getattr(importlib.import_module(module), attr)
    return cls


def __getattr__(name: str) -> Any:
    for target in SIMULATORS.values():
        module, _, attr = target.partition(":")
        if attr == name:
            return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'simulators' has no attribute {name!r}")


__all__ = ["SIMULATORS", "simulator_class"]
