"""AWS Bedrock Converse (``POST .../model/{modelId}/converse`` and ``/converse-stream``).

The model id is in the URL, percent-encoded (``anthropic.claude-3-5-haiku-20241022-v1%3A0``, an
inference profile such as ``us.anthropic...`` or an ARN). ``converse-stream`` answers in AWS
event-stream binary framing (``trace.eventstream``), one JSON event per message.

Token rules: like Anthropic's, ``inputTokens`` leaves out ``cacheReadInputTokens`` and
``cacheWriteInputTokens``; they are added back so input includes cached tokens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from pytest_agentops.trace import eventstream
from pytest_agentops.trace.providers._json import (
    as_dict,
    as_int,
    as_list,
    as_str,
    loads_object,
    parse_arguments,
    usage_source,
)
from pytest_agentops.trace.run import ModelCall, ToolCallRequest, Usage

PROVIDER = "bedrock.converse"
_PATH = re.compile(r"/model/(?P<model>[^/]+)/converse(?P<stream>-stream)?$")


def detect(path: str) -> bool:
    """``path`` is lower-cased and has no trailing slash."""
    return _PATH.search(path) is not None


def model_of(url: str) -> str | None:
    found = _PATH.search(urlsplit(url).path.rstrip("/"))
    return unquote(found["model"]) if found else None


def parse_exchange(url: str, status: int, headers: Mapping[str, str], body: bytes) -> ModelCall:
    """A Converse answer (JSON, or an event stream) as a ``ModelCall``."""
    found = _PATH.search(urlsplit(url).path.rstrip("/"))
    streamed = bool(found and found["stream"])
    call = ModelCall(provider=PROVIDER, model=unquote(found["model"]) if found else None, streamed=streamed)
    if not 200 <= status < 300:
        return call
    state = _State()
    if streamed:
        for message in eventstream.decode(body):
            if message.headers.get(":message-type") == "event":
                state.add_event(str(message.headers.get(":event-type")), loads_object(message.payload.decode()))
    else:
        state.add_response(loads_object(body.decode("utf-8", errors="replace")))
    state.fill(call)
    return call


def usage_from(usage: dict[str, Any]) -> Usage:
    read = as_int(usage.get("cacheReadInputTokens"))
    written = as_int(usage.get("cacheWriteInputTokens"))
    return Usage(
        input_tokens=as_int(usage.get("inputTokens")) + read + written,
        output_tokens=as_int(usage.get("outputTokens")),
        cached_input_tokens=read,
        cache_creation_input_tokens=written,
    )


@dataclass(slots=True)
class _PendingTool:
    id: str | None
    name: str
    fragments: list[str] = field(default_factory=list)

    def finish(self) -> ToolCallRequest:
        return ToolCallRequest(self.id, self.name, parse_arguments("".join(self.fragments)))


@dataclass(slots=True)
class _State:
    usage: dict[str, Any] | None = None
    stop_reason: str | None = None
    text: list[str] = field(default_factory=list)
    calls: list[ToolCallRequest] = field(default_factory=list)
    pending: dict[int, _PendingTool] = field(default_factory=dict)

    def add_response(self, data: dict[str, Any]) -> None:
        message = as_dict(as_dict(data.get("output")).get("message"))
        for block in map(as_dict, as_list(message.get("content"))):
            if isinstance(block.get("text"), str):
                self.text.append(block["text"])
            use = as_dict(block.get("toolUse"))
            if use:
                arguments = {} if use.get("input") is None else use["input"]
                name = as_str(use.get("name")) or ""
                self.calls.append(ToolCallRequest(as_str(use.get("toolUseId")), name, arguments))
        self.stop_reason = as_str(data.get("stopReason"))
        if isinstance(data.get("usage"), dict):
            self.usage = data["usage"]

    def add_event(self, kind: str, event: dict[str, Any]) -> None:
        index = as_int(event.get("contentBlockIndex"))
        if kind == "contentBlockStart":
            use = as_dict(as_dict(event.get("start")).get("toolUse"))
            if use:
                self.pending[index] = _PendingTool(as_str(use.get("toolUseId")), as_str(use.get("name")) or "")
        elif kind == "contentBlockDelta":
            delta = as_dict(event.get("delta"))
            if isinstance(delta.get("text"), str):
                self.text.append(delta["text"])
            use = as_dict(delta.get("toolUse"))
            if use and index in self.pending:
                self.pending[index].fragments.append(as_str(use.get("input")) or "")
        elif kind == "contentBlockStop" and index in self.pending:
            self.calls.append(self.pending.pop(index).finish())
        elif kind == "messageStop":
            self.stop_reason = as_str(event.get("stopReason")) or self.stop_reason
        elif kind == "metadata" and isinstance(event.get("usage"), dict):
            self.usage = event["usage"]

    def fill(self, call: ModelCall) -> None:
        for index in sorted(self.pending):  # a stream cut before contentBlockStop: keep what came
            self.calls.append(self.pending[index].finish())
        if self.usage is not None:
            call.usage = usage_from(self.usage)
        call.usage_source = usage_source(self.usage)
        call.tool_calls = self.calls
        call.stop_reason = self.stop_reason
        call.text = "".join(self.text)
