"""A scripted MCP server (fixture ``fake_mcp``), in-process on the tap and on a loopback port.

Declare tools (name, input schema, annotations) with scripted or computed results; any MCP client
(the official SDK, the OpenAI Agents SDK, pydantic-ai, fastmcp) talks to it over streamable HTTP
with JSON answers, the 2026 revision (``server/discover``) and the handshake revisions alike. Its
traffic takes the one path: the gate names each call ``mcp.<name>.<tool>``, and the tap writes one
event per message with backend ``fake_mcp``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_agentops.mcp import servers

if TYPE_CHECKING:
    from pytest_agentops.backends.model.server import LoopbackServer
    from pytest_agentops.tap.routing import LiveRequest, Tap

MODERN = "2026-07-28"
HANDSHAKE = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
_JSON = {"content-type": "application/json"}

Result = Any  # a str (text content), a dict (structured content), a list of content blocks, or an Exception


@dataclass
class FakeTool:
    """One tool: what ``tools/list`` shows and what ``tools/call`` answers."""

    name: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any]
    description: str = ""
    results: list[Result] = field(default_factory=list)  # scripted, in order; the last one repeats
    compute: Callable[..., Result] | None = None  # called with the arguments when nothing is scripted
    calls: list[dict[str, Any]] = field(default_factory=list)

    def listed(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_schema,
            "annotations": self.annotations,
        }

    def answer(self, arguments: dict[str, Any]) -> Result:
        self.calls.append(arguments)
        if self.results:
            return self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if self.compute is not None:
            return self.compute(**arguments)
        return ""


class FakeMCP:
    """A scripted MCP server named ``name``, at ``url`` in-process (``serve()`` adds a port)."""

    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.url = f"http://{servers.normalise(name)}.fake-mcp.invalid/mcp"
        self.loopback_url: str | None = None
        self.tools: dict[str, FakeTool] = {}
        self._tap: Tap | None = None
        self._server: LoopbackServer | None = None
        self._others: list[FakeMCP] = []
        servers.register_mcp_server(name, self.url)

    def server(self, name: str) -> FakeMCP:
        """Another fake MCP server, named ``name`` (its tools are ``mcp.<name>.<tool>``), on the same tap."""
        other = FakeMCP(name)
        if self._tap is not None:
            other.attach(self._tap)
        self._others.append(other)
        return other

    def tool(
        self,
        name: str,
        result: Result = None,
        *,
        input_schema: dict[str, Any] | None = None,
        read_only: bool = False,
        annotations: dict[str, Any] | None = None,
        description: str = "",
        compute: Callable[..., Result] | None = None,
    ) -> FakeTool:
        """Add a tool; ``result`` (or a list via ``.results``) is scripted, ``compute(**arguments)`` computed."""
        given = {"readOnlyHint": True} if read_only else {"readOnlyHint": False}
        schema = input_schema or {"type": "object", "properties": {}}
        tool = FakeTool(name, schema, {**given, **(annotations or {})}, description, compute=compute)
        if result is not None:
            tool.results.append(result)
        self.tools[name] = tool
        return tool

    def results(self) -> dict[str, Any]:
        """Every tool's scripted result (a carrier for ``pytest_agentops.fuzz.planted``)."""
        return {name: tool.results[0] for name, tool in self.tools.items() if tool.results}

    def plant(self, planted: Any) -> None:
        """Answer with the results a ``fuzz.planted(..., into=fake_mcp)`` example drew."""
        data = planted.data if hasattr(planted, "data") else planted
        for name, result in data.items():
            self.tools[name].results = [result]

    # ---- where it is served --------------------------------------------------------------------

    def attach(self, tap: Tap) -> FakeMCP:
        self._tap = tap
        tap.mount(self.url, self._on_tap, backend="fake_mcp")
        return self

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on a loopback port too (for a subprocess agent); returns its ``/mcp`` URL."""
        if self._server is None:
            from pytest_agentops.backends.model.server import LoopbackServer

            self._server = LoopbackServer(self._on_port, host, port)
            self.loopback_url = self._server.base_url + "/mcp"
            servers.register_mcp_server(self.name, self.loopback_url)
            if self._tap is not None:
                self._tap.mount(self.loopback_url, self._on_tap, backend="fake_mcp")
        return self.loopback_url or ""

    def close(self) -> None:
        for other in self._others:
            other.close()
        if self._server is not None:
            self._server.stop()
            self._server = None
            if self.loopback_url:
                servers.forget(self.loopback_url)  # the next server on this port is not this fake

    def _on_tap(self, live: LiveRequest) -> tuple[int, dict[str, str], bytes]:
        return self.handle(live.method, live.body)

    def _on_port(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Any:
        """A request on the port takes the in-process path: the tap's gates, this fake, one event."""
        from pytest_agentops.tap import loopback

        tap = self._tap
        if tap is None:
            status, reply_headers, data = self.handle(method, body)
            return status, reply_headers, [data]
        live = loopback.live_request(method, url, headers, body)
        decision = tap.decide(live)
        assert decision.reply is not None  # mounted: the fake (or a denial) always answers
        tap.answer(decision, decision.reply)
        status, reply_headers, data = loopback.answer_of(decision.reply)
        return status, reply_headers, [data]

    # ---- the protocol --------------------------------------------------------------------------

    def handle(self, method: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request of streamable HTTP, answered with JSON (or 202 for notifications)."""
        if method == "DELETE":
            return 200, {}, b""
        if method != "POST":
            return 405, {"allow": "POST, DELETE"}, b""
        try:
            message = json.loads(body)
        except ValueError:
            return 400, _JSON, _error(None, -32700, "the body is not JSON")
        if not isinstance(message, dict) or "method" not in message:
            return 400, _JSON, _error(None, -32600, "not a JSON-RPC request")
        if "id" not in message:
            return 202, {}, b""
        params = message.get("params") or {}
        result = self._result(str(message["method"]), params)
        if result is None:
            return 200, _JSON, _error(message["id"], -32601, f"method not found: {message['method']}")
        reply = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        return 200, _JSON, json.dumps(reply).encode()

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        info = {"name": self.name, "version": "0"}
        meta = {"_meta": {"io.modelcontextprotocol/serverInfo": info}, "resultType": "complete"}
        if method == "initialize":
            asked = params.get("protocolVersion")
            version = asked if asked in HANDSHAKE else HANDSHAKE[0]
            return {"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": info}
        if method == "server/discover":
            return {"supportedVersions": [MODERN], "capabilities": {"tools": {}}, "cacheScope": "private",
                    "ttlMs": 0, **meta}  # fmt: skip
        if method == "ping":
            return {}
        if method == "tools/list":
            return {"tools": [t.listed() for t in self.tools.values()], "cacheScope": "private", "ttlMs": 0, **meta}
        if method == "tools/call":
            return {**self._call(params), **meta}
        return None

    def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        tool = self.tools.get(str(params.get("name")))
        if tool is None:
            return _content(f"unknown tool {params.get('name')!r} on fake MCP server {self.name!r}", error=True)
        try:
            result = tool.answer(dict(params.get("arguments") or {}))
        except Exception as exc:  # a computed result that raised: a tool error, as a real server says it
            return _content(f"{type(exc).__name__}: {exc}", error=True)
        if isinstance(result, Exception):
            return _content(str(result), error=True)
        if isinstance(result, dict):
            return {**_content(json.dumps(result)), "structuredContent": result}
        if isinstance(result, list):
            return {"content": result, "isError": False}
        return _content(str(result))


def _content(text: str, *, error: bool = False) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": error}


def _error(message_id: Any, code: int, text: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": text}}).encode()
