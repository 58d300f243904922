"""The simulators as MCP servers: every route is an MCP tool, served at ``<base_url>/mcp``.

Agents increasingly reach their tools over the Model Context Protocol, so a simulator must answer
there too, with the same state behind both doors. A ``tools/call`` is therefore rewritten into the
HTTP request its route would get and served by ``Simulator.handle``: tokens and tenants, injected
faults, idempotency keys, validation and the write ledger apply exactly as over HTTP, and one
policy name (``billing.refunds.create``) governs both transports.

The HTTP side is streamable HTTP answered with JSON only: no SSE and no ``Mcp-Session-Id``.
Every revision lets a server be stateless and answer a POST with one JSON body, and a server that
never holds a stream open is one that a tap can trace, record and replay without waiting. Both
eras the official ``mcp`` 2.x client speaks are served: the ``initialize`` handshake (2024-11-05
to 2025-11-25) and the stateless per-request envelope of 2026-07-28 (``server/discover``).
``simulators.core.mcp_stdio`` puts the same endpoint on stdin/stdout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pydantic_core

from simulators.core.wire import SimResponse

if TYPE_CHECKING:
    from simulators.core.routing import Route
    from simulators.core.simulator import Simulator

MCP_PATH = "/mcp"
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
#: tools per ``tools/list`` page. Every simulator fits in one: the official client, asked to call a
#: tool it has not listed, re-lists only the first page (a tools/list per call for later pages)
PAGE_SIZE = 100
#: the argument that carries an ``Idempotency-Key`` for a write (the MCP request's header works too)
IDEMPOTENCY_ARGUMENT = "idempotency_key"

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
_PROTOCOL_META = "io.modelcontextprotocol/protocolVersion"
_SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
# headers that describe the MCP message, not the service call it carries
_ENVELOPE_HEADERS = frozenset(
    {"content-type", "content-length", "accept", "host", "mcp-session-id", "mcp-protocol-version", "mcp-method"}
)
_CACHEABLE = frozenset({"tools/list", "server/discover"})
_TOOLS: dict[tuple[type[Any], bool], list[dict[str, Any]]] = {}
#: ``<base_url>/mcp?names=dashed``: tools named ``billing-refunds-create`` for model APIs that allow no
#: dots in function names (OpenAI's and Anthropic's ``^[a-zA-Z0-9_-]+$``); the dotted name is the default
NAMES_PARAMETER = "names"


class RpcError(Exception):
    """A JSON-RPC error object to answer instead of a result."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


# ------------------------------------------------------------------ tools
def tool_descriptor(route: Route) -> dict[str, Any]:
    """The MCP ``Tool`` of a route: the simulator's tool name, its pydantic contract as
    ``inputSchema`` (path parameters included) and hints from its access kind."""
    schema = json.loads(json.dumps(route.input_schema))  # a private copy: the route caches its own
    if route.accepts_idempotency_key:
        schema.setdefault("properties", {})[IDEMPOTENCY_ARGUMENT] = {
            "type": "string",
            "description": "Idempotency-Key: a retry with the same key answers as the first call and writes nothing.",
        }
    read = route.kind == "read"
    annotations: dict[str, Any] = {"title": route.summary or route.tool, "readOnlyHint": read, "openWorldHint": False}
    if not read:
        annotations["destructiveHint"] = route.method == "DELETE"
        annotations["idempotentHint"] = route.method in ("PUT", "DELETE")
    summary = route.summary.rstrip(".") if route.summary else route.tool
    descriptor = {
        "name": route.tool,
        "title": route.summary or route.tool,
        "description": f"{summary} ({route.method} {route.path}).",
        "inputSchema": schema,
        "annotations": annotations,
    }
    output = output_schema(route)
    if output is not None:
        descriptor["outputSchema"] = output
    return descriptor


def output_schema(route: Route) -> dict[str, Any] | None:
    """The route's response model as MCP's ``outputSchema`` (2025-06-18 on), which its
    ``structuredContent`` conforms to; None when its answer is not always one JSON object
    (no model, a 204, a list): MCP requires an object, and a declared schema is a promise."""
    if route.response is None or 204 in route.statuses:
        return None
    from pydantic import TypeAdapter

    schema = TypeAdapter(route.response).json_schema(mode="serialization")
    return schema if schema.get("type") == "object" else None


def tools(cls: type[Simulator], *, dashed: bool = False) -> list[dict[str, Any]]:
    """Every route of ``cls`` as an MCP tool, built once per class (and name form)."""
    found = _TOOLS.get((cls, dashed))
    if found is None:
        found = [tool_descriptor(r) for r in cls.routes]
        if dashed:
            found = [{**tool, "name": tool["name"].replace(".", "-")} for tool in found]
        _TOOLS[(cls, dashed)] = found
    return found


def simulator_tool(name: str) -> str:
    """The simulator tool a wire name calls: ``billing-refunds-create`` is ``billing.refunds.create``
    (simulator tool names never hold a dash, so both forms are always understood)."""
    return name.replace("-", ".")


