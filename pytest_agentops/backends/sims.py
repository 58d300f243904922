"""Simulators behind the tap: per-test instances, served in-process or on loopback ports.

A simulator is mounted on the tap at its base URL, so every client the tap covers reaches it
without a socket, and every request still passes the trace and the policy gates first. The same
instance can also listen on a real loopback port (``agent_sims``) for subprocesses and SDKs pinned
to a URL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import ssl

    import httpx

    from pytest_agentops.tap.routing import LiveRequest, Reply, Tap
    from simulators.core.routing import Route
    from simulators.core.server import SimServer
    from simulators.core.simulator import Simulator


def __getattr__(name: str) -> Any:
    if name == "NAMES":  # the simulator names, from the registry (kept for one release)
        from simulators import REGISTRY

        return tuple(REGISTRY)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _fault_error_class(kind: str) -> type[Exception]:
    """One exception that every client library recognises as its own dropped/timed-out connection.

    A vcr-patched transport raises whatever the tap raises, so the error must already be the one
    the agent's client (httpx, httpx2, requests/urllib3, aiohttp) would see from a real server.
    """
    bases: list[type[BaseException]] = []
    for module_name in ("httpx", "httpx2"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        bases.append(module.ReadTimeout if kind == "timeout" else module.RemoteProtocolError)
    try:
        import aiohttp

        bases.append(aiohttp.ServerTimeoutError if kind == "timeout" else aiohttp.ServerDisconnectedError)
    except ImportError:
        pass
    bases.append(TimeoutError if kind == "timeout" else ConnectionResetError)

    def __init__(self: Exception, message: str) -> None:
        Exception.__init__(self, message)
        self._request = None  # type: ignore[attr-defined]  # httpx's RequestError reads it

    def __str__(self: Exception) -> str:
        return str(self.args[0]) if self.args else ""

    name = "SimulatedTimeout" if kind == "timeout" else "SimulatedDisconnect"
    return type(name, tuple(bases), {"__init__": __init__, "__str__": __str__, "__module__": __name__})


def fault_error(kind: str, where: str) -> Exception:
    what = "did not answer in time" if kind == "timeout" else "dropped the connection without a response"
    return _fault_error_class(kind)(f"simulator {where} {what} (injected fault)")


def handler(sim: Simulator) -> Any:
    """A tap backend calling ``sim.handle`` in-process."""

    def serve(live: LiveRequest) -> Reply:
        response = sim.handle(live.method, live.url, live.headers, live.body)
        if response.fault in ("drop", "timeout"):
            raise fault_error(response.fault, f"{sim.name} ({live.method} {live.url})")
        return response.status, response.headers, response.body

    return serve


# simulator name -> the base URLs its instances are mounted at (in-process and loopback)
_MOUNTED: dict[str, set[str]] = {}
_changes = [0]  # how many times _MOUNTED changed: the routers' memo is only good for one state


def _mount(name: str, base_url: str) -> None:
    bases = _MOUNTED.setdefault(name, set())
    if base_url.lower() not in bases:
        bases.add(base_url.lower())
        _changes[0] += 1


def _unmount(name: str, base_url: str) -> None:
    """A closed port is no longer the simulator's: the next server on it (a fake MCP server, another
    test's agent) is named as itself, not as this simulator."""
    from pytest_agentops.mcp import servers

    _MOUNTED.get(name, set()).discard(base_url.lower())
    _changes[0] += 1
    servers.forget(base_url + "/mcp")


def mcp_simulator(url: str) -> str | None:
    """The simulator whose MCP endpoint ``url`` is (``<base_url>/mcp`` of a mounted or served
    instance), else None. The tap's MCP naming asks this so a simulator's MCP tools keep their
    simulator names (``billing.refunds.create``) instead of ``mcp.<server>.<tool>``."""
    split = urlsplit(url)
    path = split.path.rstrip("/")
    if not path.endswith("/mcp"):
        return None
    base = f"{split.scheme}://{split.netloc}{path[: -len('/mcp')]}".lower()
    return next((name for name, bases in _MOUNTED.items() if base in bases), None)


def register_tools(sim: Simulator) -> None:
    """Every endpoint of ``sim`` becomes the tool ``<simulator>.<resource>.<action>`` for the policy.

    Registered once per simulator class; the matcher follows every base URL an instance is mounted
    at. No ``schema``: the simulator validates its own contract and answers in its wire format
    (a Stripe error object, not a generic 422), and the refusal is in its ledger.
    """
    from pytest_agentops.policy.tools import ToolSpec, registry

    cls = type(sim)
    first = cls.name not in _MOUNTED
    _mount(cls.name, sim.base_url)
    if not first and all(route.tool in registry for route in cls.routes):
        return
    decode = _decoder(cls)
    routed = _router(cls)
    for route in cls.routes:

        def matcher(method: str, url: str, route: Any = route) -> dict[str, str] | None:
            if method.upper() != route.method:
                return None
            found = routed(method, url)
            if found is None or found[0] is not route:
                return None
            return found[1]  # path parameters join the call's arguments (``id`` of the ticket updated)

        registry.add(
            ToolSpec(
                route.tool,
                kind=route.kind,
                owner=f"simulators.{cls.name}",
                method=route.method,
                matcher=matcher,
                source="simulator",
                description=route.summary,
                decode=decode,
            )
        )


def _decoder(cls: type[Simulator]) -> Callable[[str, str, Any, bytes], Any]:
    """How the policy reads a call's arguments: the body in ``cls``'s wire format, else the query."""
    from simulators.core.wire import decode_body, decode_form

    def decode(method: str, url: str, headers: Any, body: bytes) -> Any:
        try:
            if body and method not in cls.query_methods:
                return decode_body(body, headers.get("content-type"), cls.body_format)
            return decode_form(urlsplit(url).query)
        except Exception:
            return None  # the simulator answers malformed input itself

    return decode


