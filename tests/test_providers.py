"""Provider parsers: token usage per each API's real rules, tool calls, streams, and bad input.

Every sample payload is first validated against the official SDK models, so the fixtures have
the shapes the real APIs send.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from typing import Any

import anthropic.types as at
import openai.types.chat as oc
import openai.types.responses as orr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_agentops.trace.providers import (
    anthropic_messages,
    detect_provider,
    is_streamed,
    openai_chat,
    openai_responses,
    parse_model_call,
)
from pytest_agentops.trace.run import ModelCall, ToolCallRequest, Usage

CHAT_URL = "https://api.openai.com/v1/chat/completions"
RESPONSES_URL = "https://api.openai.com/v1/responses"
MESSAGES_URL = "https://api.anthropic.com/v1/messages"
SSE = {"content-type": "text/event-stream; charset=utf-8"}
JSON_HEADERS = {"content-type": "application/json"}


def _body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _call(
    url: str,
    body: bytes,
    *,
    request: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> ModelCall:
    request_body = _body(request if request is not None else {"model": "requested-model"})
    call = parse_model_call("POST", url, request_body, status, headers or JSON_HEADERS, body)
    assert call is not None
    return call


def _openai_sse(chunks: list[dict[str, Any]]) -> bytes:
    """Chat Completions wire format: bare ``data:`` lines, then the ``[DONE]`` sentinel."""
    return ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()


def _named_sse(events: list[dict[str, Any]]) -> bytes:
    """Anthropic / Responses wire format: ``event: <type>`` then ``data: <json>``."""
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("POST", CHAT_URL, "openai.chat"),
        ("post", "http://127.0.0.1:8080/proxy/v1/chat/completions/", "openai.chat"),
        (
            "POST",
            "https://x.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
            "openai.chat",
        ),
        ("POST", RESPONSES_URL, "openai.responses"),
        ("POST", MESSAGES_URL, "anthropic.messages"),
        ("POST", "http://localhost:4000/anthropic/v1/messages?beta=true", "anthropic.messages"),
        ("GET", CHAT_URL, None),
        ("GET", "https://api.openai.com/v1/responses/resp_123", None),
        ("POST", "https://api.openai.com/v1/responses/resp_123/cancel", None),
        ("POST", "https://api.anthropic.com/v1/messages/count_tokens", None),
        ("POST", "https://api.openai.com/v1/threads/thread_1/messages", None),
        ("POST", "https://api.openai.com/v1/embeddings", None),
        ("POST", "http://[::1", None),
    ],
)
def test_detect_provider(method: str, url: str, expected: str | None) -> None:
    assert detect_provider(method, url) == expected


AZURE_URL = "https://res.openai.azure.com/openai/deployments/prod%2D4o/chat/completions?api-version=2024-10-21"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:11434/v1/chat/completions",  # Ollama
        "http://10.0.0.5:8000/v1/chat/completions",  # vLLM
        "https://res.openai.azure.com/openai/v1/chat/completions",
        AZURE_URL,
    ],
)
def test_openai_compatible_urls_are_openai_chat(url: str) -> None:
    assert detect_provider("POST", url) == "openai.chat"
    payload = _chat_completion({"role": "assistant", "content": "ok"}, "stop", _chat_usage(5, 2, 0))
    call = _call(url, _body({**payload, "model": "served-model"}), request={"model": "asked"})
    assert (call.model, call.usage) == ("served-model", Usage(input_tokens=5, output_tokens=2))


def test_azure_deployment_names_the_model_when_the_bodies_do_not() -> None:
    payload = _chat_completion({"role": "assistant", "content": "ok"}, "stop", _chat_usage(5, 2, 0))
    del payload["model"]
    assert _call(AZURE_URL, _body(payload), request={"messages": []}).model == "prod-4o"
    assert _call(AZURE_URL, b"{}", request={"messages": []}, status=429).model == "prod-4o"
    assert _call(AZURE_URL, _body(payload), request={"model": "gpt-4o"}).model == "gpt-4o"
    assert _call(CHAT_URL, _body(payload), request={"messages": []}).model is None


def test_non_model_calls_are_not_parsed() -> None:
    assert parse_model_call("POST", "https://example.com/api/search", b"{}", 200, {}, b"{}") is None


def test_streaming_detected_by_header_in_any_case_or_by_body() -> None:
    assert is_streamed({"Content-Type": "text/event-stream"}, "")
    assert is_streamed({"CONTENT-TYPE": "Text/Event-Stream; charset=utf-8"}, "")
    assert is_streamed({}, 'data: {"a": 1}\n\n')
    assert is_streamed({}, "event: ping\ndata: {}\n\n")
    assert not is_streamed({"content-type": "application/json"}, '{"data": 1}')


# --- OpenAI Chat Completions ------------------------------------------------------------------


def _chat_completion(message: dict[str, Any], finish_reason: str, usage: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035",
    }
    oc.ChatCompletion.model_validate(payload)
    return payload


def _chat_usage(prompt: int, completion: int, cached: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def test_chat_plain_text_cached_tokens_are_already_in_prompt_tokens() -> None:
    payload = _chat_completion(
        {"role": "assistant", "content": "Paris is sunny.", "refusal": None, "annotations": []},
        "stop",
        _chat_usage(prompt=1200, completion=35, cached=1024),
    )
    call = _call(CHAT_URL, _body(payload))
    assert call == ModelCall(
        provider="openai.chat",
        model="gpt-4o-2024-08-06",
        usage=Usage(input_tokens=1200, output_tokens=35, cached_input_tokens=1024),
        streamed=False,
        stop_reason="stop",
        text="Paris is sunny.",
    )
    assert call.usage.total_tokens == 1235


def test_chat_plain_tool_calls() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
            {"id": "call_c", "type": "function", "function": {"name": "broken", "arguments": '{"x": '}},
            {"id": "call_d", "type": "custom", "custom": {"name": "apply_patch", "input": "*** Begin"}},
        ],
    }
    call = _call(CHAT_URL, _body(_chat_completion(message, "tool_calls", _chat_usage(82, 40, 0))))
    assert call.tool_calls == [
        ToolCallRequest("call_a", "get_weather", {"city": "Paris"}),
        ToolCallRequest("call_b", "get_time", {}),
        ToolCallRequest("call_c", "broken", '{"x": '),  # invalid JSON is kept as sent
        ToolCallRequest("call_d", "apply_patch", "*** Begin"),
    ]
    assert call.stop_reason == "tool_calls"
    assert call.text == ""
    assert call.usage == Usage(input_tokens=82, output_tokens=40)


def test_chat_reads_the_first_choice_when_n_is_greater_than_one() -> None:
    payload = _chat_completion({"role": "assistant", "content": "first"}, "stop", _chat_usage(10, 4, 0))
    second = {"index": 1, "message": {"role": "assistant", "content": "second"}, "finish_reason": "length"}
    payload["choices"].insert(0, second)
    oc.ChatCompletion.model_validate(payload)
    call = _call(CHAT_URL, _body(payload))
    assert (call.text, call.stop_reason) == ("first", "stop")


def _chunk(delta: dict[str, Any] | None, finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
    chunk = {
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": choices,
        **extra,
    }
    oc.ChatCompletionChunk.model_validate(chunk)
    return chunk


def _tool_delta(index: int, arguments: str, call_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if call_id is not None:
        delta.update(id=call_id, type="function")
        delta["function"]["name"] = name
    return {"tool_calls": [delta]}


def test_chat_stream_reassembles_tool_calls_and_reads_usage_from_last_chunk() -> None:
    chunks = [
        _chunk({"role": "assistant", "content": None, "refusal": None}, usage=None),
        _chunk(_tool_delta(0, "", "call_w", "get_weather"), usage=None),
        _chunk(_tool_delta(0, '{"ci'), usage=None),
        _chunk(_tool_delta(0, 'ty": "Par'), usage=None),
        _chunk(_tool_delta(0, 'is"}'), usage=None),
        _chunk(_tool_delta(1, "", "call_t", "get_time"), usage=None),
        _chunk(_tool_delta(1, '{"tz": "CET"}'), usage=None),
        _chunk({}, "tool_calls", usage=None),
        _chunk(None, usage=_chat_usage(prompt=2048, completion=51, cached=1920)),
    ]
    call = _call(CHAT_URL, _openai_sse(chunks), headers=SSE)
    assert call.streamed is True
    assert call.model == "gpt-4o-mini-2024-07-18"
    assert call.tool_calls == [
        ToolCallRequest("call_w", "get_weather", {"city": "Paris"}),
        ToolCallRequest("call_t", "get_time", {"tz": "CET"}),
    ]
    assert call.stop_reason == "tool_calls"
    assert call.usage == Usage(input_tokens=2048, output_tokens=51, cached_input_tokens=1920)


def test_chat_stream_without_include_usage_has_zero_usage() -> None:
    other_choice = _chunk({"content": "(second choice, n=2)"}, "length")
    other_choice["choices"][0]["index"] = 1
    chunks = [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "Hello"}),
        other_choice,
        _chunk({"content": ", world"}),
        _chunk({}, "stop"),
    ]
    call = _call(CHAT_URL, _openai_sse(chunks), headers={})  # detected from the body alone
    assert call.streamed is True
    assert call.text == "Hello, world"
    assert call.stop_reason == "stop"
    assert call.usage == Usage()
    assert call.tool_calls == []


def test_chat_stream_tool_arguments_invalid_kept_as_string_and_empty_as_empty_object() -> None:
    chunks = [
        _chunk(_tool_delta(0, '{"a": tru', "call_x", "f")),
        _chunk(_tool_delta(1, "", "call_y", "g")),  # some compatible servers send no arguments at all
        _chunk({}, "tool_calls"),
    ]
    call = _call(CHAT_URL, _openai_sse(chunks), headers=SSE)
    assert call.tool_calls == [
        ToolCallRequest("call_x", "f", '{"a": tru'),
        ToolCallRequest("call_y", "g", {}),
    ]


# --- OpenAI Responses -------------------------------------------------------------------------

_RESPONSES_TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": True,
    }
]


def _response(output: list[dict[str, Any]], usage: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    payload = {
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "model": "gpt-4.1-2025-04-14",
        "output": output,
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": _RESPONSES_TOOLS,
        "top_p": 1.0,
        "usage": usage,
        **extra,
    }
    orr.Response.model_validate(payload)
    return payload


def _responses_usage(input_tokens: int, output_tokens: int, cached: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def _message_item(text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _function_item(arguments: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": "fc_12345xyz",
        "call_id": "call_12345xyz",
        "name": "get_weather",
        "arguments": arguments,
        "status": "completed",
    }


def test_responses_plain_text_cached_tokens_are_already_in_input_tokens() -> None:
    payload = _response([_message_item("Hi there.")], _responses_usage(3000, 12, cached=2944))
    call = _call(RESPONSES_URL, _body(payload))
    assert call == ModelCall(
        provider="openai.responses",
        model="gpt-4.1-2025-04-14",
        usage=Usage(input_tokens=3000, output_tokens=12, cached_input_tokens=2944),
        stop_reason="completed",
        text="Hi there.",
    )


def test_responses_plain_function_call() -> None:
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": []}
    payload = _response([reasoning, _function_item('{"city":"Bogotá"}')], _responses_usage(291, 23, 0))
    call = _call(RESPONSES_URL, _body(payload))
    assert call.tool_calls == [ToolCallRequest("call_12345xyz", "get_weather", {"city": "Bogotá"})]
    assert call.usage == Usage(input_tokens=291, output_tokens=23)
    assert call.text == ""


_RESPONSE_EVENTS: dict[str, type[Any]] = {
    "response.created": orr.ResponseCreatedEvent,
    "response.in_progress": orr.ResponseInProgressEvent,
    "response.output_item.added": orr.ResponseOutputItemAddedEvent,
    "response.output_item.done": orr.ResponseOutputItemDoneEvent,
    "response.content_part.added": orr.ResponseContentPartAddedEvent,
    "response.content_part.done": orr.ResponseContentPartDoneEvent,
    "response.output_text.delta": orr.ResponseTextDeltaEvent,
    "response.output_text.done": orr.ResponseTextDoneEvent,
    "response.function_call_arguments.delta": orr.ResponseFunctionCallArgumentsDeltaEvent,
    "response.function_call_arguments.done": orr.ResponseFunctionCallArgumentsDoneEvent,
    "response.completed": orr.ResponseCompletedEvent,
    "response.incomplete": orr.ResponseIncompleteEvent,
}


def _responses_stream(events: list[dict[str, Any]]) -> bytes:
    numbered = [{**event, "sequence_number": n} for n, event in enumerate(events)]
    for event in numbered:
        _RESPONSE_EVENTS[event["type"]].model_validate(event)
    return _named_sse(numbered)


def _text_events(item: dict[str, Any], deltas: list[str]) -> list[dict[str, Any]]:
    ids = {"item_id": item["id"], "output_index": 0}
    part = {"type": "output_text", "text": "", "annotations": []}
    return [
        {"type": "response.output_item.added", "output_index": 0, "item": {**item, "content": []}},
        {"type": "response.content_part.added", "content_index": 0, "part": part, **ids},
        *(
            {"type": "response.output_text.delta", "content_index": 0, "delta": d, "logprobs": [], **ids}
            for d in deltas
        ),
    ]


def test_responses_stream_text_and_function_call_usage_from_completed_event() -> None:
    in_progress = _response([], None, status="in_progress")
    message = _message_item("It is sunny.")
    function = _function_item('{"city":"Paris"}')
    ids = {"item_id": function["id"], "output_index": 1}
    events = [
        {"type": "response.created", "response": in_progress},
        {"type": "response.in_progress", "response": in_progress},
        *_text_events(message, ["It is ", "sunny."]),
        {"type": "response.output_text.done", "content_index": 0, "text": "It is sunny.", "logprobs": [],
         "item_id": message["id"], "output_index": 0},
        {"type": "response.output_item.done", "output_index": 0, "item": message},
        {"type": "response.output_item.added", "output_index": 1, "item": {**function, "arguments": ""}},
        {"type": "response.function_call_arguments.delta", "delta": '{"city":', **ids},
        {"type": "response.function_call_arguments.delta", "delta": '"Paris"}', **ids},
        {"type": "response.function_call_arguments.done", "arguments": function["arguments"], **ids},
        {"type": "response.output_item.done", "output_index": 1, "item": function},
        {"type": "response.completed",
         "response": _response([message, function], _responses_usage(1500, 30, cached=1280))},
    ]  # fmt: skip
    call = _call(RESPONSES_URL, _responses_stream(events), headers=SSE)
    assert call.streamed is True
    assert call.text == "It is sunny."
    assert call.tool_calls == [ToolCallRequest("call_12345xyz", "get_weather", {"city": "Paris"})]
    assert call.usage == Usage(input_tokens=1500, output_tokens=30, cached_input_tokens=1280)
    assert call.stop_reason == "completed"
    assert call.model == "gpt-4.1-2025-04-14"


def test_responses_stream_incomplete_event_carries_usage_and_reason() -> None:
    message = _message_item("Once upon", status="incomplete")
    final = _response(
        [message],
        _responses_usage(40, 16, cached=0),
        status="incomplete",
        incomplete_details={"reason": "max_output_tokens"},
    )
    events = [*_text_events(message, ["Once ", "upon"]), {"type": "response.incomplete", "response": final}]
    call = _call(RESPONSES_URL, _responses_stream(events), headers=SSE)
    assert call.usage == Usage(input_tokens=40, output_tokens=16)
    assert call.stop_reason == "max_output_tokens"
    assert call.text == "Once upon"


def test_responses_interrupted_stream_has_text_and_done_calls_but_zero_usage() -> None:
    created = _response([], None, status="in_progress")
    function = _function_item('{"city":"Lima"}')
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": created},
        {"type": "response.output_item.done", "output_index": 0, "item": function},
        *_text_events(_message_item(""), ["Par"]),
    ]
    call = _call(RESPONSES_URL, _responses_stream(events), headers=SSE)
    assert call.text == "Par"
    assert call.tool_calls == [ToolCallRequest("call_12345xyz", "get_weather", {"city": "Lima"})]
    assert call.usage == Usage()
    assert call.model == "gpt-4.1-2025-04-14"
    assert call.stop_reason is None


# --- Anthropic Messages -----------------------------------------------------------------------


def _anthropic_usage(input_tokens: int, output_tokens: int, read: int = 0, created: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": read,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _message(content: list[dict[str, Any]], stop_reason: str | None, usage: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }
    at.Message.model_validate(payload)
    return payload


def test_anthropic_plain_text_cache_tokens_are_added_to_input() -> None:
    usage = _anthropic_usage(input_tokens=50, output_tokens=120, read=2000, created=300)
    call = _call(MESSAGES_URL, _body(_message([{"type": "text", "text": "Hello!"}], "end_turn", usage)))
    assert call == ModelCall(
        provider="anthropic.messages",
        model="claude-sonnet-4-5-20250929",
        usage=Usage(input_tokens=2350, output_tokens=120, cached_input_tokens=2000, cache_creation_input_tokens=300),
        stop_reason="end_turn",
        text="Hello!",
    )
    assert call.usage.total_tokens == 2470


def test_anthropic_plain_tool_use() -> None:
    content: list[dict[str, Any]] = [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"location": "Paris"}},
        {"type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {}},
    ]
    call = _call(MESSAGES_URL, _body(_message(content, "tool_use", _anthropic_usage(400, 90))))
    assert call.tool_calls == [
        ToolCallRequest("toolu_01A", "get_weather", {"location": "Paris"}),
        ToolCallRequest("toolu_01B", "get_time", {}),
    ]
    assert call.text == "Let me check."
    assert call.stop_reason == "tool_use"
    assert call.usage == Usage(input_tokens=400, output_tokens=90)


_ANTHROPIC_EVENTS: dict[str, type[Any]] = {
    "message_start": at.RawMessageStartEvent,
    "content_block_start": at.RawContentBlockStartEvent,
    "content_block_delta": at.RawContentBlockDeltaEvent,
    "content_block_stop": at.RawContentBlockStopEvent,
    "message_delta": at.RawMessageDeltaEvent,
    "message_stop": at.RawMessageStopEvent,
}


def _anthropic_stream(events: list[dict[str, Any]]) -> bytes:
    for event in events:
        if event["type"] != "ping":  # sent by the API, not modelled by the SDK
            _ANTHROPIC_EVENTS[event["type"]].model_validate(event)
    return _named_sse(events)


def _message_start(usage: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message_start", "message": _message([], None, usage)}


def _message_delta(output_tokens: int, stop_reason: str | None = None, **usage: int) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": output_tokens, **usage},
    }


def _block_delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def test_anthropic_stream_text_tool_use_and_running_total_usage() -> None:
    tool_block = {"type": "tool_use", "id": "toolu_01T", "name": "get_weather", "input": {}}
    events = [
        _message_start(_anthropic_usage(input_tokens=25, output_tokens=1, read=1000, created=0)),
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        _block_delta(0, {"type": "text_delta", "text": "Checking "}),
        _block_delta(0, {"type": "text_delta", "text": "the weather."}),
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": tool_block},
        _block_delta(1, {"type": "input_json_delta", "partial_json": ""}),
        _block_delta(1, {"type": "input_json_delta", "partial_json": '{"location": "San'}),
        _block_delta(1, {"type": "input_json_delta", "partial_json": ' Francisco, CA"}'}),
        {"type": "content_block_stop", "index": 1},
        _message_delta(10),
        _message_delta(25, "tool_use"),  # a running total: 25 in all, not 10 + 25
        {"type": "message_stop"},
    ]
    call = _call(MESSAGES_URL, _anthropic_stream(events), headers=SSE)
    assert call.streamed is True
    assert call.usage == Usage(input_tokens=1025, output_tokens=25, cached_input_tokens=1000)
    assert call.text == "Checking the weather."
    assert call.tool_calls == [ToolCallRequest("toolu_01T", "get_weather", {"location": "San Francisco, CA"})]
    assert call.stop_reason == "tool_use"
    assert call.model == "claude-sonnet-4-5-20250929"


def test_anthropic_stream_tool_input_without_deltas_keeps_start_block_input() -> None:
    """What the SDK's accumulator does too; fake servers send the whole input up front."""
    tool_block = {"type": "tool_use", "id": "toolu_01F", "name": "search", "input": {"q": "pytest"}}
    events = [
        _message_start(_anthropic_usage(input_tokens=9, output_tokens=3)),
        {"type": "content_block_start", "index": 0, "content_block": tool_block},
        {"type": "content_block_stop", "index": 0},
        _message_delta(3, "tool_use"),
    ]
    call = _call(MESSAGES_URL, _anthropic_stream(events), headers=SSE)
    assert call.tool_calls == [ToolCallRequest("toolu_01F", "search", {"q": "pytest"})]
    assert call.usage == Usage(input_tokens=9, output_tokens=3)


