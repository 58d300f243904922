"""The run trace: one ``Run`` per test, holding typed events in the order they happened.

Everything that reports on a run (budgets, assertions, scorecard, trace files) reads these
events; nothing else keeps counters of its own.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# "mcp": an MCP protocol message (not a tool call); "telemetry": an SDK's own upload, answered locally
EventKind = Literal["model", "tool", "http", "mcp", "telemetry"]
Backend = Literal[
    "cassette",
    "network",
    "simulator",
    "fake_model",
    "fake_mcp",
    "passthrough",
    "policy",
    "miss",
    "python",
    "mock",
    "vcr",
    "telemetry",
]
Access = Literal["read", "write"]
# Where a model call's token counts came from: the wire, a tokenizer's estimate (opt-in, ini
# agentops_usage_estimate), or nowhere: an answer that carried no usage is unknown, never 0 tokens.
UsageSource = Literal["reported", "estimated", "unknown"]


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
    usage_source: UsageSource = "reported"

    @property
    def usage_known(self) -> bool:
        return self.usage_source != "unknown"

    def label(self, seq: int | None = None) -> str:
        """How a message names this call: ``#3 gpt-4o (openai.chat, streamed)``."""
        where = f"#{seq} " if seq is not None else ""
        how = f"{self.provider}, streamed" if self.streamed else self.provider
        return f"{where}{self.model or '(model not named)'} ({how})"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer about one request, carried with it to the one place that writes its event.

    A policy engine computes it before any backend sees the request; the event is then written
    complete (tool, access, arguments, rule, whether it fails the test), never edited afterwards.
    """

    tool: str | None = None  # the tool's name; None for a model call or an unregistered request
    access: Access | None = None  # "read"/"write" for a tool call, None for a model call
    arguments: Any = None  # the arguments as validated (HTTP: JSON/form body or query)
    rule: str | None = None  # the rule that denied the call; None when it is allowed
    message: str | None = None  # why it was denied
    fails_test: bool = False  # a denial that also fails the test (model pinning, budgets)
    requested_by: tuple[int, str | None] | None = None  # (seq of the model event, tool call id)

    @property
    def allowed(self) -> bool:
        return self.rule is None

    def fields(self, kind: EventKind) -> dict[str, Any]:
        """The event fields this verdict fills (tool calls keep access and arguments; model calls do not)."""
        out: dict[str, Any] = {"tool": self.tool, "requested_by": self.requested_by}
        if kind == "tool":
            out["access"], out["arguments"] = self.access, self.arguments
        if self.rule is not None:
            out.update(rule=self.rule, error=self.message, fails_test=self.fails_test)
        return out


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
    # From the gate's ``Verdict`` (pytest_agentops.policy.engine), set when the event is written; None when
    # no policy saw the request.
    access: Access | None = None  # the tool's kind: "read" or "write"
    arguments: Any = None  # the tool's arguments as validated (HTTP: JSON/form body or query)
    rule: str | None = None  # the policy rule that denied the call (backend "policy")
    requested_by: tuple[int, str | None] | None = None  # (seq of the model event, tool call id)
    fails_test: bool = False  # the denial also fails the test (model pinning, budgets, failing plugin rules)
    # Filled by the tap only when a trace writer asked for bodies (``Run.capture_io``): the request
    # body (parsed, secrets redacted) and the response (parsed JSON/form/text; a model call's answer
    # as its text and tool calls). See pytest_agentops.readers.tracefile.
    request_body: Any = None
    response_body: Any = None
    # An MCP tool call (pytest_agentops.mcp): what the tool returned (structuredContent, else its
    # content list) and whether the server said it failed (``isError``).
    result: Any = None
    is_error: bool | None = None
    # The framework agent (or graph node, crew role) acting when the event was written: see
    # ``acting_as``. None when no framework adapter named one.
    agent: str | None = None
    # What the trace tables show for an event with no tool, e.g. an MCP protocol message
    # (``mcp.weather initialize``) instead of ``POST host/mcp``.
    label: str | None = None

    @property
    def denied(self) -> bool:
        return self.backend == "policy"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_acting: ContextVar[str | None] = ContextVar("agentops_agent", default=None)


def acting_agent() -> str | None:
    """The agent named by the innermost ``acting_as`` block of this context, or None."""
    return _acting.get()


@contextlib.contextmanager
def acting_as(agent: str | None) -> Iterator[None]:
    """Events written inside (a framework tool call, the HTTP calls it makes) name ``agent``.

    A context variable, not an argument, so the tap's HTTP events made by a tool's body carry the
    agent too without the tap knowing about frameworks; ``None`` keeps the outer agent.
    """
    if agent is None:
        yield
        return
    token = _acting.set(agent)
    try:
        yield
    finally:
        _acting.reset(token)


@dataclass(slots=True)
class Miss:
    """A request no backend could serve; the test fails with this at the end of its call."""

    request: str
    cassette: str
    detail: str


# Trace ids come from a generator of our own, seeded from the OS once per process (and again in a
# forked child, which would otherwise repeat its parent's ids): an ``os.urandom`` for every test's
# run was a system call each, and a test's ``random.seed`` must not make two runs share an id.
_IDS = random.Random()
os.register_at_fork(after_in_child=_IDS.seed)


class Run:
    """The current test's run: its trace id and events."""

    def __init__(self, test_id: str = "") -> None:
        self.trace_id = f"{_IDS.getrandbits(128):032x}"  # 128 random bits, as a W3C trace id is
        self.test_id = test_id
        self.events: list[Event] = []
        self._lock = threading.Lock()
        self.misses: list[Miss] = []
        self.started_at = time.time()
        # Called with every event as it is recorded, to observe it (an event is complete when written:
        # a listener must not edit it).
        self.listeners: list[Callable[[Event], None]] = []
        # Preconditions met by ``satisfy(name)``: name -> number of events recorded at that time.
        self.satisfied: dict[str, int] = {}
        # The test's policy/budget guard (pytest_agentops.policy.engine.Guard), set by the plugin.
        self.guard: Any = None
        # Reasons given to ``escalate(reason)``: the run handed off to a human (see the scorecard).
        self.escalations: list[str] = []
        # Keep request/response bodies on events (set when trace files or OpenTelemetry want them).
        self.capture_io = False
        # The attempt number (1..k) under ``@pytest.mark.agent_pass_k(k)``, else None.
        self.attempt: int | None = None
        # Simulated time, read by the ``max_simulated_seconds`` budget (pytest_agentops.policy.budget.simulated):
        # simulator name -> (its clock, the clock's offset when measuring began), and freezegun
        # freezes seen -> (factory, frozen time when first seen).
        self.clocks: dict[str, tuple[Any, float]] = {}
        self.freezes: list[tuple[Any, float]] = []

    def record(self, verdict: Verdict | None = None, **fields: Any) -> Event:
        """Write one event, complete: ``verdict`` (the gate's, when a policy saw the request) fills its
        tool, access, arguments and rule; explicit ``fields`` win over it."""
        if verdict is not None:
            given = {k: v for k, v in fields.items() if v is not None}
            fields = {**verdict.fields(fields.get("kind", "tool")), **given}
        if "agent" not in fields:
            agent = _acting.get()
            if agent is not None:
                fields["agent"] = agent
        with self._lock:  # loopback servers write from their own threads: one seq per event
            event = Event(seq=len(self.events), **fields)
            self.events.append(event)
        for listener in self.listeners:
            listener(event)
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
    def usage(self) -> RunUsage:
        """Tokens of every model call, and their cost (``cost_usd`` None when a model is unpriced)."""
        from pytest_agentops.trace.prices import run_usage

        return run_usage(self)

    # ---- policy ---------------------------------------------------------------------------------------
    # The budget now and the assertions (``agent_run.budget``, ``agent_run.assert_called(...)``) are
    # on ``pytest_agentops.readers.assertions.AgentRun``, the fixture's subclass: the trace imports
    # nothing above it.

    @property
    def writes(self) -> list[Event]:
        """Write tool calls that reached a backend (denied ones are in ``denials``)."""
        return [e for e in self.events if e.access == "write" and e.backend not in ("policy", "miss")]

    @property
    def denials(self) -> list[Event]:
        """Calls the policy engine denied (backend ``policy``), each with the ``rule`` that did."""
        return [e for e in self.events if e.backend == "policy"]

    def escalate(self, reason: str = "") -> None:
        """Record that the agent handed this task off to a human queue (an escalation, not a success)."""
        self.escalations.append(str(reason))

    @property
    def escalated(self) -> bool:
        return bool(self.escalations)

    def satisfy(self, precondition: str) -> None:
        """Mark ``precondition`` (e.g. ``"validate_step"``) as met for the writes that follow."""
        self.satisfied.setdefault(precondition, len(self.events))

    @property
    def contract(self) -> Any:
        """The agent contract applied to this test (``@pytest.mark.agent``), or None."""
        return getattr(self.guard, "contract", None)


@dataclass(slots=True)
class RunUsage(Usage):
    """A run's total usage with its cost; ``cost_usd`` is None when some model has no price."""

    cost_usd: float | None = 0.0
    unpriced_models: tuple[str, ...] = ()
    unknown_calls: tuple[str, ...] = ()  # labels of model calls whose answer carried no usage

    @property
    def tokens_known(self) -> bool:
        return not self.unknown_calls
