"""The fake model's vocabulary: turns it can answer with, and the normalised view of a request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

Role = Literal["system", "user", "assistant", "tool"]
Provider = Literal["openai.chat", "openai.responses", "anthropic.messages", "google.gemini", "bedrock.converse"]


def compact_json(value: Any) -> str:
    """JSON as the fake puts it on the wire: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class ToolCall:
    """A tool call: one the fake asks for, or one found in the conversation it was sent.

    ``arguments`` is normally a JSON object (dict). ``invalid`` names how adversarial mode broke
    the arguments on purpose (``"missing_required"``, ``"wrong_type"``, ...), None when it did not.
    """

    name: str
    arguments: Any = field(default_factory=dict)
    id: str | None = None
    invalid: str | None = None

    @property
    def arguments_json(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else compact_json(self.arguments)


@dataclass(slots=True)
class Reply:
    """One model turn: text, tool calls, or both.

    ``input_tokens``/``output_tokens`` override the deterministic counts for this turn only.
    """

    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(slots=True)
class FakeError:
    """An error answer: the HTTP status and the provider's own error body.

    ``retry=False`` adds ``x-should-retry: false`` (the official SDKs then do not retry);
    ``retry_after`` (seconds) is sent as ``retry-after-ms``/``retry-after``.
    """

    status: int = 500
    message: str | None = None
    type: str | None = None
    retry: bool = True
    retry_after: float = 0.01


Turn: TypeAlias = Reply | FakeError


def as_turn(value: Any) -> Turn:
    """A script entry as a turn: text, a tool call, several tool calls, a Reply, an error or a status."""
    if isinstance(value, Reply | FakeError):
        return value
    if isinstance(value, str):
        return Reply(text=value)
    if isinstance(value, ToolCall):
        return Reply(tool_calls=[value])
    if isinstance(value, bool):
        raise TypeError(f"a fake model turn cannot be {value!r}")
    if isinstance(value, int):
        return FakeError(status=value)
    if isinstance(value, list | tuple) and value and all(isinstance(v, ToolCall) for v in value):
        return Reply(tool_calls=list(value))
    raise TypeError(
        "a fake model turn is text, fake.tool_call(...), a list of tool calls, fake.reply(...), "
        f"fake.error(...) or an HTTP status; got {value!r}"
    )


@dataclass(slots=True)
class Message:
    """One message of a conversation, the same for every provider format.

    ``role`` is ``system`` (also OpenAI's ``developer`` and Anthropic's top-level ``system``),
    ``user``, ``assistant`` or ``tool`` (a tool result: ``tool_call_id`` and, when the call is in
    the conversation, the tool's ``name``). ``text`` joins the text parts; images and files are left out.
    """

    role: Role
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False


@dataclass(slots=True)
class ToolDef:
    """A tool the request offers the model: its name, description and JSON schema of arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Conversation:
    """What the fake model was asked, normalised across the three API formats.

    ``tool_choice`` is ``"auto"``, ``"none"``, ``"required"`` or the name of the one tool forced.
    """

    provider: Provider
    model: str
    messages: list[Message]
    tools: list[ToolDef]
    stream: bool = False
    tool_choice: str = "auto"
    parallel_tool_calls: bool = True
    body: dict[str, Any] = field(default_factory=dict)
    index: int = 0  # the request's position among those this fake served (0-based)

    @property
    def tool_names(self) -> list[str]:
        return [t.name for t in self.tools]

    def tool(self, name: str) -> ToolDef | None:
        return next((t for t in self.tools if t.name == name), None)

    @property
    def last(self) -> Message | None:
        return self.messages[-1] if self.messages else None

    @property
    def last_user_text(self) -> str:
        return next((m.text for m in reversed(self.messages) if m.role == "user"), "")

    @property
    def tool_results(self) -> list[Message]:
        return [m for m in self.messages if m.role == "tool"]

    @property
    def fresh(self) -> list[Message]:
        """The messages after the last assistant turn: what the model is reacting to now."""
        for position in range(len(self.messages) - 1, -1, -1):
            if self.messages[position].role == "assistant":
                return self.messages[position + 1 :]
        return list(self.messages)

    @property
    def assistant_turns(self) -> int:
        return sum(1 for m in self.messages if m.role == "assistant")


Source = Literal["script", "respond", "gullible", "adversarial", "default", "fail", "exhausted", "invalid"]


@dataclass(slots=True)
class FakeRequest:
    """One request the fake model answered (``fake_llm.requests``).

    ``source`` says what produced the answer: ``script``, ``respond``, ``gullible``,
    ``adversarial``, ``default`` (nothing scripted), ``fail`` (seeded variation), ``exhausted``
    (the script ran out) or ``invalid`` (a request the fake could not read).
    """

    index: int
    method: str
    url: str
    conversation: Conversation | None
    turn: Turn
    source: Source
    status: int
    input_tokens: int = 0
    output_tokens: int = 0
    served: Literal["in-process", "loopback"] = "in-process"

    @property
    def provider(self) -> str | None:
        return self.conversation.provider if self.conversation else None

    @property
    def model(self) -> str | None:
        return self.conversation.model if self.conversation else None

    @property
    def messages(self) -> list[Message]:
        return self.conversation.messages if self.conversation else []

    @property
    def tools(self) -> list[ToolDef]:
        return self.conversation.tools if self.conversation else []

    @property
    def stream(self) -> bool:
        return bool(self.conversation and self.conversation.stream)

    @property
    def body(self) -> dict[str, Any]:
        """The request body as sent (parsed JSON)."""
        return self.conversation.body if self.conversation else {}

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls the fake answered with."""
        return list(self.turn.tool_calls) if isinstance(self.turn, Reply) else []

    @property
    def text(self) -> str:
        return (self.turn.text or "") if isinstance(self.turn, Reply) else ""
