"""The run trace: one ``Run`` per test, holding typed events in the order they happened.

Everything that reports on a run (budgets, assertions, scorecard, trace files) reads these
events; nothing else keeps counters of its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EventKind = Literal["model", "tool", "http"]
Backend = Literal["cassette", "network", "simulator", "fake_model", "passthrough", "policy", "miss"]


@dataclass(slots=True)
class ToolCallRequest:
    """A tool call the model asked for (not yet an execution)."""

    id: str | None
    name: str
    arguments: Any


@dataclass(slots=True)
class Usage:
    """Token usage normalised across providers.

    ``input_tokens`` always includes cached tokens (OpenAI's convention), so totals add up the
    same way whichever provider served the call.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
        )


@dataclass(slots=True)
class ModelCall:
    """What a model API call was: which model, how many tokens, which tools it asked for."""

    provider: str  # "openai.chat", "openai.responses", "anthropic.messages"
    model: str | None
    usage: Usage = field(default_factory=Usage)
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    streamed: bool = False
    stop_reason: str | None = None
    text: str = ""


@dataclass(slots=True)
class Event:
    """One intercepted request and how it was served."""

    seq: int
    kind: EventKind
    method: str
    url: str
    backend: Backend
    status: int | None = None
    started_at: float = 0.0
    duration_s: float = 0.0
    model_call: ModelCall | None = None
    tool: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Miss:
    """A request no backend could serve; the test fails with this at the end of its call."""

    request: str
    cassette: str
    detail: str


class Run:
    """The current test's run: its trace id and events."""

    def __init__(self, test_id: str = "") -> None:
        self.trace_id = uuid.uuid4().hex
        self.test_id = test_id
        self.events: list[Event] = []
        self.misses: list[Miss] = []
        self.started_at = time.time()

    def record(self, **fields: Any) -> Event:
        event = Event(seq=len(self.events), **fields)
        self.events.append(event)
        return event

    def iter_kind(self, kind: EventKind) -> Iterator[Event]:
        return (e for e in self.events if e.kind == kind)

    @property
    def model_calls(self) -> list[ModelCall]:
        return [e.model_call for e in self.events if e.model_call is not None]

    @property
    def tool_calls(self) -> list[Event]:
        return list(self.iter_kind("tool"))

    @property
    def usage(self) -> Usage:
        total = Usage()
        for call in self.model_calls:
            total = total + call.usage
        return total
