"""Google Gemini API (``POST .../models/{model}:generateContent`` and ``:streamGenerateContent``).

The same shapes serve the Gemini Developer API (``generativelanguage.googleapis.com/v1beta``) and
Vertex AI (``.../publishers/google/models/{model}:...``). The model is named in the URL, not the
body; a stream is either SSE (``?alt=sse``, what ``google-genai`` asks for) or one JSON array of
responses (the REST default). Only the first candidate is read, as for OpenAI's ``n > 1``.

Token rules (``usageMetadata``): ``promptTokenCount`` already includes ``cachedContentTokenCount``
(the normalised convention); ``thoughtsTokenCount`` is billed as output but is not part of
``candidatesTokenCount``, so output is their sum; ``toolUsePromptTokenCount`` is input. In a
stream every chunk carries the totals so far: the last one wins (never summed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from pytest_agentops.trace import sse
from pytest_agentops.trace.providers._json import as_dict, as_int, as_list, as_str, usage_source
from pytest_agentops.trace.run import ModelCall, ToolCallRequest, Usage

PROVIDER = "google.gemini"
GENERATE = ":generatecontent"
STREAM = ":streamgeneratecontent"


def detect(path: str) -> bool:
    """``path`` is lower-cased and has no trailing slash."""
    return path.endswith((GENERATE, STREAM))


def model_of(url: str) -> str | None:
    """``gemini-2.5-flash`` from ``.../models/gemini-2.5-flash:generateContent`` (any prefix)."""
    path = unquote(urlsplit(url).path)
    head, sep, _action = path.rpartition(":")
    if not sep or "/models/" not in head:
        return None
    return head.rsplit("/models/", 1)[1] or None


def is_stream_url(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").lower().endswith(STREAM)


def parse_exchange(url: str, status: int, headers: Mapping[str, str], body: bytes) -> ModelCall:
    """A Gemini answer (JSON, SSE stream or JSON-array stream) as a ``ModelCall``."""
    streamed = is_stream_url(url)
    call = ModelCall(provider=PROVIDER, model=model_of(url), streamed=streamed)
    if not 200 <= status < 300:
        return call  # error bodies carry no usage
    text = body.decode("utf-8", errors="replace")
    state = _State()
    for chunk in _chunks(text):
        state.add(chunk)
    state.fill(call)
    return call


def _chunks(text: str) -> list[dict[str, Any]]:
    """The response objects of a body: one JSON object, a JSON array of them, or SSE data."""
    stripped = text.lstrip()
    if stripped.startswith(("data:", "event:", ":")):
        return [data for _name, data in sse.data_items(text) if isinstance(data, dict)]
    try:
        parsed = json.loads(stripped) if stripped else {}
    except (ValueError, RecursionError):
        return []
    if isinstance(parsed, list):
        return [item for item in parsed if isinstance(item, dict)]
    return [parsed] if isinstance(parsed, dict) else []


def usage_from(meta: dict[str, Any]) -> Usage:
    return Usage(
        input_tokens=as_int(meta.get("promptTokenCount")) + as_int(meta.get("toolUsePromptTokenCount")),
        output_tokens=as_int(meta.get("candidatesTokenCount")) + as_int(meta.get("thoughtsTokenCount")),
        cached_input_tokens=as_int(meta.get("cachedContentTokenCount")),
    )


@dataclass(slots=True)
class _State:
    """The answer so far; text arrives piece by piece, a ``functionCall`` part arrives whole."""

    model: str | None = None
    usage: dict[str, Any] | None = None
    stop_reason: str | None = None
    text: list[str] = field(default_factory=list)
    calls: list[ToolCallRequest] = field(default_factory=list)

    def add(self, chunk: dict[str, Any]) -> None:
        self.model = as_str(chunk.get("modelVersion")) or self.model
        if isinstance(chunk.get("usageMetadata"), dict):
            self.usage = chunk["usageMetadata"]
        candidates = [as_dict(c) for c in as_list(chunk.get("candidates"))]
        first = next((c for c in candidates if as_int(c.get("index")) == 0), {})
        self.stop_reason = as_str(first.get("finishReason")) or self.stop_reason
        for part in map(as_dict, as_list(as_dict(first.get("content")).get("parts"))):
            self.add_part(part)

    def add_part(self, part: dict[str, Any]) -> None:
        if isinstance(part.get("functionCall"), dict):
            function = part["functionCall"]
            arguments = function.get("args")
            self.calls.append(
                ToolCallRequest(
                    as_str(function.get("id")),
                    as_str(function.get("name")) or "",
                    arguments if arguments is not None else {},
                )
            )
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            self.text.append(part["text"])  # thought summaries are not the answer

    def fill(self, call: ModelCall) -> None:
        call.model = self.model or call.model  # the answer's modelVersion names the snapshot
        if self.usage is not None:
            call.usage = usage_from(self.usage)
        call.usage_source = usage_source(self.usage)
        call.tool_calls = self.calls
        call.stop_reason = self.stop_reason
        call.text = "".join(self.text)