_Found = tuple["Route", dict[str, str]] | None


def _router(cls: type[Simulator]) -> Callable[[str, str], _Found]:
    """``cls``'s match of a request (route, path parameters), shared by all of its routes' matchers."""
    last: list[tuple[tuple[str, str, int], _Found]] = []  # (method, url, bases), match: the request being resolved

    def routed(method: str, url: str) -> _Found:
        """The simulator's match of this request, computed once for all of its routes' matchers."""
        mounted = _MOUNTED[cls.name]
        key = (method, url, _changes[0])  # a mount or an unmount invalidates the memo
        memo = last[0] if last else None
        if memo is not None and memo[0] == key:
            return memo[1]
        low = url.lower()
        found = cls.match_route(method, url) if any(low.startswith(b) for b in mounted) else None
        last[:] = [(key, found)]
        return found

    return routed


@functools.cache
def _default_tls() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()


def _with_tls(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The client's arguments, sharing one default TLS context when the caller chose none.

    httpx builds a context for every client and loads the CA bundle into it: about 18 ms, the
    larger part of making a client. One verified context serves any number of clients (httpx's
    own advice for code that makes many); a caller's ``verify``, ``cert`` or ``trust_env`` is kept.
    """
    if {"verify", "cert", "trust_env"} & kwargs.keys():
        return kwargs
    return {**kwargs, "verify": _default_tls()}


class TappedSimulator:
    """The fixture object: the simulator itself, with clients that go through the tap.

    ``sim.client()`` of the bare simulator calls ``handle()`` directly; here the client is a plain
    httpx client, so its requests are traced and policed like the agent's own.
    """

    def __init__(self, sim: Simulator, base_url: str | None = None) -> None:
        self._sim = sim
        self._base_url = base_url

    @property
    def base_url(self) -> str:
        return self._base_url or self._sim.base_url

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        import httpx

        headers = {**self._sim.auth_headers(token), **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.base_url, headers=headers, **_with_tls(kwargs))

    def async_client(self, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        import httpx

        headers = {**self._sim.auth_headers(token), **kwargs.pop("headers", {})}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, **_with_tls(kwargs))

    @property
    def simulator(self) -> Simulator:
        return self._sim

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sim, name)

    def __repr__(self) -> str:
        return f"<{type(self._sim).__name__} at {self.base_url}>"


class SimSet:
    """The per-test simulators, created on first use and mounted on the tap."""

    def __init__(self, tap: Tap, staging: dict[str, str], recording: bool) -> None:
        self.tap = tap
        self.staging = staging
        self.recording = recording
        self._sims: dict[str, TappedSimulator] = {}
        self._servers: dict[str, SimServer] = {}

    def get(self, name: str) -> TappedSimulator:
        if name not in self._sims:
            from simulators import REGISTRY

            entry = REGISTRY.get_entry(name)
            sim = entry.load()()
            origin = sim.base_url
            if self.recording and entry.staging in self.staging:
                # Record the staging service's answers under the simulator's URL.
                self.tap.redirect(origin, self.staging[entry.staging])
            elif origin.lower() not in self.tap.cassette.origins():
                # A cassette that recorded this origin (from staging) replays it; otherwise simulate.
                self.tap.mount(origin, handler(sim))
            register_tools(sim)
            from pytest_agentops.policy.budget import watch_clock

            watch_clock(self.tap.run, name, sim.clock)  # the max_simulated_seconds budget reads it
            self._sims[name] = TappedSimulator(sim)
        return self._sims[name]

    def served(self, name: str) -> TappedSimulator:
        """The same instance on a real loopback port (started on first use)."""
        tapped = self.get(name)
        if name not in self._servers:
            from pytest_agentops.tap.loopback import front
            from simulators.core.server import SimServer

            # Requests on the port (subprocesses, raw sockets) pass this test's gates and trace too.
            server = SimServer(tapped.simulator, front=front(lambda: self.tap)).start()
            self._servers[name] = server
            # In-process clients pointed at the loopback URL are served in-process too, like the rest.
            self.tap.mount(server.base_url, handler(tapped.simulator))
            _mount(tapped.simulator.name, server.base_url)
        return TappedSimulator(tapped.simulator, self._servers[name].base_url)

    def close(self) -> None:
        for name, server in self._servers.items():
            _unmount(name, server.base_url)  # (read before stop: a stopped server has no address)
            server.stop()
        self._servers.clear()


class AgentSims:
    """``agent_sims.crm.base_url`` etc.: the test's simulators listening on loopback ports, one
    attribute per registered simulator (``simulators.core.registry``)."""

    def __init__(self, sims: SimSet) -> None:
        self._set = sims

    def __getattr__(self, name: str) -> TappedSimulator:
        from simulators import REGISTRY

        if name.startswith("_") or name not in REGISTRY:
            raise AttributeError(f"agent_sims has no simulator {name!r}; registered: {', '.join(REGISTRY)}")
        return self._set.served(name)

    def __dir__(self) -> list[str]:
        from simulators import REGISTRY

        return sorted({*super().__dir__(), *REGISTRY})

    def env(self) -> dict[str, str]:
        """Environment variables a subprocess agent can read (``AGENTOPS_<NAME>_URL`` / ``_API_KEY``)."""
        from simulators import REGISTRY

        out: dict[str, str] = {}
        for entry in REGISTRY.values():
            served = self._set.served(entry.name)
            out[f"{entry.env_prefix}_URL"] = served.base_url
            out[f"{entry.env_prefix}_API_KEY"] = served.api_key
        return out
