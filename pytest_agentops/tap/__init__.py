"""The tap: every governed HTTP request passes here and is routed to exactly one backend.

Interception is installed once per process (``tap.install``) at the network boundary of each
client: httpcore/httpcore2's connection pools for httpx/httpx2 (``tap.core``), vcrpy's connection
patches for requests/urllib3 and http.client, vcrpy's ``ClientSession._request`` for aiohttp. A mock
the test installed (respx, a ``MockTransport``, ``responses``, a pytest-recording cassette) sits
above that boundary, so it answers first; an observer above the mocks (``tap.observe``) still puts
those requests on the trace. The current test's ``Tap`` asks the gates (policy), then serves a
request from a local backend (simulator, fake model), from the cassette, or lets it go to the
network and records the answer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentops.tap.misses import MISS_STATUS as MISS_STATUS
    from pytest_agentops.tap.replies import forward as forward
    from pytest_agentops.tap.replies import staging_path as staging_path
    from pytest_agentops.tap.request import Decision as Decision
    from pytest_agentops.tap.request import LiveRequest as LiveRequest
    from pytest_agentops.tap.routing import Gate as Gate
    from pytest_agentops.tap.routing import LocalHandler as LocalHandler
    from pytest_agentops.tap.routing import RecordMode as RecordMode
    from pytest_agentops.tap.routing import Reply as Reply
    from pytest_agentops.tap.routing import Tap as Tap

# Loaded on first use (``from pytest_agentops.tap import Tap``): the plugin imports this package at
# start-up for its settings and network guard, and most tests never open a tap.
_HOMES = {
    "Decision": "request",
    "Gate": "routing",
    "LiveRequest": "request",
    "LocalHandler": "routing",
    "MISS_STATUS": "misses",
    "RecordMode": "routing",
    "Reply": "routing",
    "Tap": "routing",
    "forward": "replies",
    "staging_path": "replies",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pytest_agentops.tap' has no attribute {name!r}")
    return getattr(import_module(f"pytest_agentops.tap.{home}"), name)
