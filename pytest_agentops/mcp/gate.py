"""The gate's view of an MCP message: its verdict, and a denial the client reads as MCP.

A ``tools/call`` is a tool call named ``mcp.<server>.<tool>`` (read or write from the tool's
``readOnlyHint``; a write when nothing says otherwise), judged by every rule an HTTP tool is.
Every other message (handshake, ``tools/list``, resources, prompts, pings, notifications, the GET
stream, the DELETE that ends a session) is a protocol event: traced, never a tool call, a write
or a budgeted call; only a deny of the whole server (``deny=["mcp.weather"]``) refuses it.
A denied call is answered with a JSON-RPC result ``isError: true`` (the model reads a tool error
and goes on); a denied protocol message with a JSON-RPC error object. Never a bare 403.
"""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING, Any

from pytest_agentops.mcp import messages, servers
from pytest_agentops.mcp.messages import MalformedMessage, Message
from pytest_agentops.policy.tools import Denial, Kind
from pytest_agentops.trace.run import Verdict

if TYPE_CHECKING:
    from pytest_agentops.policy.engine import Guard
    from pytest_agentops.tap.routing import LiveRequest, Reply

DENIED_CODE = -32001  # a server-defined JSON-RPC error: the policy refused the message
PARSE_ERROR = -32700


def message_of(live: LiveRequest) -> Message | MalformedMessage | None:
    """The MCP message ``live`` carries (parsed once), a ``MalformedMessage`` for bad JSON-RPC sent to
    a known MCP server, or None when ``live`` is not MCP."""
    if live.mcp is not None:
        return live.mcp  # type: ignore[no-any-return]
    found: Message | MalformedMessage | None = None
    if live.method == "POST" and (messages.looks_like(live.body) or servers.is_known(live.url)):
        try:
            found = messages.parse(live.body)
        except MalformedMessage as exc:
            found = exc
    elif live.method in ("GET", "DELETE") and servers.is_known(live.url):
        found = Message(f"(http {live.method})", http_method=live.method)
    live.mcp = found
    if isinstance(found, Message) and not found.is_call:
        live.kind = "mcp"
    return found


def judge(guard: Guard, live: LiveRequest, message: Message | MalformedMessage) -> tuple[Verdict, Denial | None]:
    """The verdict on one MCP message (and the denial to answer it with)."""
    if isinstance(message, MalformedMessage):
        live.kind = "mcp"
        malformed = Denial("mcp_message", f"malformed JSON-RPC in {live.method} {live.url}: {message}")
        return Verdict(None, None, None, malformed.rule, malformed.message), malformed
    if not message.is_call:
        denial = _server_denied(guard, live)
        if denial is None:
            return Verdict(None, None, message.params or None), None
        return Verdict(None, None, None, denial.rule, denial.message), denial
    return _call_verdict(guard, live, message)


def _server_denied(guard: Guard, live: LiveRequest) -> Denial | None:
    server = servers.server_of(live.url)
    if server is None or not guard.policy.deny:
        return None
    whole = f"mcp.{server}"
    if any(fnmatch.fnmatchcase(whole, pattern) for pattern in guard.policy.deny):
        return Denial("denylist", f"MCP server {whole!r} is on the deny list ({', '.join(guard.policy.deny)})")
    return None


def _call_verdict(guard: Guard, live: LiveRequest, message: Message) -> tuple[Verdict, Denial | None]:
    from pytest_agentops.policy.engine import Call

    name = servers.tool_name(live.url, message.tool)
    spec = guard.registry.get(name)
    info = servers.tool_info(live.url, message.tool)
    # The policy's ``access`` (contract ``safety.tool_access``), then the kind a user registered
    # under this name, then the server's annotations; a write when nothing says otherwise.
    access: Kind = _access_override(guard.policy.access, name) or (
        spec.kind
        if spec is not None and spec.kind_given
        else ("read" if info is not None and info.read_only else "write")
    )
    arguments = message.arguments
    call = Call("tool", name, spec, access, live.method, live.url, live.headers, arguments, arguments, source="mcp")
    denial = guard.check(call)
    if denial is None and info is not None and info.schema is not None:
        denial = _schema_denial(name, info.schema, arguments)
    link = guard.link(name)
    if denial is None:
        return Verdict(name, access, arguments, requested_by=link), None
    return Verdict(name, access, arguments, denial.rule, denial.message, denial.fail_test, link), denial


def _access_override(access: dict[str, Kind], name: str) -> Kind | None:
    if name in access:
        return access[name]
    return next((kind for pattern, kind in access.items() if fnmatch.fnmatchcase(name, pattern)), None)


def _schema_denial(name: str, schema: dict[str, Any], arguments: dict[str, Any]) -> Denial | None:
    """Arguments the tool's ``inputSchema`` (from ``tools/list``) rejects, each error with its field."""
    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError:  # validation needs jsonschema; without it the server judges its arguments
        return None
    try:
        validator = jsonschema.validators.validator_for(schema)(schema)
        errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
    except jsonschema.SchemaError:
        return None
    if not errors:
        return None
    fields = "; ".join(f"{'.'.join(str(p) for p in e.absolute_path) or '(arguments)'}: {e.message}" for e in errors)
    return Denial("arguments", f"tool {name!r}: arguments rejected by its inputSchema: {fields}", status=422)


