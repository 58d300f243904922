"""Anthropic Messages API (``POST .../v1/messages``), plain and streamed."""

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

PROVIDER = "anthropic.messages"
_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def parse(
    request_json: dict[str, Any], body_text: str, streamed: bool, data: dict[str, Any] | None = None
) -> ModelCall:
    """A Messages API body (JSON or SSE) as a ``ModelCall``.

    ``data``: the JSON body already parsed when the caller has it (a replayed answer).
    """
    call = _parse_stream(body_text) if streamed else _parse_json(data or loads_object(body_text))
    call.model = call.model or as_str(request_json.get("model"))
    return call


def usage_from(usage: dict[str, Any]) -> Usage:
    """Anthropic's ``input_tokens`` excludes cache reads and writes; add them back to normalise."""
    read = as_int(usage.get("cache_read_input_tokens"))
    created = as_int(usage.get("cache_creation_input_tokens"))
    return Usage(
        input_tokens=as_int(usage.get("input_tokens")) + read + created,
        output_tokens=as_int(usage.get("output_tokens")),
        cached_input_tokens=read,
        cache_creation_input_tokens=created,
    )


def _parse_json(data: dict[str, Any]) -> ModelCall:
    blocks = [as_dict(block) for block in as_list(data.get("content"))]
    return ModelCall(
        provider=PROVIDER,
        model=as_str(data.get("model")),
        usage=usage_from(as_dict(data.get("usage"))),
        usage_source=usage_source(data.get("usage")),
        tool_calls=[_tool_use(block) for block in blocks if block.get("type") == "tool_use"],
        stop_reason=as_str(data.get("stop_reason")),
        text="".join(as_str(b.get("text")) or "" for b in blocks if b.get("type") == "text"),
    )


def _tool_use(block: dict[str, Any]) -> ToolCallRequest:
    return ToolCallRequest(as_str(block.get("id")), as_str(block.get("name")) or "", owned(block.get("input", {})))


@dataclass(slots=True)
class _PendingToolUse:
    """A streamed ``tool_use`` block; its input arrives as ``partial_json`` fragments."""

    block: dict[str, Any]
    fragments: list[str] = field(default_factory=list)

    def finish(self) -> ToolCallRequest:
        call = _tool_use(self.block)
        joined = "".join(self.fragments)
        if joined.strip():  # no fragments: the start block's input (``{}``) stands
            call.arguments = parse_arguments(joined)
        return call


@dataclass(slots=True)
class _StreamState:
    model: str | None = None
    stop_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    tools: dict[int, _PendingToolUse] = field(default_factory=dict)

    def add_event(self, name: str | None, event: dict[str, Any]) -> None:
        kind = as_str(event.get("type")) or name
        if kind == "message_start":
            message = as_dict(event.get("message"))
            self.model = as_str(message.get("model")) or self.model
            self.stop_reason = as_str(message.get("stop_reason")) or self.stop_reason
            self.update_usage(as_dict(message.get("usage")))
        elif kind == "content_block_start":
            self.start_block(as_int(event.get("index")), as_dict(event.get("content_block")))
        elif kind == "content_block_delta":
            self.add_delta(as_int(event.get("index")), as_dict(event.get("delta")))
        elif kind == "message_delta":
            self.stop_reason = as_str(as_dict(event.get("delta")).get("stop_reason")) or self.stop_reason
            self.update_usage(as_dict(event.get("usage")))

    def update_usage(self, usage: dict[str, Any]) -> None:
        """message_delta usage is a running total, so later values replace earlier ones (never sum)."""
        self.usage.update({k: usage[k] for k in _USAGE_FIELDS if usage.get(k) is not None})

    def start_block(self, index: int, block: dict[str, Any]) -> None:
        if block.get("type") == "tool_use":
            self.tools[index] = _PendingToolUse(block)
        elif block.get("type") == "text":
            self.text.append(as_str(block.get("text")) or "")

    def add_delta(self, index: int, delta: dict[str, Any]) -> None:
        if delta.get("type") == "text_delta":
            self.text.append(as_str(delta.get("text")) or "")
        elif delta.get("type") == "input_json_delta" and index in self.tools:
            self.tools[index].fragments.append(as_str(delta.get("partial_json")) or "")

    def result(self) -> ModelCall:
        return ModelCall(
            provider=PROVIDER,
            model=self.model,
            usage=usage_from(self.usage),
            usage_source=usage_source(self.usage),
            tool_calls=[self.tools[index].finish() for index in sorted(self.tools)],
            streamed=True,
            stop_reason=self.stop_reason,
            text="".join(self.text),
        )


def _parse_stream(text: str) -> ModelCall:
    state = _StreamState()
    for name, data in sse.data_items(text):
        if isinstance(data, dict):
            state.add_event(name, data)
    return state.result()
