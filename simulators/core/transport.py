"""httpx transports that call ``Simulator.handle()`` in-process (no socket).

They also show how any transport must treat ``SimResponse.fault``: a dropped connection
becomes the client library's "server disconnected" error and a timeout its read timeout.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from simulators.core.simulator import Simulator
    from simulators.core.wire import SimResponse


def _to_httpx(request: httpx.Request, resp: SimResponse) -> httpx.Response:
    if resp.fault == "drop":
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    if resp.fault == "timeout":
        raise httpx.ReadTimeout("The simulated server did not answer in time.", request=request)
    return httpx.Response(resp.status, headers=resp.headers, content=resp.body, request=request)


class SimTransport(httpx.BaseTransport):
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        resp = self.sim.handle(request.method, str(request.url), dict(request.headers), body)
        return _to_httpx(request, resp)


class AsyncSimTransport(httpx.AsyncBaseTransport):
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        args = (request.method, str(request.url), dict(request.headers), body)
        if self.sim.faults:
            # latency faults sleep; keep the event loop free while they do
            resp = await asyncio.to_thread(self.sim.handle, *args)
        else:
            resp = self.sim.handle(*args)
        return _to_httpx(request, resp)
