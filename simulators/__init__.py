"""Local service simulators for testing agents: ``billing`` (Stripe-like), ``ticketing``
(Zendesk-like) and ``crm`` (HubSpot-like), all built on :mod:`simulators.core`.

The lines below are the simulator registry's entries (``simulators.core.registry``): one line
per simulator, and the pytest fixtures, ``agent_sims``, ``--agent-staging`` and ``agentops sim
serve`` follow from it. Simulator classes are imported lazily so that importing this package
stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from simulators.core.registry import REGISTRY, Registration, register

if TYPE_CHECKING:
    from simulators.core.simulator import Simulator

register(
    "billing",
    "simulators.billing:BillingSimulator",
    base_url="https://billing.sim.agentops.local",
    about="Stripe-compatible billing",
)
register(
    "ticketing",
    "simulators.ticketing:TicketingSimulator",
    base_url="https://ticketing.sim.agentops.local",
    about="Zendesk-compatible ticketing",
)
register(
    "crm", "simulators.crm:CrmSimulator", base_url="https://crm.sim.agentops.local", about="HubSpot-compatible CRM"
)

#: simulator name -> its registration (a live view of the registry, kept under its old name)
SIMULATORS: Mapping[str, Registration] = REGISTRY


def simulator_class(name: str) -> type[Simulator]:
    """The simulator class registered under ``name`` (``billing``, ``ticketing``, ``crm``)."""
    return REGISTRY.get_entry(name).load()


def __getattr__(name: str) -> Any:
    for entry in REGISTRY.values():
        if isinstance(entry.target, str) and entry.target.endswith(f":{name}"):
            return entry.load()
    raise AttributeError(f"module 'simulators' has no attribute {name!r}")


__all__ = ["REGISTRY", "SIMULATORS", "Registration", "register", "simulator_class"]
