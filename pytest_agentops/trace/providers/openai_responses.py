"""OpenAI Responses API (``POST .../responses``), plain and streamed."""

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

PROVIDER = "openai.responses"
# Terminal stream events; each carries the whole response object, usage included.
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def parse(
    request_json: dict[str, Any], body_text: str, streamed: bool, data: dict[str, Any] | None = None
) -> ModelCall:
    """A Responses API body (JSON or SSE) as a ``ModelCall``.

    ``data``: the JSON body already parsed when the caller has it (a replayed answer).
    """
    call = _parse_stream(body_text) if streamed else from_response(data or loads_object(body_text))
    call.model = call.model or as_str(request_json.get("model"))
    return call


def usage_from(usage: dict[str, Any]) -> Usage:
    """``input_tokens`` already includes ``cached_tokens``, which is the normalised convention."""
    details = as_dict(usage.get("input_tokens_details"))
    return Usage(
        input_tokens=as_int(usage.get("input_tokens")),
        output_tokens=as_int(usage.get("output_tokens")),
        cached_input_tokens=as_int(details.get("cached_tokens")),
        cache_creation_input_tokens=as_int(details.get("cache_write_tokens")),
    )


def from_response(response: dict[str, Any], streamed: bool = False) -> ModelCall:
    """A response object (the plain body, or the one a terminal stream event carries)."""
    output = [as_dict(item) for item in as_list(response.get("output"))]
    return ModelCall(
        provider=PROVIDER,
        model=as_str(response.get("model")),
        usage=usage_from(as_dict(response.get("usage"))),
        usage_source=usage_source(response.get("usage")),
        tool_calls=[call for call in map(item_tool_call, output) if call is not None],
        streamed=streamed,
        stop_reason=_stop_reason(response),
        text="".join(_message_text(item) for item in output),
    )


def item_tool_call(item: dict[str, Any]) -> ToolCallRequest | None:
    """A ``function_call`` (JSON arguments) or ``custom_tool_call`` (free-form input) output item.

    The id is ``call_id``: that is what the tool's output must be sent back with.
    """
    kind = item.get("type")
    if kind == "function_call":
        arguments = item.get("arguments")
        parsed = parse_arguments(arguments) if isinstance(arguments, str) else arguments
        return ToolCallRequest(as_str(item.get("call_id")), as_str(item.get("name")) or "", parsed)
    if kind == "custom_tool_call":
        return ToolCallRequest(as_str(item.get("call_id")), as_str(item.get("name")) or "", owned(item.get("input")))
    return None


def _message_text(item: dict[str, Any]) -> str:
    if item.get("type") != "message":
        return ""
    parts = map(as_dict, as_list(item.get("content")))
    return "".join(as_str(p.get("text")) or "" for p in parts if p.get("type") == "output_text")


def _stop_reason(response: dict[str, Any]) -> str | None:
    """Why an incomplete response stopped (e.g. ``max_output_tokens``), else its ``status``."""
    reason = as_str(as_dict(response.get("incomplete_details")).get("reason"))
    return reason or as_str(response.get("status"))


@dataclass(slots=True)
class _StreamState:
    model: str | None = None
    final: dict[str, Any] | None = None
    errored: bool = False
    text: list[str] = field(default_factory=list)
    calls: list[ToolCallRequest] = field(default_factory=list)

    def add_event(self, name: str | None, event: dict[str, Any]) -> None:
        kind = as_str(event.get("type")) or name
        response = event.get("response")
        if isinstance(response, dict):
            self.model = as_str(response.get("model")) or self.model
            if kind in _FINAL_EVENTS:
                self.final = response
        if kind == "response.output_text.delta":
            self.text.append(as_str(event.get("delta")) or "")
        elif kind == "response.output_item.done":
            call = item_tool_call(as_dict(event.get("item")))
            if call is not None:
                self.calls.append(call)
        elif kind == "error":
            self.errored = True

    def result(self) -> ModelCall:
        """The terminal response's numbers, with what the incremental events said taking priority.

        An interrupted stream has no terminal event: usage is then unknown.
        """
        call = from_response(self.final or {}, streamed=True)
        call.model = call.model or self.model
        if self.calls:
            call.tool_calls = self.calls
        if self.text:
            call.text = "".join(self.text)
        if self.final is None and self.errored:
            call.stop_reason = "error"
        return call


def _parse_stream(text: str) -> ModelCall:
    state = _StreamState()
    for name, data in sse.data_items(text):
        if isinstance(data, dict):
            state.add_event(name, data)
    return state.result()
