"""The fake model speaking the Gemini API: requests read into a ``Conversation``, answers written back.

Shapes follow ``generateContent`` / ``streamGenerateContent`` closely enough for ``google-genai``
to parse them with its own types: the model comes from the URL; a stream is SSE with ``alt=sse``
(what the SDK asks for) and a JSON array of responses otherwise (the REST default). Text streams
one word per chunk; a ``functionCall`` part comes whole, as the API sends it. Every chunk carries
``usageMetadata`` so far (prompt tokens from the first chunk, the candidates' count at the end).
"""

from __future__ import annotations

import json
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

from pytest_agentops.backends.model.types import (
    Conversation,
    FakeError,
    Message,
    Reply,
    ToolCall,
    ToolDef,
    compact_json,
)
from pytest_agentops.backends.model.wire import JSON_HEADERS, SSE_HEADERS, Rendered, words
from pytest_agentops.trace.providers import gemini as gemini_format

PROVIDER: Final[Literal["google.gemini"]] = "google.gemini"
HOST = "https://generativelanguage.googleapis.com"
_MODES = {"AUTO": "auto", "ANY": "required", "NONE": "none", "VALIDATED": "auto"}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def normalise(url: str, body: dict[str, Any]) -> Conversation:
    """A Gemini request (``contents``, ``systemInstruction``, ``tools``, ``toolConfig``) as a Conversation."""
    messages: list[Message] = []
    system = _parts_text(_dict(body.get("systemInstruction")).get("parts"))
    if system:
        messages.append(Message("system", system))
    for content in body.get("contents") or []:
        if isinstance(content, dict):
            messages.extend(_content_messages(content))
    choice, allowed = _tool_choice(body)
    tools = _tools(body)
    if allowed:
        tools = [t for t in tools if t.name in allowed]
    return Conversation(
        provider=PROVIDER,
        model=gemini_format.model_of(url) or "",
        messages=messages,
        tools=tools,
        stream=gemini_format.is_stream_url(url),
        tool_choice=choice,
        body=body,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _parts_text(parts: Any) -> str:
    items = parts if isinstance(parts, list) else []
    return "".join(
        p["text"] for p in items if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")
    )


def _content_messages(content: dict[str, Any]) -> list[Message]:
    """One ``Content``: a model turn (text and functionCall parts) or a user turn (text, functionResponse)."""
    parts = [p for p in content.get("parts") or [] if isinstance(p, dict)]
    if content.get("role") == "model":
        calls = [
            ToolCall(str(call.get("name") or ""), call.get("args") or {}, _str(call.get("id")))
            for call in (_dict(p.get("functionCall")) for p in parts)
            if call
        ]
        return [Message("assistant", _parts_text(parts), tool_calls=calls)]
    out: list[Message] = []
    for part in parts:
        answer = _dict(part.get("functionResponse"))
        if answer:
            response = answer.get("response")
            text = response if isinstance(response, str) else compact_json(response if response is not None else {})
            error = isinstance(response, dict) and "error" in response and "output" not in response
            name = _str(answer.get("name"))
            out.append(Message("tool", text, tool_call_id=_str(answer.get("id")), name=name, is_error=error))
    text = _parts_text(parts)
    if text:
        out.append(Message("user", text))
    return out


def _tools(body: dict[str, Any]) -> list[ToolDef]:
    tools: list[ToolDef] = []
    for tool in body.get("tools") or []:
        for declaration in _dict(tool).get("functionDeclarations") or []:
            if isinstance(declaration, dict) and declaration.get("name"):
                # google-genai sends ``parameters_json_schema`` (snake case) for Python callables.
                schema = next(
                    (
                        declaration[k]
                        for k in ("parametersJsonSchema", "parameters_json_schema", "parameters")
                        if k in declaration
                    ),
                    None,
                )
                description = declaration.get("description")
                tools.append(
                    ToolDef(
                        str(declaration["name"]),
                        description if isinstance(description, str) else "",
                        _json_schema(schema) if isinstance(schema, dict) else {},
                    )
                )
    return tools


def _json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-style schema (``type: "OBJECT"``) as JSON Schema (``"object"``)."""
    if isinstance(schema, dict):
        return {
            key: (value.lower() if key == "type" and isinstance(value, str) else _json_schema(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    return schema


def _tool_choice(body: dict[str, Any]) -> tuple[str, set[str]]:
    config = _dict(_dict(body.get("toolConfig")).get("functionCallingConfig"))
    mode = _MODES.get(str(config.get("mode") or "AUTO").upper(), "auto")
    allowed = {str(n) for n in config.get("allowedFunctionNames") or [] if isinstance(n, str)}
    if mode == "required" and len(allowed) == 1:
        return next(iter(allowed)), allowed
    return mode, allowed


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def render(conversation: Conversation, reply: Reply, usage: tuple[int, int], *, sse: bool = True) -> Rendered:
    """The answer: one ``GenerateContentResponse``, or a stream of them (SSE, else a JSON array)."""
    prompt, completion = usage
    base = {"modelVersion": conversation.model, "responseId": f"fake{conversation.index:04d}"}
    calls = [_function_call(call) for call in reply.tool_calls]
    finish = {"finishReason": "STOP", "index": 0}
    if not conversation.stream:
        parts = ([{"text": reply.text}] if reply.text else []) + calls
        whole = {"content": {"role": "model", "parts": parts}, **finish}
        payload = {"candidates": [whole], "usageMetadata": _usage(prompt, completion), **base}
        return 200, dict(JSON_HEADERS), [compact_json(payload).encode()]
    pieces: list[list[dict[str, Any]]] = [[{"text": word}] for word in words(reply.text or "")]
    pieces += [[call] for call in calls]
    chunks: list[dict[str, Any]] = []
    for position, parts in enumerate(pieces or [[{"text": ""}]]):
        last = position == max(len(pieces), 1) - 1
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if last:
            candidate.update(finish)
        meta = _usage(prompt, completion) if last else {"promptTokenCount": prompt, "totalTokenCount": prompt}
        chunks.append({"candidates": [candidate], "usageMetadata": meta, **base})
    if sse:
        return 200, dict(SSE_HEADERS), [f"data: {compact_json(c)}\r\n\r\n".encode() for c in chunks]
    return 200, dict(JSON_HEADERS), [("[" + ",\r\n".join(compact_json(c) for c in chunks) + "]").encode()]


def _function_call(call: ToolCall) -> dict[str, Any]:
    arguments = call.arguments if isinstance(call.arguments, dict) else {"input": call.arguments}
    function: dict[str, Any] = {"name": call.name, "args": arguments}
    if call.id:
        function["id"] = call.id
    return {"functionCall": function}


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion,
        "totalTokenCount": prompt + completion,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }


def wants_sse(url: str) -> bool:
    return "sse" in parse_qs(urlsplit(url).query).get("alt", [])


def error(failure: FakeError, request_id: str) -> Rendered:
    """Google's error body: ``{"error": {"code", "message", "status"}}``."""
    status = failure.status
    message = failure.message or f"fake model: scripted error {status}"
    kind = failure.type or _STATUS.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    payload = {"error": {"code": status, "message": message, "status": kind}}
    return status, {**JSON_HEADERS, "x-request-id": request_id}, [json.dumps(payload).encode()]
