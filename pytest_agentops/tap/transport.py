"""httpx's own transports: a claimed request is answered here when its pool would answer it the same.

A request the observer claimed (``tap.observe``) and handed to a plain ``HTTPTransport`` goes on
unchanged to the transport's connection pool, and from there to the tap's boundary (``tap.core``)
when the pool's class still runs the tap's patch: nothing of the test's (respx, a pool of its own)
stands below the transport. Then the tap's answer is the same whether given here or there, so it is
given here, without converting the request to httpcore's form and the answer back (about a fifth
of a replayed request's cost). A request that goes to the network (recording, passing through)
still goes down, carrying the decision taken here, so the boundary neither decides again nor
serves a second recorded answer. Anything else goes down as without this module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pytest_agentops.tap.claim import Claim, claim_of
from pytest_agentops.tap.core import BOUNDARIES, answer_parts

if TYPE_CHECKING:
    from pytest_agentops.tap.request import ReplyHeaders


def patchers(lib: ModuleType) -> Iterator[Any]:
    """``mock.patch`` objects for one httpx flavour's default transports (not started)."""
    from unittest import mock

    sync, asynchronous = lib.HTTPTransport, lib.AsyncHTTPTransport
    yield mock.patch.object(sync, "handle_request", _sync(lib, sync.handle_request))
    yield mock.patch.object(asynchronous, "handle_async_request", _async(lib, asynchronous.handle_async_request))


def _held(transport: Any, request: Any, method: str) -> Claim | None:
    """The observer's claim on ``request`` when ``transport``'s pool would hand it to the tap as is."""
    held = claim_of(request)
    if held is None or held.tap is None:
        return None
    pool_method = getattr(type(getattr(transport, "_pool", None)), method, None)
    return held if pool_method in BOUNDARIES else None


def _response(lib: ModuleType, reply: dict[str, Any], built: ReplyHeaders | None = None) -> Any:
    """The ``lib.Response`` the transport makes of the boundary's httpcore answer (``core._response``)."""
    status, headers, body, extensions = answer_parts(reply, built)
    return lib.Response(status, headers=headers, stream=lib.ByteStream(body), extensions=extensions)


def _sync(lib: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)  # respx and pytest-httpx patch over it later, and read its signature
    def handle_request(self: Any, request: Any) -> Any:
        held = _held(self, request, "handle_request")
        if held is None:
            return original(self, request)
        assert held.tap is not None
        decision = held.tap.decide(held.live)
        if decision.reply is None:  # to the network: the boundary carries this decision out
            held.decision = decision
            return original(self, request)
        held.tap.answer(decision, decision.reply)
        return _response(lib, decision.reply, decision.headers)

    return handle_request


def _async(lib: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def handle_async_request(self: Any, request: Any) -> Any:
        held = _held(self, request, "handle_async_request")
        if held is None:
            return await original(self, request)
        assert held.tap is not None
        decision = held.tap.decide(held.live)
        if decision.reply is None:
            held.decision = decision
            return await original(self, request)
        held.tap.answer(decision, decision.reply)
        return _response(lib, decision.reply, decision.headers)

    return handle_async_request