def test_anthropic_stream_message_delta_input_totals_override_message_start() -> None:
    tool_block = {"type": "tool_use", "id": "toolu_01N", "name": "list_files", "input": {}}
    events = [
        _message_start(_anthropic_usage(input_tokens=0, output_tokens=1)),
        {"type": "content_block_start", "index": 0, "content_block": tool_block},
        _block_delta(0, {"type": "input_json_delta", "partial_json": ""}),
        {"type": "content_block_stop", "index": 0},
        _message_delta(7, "tool_use", input_tokens=12, cache_read_input_tokens=500, cache_creation_input_tokens=64),
        {"type": "message_stop"},
    ]
    call = _call(MESSAGES_URL, _anthropic_stream(events), headers=SSE)
    assert call.usage == Usage(
        input_tokens=576, output_tokens=7, cached_input_tokens=500, cache_creation_input_tokens=64
    )
    assert call.tool_calls == [ToolCallRequest("toolu_01N", "list_files", {})]  # empty input -> {}


# --- errors and garbage -----------------------------------------------------------------------


@pytest.mark.parametrize("url", [CHAT_URL, RESPONSES_URL, MESSAGES_URL])
def test_error_status_gives_request_model_and_zero_usage(url: str) -> None:
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited"}}
    call = _call(url, _body(error), request={"model": "gpt-4o", "stream": True}, status=429)
    assert call.model == "gpt-4o"
    assert call.usage == Usage()
    assert call.tool_calls == []
    assert call.provider == detect_provider("POST", url)


