"""OpenAI Chat Completions (``POST .../chat/completions``), plain and streamed.

Only the first choice (``index == 0``) is read: it is what an agent acts on when ``n > 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_agentops.trace import sse
from pytest_agentops.trace.providers._json import (
    as_dict,
    as_int,
    as_list,
    as_str,
    loads_object,
    owned,
    parse_arguments,
    usage_source,
)
from pytest_agentops.trace.run import ModelCall, ToolCallRequest, Usage

PROVIDER = "openai.chat"
_LEGACY_FUNCTION = -1  # key of a deprecated ``function_call`` among the streamed tool calls


def parse(
    request_json: dict[str, Any], body_text: str, streamed: bool, data: dict[str, Any] | None = None
) -> ModelCall:
    """A Chat Completions response body (JSON or SSE) as a ``ModelCall``.

    ``data``: the JSON body already parsed when the caller has it (a replayed answer).
    """
    call = _parse_stream(body_text) if streamed else _parse_json(data or loads_object(body_text))
    call.model = call.model or as_str(request_json.get("model"))
    return call


def usage_from(usage: dict[str, Any]) -> Usage:
    """``prompt_tokens`` already includes ``cached_tokens``, which is the normalised convention."""
    details = as_dict(usage.get("prompt_tokens_details"))
    return Usage(
        input_tokens=as_int(usage.get("prompt_tokens")),
        output_tokens=as_int(usage.get("completion_tokens")),
        cached_input_tokens=as_int(details.get("cached_tokens")),
        cache_creation_input_tokens=as_int(details.get("cache_write_tokens")),
    )


def _first_choice(choices: object) -> dict[str, Any]:
    """The first choice of index 0 (a choice that is not an object counts as an empty one)."""
    for choice in as_list(choices):
        if not isinstance(choice, dict):
            return {}  # an empty object's index reads as 0
        if as_int(choice.get("index")) == 0:
            return choice
    return {}


def _parse_json(data: dict[str, Any]) -> ModelCall:
    choice = _first_choice(data.get("choices"))
    message = as_dict(choice.get("message"))
    raw_calls = as_list(message.get("tool_calls"))
    tool_calls = [_message_tool_call(raw) for raw in raw_calls if isinstance(raw, dict)]
    legacy = as_dict(message.get("function_call"))
    if legacy:
        tool_calls.append(_function_call(None, legacy))
    return ModelCall(
        provider=PROVIDER,
        model=as_str(data.get("model")),
        usage=usage_from(as_dict(data.get("usage"))),
        usage_source=usage_source(data.get("usage")),
        tool_calls=tool_calls,
        stop_reason=as_str(choice.get("finish_reason")),
        text=as_str(message.get("content")) or "",
    )


def _message_tool_call(raw: dict[str, Any]) -> ToolCallRequest:
    """``type: function`` carries JSON arguments; ``type: custom`` carries free-form ``input`` text."""
    if raw.get("type") == "custom":
        custom = as_dict(raw.get("custom"))
        return ToolCallRequest(as_str(raw.get("id")), as_str(custom.get("name")) or "", owned(custom.get("input")))
    return _function_call(as_str(raw.get("id")), as_dict(raw.get("function")))


def _function_call(call_id: str | None, function: dict[str, Any]) -> ToolCallRequest:
    arguments = function.get("arguments")
    return ToolCallRequest(
        call_id,
        as_str(function.get("name")) or "",
        parse_arguments(arguments) if isinstance(arguments, str) else arguments,
    )


@dataclass(slots=True)
class _PendingCall:
    """A streamed tool call being reassembled from its deltas."""

    id: str | None = None
    name: str = ""
    fragments: list[str] = field(default_factory=list)

    def merge(self, call_id: str | None, function: dict[str, Any]) -> None:
        # id and name come whole in the first delta; arguments arrive as string fragments.
        self.id = self.id or call_id
        self.name = self.name or as_str(function.get("name")) or ""
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            self.fragments.append(arguments)

    def finish(self) -> ToolCallRequest:
        return ToolCallRequest(self.id, self.name, parse_arguments("".join(self.fragments)))


@dataclass(slots=True)
class _StreamState:
    model: str | None = None
    usage: Usage | None = None  # None until a chunk carries it
    stop_reason: str | None = None
    text: list[str] = field(default_factory=list)
    calls: dict[int, _PendingCall] = field(default_factory=dict)

    def add_chunk(self, chunk: dict[str, Any]) -> None:
        self.model = as_str(chunk.get("model")) or self.model
        if isinstance(chunk.get("usage"), dict):
            # Only sent (in a last, choice-less chunk) with stream_options.include_usage.
            self.usage = usage_from(chunk["usage"])
        for choice in map(as_dict, as_list(chunk.get("choices"))):
            if as_int(choice.get("index")) == 0:
                self.add_delta(as_dict(choice.get("delta")))
                self.stop_reason = as_str(choice.get("finish_reason")) or self.stop_reason

    def add_delta(self, delta: dict[str, Any]) -> None:
        content = delta.get("content")
        if isinstance(content, str):
            self.text.append(content)
        for position, raw in enumerate(map(as_dict, as_list(delta.get("tool_calls")))):
            index = raw.get("index")
            key = index if isinstance(index, int) and not isinstance(index, bool) else position
            pending = self.calls.setdefault(key, _PendingCall())
            pending.merge(as_str(raw.get("id")), as_dict(raw.get("function")))
        legacy = as_dict(delta.get("function_call"))
        if legacy:
            self.calls.setdefault(_LEGACY_FUNCTION, _PendingCall()).merge(None, legacy)

    def result(self) -> ModelCall:
        return ModelCall(
            provider=PROVIDER,
            model=self.model,
            usage=self.usage or Usage(),
            usage_source="reported" if self.usage is not None else "unknown",
            tool_calls=[self.calls[key].finish() for key in sorted(self.calls)],
            streamed=True,
            stop_reason=self.stop_reason,
            text="".join(self.text),
        )


def _parse_stream(text: str) -> ModelCall:
    state = _StreamState()
    for _event, data in sse.data_items(text):
        if isinstance(data, dict):  # skips the final ``[DONE]`` sentinel
            state.add_chunk(data)
    return state.result()
