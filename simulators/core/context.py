"""What a route handler works with: its :class:`Context` (the caller's tenant, token, path
parameters, simulated time and the transaction to write through) and :class:`Reply` for an answer
other than a plain 200."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulators.core.state import Transaction

if TYPE_CHECKING:
    from simulators.core.auth import TokenInfo
    from simulators.core.routing import Route
    from simulators.core.simulator import Simulator


@dataclass(slots=True)
class Reply:
    """A handler result that needs a status or headers other than 200."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] | None = None


class Context(Transaction):
    """What a handler sees: the caller's tenant (all lookups are confined to it), the token,
    the path parameters, simulated time, and the transaction to write through."""

    __slots__ = ("base_url", "now", "path", "route", "sim", "token")

    def __init__(
        self,
        sim: Simulator,
        tenant: str,
        token: TokenInfo | None,
        route: Route,
        path: dict[str, str],
        base_url: str | None = None,
    ) -> None:
        super().__init__(sim.store, tenant, sim._singular)
        self.sim = sim
        self.token = token
        self.route = route
        self.path = path
        self.now = sim.clock.now()
        #: where the caller reached the simulator (the loopback server's address, or
        #: ``sim.base_url`` in-process): absolute links in answers (next-page URLs) use it
        self.base_url = base_url or sim.base_url

    @property
    def timestamp(self) -> int:
        return int(self.now)

    def new_id(self, prefix: str) -> str:
        return self.sim.ids.new(prefix)

    def new_int_id(self, resource: str) -> int:
        """The next integer id of ``resource`` (for services whose ids are numbers)."""
        return self.sim.ids.next_int(resource)
