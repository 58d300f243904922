"""The fake model speaking AWS Bedrock Converse: requests read into a ``Conversation``, answers written back.

Shapes follow ``Converse`` / ``ConverseStream`` closely enough for boto3's ``bedrock-runtime``
client to parse them with its own service model: the model comes from the URL
(``/model/{modelId}/converse``); a stream is AWS event-stream frames (``trace.eventstream``), one
JSON event each: ``messageStart``, per block ``contentBlockStart`` (tool use only, as Bedrock sends
it), ``contentBlockDelta``\\ s (text one word each, tool input in pieces of 8 characters),
``contentBlockStop``, then ``messageStop`` and ``metadata`` with the usage. Errors carry
``x-amzn-errortype``, which botocore turns into ``ClientError`` codes.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pytest_agentops.backends.model.types import (
    Conversation,
    FakeError,
    Message,
    Reply,
    ToolCall,
    ToolDef,
    compact_json,
)
from pytest_agentops.backends.model.wire import JSON_HEADERS, Rendered, call_id, words
from pytest_agentops.trace import eventstream
from pytest_agentops.trace.providers import bedrock_converse as converse_format

PROVIDER: Final[Literal["bedrock.converse"]] = "bedrock.converse"
STREAM_HEADERS = {"content-type": "application/vnd.amazon.eventstream"}
_ERRORS = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
_ARGUMENT_PIECE = 8


def normalise(url: str, body: dict[str, Any]) -> Conversation:
    """A Converse request (``system``, ``messages``, ``toolConfig``) as a Conversation."""
    messages: list[Message] = []
    system = "".join(b["text"] for b in _blocks(body.get("system")) if isinstance(b.get("text"), str))
    if system:
        messages.append(Message("system", system))
    names: dict[str, str] = {}
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            messages.extend(_messages(message, names))
    config = _dict(body.get("toolConfig"))
    return Conversation(
        provider=PROVIDER,
        model=converse_format.model_of(url) or "",
        messages=messages,
        tools=_tools(config),
        stream=url.split("?", 1)[0].rstrip("/").endswith("/converse-stream"),
        tool_choice=_tool_choice(config),
        body=body,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


def _text(blocks: list[dict[str, Any]]) -> str:
    return "".join(b["text"] for b in blocks if isinstance(b.get("text"), str))


def _messages(message: dict[str, Any], names: dict[str, str]) -> list[Message]:
    """An assistant turn (text, ``toolUse``) or a user turn (text, ``toolResult`` blocks)."""
    blocks = _blocks(message.get("content"))
    if message.get("role") == "assistant":
        calls = []
        for use in (_dict(b.get("toolUse")) for b in blocks):
            if use:
                calls.append(ToolCall(str(use.get("name") or ""), use.get("input") or {}, _str(use.get("toolUseId"))))
                names[str(use.get("toolUseId"))] = str(use.get("name") or "")
        return [Message("assistant", _text(blocks), tool_calls=calls)]
    out: list[Message] = []
    for result in (_dict(b.get("toolResult")) for b in blocks):
        if result:
            parts = _blocks(result.get("content"))
            text = "".join(p["text"] if isinstance(p.get("text"), str) else compact_json(p.get("json")) for p in parts)
            use_id = _str(result.get("toolUseId"))
            error = result.get("status") == "error"
            out.append(Message("tool", text, tool_call_id=use_id, name=names.get(str(use_id)), is_error=error))
    text = _text(blocks)
    if text:
        out.append(Message("user", text))
    return out


def _tools(config: dict[str, Any]) -> list[ToolDef]:
    tools: list[ToolDef] = []
    for spec in (_dict(_dict(t).get("toolSpec")) for t in config.get("tools") or []):
        if spec.get("name"):
            schema = _dict(spec.get("inputSchema")).get("json")
            description = spec.get("description")
            tools.append(
                ToolDef(
                    str(spec["name"]),
                    description if isinstance(description, str) else "",
                    schema if isinstance(schema, dict) else {},
                )
            )
    return tools


def _tool_choice(config: dict[str, Any]) -> str:
    """``{"auto": {}}``, ``{"any": {}}`` (a tool is required) or ``{"tool": {"name": ...}}``."""
    choice = _dict(config.get("toolChoice"))
    if "tool" in choice:
        return str(_dict(choice["tool"]).get("name") or "required")
    return "required" if "any" in choice else "auto"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def render(conversation: Conversation, reply: Reply, usage: tuple[int, int]) -> Rendered:
    """The answer: one Converse response, or its ConverseStream events as event-stream frames."""
    prompt, completion = usage
    totals = {"inputTokens": prompt, "outputTokens": completion, "totalTokens": prompt + completion}
    uses = [_tool_use(conversation.index, k, call) for k, call in enumerate(reply.tool_calls)]
    stop = "tool_use" if uses else "end_turn"
    if not conversation.stream:
        content = ([{"text": reply.text}] if reply.text else []) + [{"toolUse": use} for use in uses]
        payload = {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": totals,
            "metrics": {"latencyMs": 0},
        }
        return 200, dict(JSON_HEADERS), [compact_json(payload).encode()]
    events = [("messageStart", {"role": "assistant"}), *_stream_blocks(reply.text or "", uses)]
    events += [("messageStop", {"stopReason": stop}), ("metadata", {"usage": totals, "metrics": {"latencyMs": 0}})]
    return 200, dict(STREAM_HEADERS), [_frame(kind, event) for kind, event in events]


def _stream_blocks(text: str, uses: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    index = 0
    if text:
        events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": w}}) for w in words(text)]
        events.append(("contentBlockStop", {"contentBlockIndex": 0}))
        index = 1
    for use in uses:
        start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
        events.append(("contentBlockStart", {"contentBlockIndex": index, "start": start}))
        arguments = compact_json(use["input"])
        for at in range(0, len(arguments), _ARGUMENT_PIECE):
            piece = {"toolUse": {"input": arguments[at : at + _ARGUMENT_PIECE]}}
            events.append(("contentBlockDelta", {"contentBlockIndex": index, "delta": piece}))
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    return events


def _tool_use(index: int, position: int, call: ToolCall) -> dict[str, Any]:
    arguments = call.arguments if isinstance(call.arguments, dict) else {"input": call.arguments}
    return {"toolUseId": call_id("tooluse", index, position, call), "name": call.name, "input": arguments}


def _frame(kind: str, event: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return eventstream.encode(headers, compact_json(event).encode())


def error(failure: FakeError, request_id: str) -> Rendered:
    """Bedrock's error: ``{"message": ...}`` with the exception name in ``x-amzn-errortype``."""
    status = failure.status
    message = failure.message or f"fake model: scripted error {status}"
    kind = _ERRORS.get(status, "InternalServerException" if status >= 500 else "ValidationException")
    if failure.type and failure.type.endswith("Exception"):  # a Bedrock name given on purpose
        kind = failure.type
    headers = {**JSON_HEADERS, "x-amzn-errortype": kind, "x-amzn-requestid": request_id}
    return status, headers, [compact_json({"message": message}).encode()]