def denial_reply(message: Message | MalformedMessage, denial: Denial, tool: str | None) -> Reply:
    """The denial as MCP: a tool error for ``tools/call``, a JSON-RPC error for anything else."""
    headers = {"content-type": "application/json", "x-agentops-denied": denial.rule}
    if denial.rule == "cassette_miss":
        text = denial.message
    else:
        text = f"pytest-agentops denied {tool or 'this MCP message'} (rule {denial.rule}): {denial.message}"
    if isinstance(message, MalformedMessage):
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": None, "error": {"code": PARSE_ERROR, "message": text}}
        return 400, headers, json.dumps(body).encode()
    if message.id is None:  # a notification (or GET/DELETE): nothing to answer with a message
        return (202 if message.http_method == "POST" else 405), headers, b""
    if message.is_call:
        result = {"content": [{"type": "text", "text": text}], "isError": True, "resultType": "complete"}
        body = {"jsonrpc": "2.0", "id": message.id, "result": result}
    else:
        error = {"code": DENIED_CODE, "message": text, "data": {"rule": denial.rule}}
        body = {"jsonrpc": "2.0", "id": message.id, "error": error}
    return 200, headers, json.dumps(body).encode()


def unrecorded_tool(live: LiveRequest, recorded: list[Any]) -> str:
    """For a missed ``tools/call`` of a tool the cassette never saw called, a line saying so and naming
    the tools it holds (the nearest recorded request alone would be some handshake); else ''."""
    message = live.mcp
    if not isinstance(message, Message) or not message.is_call:
        return ""
    tools = sorted(_recorded_tools(recorded))
    if message.tool in tools:
        return ""
    shown = ", ".join(tools) or "none"
    return f"the MCP tool {message.tool!r} was never called while recording (recorded calls: {shown})"


def miss_reply(live: LiveRequest, text: str) -> dict[str, Any]:
    """A cassette miss as MCP (the test fails on the miss anyway; the client must not hang or crash)."""
    message = live.mcp
    denial = Denial("cassette_miss", text)
    if isinstance(message, Message) and message.id is not None:
        status, headers, body = denial_reply(message, denial, None)
    else:
        status, headers, body = 404, {"content-type": "application/json"}, b""
    headers = {**headers, "x-agentops-miss": "1"}
    return {
        "status": {"code": status, "message": "Not Recorded" if status == 404 else "OK"},
        "headers": {k: [v] for k, v in headers.items()},
        "body": {"string": body},
    }


def unplayed_stream(live: LiveRequest, recorded: int) -> dict[str, Any] | None:
    """A replayed client reopening the GET stream after every recorded one was played: 405, as a server
    that offers no stream answers (the client stops asking); never a miss for the test."""
    message = live.mcp
    if not isinstance(message, Message) or message.http_method != "GET" or not recorded:
        return None
    headers = {"allow": ["POST, DELETE"], "content-length": ["0"], "x-agentops-replayed": ["stream ended"]}
    return {"status": {"code": 405, "message": "Method Not Allowed"}, "headers": headers, "body": {"string": b""}}


def _recorded_tools(recorded: list[Any]) -> set[str]:
    found = set()
    for interaction in recorded:
        body = interaction.get("request", {}).get("body")
        value = body.get("json") if isinstance(body, dict) else None
        if isinstance(value, dict) and value.get("method") == "tools/call":
            name = value.get("params", {}).get("name")
            if isinstance(name, str):
                found.add(name)
    return found


def answered(live: LiveRequest, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
    """Learn from the answer to ``live`` (server name, tools), and the event fields it gives."""
    message = live.mcp
    if not isinstance(message, Message):
        return {}
    answer = messages.answer_to(message, raw, headers.get("content-type", "")) if message.id is not None else None
    if answer is not None:
        servers.learn(live.url, message.method, answer)
    if not message.is_call:
        return {"label": label(live.url, message)}
    if answer is None:
        return {}
    result = answer.get("result")
    if isinstance(result, dict):
        return {"result": _tool_result(result), "is_error": result.get("isError") is True}
    error = answer.get("error")
    return {"result": error, "is_error": True} if error is not None else {}


_HTTP_LABELS = {"(http GET)": "(GET stream)", "(http DELETE)": "(end session)"}


def label(url: str, message: Message) -> str:
    """A protocol message as the trace tables show it: ``mcp.<server> <method>``."""
    server = servers.server_of(url) or servers.simulator_name(url) or servers.host_name(url)
    return f"mcp.{server} {_HTTP_LABELS.get(message.method, message.method)}"


def _tool_result(result: dict[str, Any]) -> Any:
    if "structuredContent" in result:
        return result["structuredContent"]
    return result.get("content")


def replayed(live: LiveRequest, reply: dict[str, Any]) -> dict[str, Any]:
    """A recorded answer with the live request's JSON-RPC id (ids are not matched, so they may differ)."""
    message = live.mcp
    if not isinstance(message, Message) or message.id is None:
        return reply
    raw = reply["body"]["string"] or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    content_type = ",".join(reply["headers"].get("content-type", []))
    new = _reid(raw, content_type, message.id)
    if new is raw:
        return reply
    headers = {**reply["headers"], "content-length": [str(len(new))]}
    return {**reply, "headers": headers, "body": {"string": new}}


def _reid(raw: bytes, content_type: str, new_id: Any) -> bytes:
    if "text/event-stream" in content_type:
        text = raw.decode("utf-8", "replace")
        out = []
        for line in text.split("\n"):
            if line.startswith("data:"):
                data = line[5:].lstrip(" ")
                try:
                    value = json.loads(data)
                except ValueError:
                    value = None
                if isinstance(value, dict) and ("result" in value or "error" in value) and "id" in value:
                    value["id"] = new_id
                    line = "data: " + json.dumps(value, separators=(",", ":"))
            out.append(line)
        return "\n".join(out).encode("utf-8")
    try:
        value = json.loads(raw.decode("utf-8"))
    except ValueError:
        return raw
    if isinstance(value, dict) and "id" in value:
        value["id"] = new_id
        return json.dumps(value, separators=(",", ":")).encode("utf-8")
    return raw