def _form(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
    """Bracket notation (``created[gte]=1``, ``expand[]=x``), the form ``decode_form`` reads back."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _form(item, f"{prefix}[{key}]" if prefix else str(key), out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            nested = isinstance(item, Mapping | list | tuple)
            _form(item, f"{prefix}[{index}]" if nested else f"{prefix}[]", out)
    elif value is None:
        return
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    else:
        out.append((prefix, str(value)))


def query_string(arguments: Mapping[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    _form(arguments, "", pairs)
    return urlencode(pairs)


# --------------------------------------------------------------- endpoint
class McpEndpoint:
    """Answers JSON-RPC messages for one simulator, whatever carried them (HTTP or stdio).

    ``origin`` is where the caller reached the simulator (its base URL, the loopback server's
    address): the service request a ``tools/call`` becomes is sent there, so links in answers
    (next-page URLs) point where the caller can follow them.
    """

    def __init__(self, sim: Simulator, origin: str | None = None, *, dashed: bool = False) -> None:
        self.sim = sim
        self.origin = (origin or sim.base_url).rstrip("/")
        self.dashed = dashed

    def answer(self, payload: Any, headers: Mapping[str, str]) -> Any:
        """The reply to one message or a batch; None when nothing is owed (notifications only)."""
        if isinstance(payload, list):
            if not payload:
                return _error_reply(None, RpcError(INVALID_REQUEST, "Invalid Request: empty batch"))
            replies = [r for r in (self.answer_one(m, headers) for m in payload) if r is not None]
            return replies or None
        return self.answer_one(payload, headers)

    def answer_one(self, message: Any, headers: Mapping[str, str]) -> dict[str, Any] | None:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or "method" not in message:
            if isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message):
                return None  # a response to a server request we never sent: nothing to answer
            ident = message.get("id") if isinstance(message, dict) else None
            return _error_reply(ident, RpcError(INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message"))
        if "id" not in message:
            return None  # notifications (initialized, cancelled, ...) need no answer
        ident = message["id"]
        params = message.get("params") or {}
        if not isinstance(params, dict):
            return _error_reply(ident, RpcError(INVALID_PARAMS, "params must be an object"))
        try:
            result = self.dispatch(str(message["method"]), params, headers)
        except RpcError as err:
            return _error_reply(ident, err)
        if _is_modern(params, headers):
            result.setdefault("resultType", "complete")
            if message["method"] in _CACHEABLE:
                # 2026-07-28 requires caching directives on listings: never cache (the tools are fixed,
                # but "private, 0" is the spec's safe default and costs one request)
                result.setdefault("ttlMs", 0)
                result.setdefault("cacheScope", "private")
        return {"jsonrpc": "2.0", "id": ident, "result": result}

    def dispatch(self, method: str, params: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        if method == "initialize":
            return self.initialize(params)
        if method == "server/discover":
            return self.discover()
        if method == "ping":
            return {}
        if method == "tools/list":
            return self.list_tools(params)
        if method == "tools/call":
            return self.call_tool(params, headers)
        raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}", data=method)

    # ---------------------------------------------------------- handshake
    def server_info(self) -> dict[str, str]:
        sim = self.sim
        return {"name": sim.name, "title": sim.title or sim.name, "version": sim.api_version}

    def capabilities(self) -> dict[str, Any]:
        return {"tools": {"listChanged": False}}

    def initialize(self, params: Mapping[str, Any]) -> dict[str, Any]:
        asked = params.get("protocolVersion")
        version = asked if asked in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[-1]
        return {
            "protocolVersion": version,
            "capabilities": self.capabilities(),
            "serverInfo": self.server_info(),
            "instructions": self.instructions(),
        }

    def discover(self) -> dict[str, Any]:
        return {
            "supportedVersions": [*HANDSHAKE_VERSIONS, *MODERN_VERSIONS],
            "capabilities": self.capabilities(),
            "instructions": self.instructions(),
            "_meta": {_SERVER_INFO_META: self.server_info()},
            "ttlMs": 0,
            "cacheScope": "private",
            "resultType": "complete",
        }

    def instructions(self) -> str:
        return (
            f"The {self.sim.name} simulator. Each tool is one endpoint of its HTTP API and answers the same "
            "JSON; writes take an optional idempotency_key. Authenticate with the API's Bearer token."
        )

    # -------------------------------------------------------------- tools
    def list_tools(self, params: Mapping[str, Any]) -> dict[str, Any]:
        everything = tools(type(self.sim), dashed=self.dashed)
        cursor = params.get("cursor")
        try:
            start = int(cursor) if cursor is not None else 0
        except (TypeError, ValueError):
            raise RpcError(INVALID_PARAMS, f"Invalid cursor: {cursor!r}") from None
        if not 0 <= start <= len(everything):
            raise RpcError(INVALID_PARAMS, f"Invalid cursor: {cursor!r}")
        page = everything[start : start + PAGE_SIZE]
        result: dict[str, Any] = {"tools": page}
        if start + PAGE_SIZE < len(everything):
            result["nextCursor"] = str(start + PAGE_SIZE)
        return result

    def call_tool(self, params: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        name = params.get("name")
        arguments = params.get("arguments") or {}
        if not isinstance(name, str):
            raise RpcError(INVALID_PARAMS, "tools/call needs a tool name (params.name)")
        if not isinstance(arguments, dict):
            raise RpcError(INVALID_PARAMS, f"{name}: arguments must be an object")
        try:
            route = self.sim.router.by_tool(simulator_tool(name))
        except KeyError:
            raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}", data=name) from None
        try:
            method, url, call_headers, body = self.service_request(route, arguments, headers)
        except ValueError as exc:
            return _tool_error(str(exc))
        response = self.sim.handle(method, url, call_headers, body)
        return self.tool_result(response)

    def service_request(
        self, route: Route, arguments: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[str, str, dict[str, str], bytes]:
        """The HTTP request the route would get for these arguments (what ``sim.handle`` serves)."""
        args = dict(arguments)
        path = route.path
        for name in route.path_params:
            if args.get(name) in (None, ""):
                raise ValueError(f"{route.tool}: missing required argument {name!r} (a path parameter)")
            path = path.replace("{" + name + "}", quote(str(args.pop(name)), safe=""))
        out = {k.lower(): v for k, v in headers.items() if k.lower() not in _ENVELOPE_HEADERS}
        key = args.pop(IDEMPOTENCY_ARGUMENT, None) if route.accepts_idempotency_key else None
        if key is not None:
            out["idempotency-key"] = str(key)
        url = self.origin + path
        if route.method in self.sim.query_methods:
            query = query_string(args)
            return route.method, f"{url}?{query}" if query else url, out, b""
        out["content-type"] = "application/json"
        return route.method, url, out, json.dumps(args).encode() if args else b""

    def tool_result(self, response: SimResponse) -> dict[str, Any]:
        """The service's answer as MCP content: its JSON body as text and ``structuredContent``;
        a service error (or a dropped connection) is an ``isError`` result, never a transport error."""
        meta: dict[str, Any] = {"status": response.status}
        for header, field in (("Request-Id", "request_id"), ("Idempotent-Replayed", "idempotent_replayed")):
            value = response.headers.get(header)
            if value is not None:
                meta[field] = value == "true" if field == "idempotent_replayed" else value
        if response.fault is not None:
            what = "did not answer in time" if response.fault == "timeout" else "dropped the connection"
            text = f"The {self.sim.name} service {what} without a response (injected fault {response.fault!r})."
            return {**_tool_error(text), "_meta": {"fault": response.fault}}
        text = response.body.decode("utf-8", "replace")
        result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": response.status >= 400}
        if response.body:
            try:
                body = pydantic_core.from_json(response.body)
            except ValueError:
                body = None
            if isinstance(body, dict):
                result["structuredContent"] = body
        result["_meta"] = meta
        return result


def _tool_error(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


def _error_reply(ident: Any, err: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": ident, "error": err.payload()}


def _is_modern(params: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    meta = params.get("_meta")
    version = meta.get(_PROTOCOL_META) if isinstance(meta, dict) else None
    if version is None:
        version = {k.lower(): v for k, v in headers.items()}.get("mcp-protocol-version")
    return version in MODERN_VERSIONS


# ------------------------------------------------------------------- HTTP
def _json(status: int, payload: Any, extra: Mapping[str, str] | None = None) -> SimResponse:
    headers = {"Content-Type": "application/json", **(extra or {})}
    return SimResponse(status, headers, pydantic_core.to_json(payload))


def serve_http(sim: Simulator, method: str, url: str, headers: Mapping[str, str], body: bytes) -> SimResponse:
    """``POST <base_url>/mcp``: one JSON-RPC message or batch in, one JSON body out (202 when only
    notifications came). GET (the server-to-client stream) and DELETE (session end) answer 405:
    this server sends nothing unasked and keeps no session."""
    if method != "POST":
        err = RpcError(INVALID_REQUEST, f"Method Not Allowed: {method} {MCP_PATH} (this server answers POST only)")
        return _json(405, _error_reply(None, err), {"Allow": "POST"})
    try:
        payload = pydantic_core.from_json(body or b"")
    except ValueError as exc:
        return _json(400, _error_reply(None, RpcError(PARSE_ERROR, f"Parse error: {exc}")))
    split = urlsplit(url)
    base_path = split.path.rstrip("/")[: -len(MCP_PATH)]
    origin = f"{split.scheme}://{split.netloc}{base_path}" if split.netloc else sim.base_url
    names = parse_qs(split.query).get(NAMES_PARAMETER, ["dotted"])[-1]
    if names not in ("dotted", "dashed"):
        err = RpcError(INVALID_REQUEST, f"{MCP_PATH}?{NAMES_PARAMETER}={names}: expected dotted or dashed")
        return _json(400, _error_reply(None, err))
    reply = McpEndpoint(sim, origin, dashed=names == "dashed").answer(payload, headers)
    if reply is None:
        return SimResponse(202, {}, b"")
    return _json(200, reply)


def is_mcp_path(path: str) -> bool:
    """Whether a request path (after the simulator's base path) is the MCP endpoint."""
    return path.rstrip("/") == MCP_PATH
