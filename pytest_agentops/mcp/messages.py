"""JSON-RPC messages of MCP, parsed once from a request body and from an answer (JSON or SSE)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_METHODS = ("initialize", "server/discover", "ping", "tools/list", "resources/", "prompts/", "notifications/")


class MalformedMessage(ValueError):
    """A body sent to an MCP server that is not JSON-RPC 2.0 (named in the denial the client reads)."""


@dataclass(slots=True)
class Message:
    """One MCP request as the gate sees it: the first ``tools/call`` of a batch, else its first message."""

    method: str
    id: Any = None  # None for a notification (and for GET/DELETE, which carry no message)
    params: dict[str, Any] = field(default_factory=dict)
    batch: bool = False
    http_method: str = "POST"

    @property
    def is_call(self) -> bool:
        return self.method == "tools/call"

    @property
    def tool(self) -> str:
        name = self.params.get("name")
        return name if isinstance(name, str) else ""

    @property
    def arguments(self) -> dict[str, Any]:
        found = self.params.get("arguments")
        return found if isinstance(found, dict) else {}


def looks_like(body: bytes) -> bool:
    """Cheap test before parsing: only a JSON body naming ``jsonrpc`` can be MCP."""
    head = body[:1]
    return (head == b"{" or head == b"[") and b'"jsonrpc"' in body[:4096]


def parse(body: bytes) -> Message:
    """The message in ``body``; ``MalformedMessage`` says what is wrong with it."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise MalformedMessage(f"the body is not JSON ({exc})") from None
    if isinstance(value, list):
        if not value:
            raise MalformedMessage("an empty JSON-RPC batch")
        messages = [_one(item, f"[{index}]") for index, item in enumerate(value)]
        chosen = next((m for m in messages if m.is_call), messages[0])
        chosen.batch = True
        return chosen
    return _one(value, "")


def _one(value: Any, where: str) -> Message:
    if not isinstance(value, dict):
        raise MalformedMessage(f"message{where} is not a JSON object")
    if value.get("jsonrpc") != "2.0":
        raise MalformedMessage(f"message{where} has jsonrpc={value.get('jsonrpc')!r}, not '2.0'")
    method = value.get("method")
    if not isinstance(method, str):
        if "result" in value or "error" in value:  # the client answers a server request
            return Message("(response)", value.get("id"))
        raise MalformedMessage(f"message{where} names no method (a string 'method' is required)")
    params = value.get("params")
    if params is not None and not isinstance(params, dict):
        raise MalformedMessage(f"message{where} ({method}) has params that are not an object")
    message = Message(method, value.get("id"), params or {})
    if message.is_call and not message.tool:
        raise MalformedMessage(f"message{where} is a tools/call naming no tool (params.name)")
    return message


def answers(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The JSON-RPC messages of an answer: a JSON body (one or a batch) or the data of SSE events."""
    if not body:
        return []
    if "text/event-stream" in content_type:
        from pytest_agentops.trace.sse import data_items

        return [data for _, data in data_items(body.decode("utf-8", "replace")) if isinstance(data, dict)]
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return []
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def answer_to(message: Message, body: bytes, content_type: str) -> dict[str, Any] | None:
    """The JSON-RPC response to ``message`` in its answer (the one with its id), if there is one."""
    for item in answers(body, content_type):
        if ("result" in item or "error" in item) and item.get("id") == message.id:
            return item
    return None