def test_error_status_ignores_a_body_that_looks_like_a_success() -> None:
    """A failed call is not billed, whatever a (fake or misbehaving) server put in the body."""
    payload = _chat_completion({"role": "assistant", "content": "hi"}, "stop", _chat_usage(100, 9, 0))
    call = _call(CHAT_URL, _body(payload), request={"model": "gpt-4o"}, status=503)
    assert call == ModelCall("openai.chat", "gpt-4o")


@pytest.mark.parametrize("url", [CHAT_URL, RESPONSES_URL, MESSAGES_URL])
@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\xff not json {", b"[1, 2, 3]", b"null", b"<html>502 Bad Gateway</html>", b"[" * 100_000],
)
def test_garbage_body_never_raises(url: str, body: bytes) -> None:
    call = _call(url, body, request={"model": "m-1"})
    assert call.model == "m-1"
    assert call.usage == Usage()
    assert call.tool_calls == []


@pytest.mark.parametrize("url", [CHAT_URL, RESPONSES_URL, MESSAGES_URL])
def test_garbage_stream_never_raises(url: str) -> None:
    body = b'event: message_start\ndata: {"type": "message_start", "message": 5}\n\ndata: {broken\n\ndata: [1]\n\n'
    call = _call(url, body, request={"model": "m-2"}, headers=SSE)
    assert call.streamed is True
    assert call.model == "m-2"
    assert call.usage == Usage()


@pytest.mark.parametrize("url", [CHAT_URL, RESPONSES_URL, MESSAGES_URL])
def test_too_deeply_nested_stream_data_never_raises(url: str) -> None:
    call = _call(url, b"data: " + b"[" * 100_000 + b"\n\n", request={"model": "m-3"}, headers=SSE)
    assert call is not None
    expected = (detect_provider("POST", url), "m-3", Usage(), [])
    assert (call.provider, call.model, call.usage, call.tool_calls) == expected


def test_missing_or_garbage_request_body() -> None:
    payload = _chat_completion({"role": "assistant", "content": "ok"}, "stop", _chat_usage(3, 1, 0))
    for request_body in (None, b"\xff\xfe", b"{"):
        call = parse_model_call("POST", CHAT_URL, request_body, 200, JSON_HEADERS, _body(payload))
        assert call is not None
        assert call.model == "gpt-4o-2024-08-06"
        assert call.usage == Usage(input_tokens=3, output_tokens=1)
    assert parse_model_call("POST", CHAT_URL, None, 500, {}, b"") == ModelCall("openai.chat", None)


def test_wrongly_typed_fields_are_ignored() -> None:
    body = {
        "model": 7,
        "choices": [{"index": 0, "message": {"content": ["x"], "tool_calls": [3, {"function": "f"}]}}, "x"],
        "usage": {"prompt_tokens": "12", "completion_tokens": True, "prompt_tokens_details": []},
    }
    call = _call(CHAT_URL, _body(body), request={"model": "fallback"})
    assert call.model == "fallback"
    assert call.usage == Usage()
    assert call.tool_calls == [ToolCallRequest(None, "", None)]  # the non-object entry is skipped


_PARSERS = {
    CHAT_URL: openai_chat.parse,
    RESPONSES_URL: openai_responses.parse,
    MESSAGES_URL: anthropic_messages.parse,
}
_MALFORMED_BODIES = {
    RESPONSES_URL: {"model": None, "output": ["x", 3, {"type": "message", "content": "hi"}], "usage": 5},
    MESSAGES_URL: {"content": "text", "usage": {"input_tokens": None}, "stop_reason": 3},
}
_MALFORMED_STREAMS = {
    CHAT_URL: [{"choices": [3, {"delta": "x"}, {"delta": {"tool_calls": "x", "content": 4}}]}, [], "s"],
    RESPONSES_URL: [
        {"type": "response.output_item.done", "item": "x"},
        {"type": "response.output_text.delta", "delta": 5},
        {"type": "response.completed", "response": {"output": "x", "usage": []}},
    ],
    MESSAGES_URL: [
        {"type": "message_start", "message": {"usage": "x", "content": 5}},
        {"type": "content_block_start", "index": "0", "content_block": "tool_use"},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": 1}},
        {"type": "content_block_delta", "index": 9, "delta": {"type": "input_json_delta", "partial_json": "{"}},
        {"type": "message_delta", "delta": None, "usage": {"output_tokens": None}},
    ],
}


@pytest.mark.parametrize(("url", "payload"), _MALFORMED_BODIES.items())
def test_wrongly_typed_body_fields_in_each_format_are_ignored(url: str, payload: dict[str, Any]) -> None:
    # The parser itself is called: parse_model_call's last-resort ``except`` would hide a crash.
    call = _PARSERS[url]({"model": "fallback"}, json.dumps(payload), False)
    assert (call.model, call.usage, call.tool_calls, call.text) == ("fallback", Usage(), [], "")


@pytest.mark.parametrize(("url", "events"), _MALFORMED_STREAMS.items())
def test_wrongly_typed_stream_fields_in_each_format_are_ignored(url: str, events: list[Any]) -> None:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    call = _PARSERS[url]({"model": "fallback"}, body, True)
    assert (call.model, call.usage, call.tool_calls, call.text) == ("fallback", Usage(), [], "")


def test_gzipped_body_is_inflated() -> None:
    payload = _message([{"type": "text", "text": "hi"}], "end_turn", _anthropic_usage(5, 2))
    call = _call(MESSAGES_URL, gzip.compress(_body(payload)))
    assert call.usage == Usage(input_tokens=5, output_tokens=2)


# Random JSON built from the field names and event types the parsers look at, so the fuzzing
# reaches deep into each parser instead of stopping at the first unknown key.
_names = st.sampled_from(
    ["type", "usage", "choices", "delta", "message", "content", "tool_calls", "function", "index",
     "arguments", "name", "id", "call_id", "input", "text", "response", "output", "item",
     "content_block", "partial_json", "input_tokens", "output_tokens", "prompt_tokens",
     "cache_read_input_tokens", "message_start", "message_delta", "content_block_start",
     "content_block_delta", "text_delta", "input_json_delta", "tool_use", "response.completed",
     "response.output_item.done", "response.output_text.delta", "function_call", "output_text"]
)  # fmt: skip
_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=4) | _names
_values = st.recursive(
    _leaves,
    lambda inner: st.dictionaries(_names, inner, max_size=4) | st.lists(inner, max_size=3),
    max_leaves=25,
)
_objects = st.dictionaries(_names, _values, min_size=1, max_size=5)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(payloads=st.lists(_objects, max_size=6), streamed=st.booleans())
def test_arbitrary_json_never_raises(payloads: list[Any], streamed: bool) -> None:
    """The parsers themselves, not just parse_model_call's last-resort ``except``, must cope."""
    if streamed:
        body = "".join(f"event: x\ndata: {json.dumps(p)}\n\n" for p in payloads)
    else:
        body = json.dumps(payloads[0] if payloads else {})
    for parse in (openai_chat.parse, openai_responses.parse, anthropic_messages.parse):
        call = parse({"model": "m"}, body, streamed)
        assert call.streamed is streamed
        assert all(isinstance(n, int) for n in dataclasses.astuple(call.usage))
        assert all(isinstance(c, ToolCallRequest) for c in call.tool_calls)
        assert isinstance(call.text, str)
