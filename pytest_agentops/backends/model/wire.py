"""The fake model's answers in each provider's wire format: JSON bodies and SSE streams.

Shapes follow the real APIs (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages) closely
enough that the official SDKs parse them with their own models and stream accumulators. Streams
send text one word at a time (with its leading whitespace) and tool-call arguments in pieces of
``ARGUMENT_PIECE`` characters, so a client really has to reassemble them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pytest_agentops.backends.model.types import Conversation, FakeError, Reply, ToolCall, compact_json

CREATED = 1735689600  # 2025-01-01T00:00:00Z: answers are byte-for-byte deterministic
ARGUMENT_PIECE = 8
_WORDS = re.compile(r"\s*\S+|\s+")

Rendered = tuple[int, dict[str, str], list[bytes]]  # status, headers, body chunks (one per SSE event)

JSON_HEADERS = {"content-type": "application/json"}
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


def words(text: str) -> list[str]:
    return _WORDS.findall(text)


def pieces(text: str, size: int = ARGUMENT_PIECE) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Rendered:
    return status, {**JSON_HEADERS, **(headers or {})}, [compact_json(payload).encode()]


def _sse(events: list[tuple[str | None, Any]]) -> Rendered:
    chunks = []
    for name, data in events:
        line = data if isinstance(data, str) else compact_json(data)
        chunks.append(((f"event: {name}\n" if name else "") + f"data: {line}\n\n").encode())
    return 200, dict(SSE_HEADERS), chunks


def call_id(prefix: str, index: int, position: int, call: ToolCall) -> str:
    return call.id or f"{prefix}_fake{index:04d}x{position}"


# ---- OpenAI Chat Completions -------------------------------------------------------------------


def _chat_usage(usage: tuple[int, int]) -> dict[str, Any]:
    prompt, completion = usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat(conversation: Conversation, reply: Reply, usage: tuple[int, int], *, always_usage: bool = False) -> Rendered:
    n = conversation.index
    finish = "tool_calls" if reply.tool_calls else "stop"
    base = {
        "id": f"chatcmpl-fake{n:04d}",
        "object": "chat.completion",
        "created": CREATED,
        "model": conversation.model,
        "service_tier": "default",
        "system_fingerprint": "fp_agentops_fake",
    }
    calls: list[dict[str, Any]] = [
        {
            "id": call_id("call", n, k, c),
            "type": "function",
            "function": {"name": c.name, "arguments": c.arguments_json},
        }
        for k, c in enumerate(reply.tool_calls)
    ]
    if not conversation.stream:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None, "annotations": []}
        if calls:
            message["tool_calls"] = calls
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return _json(200, {**base, "choices": [choice], "usage": _chat_usage(usage)})

    asked = bool((conversation.body.get("stream_options") or {}).get("include_usage"))
    include_usage = asked or always_usage  # FakeModel.always_include_usage(): frameworks that never ask
    base["object"] = "chat.completion.chunk"

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        out = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if include_usage:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [chunk({"content": word}) for word in words(reply.text or "")]
    for k, call in enumerate(calls):
        head = {
            "index": k,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        chunks.append(chunk({"tool_calls": [head]}))
        for piece in pieces(call["function"]["arguments"]):
            chunks.append(chunk({"tool_calls": [{"index": k, "function": {"arguments": piece}}]}))
    chunks.append(chunk({}, finish))
    if include_usage:
        chunks.append({**base, "choices": [], "usage": _chat_usage(usage)})
    return _sse([(None, c) for c in chunks] + [(None, "[DONE]")])


# ---- OpenAI Responses --------------------------------------------------------------------------


def _responses_usage(usage: tuple[int, int]) -> dict[str, Any]:
    prompt, completion = usage
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def responses_output(conversation: Conversation, reply: Reply) -> list[dict[str, Any]]:
    n = conversation.index
    output: list[dict[str, Any]] = []
    if reply.text is not None:
        part = {"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}
        output.append(
            {"type": "message", "id": f"msg_fake{n:04d}", "status": "completed", "role": "assistant", "content": [part]}
        )
    for k, call in enumerate(reply.tool_calls):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_fake{n:04d}x{k}",
                "call_id": call_id("call", n, k, call),
                "name": call.name,
                "arguments": call.arguments_json,
                "status": "completed",
            }
        )
    return output


def response_id(conversation: Conversation) -> str:
    return f"resp_fake{conversation.index:04d}"


def _response_object(
    conversation: Conversation, output: list[dict[str, Any]], usage: tuple[int, int] | None
) -> dict[str, Any]:
    body = conversation.body
    tools = [
        {
            "type": "function",
            "name": t.get("name"),
            "description": t.get("description"),
            "parameters": t.get("parameters"),
            "strict": t.get("strict", True),
        }
        for t in body.get("tools") or []
        if isinstance(t, dict) and t.get("type", "function") == "function"
    ]
    return {
        "id": response_id(conversation),
        "object": "response",
        "created_at": CREATED,
        "status": "completed" if usage is not None else "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": conversation.model,
        "output": output,
        "parallel_tool_calls": conversation.parallel_tool_calls,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": tools,
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": _responses_usage(usage) if usage is not None else None,
        "user": None,
        "metadata": body.get("metadata") or {},
    }


def responses(conversation: Conversation, reply: Reply, usage: tuple[int, int]) -> Rendered:
    output = responses_output(conversation, reply)
    final = _response_object(conversation, output, usage)
    if not conversation.stream:
        return _json(200, final)
    pending = _response_object(conversation, [], None)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": pending},
        {"type": "response.in_progress", "response": pending},
    ]
    for index, item in enumerate(output):
        ids = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            text = item["content"][0]["text"]
            empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "status": "in_progress", "content": []},
                }
            )
            events.append({"type": "response.content_part.added", "content_index": 0, "part": empty, **ids})
            for word in words(text):
                events.append(
                    {"type": "response.output_text.delta", "content_index": 0, "delta": word, "logprobs": [], **ids}
                )
            events.append(
                {"type": "response.output_text.done", "content_index": 0, "text": text, "logprobs": [], **ids}
            )
            events.append({"type": "response.content_part.done", "content_index": 0, "part": item["content"][0], **ids})
        else:
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "status": "in_progress", "arguments": ""},
                }
            )
            for piece in pieces(item["arguments"]):
                events.append({"type": "response.function_call_arguments.delta", "delta": piece, **ids})
            events.append(
                {
                    "type": "response.function_call_arguments.done",
                    "name": item["name"],
                    "arguments": item["arguments"],
                    **ids,
                }
            )
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": final})
    return _sse([(e["type"], {**e, "sequence_number": i}) for i, e in enumerate(events)])


# ---- Anthropic Messages ------------------------------------------------------------------------


def _anthropic_usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def anthropic_content(conversation: Conversation, reply: Reply) -> list[dict[str, Any]]:
    n = conversation.index
    content: list[dict[str, Any]] = []
    if reply.text is not None:
        content.append({"type": "text", "text": reply.text})
    for k, call in enumerate(reply.tool_calls):
        arguments = call.arguments if isinstance(call.arguments, dict) else {"input": call.arguments}
        content.append({"type": "tool_use", "id": call_id("toolu", n, k, call), "name": call.name, "input": arguments})
    return content


def anthropic(conversation: Conversation, reply: Reply, usage: tuple[int, int]) -> Rendered:
    content = anthropic_content(conversation, reply)
    message = {
        "id": f"msg_fake{conversation.index:04d}",
        "type": "message",
        "role": "assistant",
        "model": conversation.model,
        "content": content,
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": _anthropic_usage(*usage),
    }
    if not conversation.stream:
        return _json(200, message)
    start = {**message, "content": [], "stop_reason": None, "usage": _anthropic_usage(usage[0], min(1, usage[1]))}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    for index, block in enumerate(content):
        if block["type"] == "text":
            events.append(
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
            )
            for word in words(block["text"]):
                events.append(
                    {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": word}}
                )
        else:
            events.append({"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}})
            for piece in pieces(compact_json(block["input"])):
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    }
                )
        events.append({"type": "content_block_stop", "index": index})
    # message_delta's usage is cumulative (the whole message so far), as the API sends it.
    cumulative = {k: v for k, v in _anthropic_usage(*usage).items() if k != "service_tier"}
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": cumulative,
        }
    )
    events.append({"type": "message_stop"})
    return _sse([(e["type"], e) for e in events])


def count_tokens_reply(input_tokens: int) -> Rendered:
    return _json(200, {"input_tokens": input_tokens})


# ---- errors ------------------------------------------------------------------------------------

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def error(provider: str | None, failure: FakeError, request_id: str) -> Rendered:
    status = failure.status
    message = failure.message or f"fake model: scripted error {status}"
    headers = {"x-request-id": request_id}
    if not failure.retry:
        headers["x-should-retry"] = "false"
    if status == 429 or status >= 500:
        headers["retry-after-ms"] = str(max(0, round(failure.retry_after * 1000)))
        headers["retry-after"] = str(max(0, math.ceil(failure.retry_after)))
    if provider == "anthropic.messages":
        kind = failure.type or _ANTHROPIC_TYPES.get(status, "api_error")
        headers["request-id"] = request_id
        return _json(
            status, {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}, headers
        )
    kind = failure.type or _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    code = "rate_limit_exceeded" if status == 429 else None
    return _json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers)
